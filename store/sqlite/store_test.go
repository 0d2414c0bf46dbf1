package sqlite_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
	"github.com/guarantor/guarantor/store/sqlite"
	"github.com/guarantor/guarantor/store/storetest"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

type key = testkeys.Key

// fixture builds a log the way the follower sees it: every entry is
// really signed, then parsed, validated and checked by a live registry,
// and turned into the record the follower would apply.
type fixture struct {
	auth, mon, cam, intake, stranger key
	reg                              *registry.Registry
	recs                             []node.Record
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	f := &fixture{
		auth:     testkeys.New(tb, "authority"),
		mon:      testkeys.New(tb, "monitor.a"),
		cam:      testkeys.New(tb, "camera.1"),
		intake:   testkeys.New(tb, "intake"),
		stranger: testkeys.New(tb, "stranger"),
	}
	var err error
	if f.reg, err = registry.New(f.auth.VKey); err != nil {
		tb.Fatal(err)
	}
	return f
}

// add signs body with keys, admits it at the next index and appends the
// record. accepted says whether the registry must accept it.
func (f *fixture) add(tb testing.TB, accepted bool, kind entry.Kind, body string, keys ...key) node.Record {
	tb.Helper()
	raw := testkeys.Sign(tb, kind, body, keys...)
	index := uint64(len(f.recs))
	rec := node.Record{Index: index, LeafHash: guarantor.LeafHash(raw), Raw: raw}
	e, b, err := f.reg.Admit(index, raw)
	if e == nil {
		tb.Fatalf("entry %d does not parse: %v", index, err)
	}
	rec.Kind = e.Kind
	for _, s := range e.Sigs {
		rec.Signers = append(rec.Signers, entry.KeyID(s.Name, s.Hash))
	}
	if err != nil {
		rec.Rejected = err.Error()
	} else {
		rec.Body = b
	}
	if (err == nil) != accepted {
		tb.Fatalf("entry %d: registry says %v, want accepted=%v", index, err, accepted)
	}
	f.recs = append(f.recs, rec)
	return rec
}

func (f *fixture) keys(tb testing.TB) {
	tb.Helper()
	f.add(tb, true, entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":"monitor","label":"Team A","not_before":"2025-01-01T00:00:00Z","not_after":"2026-01-01T00:00:00Z","zones":["donetsk-north","luhansk"]}`, f.mon.VKey), f.auth)
	f.add(tb, true, entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":"sensor","not_before":"2025-01-01T00:00:00.25+02:00","not_after":"2026-01-01T00:00:00Z"}`, f.cam.VKey), f.auth)
	f.add(tb, true, entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":"intake","not_before":"2025-01-01T00:00:00Z","not_after":"2026-01-01T00:00:00Z"}`, f.intake.VKey), f.auth)
}

// observations adds n accepted observations with varied fields: optional
// ones present or absent, times in other zones and with fractions.
func (f *fixture) observations(tb testing.TB, n int) {
	tb.Helper()
	cats := []string{"shelling", "small_arms", "drone_strike"}
	srcs := []string{"patrol", "camera", "uav"}
	for i := range n {
		k := f.mon
		if i%3 == 0 {
			k = f.cam
		}
		var opt strings.Builder
		if i%2 == 0 {
			fmt.Fprintf(&opt, `,"accuracy_m":%d.5,"count":%d`, 100+i, i+1)
		}
		if i%5 == 0 {
			fmt.Fprintf(&opt, `,"bearing_deg":%d.25,"weapon":"mortar_120mm","evidence":[{"sha256":"%064x","media_type":"image/jpeg"}],"external_id":"ged-%d","source":"ucdp-ged"`, i%360, i, i)
		}
		at := fmt.Sprintf("2025-03-01T%02d:%02d:%02d.%dZ", 12+i/3600%10, i/60%60, i%60, i%10)
		if i%7 == 0 {
			at = fmt.Sprintf("2025-03-01T%02d:%02d:%02d+03:00", 15+i/3600%10, i/60%60, i%60) // the same instant, another zone
		}
		body := fmt.Sprintf(`{"id":"o-%d","observed_at":%q,"location":{"type":"Point","coordinates":[%g,%g]},"category":%q,"source_type":%q,"text":"tab\there, \"quoted\", naïve"%s}`,
			i, at, 37.5+float64(i%40)/100, 48.0+float64(i%17)/100, cats[i%3], srcs[i%3], opt.String())
		f.add(tb, true, entry.KindObservation, body, k)
	}
}

// sample returns a registry-checked sequence holding every kind: keys,
// observations (one co-signed), a testimony, a revocation and entries the
// registry rejects.
func sample(tb testing.TB, nObs int) (*fixture, []node.Record) {
	tb.Helper()
	f := newFixture(tb)
	f.keys(tb)
	f.observations(tb, nObs)
	f.add(tb, true, entry.KindObservation, `{"id":"joint-1","observed_at":"2025-03-02T08:00:00Z","location":{"type":"Point","coordinates":[37.9,48.1]},"category":"air_strike"}`, f.mon, f.cam)
	f.add(tb, true, entry.KindTestimony, `{"id":"t-1","received_at":"2025-03-02T09:00:00Z","text":"heard explosions to the east","language":"uk"}`, f.intake)
	f.add(tb, true, entry.KindRevocation, fmt.Sprintf(`{"key":%q,"reason":"rotated","effective":"2025-06-01T00:00:00+02:00"}`, f.cam.ID), f.auth)
	f.add(tb, false, entry.KindObservation, `{"id":"x","observed_at":"2025-03-01T12:00:00Z","location":{"type":"Point","coordinates":[37.8,48.0]},"category":"shelling"}`, f.stranger)
	f.add(tb, false, entry.KindObservation, `{"id":"late","observed_at":"2025-07-01T12:00:00Z","location":{"type":"Point","coordinates":[37.8,48.0]},"category":"shelling"}`, f.cam)
	return f, f.recs
}

func open(tb testing.TB) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "p.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func apply(tb testing.TB, s *sqlite.Store, recs []node.Record) {
	tb.Helper()
	if err := s.Apply(context.Background(), recs); err != nil {
		tb.Fatal(err)
	}
}

func export(tb testing.TB, s *sqlite.Store) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := s.Export(context.Background(), &b); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func applied(tb testing.TB, s *sqlite.Store) uint64 {
	tb.Helper()
	n, err := s.Applied(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// TestConformance runs the conformance suite every node.Store passes.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) node.Store { return open(t) })
}

func TestEmpty(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	if got := applied(t, s); got != 0 {
		t.Fatalf("Applied = %d, want 0", got)
	}
	if err := s.Apply(ctx, nil); err != nil {
		t.Fatalf("Apply(nil) = %v", err)
	}
	keys, err := s.Keys(ctx)
	if err != nil || len(keys) != 0 {
		t.Fatalf("Keys = %v, %v; want none", keys, err)
	}
	if _, ok, err := s.Entry(ctx, 0); ok || err != nil {
		t.Fatalf("Entry(0) = ok %v, err %v; want not found", ok, err)
	}
}

func TestApplyAndReadBack(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	_, recs := sample(t, 12)
	apply(t, s, recs)
	if got, want := applied(t, s), uint64(len(recs)); got != want {
		t.Fatalf("Applied = %d, want %d", got, want)
	}
	for _, want := range recs {
		got, ok, err := s.Entry(ctx, want.Index)
		if err != nil || !ok {
			t.Fatalf("Entry(%d) = ok %v, err %v", want.Index, ok, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Entry(%d) =\n%+v\nwant\n%+v", want.Index, got, want)
		}
		idx, ok, err := s.IndexByLeafHash(ctx, want.LeafHash)
		if err != nil || !ok || idx != want.Index {
			t.Errorf("IndexByLeafHash(entry %d) = %d, %v, %v", want.Index, idx, ok, err)
		}
		ob, isObs := want.Body.(*entry.Observation)
		if !isObs {
			continue
		}
		idx, leaf, ok, err := s.ObservationByID(ctx, want.Signers[0], ob.ID)
		if err != nil || !ok || idx != want.Index || !bytes.Equal(leaf, want.LeafHash) {
			t.Errorf("ObservationByID(%s, %s) = %d, %x, %v, %v; want %d", want.Signers[0], ob.ID, idx, leaf, ok, err, want.Index)
		}
		// Only the first signer owns the id.
		for _, other := range want.Signers[1:] {
			if _, _, ok, _ := s.ObservationByID(ctx, other, ob.ID); ok {
				t.Errorf("observation %s found under its co-signer %s", ob.ID, other)
			}
		}
	}
	if _, ok, err := s.IndexByLeafHash(ctx, make([]byte, 32)); ok || err != nil {
		t.Errorf("IndexByLeafHash(unknown) = ok %v, err %v", ok, err)
	}
	if _, _, ok, err := s.ObservationByID(ctx, "nobody+00000000", "o-1"); ok || err != nil {
		t.Errorf("ObservationByID(unknown signer) = ok %v, err %v", ok, err)
	}
	if _, ok, err := s.Entry(ctx, uint64(len(recs))); ok || err != nil {
		t.Errorf("Entry(beyond) = ok %v, err %v", ok, err)
	}
}

// observationRows returns the rows Observations should yield for recs.
func observationRows(recs []node.Record) []node.ObservationRow {
	var out []node.ObservationRow
	for _, r := range recs {
		if ob, ok := r.Body.(*entry.Observation); ok {
			o := *ob
			o.ObservedAt = o.ObservedAt.UTC()
			out = append(out, node.ObservationRow{Index: r.Index, Signer: r.Signers[0], Observation: o})
		}
	}
	return out
}

func TestObservations(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	_, recs := sample(t, 60)
	apply(t, s, recs)
	all := observationRows(recs)
	at := func(v string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		name string
		f    node.ObservationFilter
		keep func(node.ObservationRow) bool
	}{
		{"all", node.ObservationFilter{}, func(node.ObservationRow) bool { return true }},
		{"category", node.ObservationFilter{Category: "small_arms"}, func(r node.ObservationRow) bool { return r.Observation.Category == "small_arms" }},
		{"source type", node.ObservationFilter{SourceType: "uav"}, func(r node.ObservationRow) bool { return r.Observation.SourceType == "uav" }},
		{"time range across zones", node.ObservationFilter{From: at("2025-03-01T15:00:10+03:00"), To: at("2025-03-01T12:00:30.5Z")}, func(r node.ObservationRow) bool {
			o := r.Observation.ObservedAt
			return !o.Before(at("2025-03-01T12:00:10Z")) && o.Before(at("2025-03-01T12:00:30.5Z"))
		}},
		{"bbox", node.ObservationFilter{BBox: &[4]float64{37.6, 48.05, 37.7, 48.1}}, func(r node.ObservationRow) bool {
			c := r.Observation.Location.Coordinates
			return c[0] >= 37.6 && c[1] >= 48.05 && c[0] <= 37.7 && c[1] <= 48.1
		}},
		{"everything at once", node.ObservationFilter{Category: "shelling", SourceType: "patrol", From: at("2025-03-01T12:00:20Z"), BBox: &[4]float64{-180, -90, 180, 90}}, func(r node.ObservationRow) bool {
			o := r.Observation
			return o.Category == "shelling" && o.SourceType == "patrol" && !o.ObservedAt.Before(at("2025-03-01T12:00:20Z"))
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
			var got []node.ObservationRow
			err := s.Observations(ctx, tt.f, func(r node.ObservationRow) error {
				got = append(got, r)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %d rows, want %d:\n got %+v\nwant %+v", len(got), len(want), got, want)
			}
		})
	}
	t.Run("stops at fn's error", func(t *testing.T) {
		stop := errors.New("stop")
		calls := 0
		err := s.Observations(ctx, node.ObservationFilter{}, func(node.ObservationRow) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 {
			t.Fatalf("Observations = %v after %d calls; want stop after 1", err, calls)
		}
	})
}

func TestIdentities(t *testing.T) {
	s := open(t)
	_, recs := sample(t, 8)
	apply(t, s, recs)
	want := map[string]string{}
	for _, r := range recs {
		k := ""
		if ob, ok := r.Body.(*entry.Observation); ok {
			k = r.Signers[0] + "\x00" + ob.ID
		}
		want[string(r.LeafHash)] = k
	}
	got := map[string]string{}
	err := s.Identities(context.Background(), func(leaf []byte, obsKey string) {
		if _, dup := got[string(leaf)]; dup {
			t.Errorf("leaf hash %x reported twice", leaf)
		}
		got[string(leaf)] = obsKey
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Identities = %q, want %q", got, want)
	}
}

func TestKeysReflectRevocations(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	f := newFixture(t)
	f.keys(t)
	apply(t, s, f.recs)
	keys, err := s.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 {
		t.Fatalf("Keys = %d keys, want 3", len(keys))
	}
	for i, k := range keys {
		want := f.reg.Keys()[i]
		if k.Index != uint64(i) || k.ID != want.ID || k.VKey != want.VKey || k.Role != want.Role || k.Label != want.Label ||
			!k.NotBefore.Equal(want.NotBefore) || !k.NotAfter.Equal(want.NotAfter) || !slices.Equal(k.Zones, want.Zones) || k.Revoked != nil {
			t.Errorf("key %d = %+v, want %+v", i, k, *want)
		}
	}
	if got, want := keys[1].NotBefore, time.Date(2024, 12, 31, 22, 0, 0, 250e6, time.UTC); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("NotBefore = %v, want %v in UTC", got, want)
	}

	rev := f.add(t, true, entry.KindRevocation, fmt.Sprintf(`{"key":%q,"reason":"lost in the field","effective":"2025-06-01T00:00:00.5Z"}`, f.cam.ID), f.auth)
	apply(t, s, []node.Record{rev})
	if keys, err = s.Keys(ctx); err != nil {
		t.Fatal(err)
	}
	want := registry.Revocation{Index: rev.Index, Reason: "lost in the field", Effective: time.Date(2025, 6, 1, 0, 0, 0, 5e8, time.UTC)}
	if r := keys[1].Revoked; r == nil || !reflect.DeepEqual(*r, want) {
		t.Fatalf("revoked camera key: Revoked = %+v, want %+v", r, want)
	}
	if keys[0].Revoked != nil || keys[2].Revoked != nil {
		t.Fatalf("revocation leaked to other keys: %+v", keys)
	}

	// The keys restore a registry that decides as the original does.
	restored, err := registry.New(f.auth.VKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if err := restored.Restore(k); err != nil {
			t.Fatal(err)
		}
	}
	late := testkeys.Sign(t, entry.KindObservation, `{"id":"late","observed_at":"2025-07-01T12:00:00Z","location":{"type":"Point","coordinates":[37.8,48.0]},"category":"shelling"}`, f.cam)
	if _, _, err := restored.Admit(uint64(len(f.recs)), late); guarantor.ErrorCode(err) != guarantor.ERevoked {
		t.Fatalf("restored registry admits a revoked key's late observation: %v", err)
	}
}

func TestApplyRefusesAndChangesNothing(t *testing.T) {
	ctx := context.Background()
	_, recs := sample(t, 6)
	const held = 3
	s := open(t)
	apply(t, s, recs[:held])
	before := export(t, s)

	renumber := func(r node.Record, index uint64) node.Record {
		r.Index = index
		return r
	}
	dupObs := recs[held+1]
	dupObs.Index = held + 2
	dupObs.LeafHash = bytes.Repeat([]byte{7}, 32)
	noBody := recs[held]
	noBody.Body = nil
	wrongBody := recs[held]
	wrongBody.Body = &entry.RevocationBody{Key: "x+00000000"}

	tests := []struct {
		name       string
		batch      []node.Record
		constraint int // the SQLite extended code the error must carry, if any
	}{
		{"starts at zero again", recs[:held+1], 0},
		{"starts one early", recs[held-1 : held+2], 0},
		{"starts one late", recs[held+1 : held+3], 0},
		{"gap inside", []node.Record{recs[held], recs[held+2]}, 0},
		{"repeated index", []node.Record{recs[held], recs[held]}, 0},
		{"out of order", []node.Record{recs[held+1], recs[held]}, 0},
		{"duplicate observation id by the same signer", []node.Record{recs[held], recs[held+1], dupObs}, sqlite3.SQLITE_CONSTRAINT_UNIQUE},
		{"duplicate leaf hash", []node.Record{recs[held], renumber(recs[held], held+1)}, sqlite3.SQLITE_CONSTRAINT_UNIQUE},
		{"accepted observation without a body", []node.Record{noBody}, 0},
		{"accepted observation with another kind's body", []node.Record{wrongBody}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Apply(ctx, tt.batch)
			if err == nil {
				t.Fatal("Apply succeeded")
			}
			if tt.constraint != 0 {
				var se *msqlite.Error
				if !errors.As(err, &se) || se.Code() != tt.constraint {
					t.Fatalf("Apply = %v; want a constraint error with code %d", err, tt.constraint)
				}
				if want := fmt.Sprintf("entry %d", tt.batch[len(tt.batch)-1].Index); !strings.Contains(err.Error(), want) {
					t.Errorf("Apply = %q; want it to name %q", err, want)
				}
			}
			if got := applied(t, s); got != held {
				t.Fatalf("Applied = %d after a refused batch, want %d", got, held)
			}
			if after := export(t, s); !bytes.Equal(after, before) {
				t.Fatal("a refused batch changed the projection")
			}
		})
	}
	// The store still takes the right batch.
	apply(t, s, recs[held:])
	if got := applied(t, s); got != uint64(len(recs)) {
		t.Fatalf("Applied = %d, want %d", got, len(recs))
	}
}

func TestExportIsDeterministic(t *testing.T) {
	_, recs := sample(t, 50)
	var exports [][]byte
	for _, size := range []int{len(recs), 7, 1} {
		s := open(t)
		for i := 0; i < len(recs); i += size {
			apply(t, s, recs[i:min(i+size, len(recs))])
		}
		exports = append(exports, export(t, s))
	}
	for i, e := range exports[1:] {
		if !bytes.Equal(e, exports[0]) {
			t.Fatalf("export %d differs from export 0:\n%s\n---\n%s", i+1, e, exports[0])
		}
	}
	e := string(exports[0])
	for _, table := range []string{"meta", "entries", "keys", "revocations", "observations"} {
		if !strings.Contains(e, "\n# "+table+" (") && !strings.HasPrefix(e, "# "+table+" (") {
			t.Errorf("export lacks a header for table %s", table)
		}
	}
	if !strings.Contains(e, `"tab\there, \"quoted\", naïve"`) {
		t.Error("text is not quoted in the export")
	}
	for _, line := range strings.Split(strings.TrimSuffix(e, "\n"), "\n") {
		if line == "" {
			t.Fatal("export has an empty line")
		}
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	_, recs := sample(t, 5)
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, s, recs[:4])
	before := export(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the WAL outlives Close: %v", err)
	}
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if after := export(t, s); !bytes.Equal(before, after) {
		t.Fatal("the reopened projection differs")
	}
	if got := applied(t, s); got != 4 {
		t.Fatalf("Applied after reopening = %d, want 4", got)
	}
	apply(t, s, recs[4:])
	ref := open(t)
	apply(t, ref, recs)
	if !bytes.Equal(export(t, s), export(t, ref)) {
		t.Fatal("a projection continued after reopening differs from one built in one go")
	}
}

func TestOpenAwkwardPath(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "a dir?x=1#frag%41")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "p?q.db")
	_, recs := sample(t, 1)
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, s, recs)
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the database is not at the path given: %v", err)
	}
	if s, err = sqlite.Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := applied(t, s); got != uint64(len(recs)) {
		t.Fatalf("Applied after reopening = %d, want %d", got, len(recs))
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if s, err := sqlite.Open(ctx, path); err == nil {
		s.Close()
		t.Fatal("Open accepted a database from a newer schema")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open = %v; want it to say the schema is newer", err)
	}
}

// TestReadersNeverSeeAHalfBatch applies batches while readers poll; each
// read must see whole batches only: the applied count and the number of
// entry rows agree within one read transaction, and every count a reader
// sees through the public methods is a batch boundary that never goes
// back.
func TestReadersNeverSeeAHalfBatch(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	_, recs := sample(t, 400)
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
			for reads := 0; ; reads++ {
				if !first && stop.Load() {
					return
				}
				a, rows, err := s.Consistency(ctx)
				if err == nil && a != rows {
					err = fmt.Errorf("one read transaction saw applied=%d but %d entry rows", a, rows)
				}
				var n, ids uint64
				if err == nil {
					n, err = s.Applied(ctx)
				}
				if err == nil {
					err = s.Identities(ctx, func([]byte, string) { ids++ })
				}
				if err == nil && (!boundary(n) || n < last || n < uint64(a)) {
					err = fmt.Errorf("Applied = %d after %d (and %d): not a batch boundary, or went back", n, last, a)
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
	for i := 0; i < len(recs); i += batch {
		apply(t, s, recs[i:min(i+batch, len(recs))])
	}
	stop.Store(true)
	done.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// BenchmarkApply applies batches of 256 observations to one growing
// projection, as the follower does under sustained load, WAL checkpoints
// included. The entries are signed once; each batch gets fresh indexes,
// leaf hashes and ids. It also reports the WAL's final size, which must
// stay bounded however long it runs.
func BenchmarkApply(b *testing.B) {
	ctx := context.Background()
	const batch = 256
	f := newFixture(b)
	f.keys(b)
	f.observations(b, batch)
	path := filepath.Join(b.TempDir(), "p.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	apply(b, s, f.recs[:3])
	tmpl := f.recs[3:]
	next := uint64(3)
	recs := make([]node.Record, batch)
	var n int
	for b.Loop() {
		b.StopTimer()
		for j, r := range tmpl {
			ob := *r.Body.(*entry.Observation)
			ob.ID = fmt.Sprintf("b-%d", next)
			var seed [8]byte
			binary.BigEndian.PutUint64(seed[:], next)
			leaf := sha256.Sum256(seed[:])
			r.Index, r.LeafHash, r.Body = next, leaf[:], &ob
			recs[j] = r
			next++
		}
		b.StartTimer()
		if err := s.Apply(ctx, recs); err != nil {
			b.Fatal(err)
		}
		n += batch
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "entries/s")
	if fi, err := os.Stat(path + "-wal"); err == nil {
		b.ReportMetric(float64(fi.Size())/(1<<20), "wal-MiB")
	}
}
