package web

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
)

// openObligation is an open obligation on the board, with the time left.
type openObligation struct {
	node.ObligationRow
	Left    string // the time left, or overdue, in words
	Overdue bool   // the deadline passed; the next tick settles it as missed
}

// record is the fulfilment record of one guarantor, group or party: its
// obligations counted by the status of their latest revision, as GET
// /v1/guarantors.csv counts them.
type record struct {
	Who, Kind                                              string // kind: guarantor, group or party
	Owed, Open, Fulfilled, Late, Missed, Declined, Amended int
	// MedianHours is the median time from opened to settled of the
	// fulfilled and late obligations, in hours; -1 when there are none.
	MedianHours float64
	hours       []float64
	RecordURL   string // its record in the API; "" for a party
	FeedURL     string // its Atom feed; "" for a group
}

// add counts o, the latest revision of an obligation.
func (r *record) add(o *entry.Obligation) {
	r.Owed++
	switch o.Status {
	case entry.ObligationOpen:
		r.Open++
	case entry.ObligationFulfilled:
		r.Fulfilled++
	case entry.ObligationLate:
		r.Late++
	case entry.ObligationMissed:
		r.Missed++
	case entry.ObligationDeclined:
		r.Declined++
	case entry.ObligationAmended:
		r.Amended++
	}
	if (o.Status == entry.ObligationFulfilled || o.Status == entry.ObligationLate) && o.Settled != nil {
		r.hours = append(r.hours, o.Settled.Sub(o.Opened).Hours())
	}
}

// median sets MedianHours from the hours added.
func (r *record) median() {
	r.MedianHours = -1
	if len(r.hours) == 0 {
		return
	}
	slices.Sort(r.hours)
	n := len(r.hours)
	r.MedianHours = r.hours[n/2]
	if n%2 == 0 {
		r.MedianHours = (r.hours[n/2-1] + r.hours[n/2]) / 2
	}
}

// coverageCell is one cell of the coverage matrix; nil fields mean the
// agreement requires nothing of that capability in that sector and
// nothing is pledged.
type coverageCell struct {
	*entry.CoverageCell
	Unit string
}

// coverageView is one coalition's latest coverage snapshot, laid out as a
// matrix of sectors by capabilities.
type coverageView struct {
	Agreement, Title, Coalition string
	Found                       bool // a snapshot is logged
	Index                       uint64
	Month                       string
	At                          time.Time
	Capabilities                []entry.Capability
	Sectors                     []coverageRow
	Gaps                        int
	Conflicts, Uncovered        []entry.CoverageLink
	Support                     []supportRow
	Ratios                      []entry.CoverageRatio
	CoverageCSV, SupportCSV     string
	JSONURL                     string
}

// coverageRow is one sector of the matrix: a cell per capability.
type coverageRow struct {
	Sector, Title string
	Cells         []coverageCell
}

// supportRow is one donor's economic support of one kind.
type supportRow struct {
	entry.CoverageSupport
	Behind bool // disbursed less than is due
}

// boardData is what the board shows.
type boardData struct {
	base
	Now        time.Time
	Open       []openObligation // soonest deadline first
	Records    []record         // guarantors, then groups, then parties, each by name
	Sanctions  []node.SanctionRow
	Coalitions []coverageView
	Exchanges  []exchangeView // every prisoner exchange in the log, by id
	Access     accessView     // restrictions of the mission's movement, last AccessDays days
	Feeds      []feed
	I18N       string // the countdown's strings, for board.js
}

// handleBoard serves GET /board: the open obligations with the time left,
// the fulfilment record of every guarantor, group and party, the status
// of every sanction measure, the restrictions of the mission's movement
// in the last AccessDays days by party, each coalition's coverage, and
// the progress of every prisoner exchange (counts only).
func (h *handler) handleBoard(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := h.lang(r)
	now := h.now()
	d := boardData{base: h.page(r, "board"), Now: now, I18N: countdownStrings(lang)}
	rows, err := h.src.Agreements(ctx)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	_, d.Feeds = summarise(rows)
	records := newRecords(rows)
	err = h.src.Obligations(ctx, node.ObligationFilter{}, func(row node.ObligationRow) error {
		o := &row.Obligation
		records.add(o)
		if o.Status == entry.ObligationOpen {
			left := o.Deadline.Sub(now)
			d.Open = append(d.Open, openObligation{ObligationRow: row, Left: countdown(lang, left), Overdue: left < 0})
		}
		return nil
	})
	if err != nil {
		h.internal(w, r, err)
		return
	}
	slices.SortStableFunc(d.Open, func(a, b openObligation) int {
		return cmp.Or(a.Obligation.Deadline.Compare(b.Obligation.Deadline), cmp.Compare(a.Obligation.ID, b.Obligation.ID))
	})
	d.Records = records.list()
	if d.Sanctions, err = h.src.Sanctions(ctx); err != nil {
		h.internal(w, r, err)
		return
	}
	if d.Coalitions, err = h.coalitions(ctx, rows); err != nil {
		h.internal(w, r, err)
		return
	}
	if d.Exchanges, err = h.exchanges(ctx); err != nil {
		h.internal(w, r, err)
		return
	}
	if d.Access, err = h.access(ctx, now); err != nil {
		h.internal(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "board", d)
}

// records are the fulfilment records being counted, by kind and name.
type records map[string]map[string]*record

// newRecords starts a record for every guarantor role, collective group
// and party role that the agreement entries name, in any version.
func newRecords(rows []node.AgreementRow) records {
	rs := records{"guarantor": {}, "group": {}, "party": {}}
	for _, row := range rows {
		a := &row.Agreement
		for _, p := range a.Parties {
			rs.get("party", "party:"+p.ID)
		}
		for _, g := range a.Guarantors {
			roles, group := a.Debtors(g.ID)
			for _, role := range roles {
				rs.get("guarantor", role)
			}
			if group != "" {
				rs.get("group", group)
			}
		}
	}
	return rs
}

// get returns the record of who, starting it if needed.
func (rs records) get(kind, who string) *record {
	r := rs[kind][who]
	if r == nil {
		r = &record{Who: who, Kind: kind}
		name := who[strings.IndexByte(who, ':')+1:]
		switch kind {
		case "guarantor":
			r.RecordURL, r.FeedURL = "/v1/guarantors/"+name+"/record", "/v1/guarantors/"+name+"/feed.atom"
		case "group":
			r.RecordURL = "/v1/guarantors/" + name + "/record"
		case "party":
			r.FeedURL = "/v1/parties/" + name + "/feed.atom"
		}
		rs[kind][who] = r
	}
	return r
}

// add counts obligation o for its debtor and, owed as a member of a
// group, for the group.
func (rs records) add(o *entry.Obligation) {
	kind := "guarantor"
	if strings.HasPrefix(o.Who, "party:") {
		kind = "party"
	}
	rs.get(kind, o.Who).add(o)
	if o.Group != "" {
		rs.get("group", o.Group).add(o)
	}
}

// list returns the records: guarantors, groups, then parties, each sorted
// by name.
func (rs records) list() []record {
	var out []record
	for _, kind := range []string{"guarantor", "group", "party"} {
		start := len(out)
		for _, r := range rs[kind] {
			r.median()
			out = append(out, *r)
		}
		slices.SortFunc(out[start:], func(a, b record) int { return strings.Compare(a.Who, b.Who) })
	}
	return out
}

// coalitions returns the latest coverage snapshot of every agreement that
// names a coalition in its latest version, by agreement id.
func (h *handler) coalitions(ctx context.Context, rows []node.AgreementRow) ([]coverageView, error) {
	latest := map[string]*entry.Agreement{}
	for i := range rows {
		a := &rows[i].Agreement
		if prev := latest[a.ID]; prev == nil || a.Version > prev.Version {
			latest[a.ID] = a
		}
	}
	var out []coverageView
	for _, a := range latest {
		if a.Coalition == "" {
			continue
		}
		v := coverageView{Agreement: a.ID, Title: a.Title, Coalition: a.Coalition,
			CoverageCSV: "/v1/coalition/" + a.ID + "/coverage.csv", SupportCSV: "/v1/coalition/" + a.ID + "/support.csv", JSONURL: "/v1/coalition/" + a.ID + "/coverage"}
		row, ok, err := h.src.Coverage(ctx, a.ID, "")
		if err != nil {
			return nil, err
		}
		if ok {
			v.fill(a, row)
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b coverageView) int { return strings.Compare(a.Agreement, b.Agreement) })
	return out, nil
}

// fill lays out the snapshot row of agreement a: sectors in the order of
// the agreement's zones, capabilities in the order of the taxonomy, then
// any other named in the snapshot.
func (v *coverageView) fill(a *entry.Agreement, row node.CoverageRow) {
	c := &row.Coverage
	v.Found, v.Index, v.Month, v.At = true, row.Index, c.Month, c.At
	caps, sectors := map[string]bool{}, map[string]bool{}
	for _, cell := range c.Cells {
		caps[cell.Capability], sectors[cell.Sector] = true, true
		if cell.Shortfall > 0 {
			v.Gaps++
		}
	}
	for _, cp := range append(slices.Clone(a.Capabilities), entry.Capabilities...) {
		if caps[cp.ID] && !slices.ContainsFunc(v.Capabilities, func(x entry.Capability) bool { return x.ID == cp.ID }) {
			v.Capabilities = append(v.Capabilities, cp)
		}
	}
	var other []string
	for id := range caps {
		if !slices.ContainsFunc(v.Capabilities, func(x entry.Capability) bool { return x.ID == id }) {
			other = append(other, id)
		}
	}
	slices.Sort(other)
	for _, id := range other {
		v.Capabilities = append(v.Capabilities, entry.Capability{ID: id, Title: id})
	}
	var order []string
	titles := map[string]string{}
	for _, z := range a.Zones {
		if sectors[z.ID] {
			order = append(order, z.ID)
			titles[z.ID] = cmp.Or(z.Title, z.ID)
		}
	}
	var rest []string
	for s := range sectors {
		if !slices.Contains(order, s) {
			rest = append(rest, s)
		}
	}
	slices.Sort(rest)
	for _, s := range append(order, rest...) {
		r := coverageRow{Sector: s, Title: cmp.Or(titles[s], s)}
		for _, cp := range v.Capabilities {
			cell := coverageCell{Unit: cp.Unit}
			for i := range c.Cells {
				if c.Cells[i].Sector == s && c.Cells[i].Capability == cp.ID {
					cell.CoverageCell = &c.Cells[i]
				}
			}
			r.Cells = append(r.Cells, cell)
		}
		v.Sectors = append(v.Sectors, r)
	}
	for _, l := range c.Obligations {
		switch {
		case l.Conflict:
			v.Conflicts = append(v.Conflicts, l)
		case len(l.Holders) == 0:
			v.Uncovered = append(v.Uncovered, l)
		}
	}
	for _, s := range c.Support {
		v.Support = append(v.Support, supportRow{CoverageSupport: s, Behind: s.Disbursed < s.Due})
	}
	v.Ratios = c.Ratios
}

// countdown says how long is left until a deadline (d ≥ 0) or how long
// ago it passed, in days, hours and minutes: the two largest units that
// are not zero.
func countdown(lang string, d time.Duration) string {
	key := "countdown.left"
	if d < 0 {
		key, d = "countdown.overdue", -d
	}
	if d < time.Minute {
		s, _ := translate(lang, "countdown.now")
		return s
	}
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	var parts []string
	if days > 0 {
		s, _ := translate(lang, "countdown.days", days)
		parts = append(parts, s)
	}
	if hours > 0 {
		s, _ := translate(lang, "countdown.hours", hours)
		parts = append(parts, s)
	}
	if mins > 0 && days == 0 {
		s, _ := translate(lang, "countdown.minutes", mins)
		parts = append(parts, s)
	}
	s, _ := translate(lang, key, strings.Join(parts, " "))
	return s
}

// countdownStrings returns, as JSON, the strings board.js needs to tick
// the countdowns in the reader's language.
func countdownStrings(lang string) string {
	m := map[string]string{}
	for _, k := range []string{"countdown.left", "countdown.overdue", "countdown.now", "countdown.days", "countdown.hours", "countdown.minutes"} {
		m[k], _ = translate(lang, k)
	}
	b, _ := json.Marshal(m)
	return string(b)
}
