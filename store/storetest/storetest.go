// Package storetest is the conformance suite of node.Store: every
// implementation (store/sqlite, store/postgres) runs Run, which feeds its
// stores a realistic, registry-checked log and checks every method
// against a model of that log, so that the implementations answer alike
// and export the same bytes.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/internal/testkeys"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/registry"
)

// Run checks a node.Store implementation. open must return a new, empty
// store each time it is called, and close it when t ends (t.Cleanup).
// Subtests run in parallel, each on its own stores, except for read-only
// checks, which share one store fed the whole log.
func Run(t *testing.T, open func(t *testing.T) node.Store) {
	l := buildLog(t)
	full := open(t)
	apply(t, full, l.recs)
	want := export(t, full)
	s := &suite{l: l, full: full, export: want, open: open}
	for _, c := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"Empty", s.empty},
		{"ApplyAndReadBack", s.applyAndReadBack},
		{"Records", s.records},
		{"RecordsAcrossPages", s.recordsAcrossPages},
		{"Identities", s.identities},
		{"DuplicateBytes", s.duplicateBytes},
		{"Observations", s.observations},
		{"Keys", s.keys},
		{"Incidents", s.incidents},
		{"Incident", s.incident},
		{"Verifications", s.verifications},
		{"Agreements", s.agreements},
		{"Determinations", s.determinations},
		{"Obligations", s.obligations},
		{"Obligation", s.obligation},
		{"Responses", s.responses},
		{"Sanctions", s.sanctions},
		{"Coverage", s.coverage},
		{"ExchangeEntries", s.exchangeEntries},
		{"PatrolEntries", s.patrolEntries},
		{"StreamsStopAtFnError", s.streamsStop},
		{"ApplyRefusesAndChangesNothing", s.applyRefuses},
		{"ApplyRefusesWrongBodies", s.applyRefusesBodies},
		{"ExportIsDeterministic", s.exportDeterministic},
		{"ExportTables", s.exportTables},
		{"ReadersNeverSeeAHalfBatch", s.readersNeverSeeAHalfBatch},
		{"EngineLog", s.engineLog},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t)
		})
	}
}

type suite struct {
	l      *logBuilder
	full   node.Store // fed the whole log; read only
	export []byte     // full's export
	open   func(t *testing.T) node.Store
}

var ctx = context.Background()

func apply(tb testing.TB, s node.Store, recs []node.Record) {
	tb.Helper()
	if err := s.Apply(ctx, recs); err != nil {
		tb.Fatal(err)
	}
}

// applyIn applies recs in batches of size.
func applyIn(tb testing.TB, s node.Store, recs []node.Record, size int) {
	tb.Helper()
	for i := 0; i < len(recs); i += size {
		apply(tb, s, recs[i:min(i+size, len(recs))])
	}
}

func export(tb testing.TB, s node.Store) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := s.Export(ctx, &b); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func applied(tb testing.TB, s node.Store) uint64 {
	tb.Helper()
	n, err := s.Applied(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// gather runs a streaming method and returns what it yields.
func gather[T any](tb testing.TB, each func(func(T) error) error) []T {
	tb.Helper()
	var out []T
	if err := each(func(r T) error {
		out = append(out, r)
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	return out
}

// diff reports got and want unless they are deeply equal.
func diff(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s =\n%+v\nwant\n%+v", what, got, want)
	}
}

func (s *suite) empty(t *testing.T) {
	st := s.open(t)
	if got := applied(t, st); got != 0 {
		t.Fatalf("Applied = %d, want 0", got)
	}
	if err := st.Apply(ctx, nil); err != nil {
		t.Fatalf("Apply(nil) = %v", err)
	}
	if keys, err := st.Keys(ctx); err != nil || len(keys) != 0 {
		t.Errorf("Keys = %v, %v; want none", keys, err)
	}
	if _, ok, err := st.Entry(ctx, 0); ok || err != nil {
		t.Errorf("Entry(0) = ok %v, err %v; want not found", ok, err)
	}
	if _, ok, err := st.IndexByLeafHash(ctx, make([]byte, 32)); ok || err != nil {
		t.Errorf("IndexByLeafHash = ok %v, err %v; want not found", ok, err)
	}
	if got := gather(t, func(fn func(node.Record) error) error { return st.Records(ctx, 0, 10, fn) }); len(got) != 0 {
		t.Errorf("Records = %d, want none", len(got))
	}
	if got := gather(t, func(fn func(node.ObservationRow) error) error {
		return st.Observations(ctx, node.ObservationFilter{}, fn)
	}); len(got) != 0 {
		t.Errorf("Observations = %d, want none", len(got))
	}
	if got := gather(t, func(fn func(node.IncidentRow) error) error {
		return st.Incidents(ctx, node.IncidentFilter{Status: "all"}, fn)
	}); len(got) != 0 {
		t.Errorf("Incidents = %d, want none", len(got))
	}
	if got, err := st.Agreements(ctx); err != nil || len(got) != 0 {
		t.Errorf("Agreements = %v, %v; want none", got, err)
	}
	if got, err := st.Sanctions(ctx); err != nil || len(got) != 0 {
		t.Errorf("Sanctions = %v, %v; want none", got, err)
	}
	if _, ok, err := st.Coverage(ctx, "test", ""); ok || err != nil {
		t.Errorf("Coverage = ok %v, err %v; want none", ok, err)
	}
	if got := gather(t, func(fn func(node.Record) error) error { return st.ExchangeEntries(ctx, "", fn) }); len(got) != 0 {
		t.Errorf("ExchangeEntries = %d, want none", len(got))
	}
	e := string(export(t, st))
	if !strings.HasPrefix(e, "# meta (name, value)\n\"applied\"\t0\n# entries (") {
		t.Errorf("export of an empty store begins %q", e[:min(len(e), 80)])
	}
}

func (s *suite) applyAndReadBack(t *testing.T) {
	st, recs := s.full, s.l.recs
	if got, want := applied(t, st), uint64(len(recs)); got != want {
		t.Fatalf("Applied = %d, want %d", got, want)
	}
	for _, want := range recs {
		got, ok, err := st.Entry(ctx, want.Index)
		if err != nil || !ok {
			t.Fatalf("Entry(%d) = ok %v, err %v", want.Index, ok, err)
		}
		diff(t, fmt.Sprintf("Entry(%d)", want.Index), got, want)
		idx, ok, err := st.IndexByLeafHash(ctx, want.LeafHash)
		first := want.Index
		if want.Index == s.l.dup.Index {
			first = s.l.dupOf // the first copy of the bytes
		}
		if err != nil || !ok || idx != first {
			t.Errorf("IndexByLeafHash(entry %d) = %d, %v, %v", want.Index, idx, ok, err)
		}
		ob, isObs := want.Body.(*entry.Observation)
		if !isObs {
			continue
		}
		idx, leaf, ok, err := st.ObservationByID(ctx, want.Signers[0], ob.ID)
		if err != nil || !ok || idx != want.Index || !bytes.Equal(leaf, want.LeafHash) {
			t.Errorf("ObservationByID(%s, %s) = %d, %x, %v, %v; want %d", want.Signers[0], ob.ID, idx, leaf, ok, err, want.Index)
		}
		// Only the first signer owns the id.
		for _, other := range want.Signers[1:] {
			if _, _, ok, _ := st.ObservationByID(ctx, other, ob.ID); ok {
				t.Errorf("observation %s found under its co-signer %s", ob.ID, other)
			}
		}
	}
	// A rejected observation is not found by its id.
	for _, r := range recs {
		if r.Kind == entry.KindObservation && r.Rejected != "" {
			if _, _, ok, err := st.ObservationByID(ctx, r.Signers[0], "x"); ok || err != nil {
				t.Errorf("ObservationByID(rejected) = ok %v, err %v", ok, err)
			}
		}
	}
	if _, ok, err := st.IndexByLeafHash(ctx, make([]byte, 32)); ok || err != nil {
		t.Errorf("IndexByLeafHash(unknown) = ok %v, err %v", ok, err)
	}
	if _, _, ok, err := st.ObservationByID(ctx, "nobody+00000000", "o-1"); ok || err != nil {
		t.Errorf("ObservationByID(unknown signer) = ok %v, err %v", ok, err)
	}
	if _, ok, err := st.Entry(ctx, uint64(len(recs))); ok || err != nil {
		t.Errorf("Entry(beyond) = ok %v, err %v", ok, err)
	}
}

func (s *suite) records(t *testing.T) {
	st, recs := s.full, s.l.recs
	n := uint64(len(recs))
	read := func(from, to uint64) []node.Record {
		return gather(t, func(fn func(node.Record) error) error { return st.Records(ctx, from, to, fn) })
	}
	for _, r := range [][2]uint64{{0, n}, {3, 10}, {n - 2, n + 5}, {5, 5}, {9, 3}, {n, n + 10}, {0, 1}} {
		want := recs[min(r[0], n):min(max(r[0], r[1]), n)]
		if len(want) == 0 {
			want = nil
		}
		diff(t, fmt.Sprintf("Records(%d, %d)", r[0], r[1]), read(r[0], r[1]), want)
	}
}

func (s *suite) recordsAcrossPages(t *testing.T) {
	recs := Observations(t, 2100)
	st := s.open(t)
	applyIn(t, st, recs, 1000)
	n := uint64(len(recs))
	got := gather(t, func(fn func(node.Record) error) error { return st.Records(ctx, 0, n, fn) })
	if len(got) != len(recs) {
		t.Fatalf("Records = %d entries, want %d", len(got), len(recs))
	}
	for i, r := range got {
		if r.Index != uint64(i) || !bytes.Equal(r.LeafHash, recs[i].LeafHash) {
			t.Fatalf("Records[%d] is entry %d", i, r.Index)
		}
	}
	got = gather(t, func(fn func(node.Record) error) error { return st.Records(ctx, 1000, 1100, fn) })
	diff(t, "Records(1000, 1100)", got, recs[1000:1100])
	stop := errors.New("stop")
	calls := 0
	err := st.Records(ctx, 0, n, func(node.Record) error {
		if calls++; calls == 1500 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 1500 {
		t.Fatalf("Records = %v after %d calls; want stop after 1500", err, calls)
	}
	ids := 0
	if err := st.Identities(ctx, func([]byte, string) { ids++ }); err != nil || ids != len(recs) {
		t.Fatalf("Identities = %d, %v; want %d", ids, err, len(recs))
	}
}

func (s *suite) identities(t *testing.T) {
	// One report per entry: the same bytes logged twice are reported
	// twice, the copy with no observation key (it is rejected).
	want := map[string][]string{}
	for _, r := range s.l.recs {
		k := ""
		if ob, ok := r.Body.(*entry.Observation); ok {
			k = r.Signers[0] + "\x00" + ob.ID
		}
		want[string(r.LeafHash)] = append(want[string(r.LeafHash)], k)
	}
	got := map[string][]string{}
	err := s.full.Identities(ctx, func(leaf []byte, obsKey string) {
		got[string(leaf)] = append(got[string(leaf)], obsKey)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []map[string][]string{want, got} {
		for _, ks := range m {
			slices.Sort(ks)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Identities = %q, want %q", got, want)
	}
}

// duplicateBytes checks a log holding the same bytes twice (servers
// sharing a log can race into it): the copy is a rejected record and the
// leaf hash names the first.
func (s *suite) duplicateBytes(t *testing.T) {
	d := s.l.dup
	idx, ok, err := s.full.IndexByLeafHash(ctx, d.LeafHash)
	if err != nil || !ok || idx != s.l.dupOf {
		t.Fatalf("IndexByLeafHash of the duplicated bytes = %d, %v, %v; want %d", idx, ok, err, s.l.dupOf)
	}
	recs := gather(t, func(f func(node.Record) error) error { return s.full.Records(ctx, d.Index, d.Index+1, f) })
	if len(recs) != 1 || recs[0].Rejected != d.Rejected || !bytes.Equal(recs[0].Raw, d.Raw) {
		t.Fatalf("the copy at %d reads back as %+v", d.Index, recs)
	}
}

func (s *suite) observations(t *testing.T) {
	all := observationRows(s.l.recs)
	tests := []struct {
		name string
		f    node.ObservationFilter
		keep func(node.ObservationRow) bool
	}{
		{"all", node.ObservationFilter{}, func(node.ObservationRow) bool { return true }},
		{"category", node.ObservationFilter{Category: "small_arms"}, func(r node.ObservationRow) bool { return r.Observation.Category == "small_arms" }},
		{"source type", node.ObservationFilter{SourceType: "uav"}, func(r node.ObservationRow) bool { return r.Observation.SourceType == "uav" }},
		{"time range across zones", node.ObservationFilter{From: at(t, "2025-03-01T15:00:10+03:00"), To: at(t, "2025-03-01T12:00:30.5Z")}, func(r node.ObservationRow) bool {
			o := r.Observation.ObservedAt
			return !o.Before(at(t, "2025-03-01T12:00:10Z")) && o.Before(at(t, "2025-03-01T12:00:30.5Z"))
		}},
		{"bbox", node.ObservationFilter{BBox: &[4]float64{37.6, 48.05, 37.7, 48.1}}, func(r node.ObservationRow) bool {
			c := r.Observation.Location.Coordinates
			return c[0] >= 37.6 && c[1] >= 48.05 && c[0] <= 37.7 && c[1] <= 48.1
		}},
		{"bbox on the prime meridian", node.ObservationFilter{BBox: &[4]float64{0, 51, 0, 52}}, func(r node.ObservationRow) bool {
			return r.Observation.Location.Coordinates[0] == 0
		}},
		{"everything at once", node.ObservationFilter{Category: "shelling", SourceType: "patrol", From: at(t, "2025-03-01T12:00:20Z"), BBox: &[4]float64{-180, -90, 180, 90}}, func(r node.ObservationRow) bool {
			o := r.Observation
			return o.Category == "shelling" && o.SourceType == "patrol" && !o.ObservedAt.Before(at(t, "2025-03-01T12:00:20Z"))
		}},
		{"limit", node.ObservationFilter{Category: "drone_strike", Limit: 3}, func(r node.ObservationRow) bool { return r.Observation.Category == "drone_strike" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []node.ObservationRow
			for _, r := range all {
				if tt.keep(r) && (tt.f.Limit == 0 || len(want) < tt.f.Limit) {
					want = append(want, r)
				}
			}
			if len(want) == 0 {
				t.Fatal("the case selects nothing; it tests nothing")
			}
			got := gather(t, func(fn func(node.ObservationRow) error) error { return s.full.Observations(ctx, tt.f, fn) })
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %d rows, want %d:\n got %+v\nwant %+v", len(got), len(want), got, want)
			}
		})
	}
	// The awkward row reads back whole: NUL in text, negative zero as zero.
	edge := gather(t, func(fn func(node.ObservationRow) error) error {
		return s.full.Observations(ctx, node.ObservationFilter{BBox: &[4]float64{-1, 51, 1, 52}}, fn)
	})
	if len(edge) != 1 || edge[0].Observation.Text != "nul\x00and\x01soh, ünïcödé \\ \"q\"" || edge[0].Observation.ExternalID != "a\x00b" ||
		edge[0].Observation.Source != "\x01" || *edge[0].Observation.Count != 1 || *edge[0].Observation.BearingDeg != 0 {
		t.Errorf("edge observation = %+v", edge)
	}
}

func (s *suite) keys(t *testing.T) {
	keys, err := s.full.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := s.l.reg.Keys()
	if len(keys) != len(want) {
		t.Fatalf("Keys = %d keys, want %d", len(keys), len(want))
	}
	for i, k := range keys {
		w := want[i]
		if k.Index != w.Index || k.ID != w.ID || k.VKey != w.VKey || k.Role != w.Role || k.Label != w.Label ||
			!k.NotBefore.Equal(w.NotBefore) || !k.NotAfter.Equal(w.NotAfter) || !slices.Equal(k.Zones, w.Zones) ||
			(k.Revoked == nil) != (w.Revoked == nil) {
			t.Errorf("key %d = %+v, want %+v", i, k, *w)
		}
		if k.NotBefore.Location() != time.UTC || k.NotAfter.Location() != time.UTC {
			t.Errorf("key %d times are not in UTC: %v, %v", i, k.NotBefore, k.NotAfter)
		}
	}
	if got, want := keys[1].NotBefore, time.Date(2024, 12, 31, 22, 0, 0, 250e6, time.UTC); !got.Equal(want) {
		t.Errorf("NotBefore = %v, want %v", got, want)
	}
	if keys[0].Label != "Team A" || !slices.Equal(keys[0].Zones, []string{"donetsk-north", "luhansk"}) || keys[2].Zones != nil {
		t.Errorf("labels and zones: %+v, %+v", keys[0], keys[2])
	}
	var revoked []registry.Key
	for _, k := range keys {
		if k.Revoked != nil {
			revoked = append(revoked, k)
		}
	}
	var rev node.Record
	for _, r := range s.l.recs {
		if r.Kind == entry.KindRevocation {
			rev = r
		}
	}
	wantRev := registry.Revocation{Index: rev.Index, Reason: "rotated", Effective: time.Date(2025, 5, 31, 22, 0, 0, 0, time.UTC)}
	if len(revoked) != 1 || revoked[0].ID != s.l.cam.ID || !reflect.DeepEqual(*revoked[0].Revoked, wantRev) {
		t.Fatalf("revoked keys = %+v; want the camera's, %+v", revoked, wantRev)
	}
	// The keys restore a registry that decides as the original does.
	restored, err := registry.New(s.l.auth.VKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if err := restored.Restore(k); err != nil {
			t.Fatal(err)
		}
	}
	late := testkeys.Sign(t, entry.KindObservation, `{"id":"later","observed_at":"2025-07-01T12:00:00Z","location":{"type":"Point","coordinates":[37.8,48.0]},"category":"shelling"}`, s.l.cam)
	if _, _, err := restored.Admit(uint64(len(s.l.recs)), late); guarantor.ErrorCode(err) != guarantor.ERevoked {
		t.Fatalf("restored registry admits a revoked key's late observation: %v", err)
	}
}

func (s *suite) incidents(t *testing.T) {
	open := func(r node.IncidentRow) bool { return r.Incident.Status == entry.IncidentOpen }
	id := func(ids ...uint64) func(node.IncidentRow) bool {
		return func(r node.IncidentRow) bool { return slices.Contains(ids, r.Incident.ID) }
	}
	tests := []struct {
		name string
		f    node.IncidentFilter
		keep func(node.IncidentRow) bool // nil: the filter selects nothing
	}{
		{"open by default", node.IncidentFilter{}, open},
		{"open", node.IncidentFilter{Status: "open"}, open},
		{"merged", node.IncidentFilter{Status: "merged"}, func(r node.IncidentRow) bool { return r.Incident.Status == entry.IncidentMerged }},
		{"all", node.IncidentFilter{Status: "all"}, func(node.IncidentRow) bool { return true }},
		{"category", node.IncidentFilter{Category: "shelling"}, func(r node.IncidentRow) bool { return open(r) && r.Incident.Category == "shelling" }},
		{"level", node.IncidentFilter{Level: "verified"}, func(r node.IncidentRow) bool { return open(r) && r.Incident.Level == "verified" }},
		{"party", node.IncidentFilter{Party: "party:RU"}, id(7)},
		{"party of a merged incident", node.IncidentFilter{Party: "party:UA", Status: "merged"}, id(6)},
		{"party of the absorbing incident", node.IncidentFilter{Party: "party:UA"}, id(5)},
		{"unknown party", node.IncidentFilter{Party: "party:XX", Status: "all"}, nil},
		{"bbox on the centroid", node.IncidentFilter{BBox: &[4]float64{37.55, 48.05, 38, 48.5}, Status: "all"}, id(5, 7)},
		{"span overlaps", node.IncidentFilter{From: at(t, "2025-03-03T12:00:00Z"), To: at(t, "2025-03-03T13:00:00Z")}, id(7)},
		{"to is exclusive", node.IncidentFilter{From: at(t, "2025-03-05T00:00:00Z"), To: at(t, "2025-03-06T00:00:00Z")}, nil},
		{"from is inclusive of the span's end", node.IncidentFilter{From: at(t, "2025-03-07T12:00:00Z"), To: at(t, "2025-03-08T00:00:00Z")}, id(10)},
		{"an instant's span", node.IncidentFilter{From: at(t, "2025-03-06T00:00:00Z"), To: at(t, "2025-03-06T00:00:00.000000001Z"), Status: "all"}, id(9)},
		{"times across zones", node.IncidentFilter{From: at(t, "2025-03-07T11:30:00Z"), To: at(t, "2025-03-07T14:30:00+02:00")}, id(10)},
		{"everything at once", node.IncidentFilter{From: at(t, "2025-03-01T00:00:00Z"), To: at(t, "2025-03-10T00:00:00Z"), BBox: &[4]float64{-180, -90, 180, 90},
			Category: "drone_strike", Level: "verified", Party: "party:RU", Status: "open"}, id(7)},
		{"limit", node.IncidentFilter{Limit: 2}, open},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []node.IncidentRow
			for _, r := range s.l.incidentRows() {
				if tt.keep != nil && tt.keep(r) && (tt.f.Limit == 0 || len(want) < tt.f.Limit) {
					want = append(want, r)
				}
			}
			if len(want) == 0 && tt.keep != nil {
				t.Fatal("the case selects nothing; it tests nothing")
			}
			got := gather(t, func(fn func(node.IncidentRow) error) error { return s.full.Incidents(ctx, tt.f, fn) })
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %d rows, want %d:\n got %+v\nwant %+v", len(got), len(want), got, want)
			}
		})
	}
	if err := s.full.Incidents(ctx, node.IncidentFilter{Status: "closed"}, func(node.IncidentRow) error { return nil }); err == nil {
		t.Error("Incidents accepted status closed")
	}
}

func (s *suite) incident(t *testing.T) {
	for id := range s.l.incRevisions {
		want := slices.Clone(s.l.incRevisions[id])
		slices.SortStableFunc(want, func(a, b node.IncidentRow) int { return a.Incident.Revision - b.Incident.Revision })
		got, err := s.full.Incident(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		diff(t, fmt.Sprintf("Incident(%d)", id), got, want)
	}
	// Revisions logged out of order come back in revision order.
	d, _ := s.full.Incident(ctx, 9)
	if len(d) != 2 || d[0].Incident.Revision != 1 || d[1].Incident.Revision != 2 || d[0].Index < d[1].Index {
		t.Fatalf("Incident(9) = %+v; want revision 1 (logged later) then revision 2", d)
	}
	// Two entries claiming the same revision: both kept, in log order.
	c, _ := s.full.Incident(ctx, 7)
	if len(c) != 3 || c[1].Incident.Revision != 2 || c[2].Incident.Revision != 2 || c[1].Index > c[2].Index {
		t.Fatalf("Incident(7) = %+v; want revisions 1, 2, 2 in log order", c)
	}
	// The rejected incident and unknown ids have no revisions.
	for _, id := range []uint64{12, 999} {
		if got, err := s.full.Incident(ctx, id); err != nil || len(got) != 0 {
			t.Errorf("Incident(%d) = %+v, %v; want none", id, got, err)
		}
	}
	// Times come back as the entry states them.
	e, _ := s.full.Incident(ctx, 10)
	if _, off := e[0].Incident.From.Zone(); off != 3*3600 {
		t.Errorf("incident 10 from = %v; want its +03:00 offset kept", e[0].Incident.From)
	}
}

func (s *suite) verifications(t *testing.T) {
	pick := func(ids ...uint64) []node.VerificationRow {
		var out []node.VerificationRow
		for _, v := range s.l.ver {
			if slices.Contains(ids, v.Verification.Incident) {
				out = append(out, v)
			}
		}
		return out
	}
	for _, ids := range [][]uint64{{7}, {6}, {7, 6}, {6, 7, 9, 7}, {5}, {999}, nil} {
		got, err := s.full.Verifications(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		diff(t, fmt.Sprintf("Verifications(%v)", ids), got, pick(ids...))
	}
	got, _ := s.full.Verifications(ctx, []uint64{6, 7, 9})
	if len(got) != 4 || !slices.IsSortedFunc(got, func(a, b node.VerificationRow) int { return int(a.Index) - int(b.Index) }) || got[0].Signer != s.l.analyst.ID {
		t.Fatalf("Verifications = %+v; want 4 in log order signed by %s", got, s.l.analyst.ID)
	}
}

func (s *suite) agreements(t *testing.T) {
	got, err := s.full.Agreements(ctx)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "Agreements", got, s.l.agreements)
	if len(got) != 5 || got[1].Agreement.Version != 2 || got[2].Agreement.Version != 2 || len(got[0].Signers) != 4 || got[0].Signers[0] != s.l.ua.ID {
		t.Fatalf("Agreements = %+v; want 5 entries, two claiming version 2, signed by UA first", got)
	}
	if a := got[4]; a.Agreement.Version != 3 || a.Amendment != "the zone is redrawn" || got[0].Amendment != "" {
		t.Errorf("amendment = %+v; want version 3 with its reason", a)
	}
	if _, off := got[3].Agreement.Effective.Zone(); off != 3*3600 {
		t.Errorf("agreement other effective = %v; want its +03:00 offset kept", got[3].Agreement.Effective)
	}
}

func (s *suite) determinations(t *testing.T) {
	all := func(node.DeterminationRow) bool { return true }
	tests := []struct {
		name string
		f    node.DeterminationFilter
		keep func(node.DeterminationRow) bool // nil: the filter selects nothing
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
			for _, r := range s.l.dets {
				if tt.keep != nil && tt.keep(r) && (tt.f.Limit == 0 || len(want) < tt.f.Limit) {
					want = append(want, r)
				}
			}
			if len(want) == 0 && tt.keep != nil {
				t.Fatal("the case selects nothing; it tests nothing")
			}
			got := gather(t, func(fn func(node.DeterminationRow) error) error { return s.full.Determinations(ctx, tt.f, fn) })
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %d rows, want %d:\n got %+v\nwant %+v", len(got), len(want), got, want)
			}
		})
	}
}

func (s *suite) obligations(t *testing.T) {
	all := func(node.ObligationRow) bool { return true }
	ob := func(r node.ObligationRow) entry.Obligation { return r.Obligation }
	status := func(st string) func(node.ObligationRow) bool {
		return func(r node.ObligationRow) bool { return ob(r).Status == st }
	}
	tests := []struct {
		name string
		f    node.ObligationFilter
		keep func(node.ObligationRow) bool // nil: the filter selects nothing
	}{
		{"all", node.ObligationFilter{}, all},
		{"who", node.ObligationFilter{Who: "guarantor:UK"}, func(r node.ObligationRow) bool { return ob(r).Who == "guarantor:UK" }},
		{"who is exact", node.ObligationFilter{Who: "UK"}, nil},
		{"party", node.ObligationFilter{Who: "party:RU"}, func(r node.ObligationRow) bool { return ob(r).Who == "party:RU" }},
		{"group", node.ObligationFilter{Group: "coalition"}, func(r node.ObligationRow) bool { return ob(r).Group == "coalition" }},
		{"open", node.ObligationFilter{Status: "open"}, status("open")},
		{"fulfilled", node.ObligationFilter{Status: "fulfilled"}, status("fulfilled")},
		{"late", node.ObligationFilter{Status: "late"}, func(r node.ObligationRow) bool { return ob(r).ID == 103 }},
		{"missed, by an earlier revision only", node.ObligationFilter{Status: "missed"}, nil},
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
			for _, r := range s.l.obligationRows() {
				if tt.keep != nil && tt.keep(r) && (tt.f.Limit == 0 || len(want) < tt.f.Limit) {
					want = append(want, r)
				}
			}
			if len(want) == 0 && tt.keep != nil {
				t.Fatal("the case selects nothing; it tests nothing")
			}
			got := gather(t, func(fn func(node.ObligationRow) error) error { return s.full.Obligations(ctx, tt.f, fn) })
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %d rows, want %d:\n got %+v\nwant %+v", len(got), len(want), got, want)
			}
		})
	}
	if err := s.full.Obligations(ctx, node.ObligationFilter{Status: "closed"}, func(node.ObligationRow) error { return nil }); err == nil {
		t.Error("Obligations accepted status closed")
	}
	// Every status an obligation can have is a filter, amended included.
	for _, st := range entry.ObligationStatuses {
		if err := s.full.Obligations(ctx, node.ObligationFilter{Status: st}, func(node.ObligationRow) error { return nil }); err != nil {
			t.Errorf("status %s: %v", st, err)
		}
	}
}

func (s *suite) obligation(t *testing.T) {
	for id, want := range s.l.obRevisions {
		got, err := s.full.Obligation(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		diff(t, fmt.Sprintf("Obligation(%d)", id), got, want)
	}
	// Revisions come back in log order, whatever their number.
	d, _ := s.full.Obligation(ctx, 106)
	if len(d) != 2 || d[0].Obligation.Revision != 2 || d[1].Obligation.Revision != 1 {
		t.Fatalf("Obligation(106) = %+v; want revision 2 then revision 1, in log order", d)
	}
	c, _ := s.full.Obligation(ctx, 103)
	if len(c) != 4 || c[1].Obligation.Revision != 2 || c[2].Obligation.Revision != 2 || c[3].Obligation.Status != "late" {
		t.Fatalf("Obligation(103) = %+v; want revisions 1, 2, 2, 3", c)
	}
	for _, id := range []uint64{201, 999} {
		if got, err := s.full.Obligation(ctx, id); err != nil || len(got) != 0 {
			t.Errorf("Obligation(%d) = %+v, %v; want none", id, got, err)
		}
	}
}

func (s *suite) responses(t *testing.T) {
	for _, id := range []uint64{102, 104, 110, 103, 999} {
		var want []node.ResponseRow
		for _, r := range s.l.responses {
			if r.Response.Obligation == id {
				want = append(want, r)
			}
		}
		got, err := s.full.Responses(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		diff(t, fmt.Sprintf("Responses(%d)", id), got, want)
	}
	got, _ := s.full.Responses(ctx, 102)
	if len(got) != 3 || got[0].Signer != s.l.uk.ID || got[2].Signer != s.l.fr.ID {
		t.Fatalf("Responses(102) = %+v; want UK's two then FR's, in log order", got)
	}
	if _, off := got[0].Response.At.Zone(); off != 3600 {
		t.Errorf("response time = %v; want its +01:00 offset kept", got[0].Response.At)
	}
}

func (s *suite) sanctions(t *testing.T) {
	got, err := s.full.Sanctions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "Sanctions", got, s.l.sanctionRows())
	if len(got) != 3 || got[0].Status != entry.SanctionSuspended || got[0].ReimposedBy != nil ||
		got[2].Sanction.ID != "uk-4" || got[2].Status != entry.SanctionActive || got[2].ReimposedBy == nil || *got[2].ReimposedBy != 900 {
		t.Fatalf("Sanctions = %+v; want uk-1 suspended again, uk-2 active, uk-4 re-imposed by 900", got)
	}
	for _, id := range []string{"uk-1", "uk-2", "uk-3", "uk-4", "uk-99"} {
		h, err := s.full.SanctionHistory(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		diff(t, fmt.Sprintf("SanctionHistory(%s)", id), h, s.l.sanctionHistory(id))
	}
}

func (s *suite) coverage(t *testing.T) {
	cov := s.l.coverage
	tests := []struct {
		agreement, month string
		want             *node.CoverageRow
	}{
		{"test", "2025-03", &cov[1]},
		{"test", "", &cov[3]}, // the latest month, not the latest entry
		{"test", "2025-02", &cov[4]},
		{"other", "", &cov[2]},
		{"other", "2025-04", nil},
		{"test", "2025-05", nil},
		{"nope", "", nil},
	}
	for _, tt := range tests {
		got, ok, err := s.full.Coverage(ctx, tt.agreement, tt.month)
		if err != nil {
			t.Fatal(err)
		}
		if tt.want == nil {
			if ok {
				t.Errorf("Coverage(%s, %q) = %+v; want none", tt.agreement, tt.month, got)
			}
			continue
		}
		if !ok {
			t.Errorf("Coverage(%s, %q) found nothing", tt.agreement, tt.month)
			continue
		}
		diff(t, fmt.Sprintf("Coverage(%s, %q)", tt.agreement, tt.month), got, *tt.want)
	}
}

// exchangeOf returns the exchange a record's body belongs to.
func exchangeOf(r node.Record) string {
	switch b := r.Body.(type) {
	case *entry.ExchangeList:
		return b.Exchange
	case *entry.ExchangeManifest:
		return b.Exchange
	case *entry.ExchangeConfirmation:
		return b.Exchange
	}
	return ""
}

func (s *suite) exchangeEntries(t *testing.T) {
	for _, x := range []string{"", "x", "y", "z"} {
		var want []node.Record
		for _, r := range s.l.exchange {
			if x == "" || exchangeOf(r) == x {
				want = append(want, r)
			}
		}
		got := gather(t, func(fn func(node.Record) error) error { return s.full.ExchangeEntries(ctx, x, fn) })
		diff(t, fmt.Sprintf("ExchangeEntries(%q)", x), got, want)
	}
	if got := gather(t, func(fn func(node.Record) error) error { return s.full.ExchangeEntries(ctx, "x", fn) }); len(got) != 5 || len(got[2].Signers) != 3 {
		t.Errorf("ExchangeEntries(x) = %d entries; want 5, the manifest with three signatures", len(got))
	}
}

func (s *suite) patrolEntries(t *testing.T) {
	span := func(r node.Record) (time.Time, time.Time, string, string) {
		switch b := r.Body.(type) {
		case *entry.PatrolPlan:
			return b.From, b.To, b.ID, b.ID
		case *entry.PatrolReport:
			return b.Start, b.End, b.ID, b.Plan
		}
		return time.Time{}, time.Time{}, "", ""
	}
	tests := []struct {
		name string
		f    node.PatrolFilter
		n    int // how many the filter selects
	}{
		{"all", node.PatrolFilter{}, 4},
		{"plans", node.PatrolFilter{Kind: entry.KindPatrolPlan}, 2},
		{"reports", node.PatrolFilter{Kind: entry.KindPatrolReport}, 2},
		{"id", node.PatrolFilter{ID: "r-1"}, 1},
		{"plan and its reports", node.PatrolFilter{Plan: "p-2"}, 2},
		{"unknown plan", node.PatrolFilter{Plan: "p-3"}, 0},
		{"window overlaps", node.PatrolFilter{From: at(t, "2025-03-10T12:30:00Z"), To: at(t, "2025-03-11T06:00:00Z")}, 2},
		{"to is exclusive", node.PatrolFilter{From: at(t, "2025-03-10T00:00:00Z"), To: at(t, "2025-03-10T06:00:00Z")}, 0},
		{"times across zones", node.PatrolFilter{Kind: entry.KindPatrolReport, From: at(t, "2025-03-11T07:59:59Z"), To: at(t, "2025-03-11T09:00:00+01:00")}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []node.Record
			for _, r := range s.l.patrols {
				from, to, id, plan := span(r)
				if (tt.f.Kind == "" || r.Kind == tt.f.Kind) && (tt.f.ID == "" || id == tt.f.ID) && (tt.f.Plan == "" || plan == tt.f.Plan) &&
					(tt.f.From.IsZero() || !to.Before(tt.f.From)) && (tt.f.To.IsZero() || from.Before(tt.f.To)) {
					want = append(want, r)
				}
			}
			if len(want) != tt.n {
				t.Fatalf("the model selects %d, the case says %d", len(want), tt.n)
			}
			got := gather(t, func(fn func(node.Record) error) error { return s.full.PatrolEntries(ctx, tt.f, fn) })
			diff(t, "PatrolEntries", got, want)
		})
	}
}

// streamsStop checks that every streaming method stops at fn's first
// error and returns it.
func (s *suite) streamsStop(t *testing.T) {
	st := s.full
	stop := errors.New("stop")
	tests := map[string]func(calls *int) error{
		"Records": func(calls *int) error {
			return st.Records(ctx, 0, 100, func(node.Record) error { *calls++; return stop })
		},
		"Observations": func(calls *int) error {
			return st.Observations(ctx, node.ObservationFilter{}, func(node.ObservationRow) error { *calls++; return stop })
		},
		"Incidents": func(calls *int) error {
			return st.Incidents(ctx, node.IncidentFilter{Status: "all"}, func(node.IncidentRow) error { *calls++; return stop })
		},
		"Determinations": func(calls *int) error {
			return st.Determinations(ctx, node.DeterminationFilter{}, func(node.DeterminationRow) error { *calls++; return stop })
		},
		"Obligations": func(calls *int) error {
			return st.Obligations(ctx, node.ObligationFilter{}, func(node.ObligationRow) error { *calls++; return stop })
		},
		"ExchangeEntries": func(calls *int) error {
			return st.ExchangeEntries(ctx, "", func(node.Record) error { *calls++; return stop })
		},
		"PatrolEntries": func(calls *int) error {
			return st.PatrolEntries(ctx, node.PatrolFilter{}, func(node.Record) error { *calls++; return stop })
		},
	}
	for name, call := range tests {
		calls := 0
		if err := call(&calls); !errors.Is(err, stop) || calls != 1 {
			t.Errorf("%s = %v after %d calls; want stop after 1", name, err, calls)
		}
	}
	// And the store serves on.
	if n := applied(t, st); n != uint64(len(s.l.recs)) {
		t.Errorf("Applied = %d after stopped streams", n)
	}
}

func (s *suite) applyRefuses(t *testing.T) {
	recs := s.l.recs
	const held = 10 // keys, then observations from index 5
	st := s.open(t)
	apply(t, st, recs[:held])
	before := export(t, st)

	renumber := func(r node.Record, index uint64) node.Record {
		r.Index = index
		return r
	}
	dupObs := recs[held+1]
	dupObs.Index = held + 2
	dupObs.LeafHash = bytes.Repeat([]byte{7}, 32)
	noSigner := recs[held]
	noSigner.Signers = nil

	tests := []struct {
		name  string
		batch []node.Record
		names uint64 // the entry the error must name, if not 0
	}{
		{"starts at zero again", recs[:held+1], 0},
		{"starts one early", recs[held-1 : held+2], 0},
		{"starts one late", recs[held+1 : held+3], 0},
		{"gap inside", []node.Record{recs[held], recs[held+2]}, 0},
		{"repeated index", []node.Record{recs[held], recs[held]}, 0},
		{"out of order", []node.Record{recs[held+1], recs[held]}, 0},
		{"duplicate observation id by the same signer", []node.Record{recs[held], recs[held+1], dupObs}, held + 2},
		{"duplicate leaf hash", []node.Record{recs[held], renumber(recs[held], held+1)}, held + 1},
		{"observation without a signer", []node.Record{noSigner}, held},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := st.Apply(ctx, tt.batch)
			if err == nil {
				t.Fatal("Apply succeeded")
			}
			if want := fmt.Sprintf("entry %d", tt.names); tt.names != 0 && !strings.Contains(err.Error(), want) {
				t.Errorf("Apply = %q; want it to name %q", err, want)
			}
			if got := applied(t, st); got != held {
				t.Fatalf("Applied = %d after a refused batch, want %d", got, held)
			}
			if after := export(t, st); !bytes.Equal(after, before) {
				t.Fatal("a refused batch changed the projection")
			}
		})
	}
	// The store still takes the right batches, and ends as the full one.
	applyIn(t, st, recs[held:], 50)
	if got := applied(t, st); got != uint64(len(recs)) {
		t.Fatalf("Applied = %d, want %d", got, len(recs))
	}
	if !bytes.Equal(export(t, st), s.export) {
		t.Fatal("a store that refused batches exports differently")
	}
}

// applyRefusesBodies offers, for every projected kind, an accepted record
// without its body, with another kind's body, and with its body by value:
// each is refused and changes nothing.
func (s *suite) applyRefusesBodies(t *testing.T) {
	recs := s.l.recs
	first := map[entry.Kind]node.Record{}
	var kinds []entry.Kind
	for _, r := range recs {
		if _, ok := first[r.Kind]; !ok && r.Rejected == "" && r.Kind != entry.KindTestimony {
			first[r.Kind] = r
			kinds = append(kinds, r.Kind)
		}
	}
	const held = 5
	st := s.open(t)
	apply(t, st, recs[:held])
	before := export(t, st)
	with := func(r node.Record, body any) node.Record {
		r.Index = held
		r.Body = body
		return r
	}
	for i, k := range kinds {
		r := first[k]
		other := first[kinds[(i+1)%len(kinds)]].Body
		byValue := reflect.ValueOf(r.Body).Elem().Interface()
		for name, rec := range map[string]node.Record{"without a body": with(r, nil), "with another kind's body": with(r, other), "by value": with(r, byValue)} {
			if err := st.Apply(ctx, []node.Record{rec}); err == nil {
				t.Errorf("Apply accepted a %s entry %s", k, name)
			}
		}
	}
	for _, k := range []entry.Kind{entry.KindVerification, entry.KindResponse} {
		r := first[k]
		r.Index, r.Signers = held, nil
		if err := st.Apply(ctx, []node.Record{r}); err == nil {
			t.Errorf("Apply accepted a %s entry without a signer", k)
		}
	}
	if got := applied(t, st); got != held {
		t.Fatalf("Applied = %d after refused batches, want %d", got, held)
	}
	if after := export(t, st); !bytes.Equal(after, before) {
		t.Fatal("a refused batch changed the projection")
	}
	for _, k := range []entry.Kind{entry.KindKey, entry.KindRevocation, entry.KindObservation, entry.KindIncident, entry.KindVerification,
		entry.KindAgreement, entry.KindAmendment, entry.KindDetermination, entry.KindObligation, entry.KindResponse, entry.KindSanction,
		entry.KindCoverage, entry.KindExchangeList, entry.KindExchangeManifest, entry.KindExchangeConfirmation, entry.KindPatrolPlan, entry.KindPatrolReport} {
		if _, ok := first[k]; !ok {
			t.Errorf("the log holds no accepted %s entry; the suite means to cover every projected kind", k)
		}
	}
}

func (s *suite) exportDeterministic(t *testing.T) {
	recs := s.l.recs
	for _, size := range []int{7, 1} {
		st := s.open(t)
		applyIn(t, st, recs, size)
		if e := export(t, st); !bytes.Equal(e, s.export) {
			t.Fatalf("the log applied in batches of %d exports differently:\n%s\n---\n%s", size, e, s.export)
		}
	}
	// Export reads; it changes nothing.
	if e := export(t, s.full); !bytes.Equal(e, s.export) {
		t.Fatal("a second export differs")
	}
}

// section returns the rows of one table in an export.
func section(export []byte, table string) []string {
	var out []string
	in := false
	for _, line := range strings.Split(strings.TrimSuffix(string(export), "\n"), "\n") {
		if strings.HasPrefix(line, "# ") {
			in = strings.HasPrefix(line, "# "+table+" (")
			continue
		}
		if in {
			out = append(out, line)
		}
	}
	return out
}

// exportTables checks the export's form: a header per table, rows per
// table as the model says, quoted text, hex blobs and \N for NULL.
func (s *suite) exportTables(t *testing.T) {
	e, l := s.export, s.l
	var headers []string
	for _, line := range strings.Split(strings.TrimSuffix(string(e), "\n"), "\n") {
		if line == "" {
			t.Fatal("export has an empty line")
		}
		if strings.HasPrefix(line, "# ") {
			name, _, _ := strings.Cut(line[2:], " ")
			headers = append(headers, name)
		}
	}
	for _, table := range []string{"meta", "entries", "keys", "revocations", "observations", "incidents", "incident_current", "incident_members",
		"incident_parties", "verifications", "agreements", "determinations", "determination_incidents", "obligations", "obligation_current",
		"responses", "sanctions", "sanction_current", "coverage", "exchange_entries", "patrol_entries"} {
		if !slices.Contains(headers, table) {
			t.Errorf("export lacks table %s (has %v)", table, headers)
		}
	}
	if got := section(e, "meta"); !slices.Equal(got, []string{fmt.Sprintf("\"applied\"\t%d", len(l.recs))}) {
		t.Errorf("meta = %q", got)
	}
	revs := func(m map[uint64][]node.IncidentRow) (n int) {
		for _, rs := range m {
			n += len(rs)
		}
		return n
	}(l.incRevisions)
	obRevs := 0
	for _, rs := range l.obRevisions {
		obRevs += len(rs)
	}
	statements := 0
	for _, h := range l.sanctions {
		statements += len(h)
	}
	for table, want := range map[string]int{"entries": len(l.recs), "keys": len(l.reg.Keys()), "revocations": 1, "observations": len(observationRows(l.recs)),
		"incidents": revs, "incident_current": len(l.incCurrent), "verifications": len(l.ver), "agreements": len(l.agreements),
		"determinations": len(l.dets), "obligations": obRevs, "obligation_current": len(l.obCurrent), "responses": len(l.responses),
		"sanctions": statements, "sanction_current": len(l.sanctions), "coverage": len(l.coverage), "exchange_entries": len(l.exchange),
		"patrol_entries": len(l.patrols)} {
		if got := len(section(e, table)); got != want {
			t.Errorf("export has %d %s rows, want %d", got, table, want)
		}
	}
	// Members and parties are the current revisions'.
	var members, parties []string
	for _, r := range l.incidentRows() {
		for _, m := range r.Incident.Members {
			members = append(members, fmt.Sprintf("%d\t%d", r.Incident.ID, m))
		}
		for _, a := range r.Incident.Attributions {
			parties = append(parties, fmt.Sprintf("%d\t%q", r.Incident.ID, a.Party))
		}
	}
	if got := section(e, "incident_members"); !slices.Equal(got, members) {
		t.Errorf("incident_members = %q, want %q", got, members)
	}
	if got := section(e, "incident_parties"); !slices.Equal(got, parties) {
		t.Errorf("incident_parties = %q, want %q", got, parties)
	}
	// Each determination's incident revisions, once each, in order.
	var refs []string
	for _, d := range l.dets {
		seen := map[entry.RevisionRef]bool{}
		var ins []entry.RevisionRef
		for _, in := range d.Determination.Incidents {
			if !seen[in] {
				seen[in] = true
				ins = append(ins, in)
			}
		}
		slices.SortFunc(ins, func(a, b entry.RevisionRef) int {
			if a.ID != b.ID {
				return int(a.ID) - int(b.ID)
			}
			return a.Revision - b.Revision
		})
		for _, in := range ins {
			refs = append(refs, fmt.Sprintf("%d\t%d\t%d", d.Index, in.ID, in.Revision))
		}
	}
	if got := section(e, "determination_incidents"); !slices.Equal(got, refs) {
		t.Errorf("determination_incidents = %q, want %q", got, refs)
	}
	text := string(e)
	for _, want := range []string{`"tab\there, \"quoted\", naïve"`, "\t0\t51.4769\t\"shelling\"\t0.1\t1\t0\t\"\"\t\"\"\t\"[]\"\t\"nul\\x00and\\x01soh, ünïcödé \\\\ \\\"q\\\"\"\t\"a\\x00b\"\t\"\\x01\"",
		`"2025-12-31T22:00:00.000000000Z"`} {
		if !strings.Contains(text, want) {
			t.Errorf("export lacks %s", want)
		}
	}
	// Times are stored in UTC; an open obligation has no settled time, an
	// open-ended agreement no expiry.
	if cur := section(e, "obligation_current"); !strings.Contains(cur[0], `"2025-03-01T12:00:00.000000000Z"`) || !strings.HasSuffix(cur[4], `\N`) {
		t.Errorf("obligation_current = %q", cur)
	}
	if ag := section(e, "agreements"); !strings.HasSuffix(ag[3], `\N`) || strings.HasSuffix(ag[0], `\N`) {
		t.Errorf("agreements = %q; want an expiry but for other", ag)
	}
	if en := section(e, "entries"); !strings.HasPrefix(en[0], "0\t"+fmt.Sprintf("%x", l.recs[0].LeafHash)+"\t\"key\"\t") {
		t.Errorf("entries begin %q", en[0])
	}
}

// readersNeverSeeAHalfBatch applies batches while readers poll; each read
// must see whole batches only: every count a reader sees is a batch
// boundary that never goes back, and Identities sees at least what
// Applied said before it.
func (s *suite) readersNeverSeeAHalfBatch(t *testing.T) {
	st := s.open(t)
	recs := Observations(t, 400)
	const batch = 37
	boundary := func(n uint64) bool { return n%batch == 0 || n == uint64(len(recs)) }

	var stop atomic.Bool
	var started, done sync.WaitGroup
	errs := make(chan error, 8)
	for range 4 {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			first := true
			var last uint64
			for {
				if !first && stop.Load() {
					return
				}
				n, err := st.Applied(ctx)
				var ids uint64
				if err == nil {
					err = st.Identities(ctx, func([]byte, string) { ids++ })
				}
				if err == nil && (!boundary(n) || n < last) {
					err = fmt.Errorf("Applied = %d after %d: not a batch boundary, or went back", n, last)
				}
				if err == nil && (!boundary(ids) || ids < n) {
					err = fmt.Errorf("Identities saw %d entries after Applied = %d: part of a batch", ids, n)
				}
				if first {
					started.Done()
					first = false
				}
				if err != nil {
					errs <- err
					return
				}
				last = ids
			}
		}()
	}
	started.Wait()
	applyIn(t, st, recs, batch)
	stop.Store(true)
	done.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// engineLog feeds the real engine's log of a few scenario days, in one
// batch and in batches of 100: the exports agree, and the current
// incidents, determinations and current obligations are those the log
// states last.
func (s *suite) engineLog(t *testing.T) {
	recs := EngineLog(t, 3)
	st, again := s.open(t), s.open(t)
	apply(t, st, recs)
	applyIn(t, again, recs, 100)
	if !bytes.Equal(export(t, st), export(t, again)) {
		t.Fatal("the engine's log applied in batches exports differently")
	}
	incidents := map[uint64]node.IncidentRow{}
	obligations := map[uint64]node.ObligationRow{}
	var dets []node.DeterminationRow
	kinds := map[entry.Kind]int{}
	for _, r := range recs {
		kinds[r.Kind]++
		switch b := r.Body.(type) {
		case *entry.Incident:
			incidents[b.ID] = node.IncidentRow{Index: r.Index, Incident: *b}
		case *entry.Obligation:
			obligations[b.ID] = node.ObligationRow{Index: r.Index, Obligation: *b}
		case *entry.Determination:
			dets = append(dets, node.DeterminationRow{Index: r.Index, Determination: *b})
		}
	}
	if kinds[entry.KindIncident] == 0 || kinds[entry.KindDetermination] == 0 || kinds[entry.KindObligation] == 0 {
		t.Fatalf("the engine log holds %v; want incidents, determinations and obligations", kinds)
	}
	gotInc := gather(t, func(fn func(node.IncidentRow) error) error {
		return st.Incidents(ctx, node.IncidentFilter{Status: "all"}, fn)
	})
	if len(gotInc) != len(incidents) {
		t.Fatalf("Incidents = %d, want %d", len(gotInc), len(incidents))
	}
	for _, r := range gotInc {
		diff(t, fmt.Sprintf("incident %d", r.Incident.ID), r, incidents[r.Incident.ID])
	}
	diff(t, "Determinations", gather(t, func(fn func(node.DeterminationRow) error) error {
		return st.Determinations(ctx, node.DeterminationFilter{}, fn)
	}), dets)
	gotOb := gather(t, func(fn func(node.ObligationRow) error) error { return st.Obligations(ctx, node.ObligationFilter{}, fn) })
	if len(gotOb) != len(obligations) {
		t.Fatalf("Obligations = %d, want %d", len(gotOb), len(obligations))
	}
	for _, r := range gotOb {
		diff(t, fmt.Sprintf("obligation %d", r.Obligation.ID), r, obligations[r.Obligation.ID])
	}
	t.Logf("engine log: %d entries, %v", len(recs), kinds)
}
