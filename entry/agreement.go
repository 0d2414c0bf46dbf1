package entry

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/guarantor/guarantor"
)

// The kinds of issue 6: agreements, what the engine determines under
// them, and the answers of those they oblige.
const (
	// KindAgreement is a machine-readable agreement, co-signed by every
	// party and guarantor it binds.
	KindAgreement Kind = "agreement"
	// KindDetermination is the engine's finding that a trigger fired.
	KindDetermination Kind = "determination"
	// KindObligation is one revision of what a determination requires of
	// a guarantor or party, and by when.
	KindObligation Kind = "obligation"
	// KindResponse is a guarantor's or party's signed answer to an
	// obligation.
	KindResponse Kind = "response"
	// KindAmendment is a new version of an agreement, co-signed by the
	// quorum the version it amends requires.
	KindAmendment Kind = "amendment"
	// KindSanction is a sanctioning authority's statement of a measure it
	// holds as leverage: imposed, suspended (relief) or lifted.
	KindSanction Kind = "sanction"
)

// Agreement is the body of an agreement entry: the JSON form of the
// agreement's YAML document.
type Agreement struct {
	ID           string      `json:"id"`
	Version      int         `json:"version"`
	Title        string      `json:"title"`
	Summary      string      `json:"summary,omitempty"`
	Illustrative bool        `json:"illustrative,omitempty"`
	Sources      []string    `json:"sources,omitempty"`
	Effective    time.Time   `json:"effective"`
	Expires      *time.Time  `json:"expires,omitempty"`
	Reviews      []time.Time `json:"reviews,omitempty"`
	Parties      []Party     `json:"parties"`
	Guarantors   []Guarantor `json:"guarantors,omitempty"`
	Zones        []Zone      `json:"zones,omitempty"`
	Lines        []Line      `json:"lines,omitempty"`
	Limits       []Limit     `json:"limits,omitempty"`
	Triggers     []Trigger   `json:"triggers"`
	// AmendmentQuorum says who must co-sign an amendment of this version:
	// "all" (the default: every party and guarantor it binds), "parties"
	// (every party), or "majority" (every party and more than half of the
	// guarantors it binds).
	AmendmentQuorum string `json:"amendment_quorum,omitempty"`
	// Coalition names the collective guarantor group whose members
	// pledge and deploy capabilities.
	Coalition string `json:"coalition,omitempty"`
	// Capabilities extends the built-in taxonomy (see Capabilities).
	Capabilities []Capability `json:"capabilities,omitempty"`
	// Requirements say what the coalition must hold, per sector and period.
	Requirements []Requirement `json:"requirements,omitempty"`
	// Rates convert economic pledges made in other currencies into the
	// capability's unit, at rates the signatories agreed and documented.
	Rates []Rate `json:"rates,omitempty"`
}

// Rate is a documented conversion rate: one unit of Currency is worth
// Rate units of To, as published by Source on AsOf. Coverage converts
// every economic amount at the rate its agreement version declares, so
// the figures do not move with the markets and anyone can recompute them.
type Rate struct {
	Currency string    `json:"currency"`
	To       string    `json:"to"`
	Rate     float64   `json:"rate"`
	AsOf     time.Time `json:"as_of"`
	Source   string    `json:"source"`
}

// Convert converts amount from currency into unit (an economic
// capability's unit, such as EUR) at the agreement's declared rate; ok is
// false when the agreement declares none.
func (a *Agreement) Convert(amount float64, currency, unit string) (float64, bool) {
	if currency == unit {
		return amount, true
	}
	for _, r := range a.Rates {
		if r.Currency == currency && r.To == unit {
			return amount * r.Rate, true
		}
	}
	return 0, false
}

// Capability is a kind of contribution and the unit it is counted in.
// Economic capabilities are amounts of money.
type Capability struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Unit     string `json:"unit"`
	Economic bool   `json:"economic,omitempty"`
}

// Capabilities is the built-in taxonomy of the coalition's contributions,
// military and economic; an agreement may add its own.
var Capabilities = []Capability{
	{ID: "air_policing", Title: "Air policing", Unit: "aircraft"},
	{ID: "air_missile_defence", Title: "Integrated air and missile defence", Unit: "batteries"},
	{ID: "isr_satellite", Title: "ISR and satellite imagery", Unit: "tasking hours per day"},
	{ID: "intelligence_sharing", Title: "Intelligence sharing", Unit: "arrangements"},
	{ID: "maritime_demining", Title: "Maritime demining", Unit: "vessels"},
	{ID: "land_demining", Title: "Land demining", Unit: "teams"},
	{ID: "training_mission", Title: "Training mission", Unit: "trainers"},
	{ID: "reassurance_force", Title: "Reassurance force", Unit: "troops"},
	{ID: "logistics", Title: "Logistics", Unit: "units"},
	{ID: "medical", Title: "Medical support", Unit: "field hospitals"},
	{ID: "cyber_defence", Title: "Cyber defence", Unit: "teams"},
	{ID: "monitoring_support", Title: "Monitoring support", Unit: "monitors"},
	{ID: "reconstruction_support", Title: "Reconstruction support", Unit: "EUR", Economic: true},
	{ID: "budget_support", Title: "Budget support", Unit: "EUR", Economic: true},
	{ID: "military_aid", Title: "Military aid package", Unit: "EUR", Economic: true},
	{ID: "training_programme", Title: "Long-term training programme", Unit: "EUR", Economic: true},
}

// Capability returns the capability id names, from the agreement's own
// list or the built-in taxonomy.
func (a *Agreement) Capability(id string) (Capability, bool) {
	for _, c := range a.Capabilities {
		if c.ID == id {
			return c, true
		}
	}
	for _, c := range Capabilities {
		if c.ID == id {
			return c, true
		}
	}
	return Capability{}, false
}

// Requirement is what the coalition must hold of a capability in a
// sector (a zone of the agreement) over a period.
type Requirement struct {
	Sector     string    `json:"sector"`
	Capability string    `json:"capability"`
	Quantity   float64   `json:"quantity"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Readiness  string    `json:"readiness,omitempty"`
}

// Party is a side bound by an agreement.
type Party struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Guarantor kinds.
const (
	Collective = "collective"
	Bilateral  = "bilateral"
)

// Guarantor is a state that promised something (bilateral, with a
// beneficiary party) or a group of them (collective: an attack on one is
// an attack on all; every member owes each obligation of the group).
type Guarantor struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Kind        string   `json:"kind"`
	Members     []string `json:"members,omitempty"`
	Beneficiary string   `json:"beneficiary,omitempty"`
	Commitment  string   `json:"commitment,omitempty"`
}

// Zone is an area an agreement names: a security zone, a withdrawal
// zone, an area to patrol, a no-fly area.
type Zone struct {
	ID           string          `json:"id"`
	Kind         string          `json:"kind"`
	Title        string          `json:"title,omitempty"`
	Illustrative bool            `json:"illustrative,omitempty"`
	Geometry     json.RawMessage `json:"geometry"`
}

// Line is a line an agreement measures from, such as the line of contact.
type Line struct {
	ID           string          `json:"id"`
	Title        string          `json:"title,omitempty"`
	Illustrative bool            `json:"illustrative,omitempty"`
	Geometry     json.RawMessage `json:"geometry"`
}

// Limit restricts weapons near a line: none of Weapons within MinKM of
// the line, on either side.
type Limit struct {
	ID      string   `json:"id"`
	Weapons []string `json:"weapons"`
	Line    string   `json:"line"`
	MinKM   float64  `json:"min_km"`
	Text    string   `json:"text,omitempty"`
}

// Trigger is a rule over incidents (a CEL expression) that defines what
// counts as an attack or a violation, and the obligations it opens.
type Trigger struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	When        string `json:"when"`
	Cooldown    string `json:"cooldown,omitempty"`
	Obligations []Duty `json:"obligations"`
}

// Duty is what a trigger requires: who does what, within how long, at
// whose request. Each firing opens one Obligation per debtor.
type Duty struct {
	Who         string `json:"who"`
	Action      string `json:"action"`
	Within      string `json:"within"`
	OnRequestOf string `json:"on_request_of,omitempty"`
	Text        string `json:"text,omitempty"`
	// Capabilities the duty needs (e.g. air_missile_defence for a
	// response): coverage names, for each open obligation, the coalition
	// contributors who hold them.
	Capabilities []string `json:"capabilities,omitempty"`
	// CaveatConflicts are the pledge caveats that keep a holder from
	// answering the duty (e.g. no_combat_troops for a ground response).
	// Distance caveats (outside_50km_of_line, outside_100km_of_line)
	// conflict by geometry, whether listed or not: when an incident of the
	// determination lies that close to a line of the agreement.
	CaveatConflicts []string `json:"caveat_conflicts,omitempty"`
}

// Obligation actions.
var Actions = []string{"consult", "respond", "sanction", "withdraw", "report", "custom"}

// Determination is the body of a determination entry: the engine's
// finding that a trigger of an agreement fired, and on what.
type Determination struct {
	Seq       uint64        `json:"seq"`
	Agreement string        `json:"agreement"`
	Version   int           `json:"version"`
	Trigger   string        `json:"trigger"`
	At        time.Time     `json:"at"`
	Incidents []RevisionRef `json:"incidents"`
	Inputs    []Ref         `json:"inputs"`
}

// Obligation statuses. An obligation is open until a response or a tick
// settles it; a fulfilment logged after the deadline makes a missed
// obligation late.
const (
	ObligationOpen      = "open"
	ObligationFulfilled = "fulfilled"
	ObligationLate      = "late"
	ObligationMissed    = "missed"
	ObligationDeclined  = "declined"
	// ObligationAmended: a later version of the agreement, in force when
	// it was logged, no longer imposes the duty.
	ObligationAmended = "amended"
)

// ObligationStatuses lists every obligation status, in the order a
// fulfilment record counts them.
var ObligationStatuses = []string{ObligationOpen, ObligationFulfilled, ObligationLate, ObligationMissed, ObligationDeclined, ObligationAmended}

// Obligation is the body of an obligation entry: one revision of what a
// determination requires of one guarantor or party.
type Obligation struct {
	Seq           uint64     `json:"seq"`
	ID            uint64     `json:"id"`
	Revision      int        `json:"revision"`
	Determination uint64     `json:"determination"`
	Agreement     string     `json:"agreement"`
	Version       int        `json:"version"`
	Trigger       string     `json:"trigger"`
	Who           string     `json:"who"`
	Group         string     `json:"group,omitempty"`
	Action        string     `json:"action"`
	Text          string     `json:"text,omitempty"`
	OnRequestOf   string     `json:"on_request_of,omitempty"`
	Opened        time.Time  `json:"opened"`
	Deadline      time.Time  `json:"deadline"`
	Status        string     `json:"status"`
	Acknowledged  *time.Time `json:"acknowledged,omitempty"`
	Settled       *time.Time `json:"settled,omitempty"`
	Reason        string     `json:"reason,omitempty"`
	Inputs        []Ref      `json:"inputs"`
	// Reimposed lists, for a fulfilled sanction obligation, the suspended
	// measures of the debtor that its response re-imposed by snap-back.
	Reimposed []string `json:"reimposed,omitempty"`
}

// Response answers.
const (
	AnswerAcknowledge = "acknowledge"
	AnswerFulfilled   = "fulfilled"
	AnswerDeclined    = "declined"
)

// Response is the body of a response entry: the obligated guarantor's or
// party's answer to an obligation.
type Response struct {
	ID         string     `json:"id"`
	At         time.Time  `json:"at"`
	Obligation uint64     `json:"obligation"`
	Answer     string     `json:"answer"`
	Reason     string     `json:"reason,omitempty"`
	Text       string     `json:"text,omitempty"`
	Evidence   []Evidence `json:"evidence,omitempty"`
	// Sanctions names, in a fulfilment of a sanction obligation, the
	// measures the responding authority re-imposes (snap-back).
	Sanctions []string `json:"sanctions,omitempty"`
}

// Sanction statuses, as FollowTheMoney spells them in lower case.
const (
	SanctionActive    = "active"
	SanctionSuspended = "suspended"
	SanctionInactive  = "inactive"
)

// Sanction is the body of a sanction entry, signed by the sanctioning
// authority (a guarantor key). Its fields follow the FollowTheMoney
// Sanction schema. A later entry with the same id states the measure's
// new status; a snap-back re-imposes a suspended one (see Response).
type Sanction struct {
	ID         string           `json:"id"`
	At         time.Time        `json:"at"`
	Authority  string           `json:"authority"`
	Program    string           `json:"program"`
	ProgramID  string           `json:"program_id,omitempty"`
	ProgramURL string           `json:"program_url,omitempty"`
	Targets    []SanctionTarget `json:"targets"`
	Provisions string           `json:"provisions"`
	Status     string           `json:"status"`
	StartDate  *time.Time       `json:"start_date,omitempty"`
	EndDate    *time.Time       `json:"end_date,omitempty"`
	Reason     string           `json:"reason,omitempty"`
	Relief     string           `json:"relief,omitempty"`
	Snapback   []SnapbackClause `json:"snapback,omitempty"`
	SourceURL  string           `json:"source_url,omitempty"`
}

// SanctionTarget is who or what a measure targets: a state, an
// organisation, a company or a vessel (never a private person here).
type SanctionTarget struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Country string `json:"country,omitempty"`
}

// SnapbackClause names an agreement trigger whose sanction obligation, when
// fulfilled by the authority naming this measure, re-imposes it.
type SnapbackClause struct {
	Agreement string `json:"agreement"`
	Trigger   string `json:"trigger"`
}

// check enforces what the agreement schema cannot: unique ids, references
// to parties, guarantors, lines and members that exist, and durations
// that parse. Geometry and trigger expressions are checked where they are
// compiled (package engine/agreement).
func (a *Agreement) check() error {
	if a.Expires != nil && !a.Expires.After(a.Effective) {
		return guarantor.Errorf(guarantor.EInvalid, "/expires", "expires %s is not after effective %s", a.Expires.Format(time.RFC3339), a.Effective.Format(time.RFC3339))
	}
	actors := map[string]string{} // id -> "party" or "guarantor"
	for i, p := range a.Parties {
		if actors[p.ID] != "" {
			return guarantor.Errorf(guarantor.EInvalid, fmt.Sprintf("/parties/%d/id", i), "party %q is listed twice", p.ID)
		}
		actors[p.ID] = "party"
	}
	for i, g := range a.Guarantors {
		if actors[g.ID] != "" {
			return guarantor.Errorf(guarantor.EInvalid, fmt.Sprintf("/guarantors/%d/id", i), "%q is already a %s of this agreement", g.ID, actors[g.ID])
		}
		actors[g.ID] = "guarantor"
	}
	for i, g := range a.Guarantors {
		if g.Beneficiary != "" && actors[g.Beneficiary] != "party" {
			return guarantor.Errorf(guarantor.EInvalid, fmt.Sprintf("/guarantors/%d/beneficiary", i), "beneficiary %q is not a party of this agreement", g.Beneficiary)
		}
		for j, m := range g.Members {
			if actors[m] == "party" {
				return guarantor.Errorf(guarantor.EInvalid, fmt.Sprintf("/guarantors/%d/members/%d", i, j), "member %q is a party, not a guarantor", m)
			}
			if k := a.guarantor(m); k != nil && k.Kind == Collective {
				return guarantor.Errorf(guarantor.EInvalid, fmt.Sprintf("/guarantors/%d/members/%d", i, j), "member %q is itself a group; list its members", m)
			}
		}
	}
	names := map[string]string{}
	unique := func(ptr, kind, id string) error {
		if prev := names[kind+"\x00"+id]; prev != "" {
			return guarantor.Errorf(guarantor.EInvalid, ptr, "%s id %q is used twice (first at %s)", kind, id, prev)
		}
		names[kind+"\x00"+id] = ptr
		return nil
	}
	for i, z := range a.Zones {
		if err := unique(fmt.Sprintf("/zones/%d/id", i), "zone", z.ID); err != nil {
			return err
		}
	}
	lines := map[string]bool{}
	for i, l := range a.Lines {
		if err := unique(fmt.Sprintf("/lines/%d/id", i), "line", l.ID); err != nil {
			return err
		}
		lines[l.ID] = true
	}
	for i, l := range a.Limits {
		if err := unique(fmt.Sprintf("/limits/%d/id", i), "limit", l.ID); err != nil {
			return err
		}
		if !lines[l.Line] {
			return guarantor.Errorf(guarantor.EInvalid, fmt.Sprintf("/limits/%d/line", i), "limit %s measures from line %q, which the agreement does not define", l.ID, l.Line)
		}
	}
	if a.Coalition != "" {
		if g := a.guarantor(a.Coalition); g == nil || g.Kind != Collective {
			return guarantor.Errorf(guarantor.EInvalid, "/coalition", "coalition %q is not a collective guarantor group of this agreement", a.Coalition)
		}
	}
	zones := map[string]bool{}
	for _, z := range a.Zones {
		zones[z.ID] = true
	}
	for i, c := range a.Capabilities {
		if err := unique(fmt.Sprintf("/capabilities/%d/id", i), "capability", c.ID); err != nil {
			return err
		}
	}
	for i, r := range a.Requirements {
		ptr := fmt.Sprintf("/requirements/%d", i)
		if !zones[r.Sector] {
			return guarantor.Errorf(guarantor.EInvalid, ptr+"/sector", "sector %q is not a zone of this agreement", r.Sector)
		}
		if _, ok := a.Capability(r.Capability); !ok {
			return guarantor.Errorf(guarantor.EInvalid, ptr+"/capability", "capability %q is neither built in nor defined by this agreement", r.Capability)
		}
		if !r.To.After(r.From) {
			return guarantor.Errorf(guarantor.EInvalid, ptr+"/to", "the period ends before it starts")
		}
	}
	for i, r := range a.Rates {
		ptr := fmt.Sprintf("/rates/%d", i)
		if r.Currency == r.To {
			return guarantor.Errorf(guarantor.EInvalid, ptr+"/to", "a rate converts %s into another currency, not into itself", r.Currency)
		}
		if err := unique(ptr, "rate", r.Currency+"->"+r.To); err != nil {
			return err
		}
	}
	for i, t := range a.Triggers {
		if err := unique(fmt.Sprintf("/triggers/%d/id", i), "trigger", t.ID); err != nil {
			return err
		}
		if t.Cooldown != "" {
			if _, err := ParseDuration(t.Cooldown); err != nil {
				return guarantor.Errorf(guarantor.EInvalid, fmt.Sprintf("/triggers/%d/cooldown", i), "%v", err)
			}
		}
		for j, d := range t.Obligations {
			ptr := fmt.Sprintf("/triggers/%d/obligations/%d", i, j)
			if actors[d.Who] == "" && !a.member(d.Who) {
				return guarantor.Errorf(guarantor.EInvalid, ptr+"/who", "%q is neither a party, a guarantor nor a member of a guarantor group of this agreement", d.Who)
			}
			if d.OnRequestOf != "" && actors[d.OnRequestOf] != "party" {
				return guarantor.Errorf(guarantor.EInvalid, ptr+"/on_request_of", "%q is not a party of this agreement", d.OnRequestOf)
			}
			if _, err := ParseDuration(d.Within); err != nil {
				return guarantor.Errorf(guarantor.EInvalid, ptr+"/within", "%v", err)
			}
			for k, c := range d.Capabilities {
				if _, ok := a.Capability(c); !ok {
					return guarantor.Errorf(guarantor.EInvalid, fmt.Sprintf("%s/capabilities/%d", ptr, k), "capability %q is neither built in nor defined by this agreement", c)
				}
			}
		}
	}
	return nil
}

func (a *Agreement) guarantor(id string) *Guarantor {
	for i := range a.Guarantors {
		if a.Guarantors[i].ID == id {
			return &a.Guarantors[i]
		}
	}
	return nil
}

// member reports whether id is a member of a collective group.
func (a *Agreement) member(id string) bool {
	for _, g := range a.Guarantors {
		if slices.Contains(g.Members, id) {
			return true
		}
	}
	return false
}

// Debtors returns, as roles ("guarantor:UK", "party:RU"), who owes a duty
// owed by id: the party or bilateral guarantor itself, or every member of
// a collective group, with the group's id (or "").
func (a *Agreement) Debtors(id string) (roles []string, group string) {
	if g := a.guarantor(id); g != nil {
		if g.Kind == Collective {
			for _, m := range g.Members {
				roles = append(roles, "guarantor:"+m)
			}
			return roles, g.ID
		}
		return []string{"guarantor:" + g.ID}, ""
	}
	if a.member(id) {
		return []string{"guarantor:" + id}, ""
	}
	return []string{"party:" + id}, ""
}

// Signatories returns the roles whose signatures the agreement needs: a
// key of every party and of every guarantor it binds (each member of a
// collective group), sorted.
func (a *Agreement) Signatories() []string {
	set := map[string]bool{}
	for _, p := range a.Parties {
		set["party:"+p.ID] = true
	}
	for _, g := range a.Guarantors {
		roles, _ := a.Debtors(g.ID)
		for _, r := range roles {
			set[r] = true
		}
	}
	out := make([]string, 0, len(set))
	for r := range set {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// ParseDuration reads an agreement duration: a positive whole number of
// minutes, hours or days ("30m", "24h", "30d").
func ParseDuration(s string) (time.Duration, error) {
	if len(s) < 2 {
		return 0, fmt.Errorf("duration %q must be a number followed by m, h or d, e.g. 24h or 30d", s)
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n < 1 || n > 999999 {
		return 0, fmt.Errorf("duration %q must be a number followed by m, h or d, e.g. 24h or 30d", s)
	}
	switch s[len(s)-1] {
	case 'm':
		return time.Duration(n) * time.Minute, nil
	case 'h':
		return time.Duration(n) * time.Hour, nil
	case 'd':
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return 0, fmt.Errorf("duration %q must end in m, h or d", s)
}

// Amendment is the body of an amendment entry: the whole text of the new
// version (same id, the next version number) and why.
type Amendment struct {
	Agreement Agreement `json:"agreement"`
	Reason    string    `json:"reason"`
}

// Quorum reports whether signatures by keys of the given roles may amend
// this version, and if not, what is missing.
func (a *Agreement) Quorum(roles []string) (ok bool, missing string) {
	have := map[string]bool{}
	for _, r := range roles {
		have[r] = true
	}
	var parties, guarantors []string
	for _, r := range a.Signatories() {
		if strings.HasPrefix(r, "party:") {
			parties = append(parties, r)
		} else {
			guarantors = append(guarantors, r)
		}
	}
	var lack []string
	need := func(rs []string) {
		for _, r := range rs {
			if !have[r] {
				lack = append(lack, r)
			}
		}
	}
	switch a.AmendmentQuorum {
	case "parties":
		need(parties)
	case "majority":
		need(parties)
		n := 0
		for _, g := range guarantors {
			if have[g] {
				n++
			}
		}
		if 2*n <= len(guarantors) {
			lack = append(lack, fmt.Sprintf("more than half of %s (%d signed)", strings.Join(guarantors, ", "), n))
		}
	default:
		need(parties)
		need(guarantors)
	}
	if len(lack) > 0 {
		return false, strings.Join(lack, ", ")
	}
	return true, ""
}

// The coalition's kinds (issue 7).
const (
	// KindPledge is a contributing state's promise of a capability.
	KindPledge Kind = "pledge"
	// KindDeployment reports a pledged capability in place, or withdrawn.
	KindDeployment Kind = "deployment"
)

// Readiness levels of a pledged capability.
var Readiness = []string{"high", "medium", "low"}

// Pledge is the body of a pledge entry, signed by the contributing
// state's key (role guarantor:ID, a member of the agreement's coalition).
// A later pledge with the same id by the same contributor replaces it.
type Pledge struct {
	ID         string    `json:"id"`
	At         time.Time `json:"at"`
	Agreement  string    `json:"agreement"`
	Capability string    `json:"capability"`
	Quantity   float64   `json:"quantity"`
	// Currency, for an economic capability: the ISO 4217 code of Quantity.
	Currency  string    `json:"currency,omitempty"`
	Sector    string    `json:"sector"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Readiness string    `json:"readiness,omitempty"`
	Caveats   []string  `json:"caveats,omitempty"`
	Text      string    `json:"text,omitempty"`
}

// Caveats a contributor may attach to a pledge.
var Caveats = []string{"no_combat_troops", "air_only", "sea_only", "outside_50km_of_line", "outside_100km_of_line", "no_deployment_in_ukraine", "national_command_only", "training_only"}

// Deployment is the body of a deployment entry: what of a pledge is in
// place (or was withdrawn), reported by the contributor's key.
type Deployment struct {
	ID       string    `json:"id"`
	At       time.Time `json:"at"`
	Pledge   string    `json:"pledge"`
	Quantity float64   `json:"quantity"`
	Status   string    `json:"status"` // deployed, withdrawn, disbursed
	Text     string    `json:"text,omitempty"`
}

// KindCoverage is the engine's snapshot of the coalition's coverage of an
// agreement for the current month, derived whenever a pledge or
// deployment changes it and when a new month begins.
const KindCoverage Kind = "coverage"

// Coverage is the body of a coverage entry.
type Coverage struct {
	Seq       uint64          `json:"seq"`
	Agreement string          `json:"agreement"`
	Version   int             `json:"version"`
	At        time.Time       `json:"at"`
	Month     string          `json:"month"`
	Cells     []CoverageCell  `json:"cells"`
	Ratios    []CoverageRatio `json:"ratios"`
	// Support is economic support per donor and kind (empty: none).
	Support []CoverageSupport `json:"support,omitempty"`
	// Obligations links each open obligation needing a capability to its
	// holders (empty: none).
	Obligations []CoverageLink `json:"obligations,omitempty"`
	Inputs      []Ref          `json:"inputs"`
}

// CoverageCell is required, pledged and deployed (or disbursed) for one
// capability in one sector in the month; Shortfall is required minus
// deployed when positive.
type CoverageCell struct {
	Sector     string  `json:"sector"`
	Capability string  `json:"capability"`
	Required   float64 `json:"required"`
	Pledged    float64 `json:"pledged"`
	Deployed   float64 `json:"deployed"`
	Shortfall  float64 `json:"shortfall,omitempty"`
	// Confirmed is the part of Deployed that monitors' observations
	// confirm in place (never for money).
	Confirmed float64 `json:"confirmed,omitempty"`
}

// CoverageSupport is one donor's economic support of one kind at the
// snapshot, every amount converted into the capability's unit at the
// agreement's declared rates: what its pledges in force promise, what
// of it is due by now (each pledge pro rata of its period elapsed), and
// what it has disbursed against them.
type CoverageSupport struct {
	Contributor string  `json:"contributor"`
	Capability  string  `json:"capability"`
	Unit        string  `json:"unit"`
	Pledged     float64 `json:"pledged"`
	Due         float64 `json:"due"`
	Disbursed   float64 `json:"disbursed"`
}

// CoverageLink names, for one open obligation whose duty needs a
// capability, the coalition contributors who hold it in place. Conflict
// is set when some hold it but every one of them is kept from answering
// by a caveat; no holders at all is a plain gap.
type CoverageLink struct {
	Obligation uint64           `json:"obligation"`
	Who        string           `json:"who"`
	Capability string           `json:"capability"`
	Holders    []CoverageHolder `json:"holders"`
	Conflict   bool             `json:"conflict,omitempty"`
}

// CoverageHolder is one pledge whose capability is in place, with the
// caveats that keep it from answering the obligation, if any.
type CoverageHolder struct {
	Contributor string   `json:"contributor"`
	Pledge      string   `json:"pledge"`
	Sector      string   `json:"sector"`
	Deployed    float64  `json:"deployed"`
	Caveats     []string `json:"caveats,omitempty"`
	Conflicts   []string `json:"conflicts,omitempty"`
}

// CoverageRatio is one contributor's deployed-to-pledged record.
type CoverageRatio struct {
	Contributor string  `json:"contributor"`
	Pledged     float64 `json:"pledged"`
	Deployed    float64 `json:"deployed"`
}

// check applies the agreement rules to the new version an amendment
// carries, naming fields under /agreement, and requires a version after
// the first.
func (b *Amendment) check() error {
	if err := b.Agreement.check(); err != nil {
		if ge, ok := err.(*guarantor.Error); ok {
			ge.Field = "/agreement" + ge.Field
		}
		return err
	}
	if b.Agreement.Version < 2 {
		return guarantor.Errorf(guarantor.EInvalid, "/agreement/version", "an amendment makes version 2 or later; version 1 is an agreement entry")
	}
	return nil
}

// check requires the pledge's period to run forwards.
func (b *Pledge) check() error {
	if !b.To.After(b.From) {
		return guarantor.Errorf(guarantor.EInvalid, "/to", "the pledge's period ends before it starts")
	}
	return nil
}
