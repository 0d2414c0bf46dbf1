package engine

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/guarantor/guarantor/engine/agreement"
	"github.com/guarantor/guarantor/engine/coalition"
	"github.com/guarantor/guarantor/entry"
)

// agreementVersion is one logged version of an agreement.
type agreementVersion struct {
	c   *agreement.Compiled
	ref entry.Ref
}

// obligation is an obligation the engine still tracks: open, or missed
// and so still answerable (a fulfilment makes it late).
type obligation struct {
	body entry.Obligation // the latest revision
	// needs are the capabilities its duty needs, with the caveats that
	// conflict and how near the line the incident that fired it lies.
	needs []coalition.Need
}

// answerable is how long after its deadline a missed obligation can still
// be fulfilled late; after that it is forgotten and stays missed.
const answerable = 90 * 24 * time.Hour

// maxDeterminationIncidents caps the incidents a determination names.
const maxDeterminationIncidents = 512

// addAgreement takes a logged agreement into force. A version already
// logged, or one that does not compile (intake refuses those, so only a
// foreign log can hold one), has no effect. A later version, co-signed by
// everyone like the first, amends the agreement.
func (e *Engine) addAgreement(in Input, doc *entry.Agreement) error {
	if !e.addVersion(in, doc) {
		return nil
	}
	return e.amendAway(in, doc)
}

// amend takes an amendment into force when it makes the next version of
// an agreement the engine knows and its signers meet the quorum that
// version requires; otherwise it has no effect.
func (e *Engine) amend(in Input, a *entry.Amendment) error {
	doc := &a.Agreement
	var prior *agreementVersion
	for _, v := range e.agreements[doc.ID] {
		if v.c.Doc.Version == doc.Version-1 {
			prior = v
		}
	}
	if prior == nil {
		return nil
	}
	roles := make([]string, 0, len(in.Signers))
	for _, s := range in.Signers {
		roles = append(roles, e.roles[s])
	}
	if ok, _ := prior.c.Doc.Quorum(roles); !ok {
		return nil
	}
	if !e.addVersion(in, doc) {
		return nil
	}
	return e.amendAway(in, doc)
}

// addVersion compiles and files a version; it reports whether it was new
// and valid.
func (e *Engine) addVersion(in Input, doc *entry.Agreement) bool {
	for _, v := range e.agreements[doc.ID] {
		if v.c.Doc.Version == doc.Version {
			return false
		}
	}
	c, err := agreement.Compile(doc)
	if err != nil {
		return false
	}
	vs := append(e.agreements[doc.ID], &agreementVersion{c: c, ref: ref(in)})
	slices.SortFunc(vs, func(a, b *agreementVersion) int { return cmp.Compare(a.c.Doc.Version, b.c.Doc.Version) })
	e.agreements[doc.ID] = vs
	return true
}

// amendAway settles as amended every open obligation under an earlier
// version of doc's agreement whose duty doc no longer imposes, when doc is
// in force as it is logged. (A version taking effect later leaves open
// obligations to run their course.)
func (e *Engine) amendAway(in Input, doc *entry.Agreement) error {
	if time.Unix(e.now, 0).Before(doc.Effective) {
		return nil
	}
	ids := make([]uint64, 0, len(e.obligations))
	for id, o := range e.obligations {
		if o.body.Agreement == doc.ID && o.body.Version < doc.Version && o.body.Status == entry.ObligationOpen && !imposes(doc, o.body) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	now := time.Unix(e.now, 0).UTC()
	for _, id := range ids {
		o := e.obligations[id]
		next := o.body
		next.Status, next.Settled = entry.ObligationAmended, &now
		next.Reason = fmt.Sprintf("version %d of %s no longer imposes this duty", doc.Version, doc.ID)
		if err := e.revise(o, next, in); err != nil {
			return err
		}
	}
	return nil
}

// imposes reports whether doc still imposes the obligation's duty: the
// same trigger, a duty with the same action owed by the same debtor.
func imposes(doc *entry.Agreement, o entry.Obligation) bool {
	for _, t := range doc.Triggers {
		if t.ID != o.Trigger {
			continue
		}
		for _, d := range t.Obligations {
			if d.Action != o.Action {
				continue
			}
			roles, _ := doc.Debtors(d.Who)
			if slices.Contains(roles, o.Who) {
				return true
			}
		}
	}
	return false
}

// inForce returns, for each agreement, the highest version in force at t,
// ordered by agreement id.
func (e *Engine) inForce(t time.Time) []*agreementVersion {
	ids := make([]string, 0, len(e.agreements))
	for id := range e.agreements {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []*agreementVersion
	for _, id := range ids {
		vs := e.agreements[id]
		for i := len(vs) - 1; i >= 0; i-- {
			d := vs[i].c.Doc
			if !t.Before(d.Effective) && (d.Expires == nil || t.Before(*d.Expires)) {
				out = append(out, vs[i])
				break
			}
		}
	}
	return out
}

// judge evaluates the triggers of the agreements in force at the
// incident's time on its latest revision, and logs a determination and
// its obligations for each that fires: once per incident and trigger,
// and not again within the trigger's cooldown.
func (e *Engine) judge(inc *incident, in Input) error {
	if len(e.agreements) == 0 {
		return nil
	}
	b := inc.last
	view := agreement.FromEntry(b)
	for _, av := range e.inForce(b.From) {
		c := av.c
		var counted []entry.RevisionRef
		counter := func(f agreement.Filter, from, to time.Time) int64 {
			counted = counted[:0]
			n := int64(0)
			visit := func(hour map[uint64]*incident) {
				for _, other := range hour {
					if matches(c, other.last, f, from, to) {
						n++
						counted = append(counted, entry.RevisionRef{ID: other.id, Revision: other.last.Revision})
					}
				}
			}
			// Only the hours of the window; visiting order does not
			// matter, as n is a sum and counted is sorted afterwards.
			lo, hi := floorDiv(from.Unix(), 3600), floorDiv(to.Unix(), 3600)
			if hi-lo+1 <= int64(len(e.byHour)) {
				for h := lo; h <= hi; h++ {
					visit(e.byHour[h])
				}
			} else {
				for h, hour := range e.byHour {
					if h >= lo && h <= hi {
						visit(hour)
					}
				}
			}
			return n
		}
		fired, _ := c.Eval(view, counter)
		for _, t := range fired {
			key := c.Doc.ID + "/" + t.ID
			if inc.fired[key] {
				continue
			}
			if last, ok := e.lastFired[key]; ok && t.Cooldown > 0 && e.now-last < int64(t.Cooldown/time.Second) {
				continue
			}
			if inc.fired == nil {
				inc.fired = map[string]bool{}
			}
			inc.fired[key] = true
			e.lastFired[key] = e.now
			incidents := []entry.RevisionRef{{ID: inc.id, Revision: b.Revision}}
			if t.Aggregate {
				slices.SortFunc(counted, func(x, y entry.RevisionRef) int { return cmp.Compare(x.ID, y.ID) })
				incidents = mergeRefs(incidents, counted)
			}
			if err := e.determine(av, t, incidents, lineKM(c, b), in); err != nil {
				return err
			}
		}
	}
	return nil
}

// matches reports whether an incident's latest revision passes a count()
// filter and lies in the window.
func matches(c *agreement.Compiled, b *entry.Incident, f agreement.Filter, from, to time.Time) bool {
	if b.To.Before(from) || b.To.After(to) {
		return false
	}
	if len(f.Categories) > 0 && !slices.Contains(f.Categories, b.Category) {
		return false
	}
	if f.MinLevel != "" && !agreement.LevelAtLeast(b.Level, f.MinLevel) {
		return false
	}
	if f.Zone != "" && !c.InZone(b.Location.Coordinates[0], b.Location.Coordinates[1], f.Zone) {
		return false
	}
	if f.Party != "" && !slices.ContainsFunc(b.Attributions, func(a entry.Attribution) bool { return a.Party == f.Party }) {
		return false
	}
	return true
}

// mergeRefs returns a followed by the refs of b not in a, capped.
func mergeRefs(a, b []entry.RevisionRef) []entry.RevisionRef {
	for _, r := range b {
		if len(a) >= maxDeterminationIncidents {
			break
		}
		if !slices.ContainsFunc(a, func(x entry.RevisionRef) bool { return x.ID == r.ID }) {
			a = append(a, r)
		}
	}
	return a
}

// lineKM is the distance from the incident to the nearest line of the
// agreement, or +Inf when it has none.
func lineKM(c *agreement.Compiled, b *entry.Incident) float64 {
	d := math.Inf(1)
	for _, l := range c.Doc.Lines {
		if km := c.DistanceKM(b.Location.Coordinates[0], b.Location.Coordinates[1], l.ID); km >= 0 {
			d = min(d, km)
		}
	}
	return d
}

// determine logs a determination and one obligation per debtor of each
// duty of the trigger, and, when a duty needs a capability of the
// agreement's coalition, the coverage that links the new obligations to
// their holders. near is the fired incident's distance from the line.
func (e *Engine) determine(av *agreementVersion, t *agreement.Trigger, incidents []entry.RevisionRef, near float64, in Input) error {
	now := time.Unix(e.now, 0).UTC()
	det := entry.Determination{
		Seq: e.seq, Agreement: av.c.Doc.ID, Version: av.c.Doc.Version, Trigger: t.ID, At: now,
		Incidents: incidents, Inputs: []entry.Ref{ref(in), av.ref},
	}
	detSeq := e.seq
	if err := e.emitBody(entry.KindDetermination, det); err != nil {
		return err
	}
	needy := false
	for _, d := range t.Obligations {
		roles, group := av.c.Doc.Debtors(d.Who)
		within, _ := entry.ParseDuration(d.Within) // checked by entry.Validate
		for _, who := range roles {
			o := entry.Obligation{
				Seq: e.seq, ID: e.seq, Revision: 1, Determination: detSeq,
				Agreement: det.Agreement, Version: det.Version, Trigger: t.ID,
				Who: who, Group: group, Action: d.Action, Text: d.Text,
				Opened: now, Deadline: now.Add(within), Status: entry.ObligationOpen,
				Inputs: []entry.Ref{ref(in)},
			}
			if d.OnRequestOf != "" {
				o.OnRequestOf = "party:" + d.OnRequestOf
			}
			if err := e.emitBody(entry.KindObligation, o); err != nil {
				return err
			}
			ob := &obligation{body: o}
			for _, c := range d.Capabilities {
				ob.needs = append(ob.needs, coalition.Need{Obligation: o.ID, Who: who, Capability: c, Conflicts: d.CaveatConflicts, LineKM: near})
			}
			e.obligations[o.ID] = ob
			needy = needy || len(ob.needs) > 0
		}
	}
	if needy && av.c.Doc.Coalition != "" {
		return e.coverage(in, av.c.Doc.ID)
	}
	return nil
}

// respond applies a guarantor's or party's answer to an obligation it
// owes. An answer by someone else, to an unknown or settled obligation,
// or repeating what is already so, changes nothing.
func (e *Engine) respond(in Input, r *entry.Response) error {
	o := e.obligations[r.Obligation]
	if o == nil || len(in.Signers) == 0 || e.roles[in.Signers[0]] != o.body.Who {
		return nil
	}
	now := time.Unix(e.now, 0).UTC()
	next := o.body
	switch {
	case r.Answer == entry.AnswerAcknowledge && next.Status == entry.ObligationOpen && next.Acknowledged == nil:
		next.Acknowledged = &now
	case r.Answer == entry.AnswerFulfilled && next.Status == entry.ObligationOpen:
		next.Status, next.Settled = entry.ObligationFulfilled, &now
		next.Reimposed = e.snapBack(next, r.Sanctions)
	case r.Answer == entry.AnswerFulfilled && next.Status == entry.ObligationMissed:
		next.Status, next.Settled = entry.ObligationLate, &now
		next.Reimposed = e.snapBack(next, r.Sanctions)
	case r.Answer == entry.AnswerDeclined && next.Status == entry.ObligationOpen:
		next.Status, next.Settled, next.Reason = entry.ObligationDeclined, &now, r.Reason
	default:
		return nil
	}
	return e.revise(o, next, in)
}

// sanction is what the engine knows of a measure.
type sanction struct {
	authority string
	status    string
	snapback  []entry.SnapbackClause
}

// snapBack re-imposes, for a fulfilled sanction obligation, each named
// measure of the debtor that is suspended and whose snapback clauses name
// the obligation's agreement and trigger. It returns their ids, sorted.
func (e *Engine) snapBack(o entry.Obligation, ids []string) []string {
	if o.Action != "sanction" {
		return nil
	}
	var out []string
	for _, id := range ids {
		s := e.sanctions[id]
		if s == nil || "guarantor:"+s.authority != o.Who || s.status != entry.SanctionSuspended || slices.Contains(out, id) {
			continue
		}
		if slices.Contains(s.snapback, entry.SnapbackClause{Agreement: o.Agreement, Trigger: o.Trigger}) {
			s.status = entry.SanctionActive
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// settleDue marks every open obligation whose deadline the tick has
// reached as missed, in id order, and forgets missed ones no longer
// answerable.
func (e *Engine) settleDue(in Input) error {
	now := time.Unix(e.now, 0).UTC()
	ids := make([]uint64, 0, len(e.obligations))
	for id := range e.obligations {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		o := e.obligations[id]
		switch {
		case o.body.Status == entry.ObligationOpen && !now.Before(o.body.Deadline):
			next := o.body
			next.Status, next.Settled = entry.ObligationMissed, &now
			if err := e.revise(o, next, in); err != nil {
				return err
			}
		case o.body.Status == entry.ObligationMissed && now.Sub(o.body.Deadline) > answerable:
			delete(e.obligations, id)
		}
	}
	return nil
}

// revise logs the next revision of an obligation and keeps it while it
// can still change.
func (e *Engine) revise(o *obligation, next entry.Obligation, in Input) error {
	next.Seq, next.Revision, next.Inputs = e.seq, o.body.Revision+1, []entry.Ref{ref(in)}
	if err := e.emitBody(entry.KindObligation, next); err != nil {
		return err
	}
	was := o.body.Status
	o.body = next
	if next.Status != entry.ObligationOpen && next.Status != entry.ObligationMissed {
		delete(e.obligations, next.ID)
	}
	if was == entry.ObligationOpen && next.Status != entry.ObligationOpen && len(o.needs) > 0 {
		return e.coverage(in, next.Agreement) // it no longer needs holders
	}
	return nil
}

// NextDeadline returns the earliest deadline of an open obligation, or
// the zero time when none is open: the scheduler ticks then.
func (e *Engine) NextDeadline() time.Time {
	var next time.Time
	for _, o := range e.obligations {
		if o.body.Status == entry.ObligationOpen && (next.IsZero() || o.body.Deadline.Before(next)) {
			next = o.body.Deadline
		}
	}
	return next
}

// OpenObligations returns how many obligations are open.
func (e *Engine) OpenObligations() int {
	n := 0
	for _, o := range e.obligations {
		if o.body.Status == entry.ObligationOpen {
			n++
		}
	}
	return n
}

// emitBody encodes a derived body of the given kind with the next seq.
func (e *Engine) emitBody(kind entry.Kind, body any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("engine: encode %s %d: %w", kind, e.seq, err)
	}
	text, err := entry.Encode(kind, raw)
	if err != nil {
		return fmt.Errorf("engine: encode %s %d: %w", kind, e.seq, err)
	}
	e.emitted = append(e.emitted, Derived{Seq: e.seq, Kind: kind, Text: text, After: e.current})
	e.seq++
	return nil
}

// ref names the input by index and leaf hash.
func ref(in Input) entry.Ref {
	return entry.Ref{Index: in.Index, LeafHash: base64.StdEncoding.EncodeToString(in.LeafHash)}
}
