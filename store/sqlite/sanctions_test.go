package sqlite_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/guarantor/guarantor/entry"
)

func TestSanctionsAndSnapBack(t *testing.T) {
	ctx := context.Background()
	l := newAgreementLog(t)
	statement := func(id, status string, k key, when string) {
		t.Helper()
		b, err := json.Marshal(entry.Sanction{ID: id, At: at(t, when), Authority: "UK", Program: "Russia regime",
			Targets: []entry.SanctionTarget{{Kind: "state", Name: "Russian Federation", Country: "ru"}}, Provisions: "asset freeze", Status: status,
			Snapback: []entry.SnapbackClause{{Agreement: "test", Trigger: "fire"}}})
		if err != nil {
			t.Fatal(err)
		}
		l.add(t, k == l.uk, entry.KindSanction, string(b), k)
	}
	statement("uk-1", entry.SanctionSuspended, l.uk, "2025-03-01T00:00:00Z")
	statement("uk-2", entry.SanctionActive, l.uk, "2025-03-01T00:00:00Z")
	statement("uk-3", entry.SanctionActive, l.fr, "2025-03-01T00:00:00Z") // FR cannot state UK's measure: rejected, not projected
	opened := at(t, "2025-03-01T12:00:00Z")
	o := entry.Obligation{ID: 900, Revision: 2, Determination: 899, Trigger: "fire", Who: "guarantor:UK", Action: "sanction",
		Opened: opened, Deadline: opened.Add(720 * 3600e9), Status: entry.ObligationFulfilled, Settled: &opened, Reimposed: []string{"uk-1"}}
	rec := l.obligation(t, o)
	s := open(t)
	apply(t, s, l.recs)
	rows, err := s.Sanctions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Sanction.ID != "uk-1" || rows[0].Status != entry.SanctionActive || rows[0].ReimposedBy == nil || *rows[0].ReimposedBy != 900 ||
		*rows[0].ReimposedIndex != rec.Index || rows[1].Status != entry.SanctionActive || rows[1].ReimposedBy != nil {
		t.Fatalf("sanctions %+v", rows)
	}
	// The authority suspends it again later: its statement stands.
	l2 := len(l.recs)
	statement("uk-1", entry.SanctionSuspended, l.uk, "2025-04-01T00:00:00Z")
	apply(t, s, l.recs[l2:])
	rows, _ = s.Sanctions(ctx)
	if rows[0].Status != entry.SanctionSuspended || rows[0].ReimposedBy != nil {
		t.Fatalf("after a new statement: %+v", rows[0])
	}
	h, err := s.SanctionHistory(ctx, "uk-1")
	if err != nil || len(h) != 2 || h[0].Sanction.Status != entry.SanctionSuspended {
		t.Fatalf("history %+v %v", h, err)
	}
	// Rebuilt from the same log, the projection is the same.
	r := open(t)
	apply(t, r, l.recs)
	if string(export(t, r)) != string(export(t, s)) {
		t.Fatal("rebuilt projection differs")
	}
}
