package sqlite_test

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/internal/testkeys"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/store/sqlite"
	"github.com/guarantor/guarantor/store/storetest"
)

// agreementLog is the incident log continued with guarantor and party
// keys, agreements (two versions, a second entry claiming a version, one
// the registry rejects), determinations, obligation revisions (a
// duplicate id/revision, revisions logged out of order) and responses,
// and a model of what the projection must hold.
type agreementLog struct {
	*incidentLog
	uk, fr, ua, ru key
	agreements     []node.AgreementRow
	dets           []node.DeterminationRow
	// current is the model: the latest revision (highest log index) of
	// each obligation; revisions are in log order.
	obCurrent   map[uint64]node.ObligationRow
	obRevisions map[uint64][]node.ObligationRow
	responses   []node.ResponseRow
}

// storeAgreement binds the parties UA and RU and the coalition (UK, FR).
const storeAgreement = `{"id":"test","version":%d,"title":%q,"effective":"2025-01-01T00:00:00Z","expires":"2026-01-01T00:00:00+02:00",
"parties":[{"id":"UA","name":"Ukraine"},{"id":"RU","name":"Russia"}],
"guarantors":[{"id":"coalition","name":"Coalition","kind":"collective","members":["UK","FR"]}],
"zones":[{"id":"sz","kind":"security_zone","geometry":{"type":"Polygon","coordinates":[[[37.7,47.9],[37.9,47.9],[37.9,48.1],[37.7,48.1],[37.7,47.9]]]}}],
"triggers":[{"id":"fire","title":"Fire in the zone","when":"incident.category == 'shelling' && in_zone(incident, 'sz')",
 "obligations":[{"who":"coalition","action":"consult","within":"24h","on_request_of":"UA"},{"who":"RU","action":"report","within":"72h"}]}]}`

func newAgreementLog(tb testing.TB) *agreementLog {
	tb.Helper()
	l := &agreementLog{
		incidentLog: incidentSample(tb),
		uk:          testkeys.New(tb, "guarantor.uk"),
		fr:          testkeys.New(tb, "guarantor.fr"),
		ua:          testkeys.New(tb, "party.ua"),
		ru:          testkeys.New(tb, "party.ru"),
		obCurrent:   map[uint64]node.ObligationRow{},
		obRevisions: map[uint64][]node.ObligationRow{},
	}
	for _, k := range []struct {
		k    key
		role string
	}{{l.uk, "guarantor:UK"}, {l.fr, "guarantor:FR"}, {l.ua, "party:UA"}, {l.ru, "party:RU"}} {
		l.add(tb, true, entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":%q,"not_before":"2025-01-01T00:00:00Z","not_after":"2026-01-01T00:00:00Z"}`, k.k.VKey, k.role), l.auth)
	}
	return l
}

// agreement logs an agreement signed by keys and, if accepted, updates
// the model.
func (l *agreementLog) agreement(tb testing.TB, accepted bool, body string, keys ...key) node.Record {
	tb.Helper()
	rec := l.add(tb, accepted, entry.KindAgreement, body, keys...)
	if accepted {
		l.agreements = append(l.agreements, node.AgreementRow{Index: rec.Index, Signers: rec.Signers, Agreement: *rec.Body.(*entry.Agreement)})
	}
	return rec
}

// ref names the entry at index by its leaf hash.
func (l *agreementLog) ref(index uint64) entry.Ref {
	return entry.Ref{Index: index, LeafHash: base64.StdEncoding.EncodeToString(l.recs[index].LeafHash)}
}

// determination logs d, signed by the engine key, with inputs filled in,
// and updates the model.
func (l *agreementLog) determination(tb testing.TB, d entry.Determination) node.Record {
	tb.Helper()
	d.Inputs = []entry.Ref{l.ref(uint64(len(l.recs) - 1))}
	body, err := json.Marshal(d)
	if err != nil {
		tb.Fatal(err)
	}
	rec := l.add(tb, true, entry.KindDetermination, string(body), l.engine)
	l.dets = append(l.dets, node.DeterminationRow{Index: rec.Index, Determination: *rec.Body.(*entry.Determination)})
	return rec
}

// obligation logs o, signed by the engine key, with its seq (from 1000
// on), agreement and inputs filled in, and updates the model.
func (l *agreementLog) obligation(tb testing.TB, o entry.Obligation) node.Record {
	tb.Helper()
	l.seq++
	o.Seq = l.seq
	if o.Agreement == "" {
		o.Agreement, o.Version = "test", 1
	}
	o.Inputs = []entry.Ref{l.ref(uint64(len(l.recs) - 1))}
	body, err := json.Marshal(o)
	if err != nil {
		tb.Fatal(err)
	}
	rec := l.add(tb, true, entry.KindObligation, string(body), l.engine)
	row := node.ObligationRow{Index: rec.Index, Obligation: *rec.Body.(*entry.Obligation)}
	l.obCurrent[o.ID] = row
	l.obRevisions[o.ID] = append(l.obRevisions[o.ID], row)
	return rec
}

// response logs an answer signed by k and updates the model.
func (l *agreementLog) response(tb testing.TB, k key, id string, obligation uint64, answer string) node.Record {
	tb.Helper()
	r := entry.Response{ID: id, At: at(tb, "2025-03-02T10:00:00+01:00"), Obligation: obligation, Answer: answer, Text: "done \"as agreed\""}
	if answer == entry.AnswerDeclined {
		r.Reason = "not our zone"
	}
	body, err := json.Marshal(r)
	if err != nil {
		tb.Fatal(err)
	}
	rec := l.add(tb, true, entry.KindResponse, string(body), k)
	l.responses = append(l.responses, node.ResponseRow{Index: rec.Index, Signer: rec.Signers[0], Response: *rec.Body.(*entry.Response)})
	return rec
}

func tp(tb testing.TB, v string) *time.Time {
	tb.Helper()
	t := at(tb, v)
	return &t
}

// agreementSample builds the agreement log on the incident sample.
// Determinations have seqs 101, 105 (claimed twice) and 109; obligations
// ids 102 (UK), 103 (FR), 104 (RU), 106 (UK), 107 (FR) and 110 (RU, under
// agreement "other").
func agreementSample(tb testing.TB) *agreementLog {
	tb.Helper()
	l := newAgreementLog(tb)
	all := []key{l.ua, l.ru, l.uk, l.fr}
	l.agreement(tb, true, fmt.Sprintf(storeAgreement, 1, "Test"), all...)
	l.agreement(tb, true, fmt.Sprintf(storeAgreement, 2, "Test, amended"), l.uk, l.fr, l.ua, l.ru)
	// A second entry claims version 2: the log holds it, so it is kept.
	l.agreement(tb, true, fmt.Sprintf(storeAgreement, 2, "Test, amended again"), all...)
	// Without the guarantors' co-signatures: rejected, not projected.
	l.agreement(tb, false, fmt.Sprintf(storeAgreement, 3, "Test, unilateral"), l.ua, l.ru)
	l.agreement(tb, true, `{"id":"other","version":1,"title":"Other","effective":"2025-02-01T00:00:00+03:00","parties":[{"id":"UA","name":"Ukraine"},{"id":"RU","name":"Russia"}],
		"triggers":[{"id":"many","title":"Many","when":"count({'category': 'shelling'}, '24h') >= 3","obligations":[{"who":"RU","action":"withdraw","within":"7d"}]}]}`, l.ua, l.ru)

	opened := at(tb, "2025-03-01T12:00:00Z")
	deadline := opened.Add(24 * time.Hour)
	l.seq = 1000
	l.determination(tb, entry.Determination{Seq: 101, Agreement: "test", Version: 1, Trigger: "fire", At: opened,
		Incidents: []entry.RevisionRef{{ID: 5, Revision: 1}, {ID: 7, Revision: 2}, {ID: 5, Revision: 1}}})
	ob := func(id uint64, rev int, det uint64, who, group, status string, settled *time.Time) entry.Obligation {
		return entry.Obligation{ID: id, Revision: rev, Determination: det, Trigger: "fire", Who: who, Group: group, Action: "consult",
			Text: "consult, \"urgently\"", OnRequestOf: "party:UA", Opened: opened, Deadline: deadline, Status: status, Settled: settled}
	}
	l.obligation(tb, ob(102, 1, 101, "guarantor:UK", "coalition", "open", nil))
	l.obligation(tb, ob(103, 1, 101, "guarantor:FR", "coalition", "open", nil))
	l.obligation(tb, ob(104, 1, 101, "party:RU", "", "open", nil))
	l.determination(tb, entry.Determination{Seq: 105, Agreement: "test", Version: 2, Trigger: "fire", At: at(tb, "2025-03-02T15:00:00+03:00"),
		Incidents: []entry.RevisionRef{{ID: 9, Revision: 1}}})
	// A second entry claims determination 105.
	l.determination(tb, entry.Determination{Seq: 105, Agreement: "test", Version: 2, Trigger: "fire", At: at(tb, "2025-03-02T13:00:00Z"),
		Incidents: []entry.RevisionRef{{ID: 10, Revision: 1}}})
	// Obligation 106's revision 2 is logged before its revision 1.
	l.obligation(tb, ob(106, 2, 105, "guarantor:UK", "coalition", "declined", tp(tb, "2025-03-02T13:00:00Z")))
	l.obligation(tb, ob(106, 1, 105, "guarantor:UK", "coalition", "open", nil))
	l.obligation(tb, ob(107, 1, 105, "guarantor:FR", "coalition", "open", nil))
	l.response(tb, l.uk, "r-1", 102, entry.AnswerAcknowledge)
	l.response(tb, l.uk, "r-2", 102, entry.AnswerFulfilled)
	l.obligation(tb, ob(102, 2, 101, "guarantor:UK", "coalition", "fulfilled", tp(tb, "2025-03-01T14:00:00Z")))
	// FR answers UK's obligation: the engine ignores it, the log holds it.
	l.response(tb, l.fr, "r-1", 102, entry.AnswerFulfilled)
	l.response(tb, l.ru, "r-3", 104, entry.AnswerDeclined)
	l.obligation(tb, ob(103, 2, 101, "guarantor:FR", "coalition", "missed", tp(tb, "2025-03-02T12:00:00Z")))
	l.obligation(tb, ob(104, 2, 101, "party:RU", "", "declined", tp(tb, "2025-03-02T09:00:00Z")))
	// A second entry claims obligation 103's revision 2: it is current.
	l.obligation(tb, ob(103, 2, 101, "guarantor:FR", "coalition", "missed", tp(tb, "2025-03-02T12:00:01Z")))
	l.obligation(tb, ob(103, 3, 101, "guarantor:FR", "coalition", "late", tp(tb, "2025-03-02T18:00:00Z")))
	l.determination(tb, entry.Determination{Seq: 109, Agreement: "other", Version: 1, Trigger: "many", At: at(tb, "2025-03-05T00:00:00Z"),
		Incidents: []entry.RevisionRef{{ID: 5, Revision: 3}, {ID: 9, Revision: 2}}})
	o := ob(110, 1, 109, "party:RU", "", "open", nil)
	o.Agreement, o.Version, o.Trigger, o.Action, o.OnRequestOf = "other", 1, "many", "withdraw", ""
	l.obligation(tb, o)
	l.response(tb, l.ru, "r-3", 110, entry.AnswerAcknowledge) // the same id again
	// A determination, an obligation and a response by the wrong keys:
	// in the log, rejected, not projected.
	stray, _ := json.Marshal(entry.Determination{Seq: 200, Agreement: "test", Version: 1, Trigger: "fire", At: opened,
		Incidents: []entry.RevisionRef{{ID: 5, Revision: 1}}, Inputs: []entry.Ref{l.ref(0)}})
	l.add(tb, false, entry.KindDetermination, string(stray), l.uk)
	strayOb := ob(201, 1, 101, "guarantor:UK", "", "open", nil)
	strayOb.Seq, strayOb.Agreement, strayOb.Version, strayOb.Inputs = 201, "test", 1, []entry.Ref{l.ref(0)}
	stray, _ = json.Marshal(strayOb)
	l.add(tb, false, entry.KindObligation, string(stray), l.mon)
	l.add(tb, false, entry.KindResponse, `{"id":"r-x","at":"2025-03-02T10:00:00Z","obligation":102,"answer":"fulfilled"}`, l.analyst)
	return l
}

// obligationRows returns the model's current revisions, by obligation id.
func (l *agreementLog) obligationRows() []node.ObligationRow {
	var out []node.ObligationRow
	for _, r := range l.obCurrent {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b node.ObligationRow) int { return cmp.Compare(a.Obligation.ID, b.Obligation.ID) })
	return out
}

func TestAgreements(t *testing.T) {
	s := open(t)
	l := agreementSample(t)
	apply(t, s, l.recs)
	got, err := s.Agreements(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, l.agreements) {
		t.Fatalf("Agreements =\n%+v\nwant\n%+v", got, l.agreements)
	}
	if len(got) != 4 || got[1].Agreement.Version != 2 || got[2].Agreement.Version != 2 || len(got[0].Signers) != 4 || got[0].Signers[0] != l.ua.ID {
		t.Fatalf("Agreements = %+v; want 4 entries, two claiming version 2, signed by UA first", got)
	}
	if _, off := got[3].Agreement.Effective.Zone(); off != 3*3600 {
		t.Errorf("agreement other effective = %v; want its +03:00 offset kept", got[3].Agreement.Effective)
	}
	if empty, err := open(t).Agreements(context.Background()); err != nil || len(empty) != 0 {
		t.Errorf("Agreements of an empty store = %v, %v", empty, err)
	}
}

func determinations(tb testing.TB, s *sqlite.Store, f node.DeterminationFilter) []node.DeterminationRow {
	tb.Helper()
	var got []node.DeterminationRow
	if err := s.Determinations(context.Background(), f, func(r node.DeterminationRow) error {
		got = append(got, r)
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	return got
}

func TestDeterminations(t *testing.T) {
	s := open(t)
	l := agreementSample(t)
	apply(t, s, l.recs)
	all := func(node.DeterminationRow) bool { return true }
	tests := []struct {
		name string
		f    node.DeterminationFilter
		keep func(node.DeterminationRow) bool
	}{
		{"all", node.DeterminationFilter{}, all},
		{"agreement", node.DeterminationFilter{Agreement: "test"}, func(r node.DeterminationRow) bool { return r.Determination.Agreement == "test" }},
		{"trigger", node.DeterminationFilter{Trigger: "many"}, func(r node.DeterminationRow) bool { return r.Determination.Seq == 109 }},
		{"agreement and trigger", node.DeterminationFilter{Agreement: "other", Trigger: "fire"}, nil},
		{"from is inclusive", node.DeterminationFilter{From: at(t, "2025-03-02T12:00:00Z")}, func(r node.DeterminationRow) bool { return r.Determination.Seq >= 105 }},
		{"to is exclusive", node.DeterminationFilter{To: at(t, "2025-03-02T12:00:00Z")}, func(r node.DeterminationRow) bool { return r.Determination.Seq == 101 }},
		{"times across zones", node.DeterminationFilter{From: at(t, "2025-03-02T14:00:00+02:00"), To: at(t, "2025-03-02T12:00:00.000000001Z")}, func(r node.DeterminationRow) bool {
			return r.Determination.Seq == 105 && r.Determination.At.Hour() == 15
		}},
		{"limit", node.DeterminationFilter{Limit: 2}, all},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []node.DeterminationRow
			for _, r := range l.dets {
				if tt.keep != nil && tt.keep(r) && (tt.f.Limit == 0 || len(want) < tt.f.Limit) {
					want = append(want, r)
				}
			}
			if len(want) == 0 && tt.keep != nil {
				t.Fatal("the case selects nothing; it tests nothing")
			}
			if got := determinations(t, s, tt.f); !reflect.DeepEqual(got, want) {
				t.Errorf("got %d rows, want %d:\n got %+v\nwant %+v", len(got), len(want), got, want)
			}
		})
	}
	if got := determinations(t, s, node.DeterminationFilter{Trigger: "fire"}); len(got) != 3 || got[1].Determination.Seq != 105 || got[2].Determination.Seq != 105 {
		t.Errorf("determinations of fire = %+v; want 101 and both entries claiming 105", got)
	}
	stop := errors.New("stop")
	calls := 0
	if err := s.Determinations(context.Background(), node.DeterminationFilter{}, func(node.DeterminationRow) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("Determinations = %v after %d calls; want stop after 1", err, calls)
	}
}

func obligations(tb testing.TB, s *sqlite.Store, f node.ObligationFilter) []node.ObligationRow {
	tb.Helper()
	var got []node.ObligationRow
	if err := s.Obligations(context.Background(), f, func(r node.ObligationRow) error {
		got = append(got, r)
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	return got
}

func TestObligations(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	l := agreementSample(t)
	apply(t, s, l.recs)
	all := func(node.ObligationRow) bool { return true }
	ob := func(r node.ObligationRow) entry.Obligation { return r.Obligation }
	tests := []struct {
		name string
		f    node.ObligationFilter
		keep func(node.ObligationRow) bool
	}{
		{"all", node.ObligationFilter{}, all},
		{"who", node.ObligationFilter{Who: "guarantor:UK"}, func(r node.ObligationRow) bool { return ob(r).Who == "guarantor:UK" }},
		{"who is exact", node.ObligationFilter{Who: "UK"}, nil},
		{"party", node.ObligationFilter{Who: "party:RU"}, func(r node.ObligationRow) bool { return ob(r).Who == "party:RU" }},
		{"group", node.ObligationFilter{Group: "coalition"}, func(r node.ObligationRow) bool { return ob(r).Group == "coalition" }},
		{"open", node.ObligationFilter{Status: "open"}, func(r node.ObligationRow) bool { return ob(r).Status == "open" }},
		{"fulfilled", node.ObligationFilter{Status: "fulfilled"}, func(r node.ObligationRow) bool { return ob(r).ID == 102 }},
		{"late", node.ObligationFilter{Status: "late"}, func(r node.ObligationRow) bool { return ob(r).ID == 103 }},
		{"missed", node.ObligationFilter{Status: "missed"}, nil},
		{"declined, whatever the revision number", node.ObligationFilter{Status: "declined"}, func(r node.ObligationRow) bool { return ob(r).ID == 104 }},
		{"open, by the later entry", node.ObligationFilter{Who: "guarantor:UK", Status: "open"}, func(r node.ObligationRow) bool { return ob(r).ID == 106 }},
		{"agreement", node.ObligationFilter{Agreement: "other"}, func(r node.ObligationRow) bool { return ob(r).ID == 110 }},
		{"determination", node.ObligationFilter{Determination: u64(105)}, func(r node.ObligationRow) bool { return ob(r).Determination == 105 }},
		{"determination zero", node.ObligationFilter{Determination: u64(0)}, nil},
		{"everything at once", node.ObligationFilter{Who: "guarantor:FR", Group: "coalition", Status: "late", Agreement: "test", Determination: u64(101)},
			func(r node.ObligationRow) bool { return ob(r).ID == 103 }},
		{"limit", node.ObligationFilter{Limit: 4}, all},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []node.ObligationRow
			for _, r := range l.obligationRows() {
				if tt.keep != nil && tt.keep(r) && (tt.f.Limit == 0 || len(want) < tt.f.Limit) {
					want = append(want, r)
				}
			}
			if len(want) == 0 && tt.keep != nil {
				t.Fatal("the case selects nothing; it tests nothing")
			}
			if got := obligations(t, s, tt.f); !reflect.DeepEqual(got, want) {
				t.Errorf("got %d rows, want %d:\n got %+v\nwant %+v", len(got), len(want), got, want)
			}
		})
	}
	t.Run("stops at fn's error", func(t *testing.T) {
		stop := errors.New("stop")
		calls := 0
		if err := s.Obligations(ctx, node.ObligationFilter{}, func(node.ObligationRow) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
			t.Fatalf("Obligations = %v after %d calls; want stop after 1", err, calls)
		}
	})
	t.Run("unknown status", func(t *testing.T) {
		if err := s.Obligations(ctx, node.ObligationFilter{Status: "closed"}, func(node.ObligationRow) error { return nil }); err == nil {
			t.Fatal("Obligations accepted status closed")
		}
		// Every status an obligation can have is a filter, amended included.
		for _, st := range entry.ObligationStatuses {
			if err := s.Obligations(ctx, node.ObligationFilter{Status: st}, func(node.ObligationRow) error { return nil }); err != nil {
				t.Fatalf("status %s: %v", st, err)
			}
		}
	})
}

func TestObligationRevisions(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	l := agreementSample(t)
	apply(t, s, l.recs)
	for id, want := range l.obRevisions {
		got, err := s.Obligation(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Obligation(%d) =\n%+v\nwant\n%+v", id, got, want)
		}
	}
	// Revisions come back in log order; the current one is the later
	// entry, whatever its number.
	d, _ := s.Obligation(ctx, 106)
	if len(d) != 2 || d[0].Obligation.Revision != 2 || d[1].Obligation.Revision != 1 {
		t.Fatalf("Obligation(106) = %+v; want revision 2 then revision 1, in log order", d)
	}
	if cur := obligations(t, s, node.ObligationFilter{Determination: u64(105), Who: "guarantor:UK"}); len(cur) != 1 || cur[0].Index != d[1].Index {
		t.Fatalf("current revision of obligation 106 = %+v; want the one at index %d", cur, d[1].Index)
	}
	// Two entries claiming the same revision: both kept; a later revision
	// is current.
	c, _ := s.Obligation(ctx, 103)
	if len(c) != 4 || c[1].Obligation.Revision != 2 || c[2].Obligation.Revision != 2 || c[3].Obligation.Status != "late" {
		t.Fatalf("Obligation(103) = %+v; want revisions 1, 2, 2, 3", c)
	}
	// The rejected obligation and unknown ids have no revisions.
	for _, id := range []uint64{201, 999} {
		if got, err := s.Obligation(ctx, id); err != nil || len(got) != 0 {
			t.Errorf("Obligation(%d) = %+v, %v; want none", id, got, err)
		}
	}
	// Times come back as the entry states them.
	if got := c[3].Obligation.Settled; got == nil || !got.Equal(at(t, "2025-03-02T18:00:00Z")) {
		t.Errorf("obligation 103 settled = %v", got)
	}
}

func TestResponses(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	l := agreementSample(t)
	apply(t, s, l.recs)
	for _, id := range []uint64{102, 104, 110, 103, 999} {
		var want []node.ResponseRow
		for _, r := range l.responses {
			if r.Response.Obligation == id {
				want = append(want, r)
			}
		}
		got, err := s.Responses(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Responses(%d) =\n%+v\nwant\n%+v", id, got, want)
		}
	}
	got, _ := s.Responses(ctx, 102)
	if len(got) != 3 || got[0].Signer != l.uk.ID || got[2].Signer != l.fr.ID || got[0].Index > got[1].Index || got[1].Index > got[2].Index {
		t.Fatalf("Responses(102) = %+v; want UK's two then FR's, in log order", got)
	}
	if _, off := got[0].Response.At.Zone(); off != 3600 {
		t.Errorf("response time = %v; want its +01:00 offset kept", got[0].Response.At)
	}
}

func TestAgreementExport(t *testing.T) {
	l := agreementSample(t)
	var exports [][]byte
	for _, size := range []int{len(l.recs), 7, 1} {
		s := open(t)
		for i := 0; i < len(l.recs); i += size {
			apply(t, s, l.recs[i:min(i+size, len(l.recs))])
		}
		exports = append(exports, export(t, s))
	}
	for i, e := range exports[1:] {
		if !bytes.Equal(e, exports[0]) {
			t.Fatalf("export %d differs from export 0:\n%s\n---\n%s", i+1, e, exports[0])
		}
	}
	e := exports[0]
	revs := 0
	for _, rs := range l.obRevisions {
		revs += len(rs)
	}
	for table, want := range map[string]int{"agreements": len(l.agreements), "determinations": len(l.dets), "obligations": revs,
		"obligation_current": len(l.obCurrent), "responses": len(l.responses)} {
		if got := len(section(e, table)); got != want {
			t.Errorf("export has %d %s rows, want %d", got, table, want)
		}
	}
	// Each determination's incident revisions, once each, in order.
	var refs []string
	for _, d := range l.dets {
		var seen []entry.RevisionRef
		for _, in := range d.Determination.Incidents {
			if !slices.Contains(seen, in) {
				seen = append(seen, in)
			}
		}
		slices.SortFunc(seen, func(a, b entry.RevisionRef) int {
			return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Revision, b.Revision))
		})
		for _, in := range seen {
			refs = append(refs, fmt.Sprintf("%d\t%d\t%d", d.Index, in.ID, in.Revision))
		}
	}
	if got := section(e, "determination_incidents"); !slices.Equal(got, refs) {
		t.Errorf("determination_incidents = %q, want %q", got, refs)
	}
	// Times are stored in UTC; an open-ended obligation has no settled time.
	cur := section(e, "obligation_current")
	if len(cur) != 6 || !bytes.Contains([]byte(cur[4]), []byte(`"2025-03-01T12:00:00.000000000Z"`)) || !bytes.HasSuffix([]byte(cur[5]), []byte(`\N`)) {
		t.Errorf("obligation_current = %q", cur)
	}
	if ag := section(e, "agreements"); !bytes.Contains([]byte(ag[0]), []byte(`"2025-12-31T22:00:00.000000000Z"`)) || !bytes.HasSuffix([]byte(ag[3]), []byte(`\N`)) {
		t.Errorf("agreements = %q; want expiry in UTC, and none for other", ag)
	}

	// A projection rebuilt from the log in one go equals one that was
	// reopened half-way.
	path := t.TempDir() + "/p.db"
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	half := len(l.recs) - 15
	apply(t, s, l.recs[:half])
	s.Close()
	if s, err = sqlite.Open(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	apply(t, s, l.recs[half:])
	if !bytes.Equal(export(t, s), e) {
		t.Fatal("a projection continued after reopening differs from one built in one go")
	}
}

func TestApplyRefusesWrongAgreementBodies(t *testing.T) {
	ctx := context.Background()
	l := agreementSample(t)
	first := map[entry.Kind]node.Record{}
	for _, r := range l.recs {
		if _, ok := first[r.Kind]; !ok && r.Rejected == "" {
			first[r.Kind] = r
		}
	}
	ag := first[entry.KindAgreement]
	det, ob, resp := first[entry.KindDetermination], first[entry.KindObligation], first[entry.KindResponse]
	s := open(t)
	apply(t, s, l.recs[:ag.Index])
	before := export(t, s)
	with := func(r node.Record, body any) node.Record {
		r.Index = ag.Index
		r.Body = body
		return r
	}
	noSigner := resp
	noSigner.Signers = nil
	tests := []struct {
		name string
		rec  node.Record
	}{
		{"agreement without a body", with(ag, nil)},
		{"agreement with a determination body", with(ag, det.Body)},
		{"agreement body by value", with(ag, *ag.Body.(*entry.Agreement))},
		{"determination without a body", with(det, nil)},
		{"determination with an obligation body", with(det, ob.Body)},
		{"obligation without a body", with(ob, nil)},
		{"obligation with an incident body", with(ob, first[entry.KindIncident].Body)},
		{"obligation body by value", with(ob, *ob.Body.(*entry.Obligation))},
		{"response without a body", with(resp, nil)},
		{"response with an obligation body", with(resp, ob.Body)},
		{"response without a signer", with(noSigner, resp.Body)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Apply(ctx, []node.Record{tt.rec}); err == nil {
				t.Fatal("Apply succeeded")
			}
			if after := export(t, s); !bytes.Equal(after, before) {
				t.Fatal("a refused batch changed the projection")
			}
		})
	}
	apply(t, s, l.recs[ag.Index:])
}

// migrationTables lists, by migration, the tables it creates, last
// created first, so that a test can take a projection back to the
// schema before it.
var migrationTables = map[int][]string{
	2: {"verifications", "incident_parties", "incident_members", "incident_current", "incidents"},
	3: {"responses", "obligation_current", "obligations", "determination_incidents", "determinations", "agreements"},
	4: {"sanction_current", "sanctions"},
	5: {"coverage"},
	6: {"exchange_entries"},
	7: {"patrol_entries"},
}

// downgrade takes the projection at path back to the given schema
// version by dropping the tables of later migrations, keeping their
// entries rows: a projection made by an older version of this package.
func downgrade(tb testing.TB, path string, version int) {
	tb.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	for n := len(migrationTables) + 1; n > version; n-- {
		for _, table := range migrationTables[n] {
			if _, err := db.ExecContext(ctx, "DROP TABLE "+table); err != nil {
				tb.Fatalf("drop %s: %v", table, err)
			}
		}
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", version)); err != nil {
		tb.Fatal(err)
	}
}

// TestMigrationBackfillsAgreements opens projections made before the
// agreement tables existed (schema 2) and before the incident tables did
// too (schema 1), whose entries of those kinds are in entries only: the
// migrations must project them, so that each equals a projection rebuilt
// from the log.
func TestMigrationBackfillsAgreements(t *testing.T) {
	ctx := context.Background()
	l := agreementSample(t)
	ref := open(t)
	apply(t, ref, l.recs)
	want := export(t, ref)
	for _, version := range []int{2, 1} {
		t.Run(fmt.Sprintf("from schema %d", version), func(t *testing.T) {
			path := t.TempDir() + "/p.db"
			s, err := sqlite.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			apply(t, s, l.recs)
			s.Close()
			downgrade(t, path, version)
			if s, err = sqlite.Open(ctx, path); err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := export(t, s); !bytes.Equal(got, want) {
				t.Fatalf("migrated projection differs from a rebuilt one:\n%s\n---\n%s", got, want)
			}
			// And it goes on applying.
			if n := applied(t, s); n != uint64(len(l.recs)) {
				t.Fatalf("Applied = %d, want %d", n, len(l.recs))
			}
		})
	}
}

// TestMigrationsBackfillTheConformanceLog: the conformance suite's log
// (amendments, snap-backs by obligations, exchanges, patrols...) applied
// by a projection of every older schema and then migrated equals the
// same log applied by the current schema.
func TestMigrationsBackfillTheConformanceLog(t *testing.T) {
	ctx := context.Background()
	recs := storetest.Log(t)
	ref := open(t)
	apply(t, ref, recs)
	want := export(t, ref)
	for version := len(migrationTables); version >= 1; version-- {
		t.Run(fmt.Sprintf("from schema %d", version), func(t *testing.T) {
			path := t.TempDir() + "/p.db"
			s, err := sqlite.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			apply(t, s, recs)
			s.Close()
			downgrade(t, path, version)
			if s, err = sqlite.Open(ctx, path); err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := export(t, s); !bytes.Equal(got, want) {
				t.Fatalf("migrated from schema %d, the export differs from a fresh projection's:\n%s", version, firstDiff(got, want))
			}
		})
	}
}

// firstDiff shows the first differing line of two exports.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d:\n got %s\nwant %s", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("%d lines, want %d", len(g), len(w))
}
