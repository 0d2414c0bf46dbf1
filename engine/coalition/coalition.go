// Package coalition computes the coalition of the willing's coverage:
// per sector, capability and month, what an agreement requires, what its
// members pledged and what they report deployed (for economic support:
// pledged and disbursed), the gaps sorted by severity, and each
// contributor's ratio of deployed to pledged. It is pure and
// deterministic, like the rest of the engine: the same entries in the
// same order give the same coverage, byte for byte once encoded.
package coalition

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/guarantor/guarantor/entry"
)

// State is what the coalition's entries have said so far.
type State struct {
	pledges map[string]*pledge // by contributor NUL pledge id
	reports map[string]*report // by contributor NUL deployment id
}

type pledge struct {
	contributor string // the role, e.g. guarantor:UK
	p           entry.Pledge
	reports     []*report // deployment reports, in log order
}

type report struct {
	at       time.Time
	quantity float64 // in place from at on (0 once withdrawn)
	paid     bool    // a disbursement of economic support: adds up
	// seen is the largest quantity a monitor's sighting confirmed, and
	// seenAt the earliest time a sighting confirmed that much (zero: none).
	seen   float64
	seenAt time.Time
	of     *pledge
}

// New returns an empty state.
func New() *State { return &State{pledges: map[string]*pledge{}, reports: map[string]*report{}} }

// Pledge records a pledge by contributor (its role); a later pledge with
// the same id replaces it and keeps its deployment reports.
func (s *State) Pledge(contributor string, p entry.Pledge) {
	k := contributor + "\x00" + p.ID
	if old := s.pledges[k]; old != nil {
		old.p = p
		return
	}
	s.pledges[k] = &pledge{contributor: contributor, p: p}
}

// Deploy records a deployment report by contributor on one of its own
// pledges. A report on a pledge the contributor never made is refused.
func (s *State) Deploy(contributor string, d entry.Deployment) error {
	p := s.pledges[contributor+"\x00"+d.Pledge]
	if p == nil {
		return fmt.Errorf("coalition: %s made no pledge %q", contributor, d.Pledge)
	}
	r := &report{at: d.At, quantity: d.Quantity, of: p}
	switch d.Status {
	case "withdrawn":
		r.quantity = 0
	case "disbursed":
		r.paid = true
	}
	p.reports = append(p.reports, r)
	if k := contributor + "\x00" + d.ID; s.reports[k] == nil {
		s.reports[k] = r
	}
	return nil
}

// HasDeployment reports whether the contributor logged a deployment
// report with the id (the first one with it counts).
func (s *State) HasDeployment(contributor, id string) bool {
	return s.reports[contributor+"\x00"+id] != nil
}

// DeploymentAgreement returns the agreement of the pledge the
// contributor's deployment report id is about, if it logged one.
func (s *State) DeploymentAgreement(contributor, id string) (string, bool) {
	r := s.reports[contributor+"\x00"+id]
	if r == nil {
		return "", false
	}
	return r.of.p.Agreement, true
}

// CheckSighting says why a sighting at at of the contributor's
// deployment report id would confirm nothing, or returns nil.
func (s *State) CheckSighting(contributor, id string, at time.Time) error {
	r := s.reports[contributor+"\x00"+id]
	switch {
	case r == nil:
		return fmt.Errorf("%s logged no deployment report %q", contributor, id)
	case r.paid:
		return fmt.Errorf("%s's report %q is a disbursement: money is not seen in place", contributor, id)
	case r.quantity == 0:
		return fmt.Errorf("%s's report %q is a withdrawal: nothing is in place to see", contributor, id)
	case at.Before(r.at):
		return fmt.Errorf("the sighting at %s is before %s's report %q at %s", at.Format(time.RFC3339), contributor, id, r.at.Format(time.RFC3339))
	}
	return nil
}

// Confirm records a monitor's sighting at at of quantity in place of the
// contributor's deployment report id. A sighting before the report, of a
// withdrawal or of a disbursement confirms nothing and is refused.
func (s *State) Confirm(contributor, id string, at time.Time, quantity float64) error {
	if err := s.CheckSighting(contributor, id, at); err != nil {
		return err
	}
	r := s.reports[contributor+"\x00"+id]
	q := min(quantity, r.quantity)
	if q > r.seen {
		r.seen, r.seenAt = q, at
	}
	return nil
}

// Agreement returns the agreement of the contributor's pledge, if the
// contributor made it.
func (s *State) Agreement(contributor, id string) (string, bool) {
	p := s.pledges[contributor+"\x00"+id]
	if p == nil {
		return "", false
	}
	return p.p.Agreement, true
}

// Cell is the coverage of one capability in one sector in one month.
type Cell struct {
	Sector     string  `json:"sector"`
	Capability string  `json:"capability"`
	Month      string  `json:"month"` // YYYY-MM
	Required   float64 `json:"required"`
	Pledged    float64 `json:"pledged"`
	Deployed   float64 `json:"deployed"`  // in place at mid-month; for money, disbursed by then
	Confirmed  float64 `json:"confirmed"` // of Deployed, what monitors confirmed in place by then
}

// Gap is a cell where what is deployed falls short of what is required.
type Gap struct {
	Cell
	Shortfall float64 `json:"shortfall"` // required - deployed
	Severity  float64 `json:"severity"`  // shortfall / required, 0..1
}

// months lists the first day of every month from from to to (UTC).
func months(from, to time.Time) []time.Time {
	var out []time.Time
	m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
	for ; m.Before(to); m = m.AddDate(0, 1, 0) {
		out = append(out, m)
	}
	return out
}

// Coverage returns the cells of every sector and capability the
// agreement requires or members pledged, for every month from from to
// to, ordered by sector, capability and month. A requirement or pledge
// counts in a month when it holds at mid-month (the 15th, 00:00 UTC);
// what is deployed is the latest report at or before then.
func (s *State) Coverage(a *entry.Agreement, from, to time.Time) []Cell {
	cells := map[cellKey]*Cell{}
	for _, m := range months(from, to) {
		s.evaluate(a, m.AddDate(0, 0, 14), m.Format("2006-01"), cells)
	}
	return sortCells(cells)
}

// CoverageAt returns the cells as they stand at t, labelled with t's
// month: what the engine logs as a snapshot.
func (s *State) CoverageAt(a *entry.Agreement, t time.Time) []Cell {
	cells := map[cellKey]*Cell{}
	s.evaluate(a, t, t.UTC().Format("2006-01"), cells)
	return sortCells(cells)
}

type cellKey struct{ sector, capability, month string }

// evaluate adds to cells the requirements and pledges that hold at t,
// and what is deployed then, under the month label.
func (s *State) evaluate(a *entry.Agreement, t time.Time, month string, cells map[cellKey]*Cell) {
	get := func(sector, capability string) *Cell {
		k := cellKey{sector, capability, month}
		if cells[k] == nil {
			cells[k] = &Cell{Sector: sector, Capability: capability, Month: month}
		}
		return cells[k]
	}
	for _, r := range a.Requirements {
		if !t.Before(r.From) && t.Before(r.To) {
			get(r.Sector, r.Capability).Required += r.Quantity
		}
	}
	for _, p := range s.sorted() {
		if p.p.Agreement != a.ID || t.Before(p.p.From) || !t.Before(p.p.To) {
			continue
		}
		rate, ok := p.rate(a)
		if !ok {
			continue
		}
		c := get(p.p.Sector, p.p.Capability)
		c.Pledged += p.p.Quantity * rate
		c.Deployed += p.deployedAt(t) * rate
		c.Confirmed += p.confirmedAt(t)
	}
}

// sortCells orders cells by sector, capability and month.
func sortCells(cells map[cellKey]*Cell) []Cell {
	out := make([]Cell, 0, len(cells))
	for _, c := range cells {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(x, y Cell) int {
		return cmp.Or(cmp.Compare(x.Sector, y.Sector), cmp.Compare(x.Capability, y.Capability), cmp.Compare(x.Month, y.Month))
	})
	return out
}

// sorted returns the pledges in a fixed order (contributor, then id), so
// that floating-point sums do not depend on map order.
func (s *State) sorted() []*pledge {
	keys := make([]string, 0, len(s.pledges))
	for k := range s.pledges {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]*pledge, len(keys))
	for i, k := range keys {
		out[i] = s.pledges[k]
	}
	return out
}

// deployedAt is what the pledge has in place at t: the latest report at
// or before t, or for economic support the sum disbursed by then.
func (p *pledge) deployedAt(t time.Time) float64 {
	var q float64
	for _, r := range p.reports {
		if r.at.After(t) {
			continue
		}
		if r.paid {
			q += r.quantity
		} else {
			q = r.quantity
		}
	}
	return q
}

// confirmedAt is what monitors confirmed by t of the report in force at
// t: nothing once a later report (a withdrawal, a new figure) replaced
// the one they saw.
func (p *pledge) confirmedAt(t time.Time) float64 {
	var cur *report
	for _, r := range p.reports {
		if !r.at.After(t) && !r.paid {
			cur = r
		}
	}
	if cur == nil || cur.seenAt.IsZero() || cur.seenAt.After(t) {
		return 0
	}
	return cur.seen
}

// rate is what one unit of the pledge's quantity counts for in its
// capability's unit: 1, or for money in another currency the agreement's
// declared rate (ok false when it declares none: the pledge is left out).
func (p *pledge) rate(a *entry.Agreement) (float64, bool) {
	c, _ := a.Capability(p.p.Capability)
	if !c.Economic || p.p.Currency == "" {
		return 1, true
	}
	return a.Convert(1, p.p.Currency, c.Unit)
}

// Gaps returns the cells short of their requirement, the most severe
// first (then by sector, capability and month).
func Gaps(cells []Cell) []Gap {
	var out []Gap
	for _, c := range cells {
		if c.Required > 0 && c.Deployed < c.Required {
			short := c.Required - c.Deployed
			out = append(out, Gap{Cell: c, Shortfall: short, Severity: short / c.Required})
		}
	}
	slices.SortStableFunc(out, func(x, y Gap) int { return cmp.Compare(y.Severity, x.Severity) })
	return out
}

// Ratio is a contributor's deployed-to-pledged record, summed over its
// pledges' quantities at a moment (money and units are not mixed: one
// ratio per capability unit would be finer; this is the headline).
type Ratio struct {
	Contributor string  `json:"contributor"`
	Pledged     float64 `json:"pledged"`
	Deployed    float64 `json:"deployed"`
	Ratio       float64 `json:"ratio"` // deployed / pledged
}

// Ratios returns each contributor's military pledges in force at t and
// what of them is deployed then, ordered by contributor. Economic support
// is left out (see Coverage for pledged vs disbursed).
func (s *State) Ratios(a *entry.Agreement, t time.Time) []Ratio {
	by := map[string]*Ratio{}
	for _, p := range s.sorted() {
		c, _ := a.Capability(p.p.Capability)
		if p.p.Agreement != a.ID || c.Economic || t.Before(p.p.From) || !t.Before(p.p.To) {
			continue
		}
		r := by[p.contributor]
		if r == nil {
			r = &Ratio{Contributor: p.contributor}
			by[p.contributor] = r
		}
		r.Pledged += p.p.Quantity
		r.Deployed += p.deployedAt(t)
	}
	out := make([]Ratio, 0, len(by))
	for _, r := range by {
		if r.Pledged > 0 {
			r.Ratio = r.Deployed / r.Pledged
		}
		out = append(out, *r)
	}
	slices.SortFunc(out, func(x, y Ratio) int { return cmp.Compare(x.Contributor, y.Contributor) })
	return out
}

// Support returns each donor's economic support per capability at t:
// its pledges in force then, what of them is due by then (each pledge
// pro rata of its period elapsed) and what it disbursed against them by
// then, converted into the capability's unit; ordered by contributor and
// capability.
func (s *State) Support(a *entry.Agreement, t time.Time) []entry.CoverageSupport {
	type key struct{ who, capability string }
	by := map[key]*entry.CoverageSupport{}
	for _, p := range s.sorted() {
		c, _ := a.Capability(p.p.Capability)
		if p.p.Agreement != a.ID || !c.Economic || t.Before(p.p.From) || !t.Before(p.p.To) {
			continue
		}
		rate, ok := p.rate(a)
		if !ok {
			continue
		}
		k := key{p.contributor, c.ID}
		v := by[k]
		if v == nil {
			v = &entry.CoverageSupport{Contributor: p.contributor, Capability: c.ID, Unit: c.Unit}
			by[k] = v
		}
		share := float64(t.Sub(p.p.From)) / float64(p.p.To.Sub(p.p.From))
		v.Pledged += p.p.Quantity * rate
		v.Due += p.p.Quantity * rate * share
		v.Disbursed += p.deployedAt(t) * rate
	}
	out := make([]entry.CoverageSupport, 0, len(by))
	for _, v := range by {
		out = append(out, *v)
	}
	slices.SortFunc(out, func(x, y entry.CoverageSupport) int {
		return cmp.Or(cmp.Compare(x.Contributor, y.Contributor), cmp.Compare(x.Capability, y.Capability))
	})
	return out
}

// Need is what an open obligation needs of the coalition: a capability,
// the caveats its duty names as conflicting, and how near the line the
// incident that fired it lies (for the distance caveats).
type Need struct {
	Obligation uint64
	Who        string
	Capability string
	Conflicts  []string // the duty's caveat_conflicts
	LineKM     float64  // distance from the incident to the nearest line; +Inf without lines
}

// caveatKM is the distance from the line each distance caveat keeps a
// contributor beyond.
var caveatKM = map[string]float64{"outside_50km_of_line": 50, "outside_100km_of_line": 100}

// Conflicts returns the caveats of a pledge that keep it from answering
// need: those the duty names, and the distance caveats whose distance
// exceeds the incident's distance from the line, in the pledge's order.
func Conflicts(caveats []string, need Need) []string {
	var out []string
	for _, c := range caveats {
		if km, ok := caveatKM[c]; (ok && need.LineKM < km) || slices.Contains(need.Conflicts, c) {
			out = append(out, c)
		}
	}
	return out
}

// Link returns, for need, the pledges of its capability in force at t
// whose capability is in place (deployed > 0), ordered by contributor
// and pledge id, and whether every holder is kept from answering by a
// caveat (a caveat conflict; false when nobody holds it: that is a gap).
func (s *State) Link(a *entry.Agreement, need Need, t time.Time) entry.CoverageLink {
	l := entry.CoverageLink{Obligation: need.Obligation, Who: need.Who, Capability: need.Capability, Holders: []entry.CoverageHolder{}}
	free := 0
	for _, p := range s.sorted() {
		if p.p.Agreement != a.ID || p.p.Capability != need.Capability || t.Before(p.p.From) || !t.Before(p.p.To) {
			continue
		}
		q := p.deployedAt(t)
		if q <= 0 {
			continue
		}
		h := entry.CoverageHolder{Contributor: p.contributor, Pledge: p.p.ID, Sector: p.p.Sector, Deployed: q, Caveats: p.p.Caveats, Conflicts: Conflicts(p.p.Caveats, need)}
		if len(h.Conflicts) == 0 {
			free++
		}
		l.Holders = append(l.Holders, h)
	}
	l.Conflict = len(l.Holders) > 0 && free == 0
	return l
}
