// Package engine is guarantor's deterministic state machine. It is fed
// every accepted log entry in log order and answers with derived entries
// (today: incident revisions) that the caller signs with the engine key
// and appends to the log. Its effects are applied the moment it emits an
// entry, so its state after the entry at index i depends only on the log
// up to i: anyone holding the log can run it again and must get the same
// derived entries, byte for byte (see Replayer).
//
// It reads no clock: time moves only through the times entries claim
// (observations, verifications) and tick entries. It uses no randomness,
// never lets map iteration order reach its output, and computes in
// integers (package fusion).
package engine

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/guarantor/guarantor/engine/coalition"
	"github.com/guarantor/guarantor/engine/fusion"
	"github.com/guarantor/guarantor/entry"
)

// Config is the engine's rule set. Changing it changes the derived
// entries, so a log is replayed with the configuration it was written
// with; Rule names it in every incident.
type Config struct {
	// Fusion is the rule that links observations.
	Fusion fusion.Rule
	// Rule names Fusion and the rest of this configuration in incident
	// entries, e.g. "fusion-1".
	Rule string
	// MaxOpen caps the incidents open to new members. When a new incident
	// would exceed it, the tenth of them whose latest member is oldest
	// (ties: the smaller id) are closed and forgotten. This keeps memory
	// flat however long the log, yet a late report, or a historical import
	// in any order, fuses as long as its event is among the MaxOpen most
	// recent. (Closing by a clock instead would make an import's fusion
	// depend on the order of its rows.)
	MaxOpen int
	// MaxMembers caps the members of one incident (an incident entry must
	// fit the 64 KiB entry limit); a report that would overflow an
	// incident is not linked to it.
	MaxMembers int
	// MaxMerge caps how many incidents one report may merge at once.
	MaxMerge int
	// Technical lists the source types that count as technical means. An
	// incident reported by at least TechnicalVerify distinct technical
	// source types (from distinct monitors), and rejected by no analyst,
	// is verified without an analyst.
	Technical       []string
	TechnicalVerify int
}

// DefaultConfig is the configuration guarantor runs with.
func DefaultConfig() Config {
	return Config{
		Fusion:          fusion.DefaultRule,
		Rule:            "fusion-1",
		MaxOpen:         20000,
		MaxMembers:      4096,
		MaxMerge:        64,
		Technical:       []string{"acoustic", "camera", "satellite", "uav"},
		TechnicalVerify: 2,
	}
}

// Input is one accepted log entry as the engine sees it.
type Input struct {
	Index    uint64
	LeafHash []byte
	Kind     entry.Kind
	Signers  []string // name+hash of each signature, in note order
	Body     any      // the validated body (entry.Validate)
}

// Derived is an entry the engine emitted.
type Derived struct {
	Seq   uint64
	Kind  entry.Kind
	Text  string // the note text to sign: both lines and their newlines
	After uint64 // the log index of the input whose processing emitted it
}

// Engine is the state machine. It is not safe for concurrent use.
type Engine struct {
	cfg       Config
	technical map[string]bool
	now       int64 // seconds; the latest time any input claimed
	seq       uint64
	incidents map[uint64]*incident // open incidents by id
	absorbed  map[uint64]absorbedBy
	owner     map[uint64]uint64      // observation index -> open incident id
	buckets   map[int64][]fusion.Obs // linkable observations by At / MaxGap
	emitted   []Derived              // scratch for the current input
	current   uint64                 // the index of the input being applied

	roles       map[string]string              // key id -> role, from key entries
	agreements  map[string][]*agreementVersion // by id, ascending version
	lastFired   map[string]int64               // agreement/trigger -> engine time
	obligations map[uint64]*obligation         // open, or missed and still answerable
	sanctions   map[string]*sanction           // by id: the latest statement, snap-backs applied
	byHour      map[int64]map[uint64]*incident // open incidents by the hour of their latest report
	coalition   *coalition.State               // pledges and deployments
}

type absorbedBy struct {
	into    uint64 // the open incident that holds it now
	lastRev int    // its last revision (status merged)
}

type incident struct {
	id       uint64
	rev      int
	members  []fusion.Obs       // ascending by index
	verdicts map[string]verdict // by analyst key: the latest verdict
	absorbed []uint64
	last     *entry.Incident // the latest revision emitted
	fired    map[string]bool // agreement/trigger pairs that fired on it
	hour     int64           // where byHour files it, when indexed
	indexed  bool
}

type verdict struct {
	index   uint64
	verdict string
	party   string
}

// New returns an engine at the start of a log.
func New(cfg Config) *Engine {
	tech := map[string]bool{}
	for _, t := range cfg.Technical {
		tech[t] = true
	}
	return &Engine{
		cfg: cfg, technical: tech, now: math.MinInt64,
		incidents: map[uint64]*incident{}, absorbed: map[uint64]absorbedBy{},
		owner: map[uint64]uint64{}, buckets: map[int64][]fusion.Obs{},
		roles: map[string]string{}, agreements: map[string][]*agreementVersion{},
		lastFired: map[string]int64{}, obligations: map[uint64]*obligation{}, sanctions: map[string]*sanction{},
		byHour: map[int64]map[uint64]*incident{}, coalition: coalition.New(),
	}
}

// Seq returns the seq the next derived entry will carry.
func (e *Engine) Seq() uint64 { return e.seq }

// Now returns the engine's clock, or the zero time before any input
// claimed a time.
func (e *Engine) Now() time.Time {
	if e.now == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(e.now, 0).UTC()
}

// Open returns how many incidents are open.
func (e *Engine) Open() int { return len(e.incidents) }

// Apply feeds the entry at in.Index, which must follow the previous input
// in log order, and returns the derived entries it caused, in seq order.
// Derived entries found in the log are not inputs (see Replayer); they
// are ignored here.
func (e *Engine) Apply(in Input) ([]Derived, error) {
	e.emitted, e.current = nil, in.Index
	switch b := in.Body.(type) {
	case *entry.Observation:
		e.advance(b.ObservedAt.Unix())
		if b.Confirms != nil {
			if err := e.confirm(in, b); err != nil {
				return nil, err
			}
			break
		}
		if err := e.observe(in, b); err != nil {
			return nil, err
		}
	case *entry.Verification:
		e.advance(b.At.Unix())
		signer := ""
		if len(in.Signers) > 0 {
			signer = in.Signers[0]
		}
		if err := e.verify(in, signer, b); err != nil {
			return nil, err
		}
	case *entry.Tick:
		before := e.now
		e.advance(b.At.Unix())
		if err := e.settleDue(in); err != nil {
			return nil, err
		}
		if err := e.newMonth(in, before); err != nil {
			return nil, err
		}
	case *entry.Pledge:
		e.advance(b.At.Unix())
		if err := e.pledge(in, b); err != nil {
			return nil, err
		}
	case *entry.Deployment:
		e.advance(b.At.Unix())
		if err := e.deploy(in, b); err != nil {
			return nil, err
		}
	case *entry.KeyBody:
		if id, err := entry.VKeyID(b.VKey); err == nil {
			e.roles[id] = b.Role
		}
	case *entry.Agreement:
		if err := e.addAgreement(in, b); err != nil {
			return nil, err
		}
	case *entry.Amendment:
		if err := e.amend(in, b); err != nil {
			return nil, err
		}
	case *entry.Sanction:
		e.advance(b.At.Unix())
		e.sanctions[b.ID] = &sanction{authority: b.Authority, status: b.Status, snapback: b.Snapback}
	case *entry.Response:
		e.advance(b.At.Unix())
		if err := e.respond(in, b); err != nil {
			return nil, err
		}
	}
	out := e.emitted
	e.emitted = nil
	return out, nil
}

// observe fuses one observation.
func (e *Engine) observe(in Input, b *entry.Observation) error {
	o := toObs(in.Index, in.Signers, b)
	linked := e.linked(o)
	if len(linked) == 0 {
		inc := &incident{id: o.Index, members: []fusion.Obs{o}}
		e.incidents[inc.id] = inc
		e.index(o, inc.id)
		if err := e.emit(inc, in, nil); err != nil {
			return err
		}
		if len(e.incidents) > e.cfg.MaxOpen {
			e.shrink()
		}
		return nil
	}
	survivor := e.incidents[linked[0]]
	var merged []entry.RevisionRef
	for _, id := range linked[1:] {
		a := e.incidents[id]
		a.rev++
		into := survivor.id
		if err := e.emitIncident(a, in, nil, &into); err != nil {
			return err
		}
		merged = append(merged, entry.RevisionRef{ID: a.id, Revision: a.rev})
		e.absorbed[a.id] = absorbedBy{into: survivor.id, lastRev: a.rev}
		for _, prev := range a.absorbed {
			ab := e.absorbed[prev]
			ab.into = survivor.id
			e.absorbed[prev] = ab
		}
		survivor.absorbed = append(survivor.absorbed, a.id)
		survivor.absorbed = append(survivor.absorbed, a.absorbed...)
		for _, m := range a.members {
			e.owner[m.Index] = survivor.id
		}
		survivor.members = mergeByIndex(survivor.members, a.members)
		for k := range a.fired {
			if survivor.fired == nil {
				survivor.fired = map[string]bool{}
			}
			survivor.fired[k] = true
		}
		for k, v := range a.verdicts {
			if cur, ok := survivor.verdicts[k]; !ok || v.index > cur.index {
				if survivor.verdicts == nil {
					survivor.verdicts = map[string]verdict{}
				}
				survivor.verdicts[k] = v
			}
		}
		e.unindex(a)
		delete(e.incidents, a.id)
	}
	survivor.members = mergeByIndex(survivor.members, []fusion.Obs{o})
	e.index(o, survivor.id)
	return e.emit(survivor, in, merged)
}

// linked returns the ids of the open incidents o links to, ascending,
// keeping to MaxMembers and MaxMerge.
func (e *Engine) linked(o fusion.Obs) []uint64 {
	gap := max(e.cfg.Fusion.MaxGap, 1)
	b := floorDiv(o.At, gap)
	var ids []uint64
	for k := b - 1; k <= b+1; k++ {
		for _, c := range e.buckets[k] {
			id, ok := e.owner[c.Index]
			if ok && !slices.Contains(ids, id) && e.cfg.Fusion.Links(o, c) {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	var out []uint64
	total := 1
	for _, id := range ids {
		n := len(e.incidents[id].members)
		if total+n > e.cfg.MaxMembers || len(out) >= e.cfg.MaxMerge {
			continue
		}
		total += n
		out = append(out, id)
	}
	return out
}

// index makes o linkable and records its incident.
func (e *Engine) index(o fusion.Obs, id uint64) {
	e.owner[o.Index] = id
	b := floorDiv(o.At, max(e.cfg.Fusion.MaxGap, 1))
	e.buckets[b] = append(e.buckets[b], o)
}

// verify applies an analyst's verdict to the open incident that now holds
// the revision it names. A verdict on an unknown revision, or on an
// incident already closed, changes nothing (the projection still shows
// it).
func (e *Engine) verify(in Input, signer string, v *entry.Verification) error {
	var inc *incident
	if cur, ok := e.incidents[v.Incident]; ok && v.Revision <= cur.rev {
		inc = cur
	} else if ab, ok := e.absorbed[v.Incident]; ok && v.Revision <= ab.lastRev {
		inc = e.incidents[ab.into]
	}
	if inc == nil {
		return nil
	}
	if inc.verdicts == nil {
		inc.verdicts = map[string]verdict{}
	}
	party := ""
	if v.Verdict == entry.VerdictVerify {
		party = v.AttributedTo
	}
	inc.verdicts[signer] = verdict{index: in.Index, verdict: v.Verdict, party: party}
	return e.emit(inc, in, nil)
}

// emit writes a new revision of an open incident.
func (e *Engine) emit(inc *incident, in Input, merged []entry.RevisionRef) error {
	inc.rev++
	return e.emitIncident(inc, in, merged, nil)
}

// emitIncident encodes the incident's current state as revision inc.rev.
func (e *Engine) emitIncident(inc *incident, in Input, merged []entry.RevisionRef, mergedInto *uint64) error {
	sum := fusion.Summarise(slices.Clone(inc.members))
	var types, weapons []string
	tech := map[string]bool{}
	techMonitors := map[string]bool{}
	for _, m := range inc.members {
		if !slices.Contains(types, m.SourceType) {
			types = append(types, m.SourceType)
		}
		if m.Weapon != "" && !slices.Contains(weapons, m.Weapon) {
			weapons = append(weapons, m.Weapon)
		}
		if e.technical[m.SourceType] {
			tech[m.SourceType] = true
			techMonitors[m.Signer] = true
		}
	}
	slices.Sort(types)
	slices.Sort(weapons)
	members := make([]uint64, len(inc.members))
	for i, m := range inc.members {
		members[i] = m.Index
	}
	var vs entry.Verdicts
	parties := map[string]int{}
	for _, v := range inc.verdicts {
		switch v.verdict {
		case entry.VerdictVerify:
			vs.Verify++
		case entry.VerdictDispute:
			vs.Dispute++
		case entry.VerdictReject:
			vs.Reject++
		}
		if v.party != "" {
			parties[v.party]++
		}
	}
	level := fusion.Reported
	if sum.Monitors >= 2 {
		level = fusion.Corroborated
	}
	technical := len(tech) >= e.cfg.TechnicalVerify && len(techMonitors) >= e.cfg.TechnicalVerify && vs.Reject == 0
	if vs.Verify > vs.Dispute+vs.Reject || technical {
		level = Verified
	}
	body := entry.Incident{
		Seq: e.seq, ID: inc.id, Revision: inc.rev, Status: entry.IncidentOpen, MergedInto: mergedInto,
		Rule:     e.cfg.Rule,
		Inputs:   []entry.Ref{{Index: in.Index, LeafHash: base64.StdEncoding.EncodeToString(in.LeafHash)}},
		Merged:   merged,
		Category: sum.Category,
		From:     time.Unix(sum.From, 0).UTC(), To: time.Unix(sum.To, 0).UTC(),
		Location:    entry.Point{Type: "Point", Coordinates: [2]float64{float64(sum.LonE6) / 1e6, float64(sum.LatE6) / 1e6}},
		RadiusM:     sum.RadiusM,
		Count:       sum.Count,
		Members:     members,
		Monitors:    sum.Monitors,
		SourceTypes: types,
		Weapons:     weapons,
		Level:       level,
	}
	if mergedInto != nil {
		body.Status = entry.IncidentMerged
	}
	if vs != (entry.Verdicts{}) {
		body.Verdicts = &vs
	}
	for p, n := range parties {
		body.Attributions = append(body.Attributions, entry.Attribution{Party: p, Count: n})
	}
	slices.SortFunc(body.Attributions, func(a, b entry.Attribution) int { return cmp.Compare(a.Party, b.Party) })
	raw, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("engine: encode incident %d revision %d: %w", inc.id, inc.rev, err)
	}
	text, err := entry.Encode(entry.KindIncident, raw)
	if err != nil {
		return fmt.Errorf("engine: encode incident %d revision %d: %w", inc.id, inc.rev, err)
	}
	e.emitted = append(e.emitted, Derived{Seq: e.seq, Kind: entry.KindIncident, Text: text, After: in.Index})
	e.seq++
	inc.last = &body
	e.unindex(inc)
	if body.Status == entry.IncidentOpen {
		e.indexByHour(inc)
		return e.judge(inc, in)
	}
	return nil
}

// indexByHour files an open incident under the hour of its latest
// report, for count().
func (e *Engine) indexByHour(inc *incident) {
	h := floorDiv(inc.last.To.Unix(), 3600)
	if e.byHour[h] == nil {
		e.byHour[h] = map[uint64]*incident{}
	}
	e.byHour[h][inc.id] = inc
	inc.hour, inc.indexed = h, true
}

// unindex takes an incident out of the hour index.
func (e *Engine) unindex(inc *incident) {
	if !inc.indexed {
		return
	}
	delete(e.byHour[inc.hour], inc.id)
	if len(e.byHour[inc.hour]) == 0 {
		delete(e.byHour, inc.hour)
	}
	inc.indexed = false
}

// Verified is the corroboration level of an incident an analyst verified
// or technical means confirmed.
const Verified = "verified"

// advance moves the clock to t if t is later.
func (e *Engine) advance(t int64) { e.now = max(e.now, t) }

// shrink closes the tenth of the open incidents whose latest member is
// oldest. The order is total (latest member, then id), so the choice does
// not depend on map order.
func (e *Engine) shrink() {
	type open struct {
		latest int64
		id     uint64
	}
	all := make([]open, 0, len(e.incidents))
	for id, inc := range e.incidents {
		all = append(all, open{inc.last.To.Unix(), id}) // the latest member's time
	}
	slices.SortFunc(all, func(a, b open) int { return cmp.Or(cmp.Compare(a.latest, b.latest), cmp.Compare(a.id, b.id)) })
	gap := max(e.cfg.Fusion.MaxGap, 1)
	touched := map[int64]bool{}
	for _, c := range all[:max(1, len(all)/10)] {
		inc := e.incidents[c.id]
		for _, m := range inc.members {
			delete(e.owner, m.Index)
			touched[floorDiv(m.At, gap)] = true
		}
		for _, a := range inc.absorbed {
			delete(e.absorbed, a)
		}
		e.unindex(inc)
		delete(e.incidents, c.id)
	}
	// Drop closed members from the index; each bucket is filtered in
	// place, so the order of buckets visited does not matter.
	for b := range touched {
		kept := e.buckets[b][:0]
		for _, o := range e.buckets[b] {
			if _, ok := e.owner[o.Index]; ok {
				kept = append(kept, o)
			}
		}
		if len(kept) == 0 {
			delete(e.buckets, b)
		} else {
			e.buckets[b] = kept
		}
	}
}

// toObs converts an observation to fusion's integer form.
func toObs(index uint64, signers []string, b *entry.Observation) fusion.Obs {
	o := fusion.Obs{
		Index: index, SourceType: b.SourceType, Category: b.Category, Weapon: b.Weapon,
		At:    b.ObservedAt.Unix(),
		LatE6: int64(math.Round(b.Location.Coordinates[1] * 1e6)),
		LonE6: int64(math.Round(b.Location.Coordinates[0] * 1e6)),
		Count: 1,
	}
	if len(signers) > 0 {
		o.Signer = signers[0]
	}
	if b.AccuracyM != nil {
		o.AccuracyM = int64(math.Round(*b.AccuracyM))
	} else {
		o.AccuracyM = defaultAccuracyM
	}
	if b.Count != nil {
		o.Count = int64(*b.Count)
	}
	return o
}

// defaultAccuracyM is the radius assumed for a report that gives none: a
// settlement-sized area.
const defaultAccuracyM = 2000

// mergeByIndex merges two index-ordered member lists.
func mergeByIndex(a, b []fusion.Obs) []fusion.Obs {
	out := make([]fusion.Obs, 0, len(a)+len(b))
	out = append(out, a...)
	out = append(out, b...)
	slices.SortFunc(out, func(x, y fusion.Obs) int { return cmp.Compare(x.Index, y.Index) })
	return out
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
