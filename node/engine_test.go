package node_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/engine"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/scenario"
)

// engineFixture is a node running the engine, with an engine key and a
// few monitor keys registered.
func engineFixture(t *testing.T) (*fixture, key) {
	t.Helper()
	eng := newKey(t, "engine")
	f := &fixture{t: t, auth: newKey(t, "authority"), dir: t.TempDir(), engine: &node.EngineConfig{Rules: engine.DefaultConfig(), Signer: eng.S, TickEvery: -1}}
	f.open()
	t.Cleanup(f.close)
	f.must(f.sign(entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":"engine","not_before":"2020-01-01T00:00:00Z","not_after":"2099-01-01T00:00:00Z"}`, eng.VKey), f.auth))
	return f, eng
}

// submitScenario registers the scenario's monitors and submits its
// observations concurrently, as a busy server receives them.
func submitScenario(t *testing.T, f *fixture, cfg scenario.Config) int {
	t.Helper()
	var mons []key
	for _, m := range scenario.Monitors(cfg) {
		k := newKey(t, m.Name)
		f.must(f.sign(entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":"monitor","not_before":"2020-01-01T00:00:00Z","not_after":"2099-01-01T00:00:00Z"}`, k.VKey), f.auth))
		mons = append(mons, k)
	}
	items := scenario.Generate(cfg)
	errs := make(chan error, len(items))
	sem := make(chan struct{}, 32)
	for _, it := range items {
		body, _ := entry.MarshalBody(it.Observation)
		raw := f.sign(entry.KindObservation, string(body), mons[it.Monitor])
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			_, err := f.submit(raw)
			errs <- err
		}()
	}
	for range items {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	return len(items)
}

// replayStore runs a fresh Replayer over every record the store holds and
// returns how many derived entries it checked.
func replayStore(t *testing.T, f *fixture) uint64 {
	t.Helper()
	ctx := context.Background()
	applied, err := f.store.Applied(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := engine.NewReplayer(engine.DefaultConfig())
	err = f.store.Records(ctx, 0, applied, func(rec node.Record) error {
		text := ""
		if entry.Derived(rec.Kind) {
			e, err := entry.Parse(rec.Raw)
			if err != nil {
				return err
			}
			text = e.Text
		}
		_, err := r.Next(engine.Input{Index: rec.Index, LeafHash: rec.LeafHash, Kind: rec.Kind, Signers: rec.Signers, Body: rec.Body}, text)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Pending()) != 0 {
		t.Fatalf("%d derived entries never reached the log", len(r.Pending()))
	}
	return r.Matched()
}

func countKind(t *testing.T, f *fixture, kind entry.Kind) int {
	t.Helper()
	ctx := context.Background()
	applied, _ := f.store.Applied(ctx)
	n := 0
	f.store.Records(ctx, 0, applied, func(rec node.Record) error {
		if rec.Kind == kind {
			n++
		}
		return nil
	})
	return n
}

// TestEngineWritesReplayableIncidents: observations submitted
// concurrently become incident entries signed by the engine key; an
// independent replay of the log reproduces every one, and a restarted
// node picks up where it was without writing anything twice.
func TestEngineWritesReplayableIncidents(t *testing.T) {
	f, _ := engineFixture(t)
	ctx := context.Background()
	n := submitScenario(t, f, scenario.Config{Seed: 3, Start: time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC), Days: 2, Monitors: 6})
	if err := f.n.WaitDerived(ctx); err != nil {
		t.Fatal(err)
	}
	incidents := countKind(t, f, entry.KindIncident)
	if incidents < n {
		t.Fatalf("%d incident revisions for %d observations", incidents, n)
	}
	if got := replayStore(t, f); got != uint64(incidents) {
		t.Fatalf("replay checked %d derived entries, the log holds %d", got, incidents)
	}
	// The writer hands them to the log in seq order, and Tessera keeps
	// that order, so they land in it (replay would tolerate disorder
	// within a window, but there is none).
	next := uint64(0)
	applied, _ := f.store.Applied(ctx)
	f.store.Records(ctx, 0, applied, func(rec node.Record) error {
		if b, ok := rec.Body.(*entry.Incident); ok {
			if b.Seq != next {
				t.Errorf("entry %d holds seq %d, want %d", rec.Index, b.Seq, next)
			}
			next = b.Seq + 1
		}
		return nil
	})
	st, _ := f.n.Engine()
	f.replay() // every engine signature passes the registry too

	f.close()
	f.open()
	if err := f.n.WaitDerived(ctx); err != nil {
		t.Fatal(err)
	}
	st2, _ := f.n.Engine()
	if st2.Seq != st.Seq || st2.Matched != st.Matched || st2.Open != st.Open || countKind(t, f, entry.KindIncident) != incidents {
		t.Fatalf("after restart: %+v, before: %+v", st2, st)
	}
}

// TestEngineResumesPendingAfterRestart: derived entries emitted but not
// yet logged when the node stops are written after it starts again.
func TestEngineResumesPendingAfterRestart(t *testing.T) {
	f, _ := engineFixture(t)
	ctx := context.Background()
	submitScenario(t, f, scenario.Config{Seed: 5, Start: time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC), Days: 1, Monitors: 4})
	// Close at once: some derived entries may still be pending.
	f.close()
	f.open()
	if err := f.n.WaitDerived(ctx); err != nil {
		t.Fatal(err)
	}
	replayStore(t, f)
}

// TestEngineHaltsOnForeignDerivedEntry: a derived entry the engine did
// not emit (here: signed with the engine key by someone else) halts the
// engine instead of being built on.
func TestEngineHaltsOnForeignDerivedEntry(t *testing.T) {
	f, eng := engineFixture(t)
	ctx := context.Background()
	body := `{"seq":0,"id":1,"revision":1,"status":"open","rule":"fusion-1","inputs":[{"index":1,"leaf_hash":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}],"category":"shelling","from":"2021-01-01T00:00:00Z","to":"2021-01-01T00:00:00Z","location":{"type":"Point","coordinates":[37.8,48]},"radius_m":10,"count":1,"members":[1],"monitors":1,"source_types":["patrol"],"level":"reported"}`
	f.must(f.sign(entry.KindIncident, body, eng))
	st, _ := f.n.Engine()
	var d *engine.Divergence
	if !errors.As(st.Halted, &d) || d.Seq != 0 {
		t.Fatalf("engine status %+v", st)
	}
	if err := f.n.WaitDerived(ctx); !errors.As(err, &d) {
		t.Fatalf("WaitDerived: %v", err)
	}
}

func TestTick(t *testing.T) {
	f, _ := engineFixture(t)
	res, err := f.n.Tick(context.Background())
	if err != nil || res.Kind != entry.KindTick {
		t.Fatalf("tick: %v %+v", err, res)
	}
	if countKind(t, f, entry.KindTick) != 1 {
		t.Fatal("tick not in the projection")
	}
}

// TestVerificationsAreCheckedAndApplied: an analyst's verification of a
// logged incident revision is accepted and makes a new, verified
// revision; one naming an unknown incident or revision is refused with
// the field at fault.
func TestVerificationsAreCheckedAndApplied(t *testing.T) {
	f, _ := engineFixture(t)
	ctx := context.Background()
	analyst := newKey(t, "analyst.crater")
	f.must(f.sign(entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":"analyst","not_before":"2020-01-01T00:00:00Z","not_after":"2099-01-01T00:00:00Z"}`, analyst.VKey), f.auth))
	submitScenario(t, f, scenario.Config{Seed: 8, Start: time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC), Days: 1, Monitors: 3})
	if err := f.n.WaitDerived(ctx); err != nil {
		t.Fatal(err)
	}
	var first node.IncidentRow
	err := f.store.Incidents(ctx, node.IncidentFilter{Limit: 1}, func(r node.IncidentRow) error { first = r; return nil })
	if err != nil || first.Incident.Revision == 0 {
		t.Fatalf("no incident: %v", err)
	}
	verify := func(id uint64, rev int) error {
		body := fmt.Sprintf(`{"id":"v-%d-%d","at":"2021-03-02T10:00:00Z","incident":%d,"revision":%d,"verdict":"verify","attributed_to":"party:XX","confidence":"medium","basis":["crater_analysis"]}`, id, rev, id, rev)
		_, err := f.submit(f.sign(entry.KindVerification, body, analyst))
		return err
	}
	for _, c := range []struct {
		id    uint64
		rev   int
		field string
	}{{999999, 1, "/incident"}, {first.Incident.ID, first.Incident.Revision + 5, "/revision"}} {
		var ge *guarantor.Error
		if err := verify(c.id, c.rev); !errors.As(err, &ge) || ge.Field != c.field {
			t.Fatalf("verification of %d/%d: %v, want an error at %s", c.id, c.rev, err, c.field)
		}
	}
	if err := verify(first.Incident.ID, first.Incident.Revision); err != nil {
		t.Fatal(err)
	}
	if err := f.n.WaitDerived(ctx); err != nil {
		t.Fatal(err)
	}
	revs, err := f.store.Incident(ctx, first.Incident.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := revs[len(revs)-1].Incident
	if last.Level != engine.Verified || last.Revision != first.Incident.Revision+1 || len(last.Attributions) != 1 || last.Attributions[0].Party != "party:XX" {
		t.Fatalf("after verification: %+v", last)
	}
	replayStore(t, f)
}

// TestObligationsAreSettledByTicksAtTheirDeadline: an agreement co-signed
// by everyone it binds, an observation that fires its trigger, and the
// node's scheduler ticking just after the deadline, which settles the
// unanswered obligation as missed and leaves the answered one fulfilled.
func TestObligationsAreSettledByTicksAtTheirDeadline(t *testing.T) {
	eng := newKey(t, "engine")
	f := &fixture{t: t, auth: newKey(t, "authority"), dir: t.TempDir(), engine: &node.EngineConfig{Rules: engine.DefaultConfig(), Signer: eng.S, TickEvery: time.Hour}}
	f.open()
	t.Cleanup(f.close)
	ctx := context.Background()
	register := func(k key, role string) {
		f.must(f.sign(entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":%q,"not_before":"2020-01-01T00:00:00Z","not_after":"2099-01-01T00:00:00Z"}`, k.VKey, role), f.auth))
	}
	register(eng, "engine")
	keys := map[string]key{}
	for _, role := range []string{"party:UA", "party:RU", "guarantor:UK"} {
		keys[role] = newKey(t, strings.ReplaceAll(role, ":", "."))
		register(keys[role], role)
	}
	mon := newKey(t, "monitor.a")
	register(mon, "monitor")
	doc := `{"id":"t","version":1,"title":"T","effective":"2020-01-01T00:00:00Z","parties":[{"id":"UA","name":"Ukraine"},{"id":"RU","name":"Russia"}],` +
		`"guarantors":[{"id":"UK","name":"United Kingdom","kind":"bilateral","beneficiary":"UA"}],` +
		`"zones":[{"id":"sz","kind":"security_zone","geometry":{"type":"Polygon","coordinates":[[[37.7,47.9],[37.9,47.9],[37.9,48.1],[37.7,48.1],[37.7,47.9]]]}}],` +
		`"triggers":[{"id":"fire","title":"Fire","when":"in_zone(incident, 'sz')","obligations":[{"who":"UK","action":"consult","within":"2m"},{"who":"RU","action":"report","within":"2m"}]}]}`
	raw := f.sign(entry.KindAgreement, doc, keys["party:UA"])
	// Not co-signed by everyone it binds: refused, naming who is missing.
	if _, err := f.submit(raw); err == nil || !strings.Contains(err.Error(), "lacks the co-signature of guarantor:UK, party:RU") {
		t.Fatalf("agreement signed by one party: %v", err)
	}
	for _, role := range []string{"party:RU", "guarantor:UK"} {
		var err error
		if raw, err = entry.Cosign(raw, keys[role].S); err != nil {
			t.Fatal(err)
		}
	}
	f.must(raw)
	// Observed 110 s ago: the obligations fall due in about 10 s, time
	// enough to answer one of them even on a loaded machine.
	at := time.Now().UTC().Add(-110 * time.Second).Truncate(time.Second)
	f.must(f.sign(entry.KindObservation, fmt.Sprintf(`{"id":"o1","observed_at":%q,"location":{"type":"Point","coordinates":[37.8,48.0]},"category":"shelling","accuracy_m":100}`, at.Format(time.RFC3339)), mon))
	if err := f.n.WaitDerived(ctx); err != nil {
		t.Fatal(err)
	}
	st, _ := f.n.Engine()
	if st.OpenObligations != 2 {
		t.Fatalf("engine status %+v", st)
	}
	// UK answers; RU does not.
	ukID := uint64(0)
	applied, _ := f.store.Applied(ctx)
	f.store.Records(ctx, 0, applied, func(rec node.Record) error {
		if o, ok := rec.Body.(*entry.Obligation); ok && o.Who == "guarantor:UK" {
			ukID = o.ID
		}
		return nil
	})
	f.must(f.sign(entry.KindResponse, fmt.Sprintf(`{"id":"r1","at":%q,"obligation":%d,"answer":"fulfilled"}`, time.Now().UTC().Format(time.RFC3339), ukID), keys["guarantor:UK"]))
	deadline := time.Now().Add(30 * time.Second)
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	for {
		if err := f.n.WaitDerived(ctx); err != nil {
			t.Fatal(err)
		}
		if st, _ := f.n.Engine(); st.OpenObligations == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no tick settled the obligation within 30 s of its deadline")
		}
		<-poll.C // the scheduler's tick comes from another goroutine
	}
	status := map[string]string{}
	applied, _ = f.store.Applied(ctx)
	f.store.Records(ctx, 0, applied, func(rec node.Record) error {
		if o, ok := rec.Body.(*entry.Obligation); ok {
			status[o.Who] = o.Status
		}
		return nil
	})
	if status["guarantor:UK"] != "fulfilled" || status["party:RU"] != "missed" || countKind(t, f, entry.KindTick) == 0 {
		t.Fatalf("statuses %v", status)
	}
	replayStore(t, f)
}

// TestAmendmentsNeedTheirQuorum: an amendment is logged only as the next
// version of a logged agreement, co-signed by the quorum the amended
// version requires.
func TestAmendmentsNeedTheirQuorum(t *testing.T) {
	f, _ := engineFixture(t)
	ctx := context.Background()
	keys := map[string]key{}
	for _, role := range []string{"party:UA", "party:RU", "guarantor:UK"} {
		keys[role] = newKey(t, strings.ReplaceAll(role, ":", "."))
		f.must(f.sign(entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":%q,"not_before":"2020-01-01T00:00:00Z","not_after":"2099-01-01T00:00:00Z"}`, keys[role].VKey, role), f.auth))
	}
	doc := func(version int, quorum string) string {
		return fmt.Sprintf(`{"id":"t","version":%d,"title":"T","effective":"2020-01-01T00:00:00Z","amendment_quorum":%q,"parties":[{"id":"UA","name":"Ukraine"},{"id":"RU","name":"Russia"}],`+
			`"guarantors":[{"id":"UK","name":"United Kingdom","kind":"bilateral","beneficiary":"UA"}],`+
			`"triggers":[{"id":"any","title":"Any","when":"incident.level == 'verified'","obligations":[{"who":"UK","action":"consult","within":"1d"}]}]}`, version, quorum)
	}
	signed := func(kind entry.Kind, body string, roles ...string) []byte {
		raw := f.sign(kind, body, keys[roles[0]])
		for _, r := range roles[1:] {
			var err error
			if raw, err = entry.Cosign(raw, keys[r].S); err != nil {
				t.Fatal(err)
			}
		}
		return raw
	}
	amend := func(version int) string {
		return fmt.Sprintf(`{"agreement":%s,"reason":"test"}`, doc(version, "parties"))
	}
	// Nothing to amend yet.
	if _, err := f.submit(signed(entry.KindAmendment, amend(2), "party:UA", "party:RU")); err == nil || !strings.Contains(err.Error(), "no agreement") {
		t.Fatalf("amendment of nothing: %v", err)
	}
	f.must(signed(entry.KindAgreement, doc(1, "parties"), "party:UA", "party:RU", "guarantor:UK"))
	for _, c := range []struct {
		name  string
		raw   []byte
		error string
	}{
		{"short of the quorum", signed(entry.KindAmendment, amend(2), "party:UA", "guarantor:UK"), "needs the co-signature of party:RU"},
		{"skips a version", signed(entry.KindAmendment, amend(3), "party:UA", "party:RU"), "an amendment makes version 2"},
		{"a version 1", signed(entry.KindAmendment, amend(1), "party:UA", "party:RU"), "/agreement/version"},
	} {
		if _, err := f.submit(c.raw); err == nil || !strings.Contains(err.Error(), c.error) {
			t.Fatalf("%s: %v, want %q", c.name, err, c.error)
		}
	}
	// Every party suffices under the "parties" quorum.
	f.must(signed(entry.KindAmendment, amend(2), "party:UA", "party:RU"))
	rows, err := f.store.Agreements(ctx)
	if err != nil || len(rows) != 2 || rows[1].Agreement.Version != 2 || rows[1].Amendment != "test" {
		t.Fatalf("agreements %+v %v", rows, err)
	}
	if _, err := f.submit(signed(entry.KindAmendment, amend(2), "party:UA", "party:RU", "guarantor:UK")); err == nil {
		t.Fatal("a second version 2 was logged")
	}
}
