package http

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
)

// The kinds of a RecordRow.
const (
	RecordGuarantor = "guarantor" // a guarantor role, e.g. guarantor:UK
	RecordGroup     = "group"     // a collective group id, e.g. coalition
	RecordParty     = "party"     // a party role, e.g. party:RU
)

// GuarantorCSVColumns are the columns of GET /v1/guarantors.csv.
var GuarantorCSVColumns = []string{"who", "kind", "owed", "open", "fulfilled", "late", "missed", "declined", "amended", "median_hours_to_respond"}

// Tally is the fulfilment record of a set of obligations, counted by the
// status of their latest revision.
type Tally struct {
	Owed      int `json:"owed"` // every obligation, whatever its status
	Open      int `json:"open"`
	Fulfilled int `json:"fulfilled"` // on time
	Late      int `json:"late"`      // fulfilled after the deadline passed
	Missed    int `json:"missed"`
	Declined  int `json:"declined"`
	Amended   int `json:"amended"` // a later version of the agreement dropped the duty
	// MedianHoursToRespond is the median time from opened to settled of
	// the fulfilled and late obligations, in hours; nil when there are
	// none.
	MedianHoursToRespond *float64 `json:"median_hours_to_respond"`
}

// RecordRow is the record of one guarantor, group or party.
type RecordRow struct {
	Who  string `json:"who"`  // the role (guarantor:UK, party:RU) or, for a group, its id
	Kind string `json:"kind"` // guarantor, group or party
	Tally
}

// GuarantorRecord is what GET /v1/guarantors/{who}/record serves.
type GuarantorRecord struct {
	RecordRow
	// Groups breaks a guarantor's record down by the collective groups
	// it is a member of: for each, the obligations it owes as a member.
	// Empty for a group.
	Groups []RecordRow `json:"groups"`
	// Members breaks a group's record down by its members: for each, the
	// group's obligations it owes. Empty for a guarantor.
	Members []RecordRow `json:"members"`
}

// tallier accumulates a Tally one obligation at a time.
type tallier struct {
	t     Tally
	hours []float64
}

// add counts the latest revision o of an obligation.
func (a *tallier) add(o *entry.Obligation) {
	a.t.Owed++
	switch o.Status {
	case entry.ObligationOpen:
		a.t.Open++
	case entry.ObligationFulfilled:
		a.t.Fulfilled++
	case entry.ObligationLate:
		a.t.Late++
	case entry.ObligationMissed:
		a.t.Missed++
	case entry.ObligationDeclined:
		a.t.Declined++
	case entry.ObligationAmended:
		a.t.Amended++
	}
	if (o.Status == entry.ObligationFulfilled || o.Status == entry.ObligationLate) && o.Settled != nil {
		a.hours = append(a.hours, o.Settled.Sub(o.Opened).Hours())
	}
}

// tally returns the record of the obligations added so far.
func (a *tallier) tally() Tally {
	t := a.t
	t.MedianHoursToRespond = median(a.hours)
	return t
}

// tally returns the record of the obligations obs, each the latest
// revision of one obligation.
func tally(obs []entry.Obligation) Tally {
	var a tallier
	for i := range obs {
		a.add(&obs[i])
	}
	return a.tally()
}

// median returns the median of xs (the mean of the middle two when there
// is an even number of them), or nil when xs is empty. It does not change
// xs.
func median(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + m) / 2
	}
	return &m
}

// actors are the guarantors, groups and parties the logged agreements
// name, every version of each.
type actors struct {
	guarantors map[string]bool            // guarantor roles
	groups     map[string]map[string]bool // group id -> member roles
	parties    map[string]bool            // party roles
}

// knownActors collects the actors of every accepted agreement entry.
func knownActors(ctx context.Context, st node.Store) (actors, error) {
	a := actors{guarantors: map[string]bool{}, groups: map[string]map[string]bool{}, parties: map[string]bool{}}
	rows, err := st.Agreements(ctx)
	if err != nil {
		return a, err
	}
	for _, row := range rows {
		ag := &row.Agreement
		for _, p := range ag.Parties {
			a.parties["party:"+p.ID] = true
		}
		for _, g := range ag.Guarantors {
			roles, group := ag.Debtors(g.ID)
			if group != "" && a.groups[group] == nil {
				a.groups[group] = map[string]bool{}
			}
			for _, role := range roles {
				a.guarantors[role] = true
				if group != "" {
					a.groups[group][role] = true
				}
			}
		}
	}
	return a, nil
}

// handleGuarantorRecord serves GET /v1/guarantors/{who}/record: the
// GuarantorRecord of guarantor:{who} or, when {who} is not a guarantor
// but a collective group, of the group. A guarantor or group no logged
// agreement names and no obligation is owed by is not found.
func (s *Server) handleGuarantorRecord(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	who := r.PathValue("who")
	if !actorName.MatchString(who) {
		s.problem(w, r, guarantor.Errorf(guarantor.EInvalid, "who", "%q is not a guarantor or group id like UK or coalition", who))
		return
	}
	st := s.node.Store()
	known, err := knownActors(ctx, st)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	role := "guarantor:" + who
	var own tallier
	parts := map[string]*tallier{} // by group
	for group, members := range known.groups {
		if members[role] {
			parts[group] = &tallier{}
		}
	}
	err = st.Obligations(ctx, node.ObligationFilter{Who: role}, func(row node.ObligationRow) error {
		own.add(&row.Obligation)
		if g := row.Obligation.Group; g != "" {
			if parts[g] == nil {
				parts[g] = &tallier{}
			}
			parts[g].add(&row.Obligation)
		}
		return nil
	})
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if known.guarantors[role] || own.t.Owed > 0 {
		writeJSON(w, http.StatusOK, GuarantorRecord{
			RecordRow: RecordRow{Who: role, Kind: RecordGuarantor, Tally: own.tally()},
			Groups:    recordRows(parts, RecordGroup),
			Members:   []RecordRow{},
		})
		return
	}
	var group tallier
	parts = map[string]*tallier{} // by member
	for m := range known.groups[who] {
		parts[m] = &tallier{}
	}
	err = st.Obligations(ctx, node.ObligationFilter{Group: who}, func(row node.ObligationRow) error {
		group.add(&row.Obligation)
		if parts[row.Obligation.Who] == nil {
			parts[row.Obligation.Who] = &tallier{}
		}
		parts[row.Obligation.Who].add(&row.Obligation)
		return nil
	})
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if known.groups[who] == nil && group.t.Owed == 0 {
		s.problem(w, r, guarantor.Errorf(guarantor.ENotFound, "who", "no guarantor or group %q: no agreement names it and it owes no obligation", who))
		return
	}
	writeJSON(w, http.StatusOK, GuarantorRecord{
		RecordRow: RecordRow{Who: who, Kind: RecordGroup, Tally: group.tally()},
		Groups:    []RecordRow{},
		Members:   recordRows(parts, RecordGuarantor),
	})
}

// recordRows returns the records of ts, of the given kind, by who.
func recordRows(ts map[string]*tallier, kind string) []RecordRow {
	out := make([]RecordRow, 0, len(ts))
	for who, t := range ts {
		out = append(out, RecordRow{Who: who, Kind: kind, Tally: t.tally()})
	}
	slices.SortFunc(out, func(a, b RecordRow) int { return strings.Compare(a.Who, b.Who) })
	return out
}

// handleGuarantorsCSV serves GET /v1/guarantors.csv (open data): the
// record of every guarantor role, then every collective group, then every
// party role that a logged agreement names or that owes an obligation,
// each sorted, with the columns GuarantorCSVColumns.
func (s *Server) handleGuarantorsCSV(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st := s.node.Store()
	known, err := knownActors(ctx, st)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	byKind := map[string]map[string]*tallier{RecordGuarantor: {}, RecordGroup: {}, RecordParty: {}}
	for role := range known.guarantors {
		byKind[RecordGuarantor][role] = &tallier{}
	}
	for group := range known.groups {
		byKind[RecordGroup][group] = &tallier{}
	}
	for role := range known.parties {
		byKind[RecordParty][role] = &tallier{}
	}
	add := func(kind, who string, o *entry.Obligation) {
		t := byKind[kind][who]
		if t == nil {
			t = &tallier{}
			byKind[kind][who] = t
		}
		t.add(o)
	}
	err = st.Obligations(ctx, node.ObligationFilter{}, func(row node.ObligationRow) error {
		o := &row.Obligation
		if strings.HasPrefix(o.Who, "party:") {
			add(RecordParty, o.Who, o)
		} else {
			add(RecordGuarantor, o.Who, o)
		}
		if o.Group != "" {
			add(RecordGroup, o.Group, o)
		}
		return nil
	})
	if err != nil {
		s.problem(w, r, err)
		return
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write(GuarantorCSVColumns)
	for _, kind := range []string{RecordGuarantor, RecordGroup, RecordParty} {
		for _, row := range recordRows(byKind[kind], kind) {
			t := row.Tally
			median := ""
			if t.MedianHoursToRespond != nil {
				median = strconv.FormatFloat(*t.MedianHoursToRespond, 'f', -1, 64)
			}
			_ = cw.Write([]string{row.Who, row.Kind, strconv.Itoa(t.Owed), strconv.Itoa(t.Open), strconv.Itoa(t.Fulfilled),
				strconv.Itoa(t.Late), strconv.Itoa(t.Missed), strconv.Itoa(t.Declined), strconv.Itoa(t.Amended), median})
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		s.problem(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="guarantors.csv"`)
	_, _ = w.Write(buf.Bytes())
}
