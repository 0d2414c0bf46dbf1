package sqlite_test

import (
	"bytes"
	"context"
	"fmt"
	"github.com/guarantor/guarantor/internal/testkeys"
	"path/filepath"
	"sync"
	"testing"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/store/sqlite"
)

type key = testkeys.Key

var newKey = testkeys.New

// record signs body and turns it into the record the follower would apply.
func record(tb testing.TB, index uint64, kind entry.Kind, body string, signer key) node.Record {
	tb.Helper()
	raw, err := entry.Sign(kind, []byte(body), signer.S)
	if err != nil {
		tb.Fatal(err)
	}
	e, err := entry.Parse(raw)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := e.Validate()
	if err != nil {
		tb.Fatal(err)
	}
	return node.Record{Index: index, LeafHash: guarantor.LeafHash(raw), Raw: raw, Kind: kind, Signers: []string{signer.ID}, Body: b}
}

// sample returns a registry-valid sequence: two keys, observations, a
// revocation, and one entry recorded as rejected.
func sample(tb testing.TB, nObs int) []node.Record {
	auth, mon, cam := newKey(tb, "authority"), newKey(tb, "monitor.a"), newKey(tb, "camera.1")
	var recs []node.Record
	add := func(kind entry.Kind, body string, k key) {
		recs = append(recs, record(tb, uint64(len(recs)), kind, body, k))
	}
	add(entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":"monitor","label":"Team A","not_before":"2025-01-01T00:00:00Z","not_after":"2026-01-01T00:00:00Z","zones":["donetsk-north"]}`, mon.VKey), auth)
	add(entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":"sensor","not_before":"2025-01-01T00:00:00Z","not_after":"2026-01-01T00:00:00Z"}`, cam.VKey), auth)
	for i := range nObs {
		k := mon
		if i%3 == 0 {
			k = cam
		}
		add(entry.KindObservation, fmt.Sprintf(`{"id":"o-%d","observed_at":"2025-03-01T12:%02d:%02d.5Z","location":{"type":"Point","coordinates":[37.8%d,48.0]},"category":"shelling","count":%d,"accuracy_m":250.5,"evidence":[{"sha256":"%064x","media_type":"image/jpeg"}],"text":"tab\there"}`, i, i/60%60, i%60, i, i+1, i), k)
	}
	add(entry.KindRevocation, fmt.Sprintf(`{"key":%q,"reason":"rotated","effective":"2025-06-01T00:00:00Z"}`, cam.ID), auth)
	bad := record(tb, uint64(len(recs)), entry.KindObservation, `{"id":"x","observed_at":"2025-03-01T12:00:00Z","location":{"type":"Point","coordinates":[37.8,48.0]},"category":"shelling"}`, newKey(tb, "stranger"))
	bad.Body, bad.Rejected = nil, "signer stranger is not a registered key"
	recs = append(recs, bad)
	return recs
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

func TestApplyAndReadBack(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	recs := sample(t, 10)
	if err := s.Apply(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Applied(ctx); n != uint64(len(recs)) {
		t.Fatalf("applied = %d, want %d", n, len(recs))
	}
	for _, r := range recs {
		got, ok, err := s.Entry(ctx, r.Index)
		if err != nil || !ok {
			t.Fatalf("entry %d: ok %v err %v", r.Index, ok, err)
		}
		if !bytes.Equal(got.Raw, r.Raw) || got.Kind != r.Kind || got.Rejected != r.Rejected || (got.Body == nil) != (r.Body == nil) {
			t.Fatalf("entry %d read back as %+v", r.Index, got)
		}
		idx, ok, err := s.IndexByLeafHash(ctx, r.LeafHash)
		if err != nil || !ok || idx != r.Index {
			t.Fatalf("leaf hash of %d: %d %v %v", r.Index, idx, ok, err)
		}
	}
	ob := recs[3].Body.(*entry.Observation)
	idx, leaf, ok, err := s.ObservationByID(ctx, recs[3].Signers[0], ob.ID)
	if err != nil || !ok || idx != 3 || !bytes.Equal(leaf, recs[3].LeafHash) {
		t.Fatalf("observation by id: %d %v %v", idx, ok, err)
	}
	if _, _, ok, _ := s.ObservationByID(ctx, "someone+00000000", ob.ID); ok {
		t.Fatal("observation found under another signer")
	}
	keys, err := s.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].Label != "Team A" || len(keys[0].Zones) != 1 || keys[0].Revoked != nil || keys[1].Revoked == nil || keys[1].Revoked.Reason != "rotated" {
		t.Fatalf("keys = %+v", keys)
	}
	if _, ok, _ := s.Entry(ctx, 999); ok {
		t.Fatal("entry beyond the projection found")
	}
}

func TestApplyRefusesGapsAndChangesNothing(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	recs := sample(t, 4)
	if err := s.Apply(ctx, recs[1:3]); err == nil {
		t.Fatal("apply starting at index 1 of an empty projection succeeded")
	}
	if err := s.Apply(ctx, []node.Record{recs[0], recs[2]}); err == nil {
		t.Fatal("apply with a gap succeeded")
	}
	if n, _ := s.Applied(ctx); n != 0 {
		t.Fatalf("applied = %d after refused applies", n)
	}
	var out bytes.Buffer
	if err := s.Export(ctx, &out); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out.Bytes(), []byte(`"observation"`)) {
		t.Fatal("a refused apply left rows behind")
	}
	// A duplicate observation id by the same signer violates the table's
	// constraint and the whole batch is refused.
	dup := recs[3]
	dup.Index = 4
	dup.LeafHash = append([]byte{1}, dup.LeafHash[1:]...)
	if err := s.Apply(ctx, append(recs[:4:4], dup)); err == nil {
		t.Fatal("duplicate observation id applied")
	}
	if n, _ := s.Applied(ctx); n != 0 {
		t.Fatalf("applied = %d after a refused batch", n)
	}
}

func TestExportIsDeterministic(t *testing.T) {
	ctx := context.Background()
	recs := sample(t, 50)
	a, b := open(t), open(t)
	if err := a.Apply(ctx, recs); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(recs); i += 7 {
		if err := b.Apply(ctx, recs[i:min(i+7, len(recs))]); err != nil {
			t.Fatal(err)
		}
	}
	var ea, eb bytes.Buffer
	if err := a.Export(ctx, &ea); err != nil {
		t.Fatal(err)
	}
	if err := b.Export(ctx, &eb); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ea.Bytes(), eb.Bytes()) {
		t.Fatal("exports of the same records in different batches differ")
	}
	if !bytes.Contains(ea.Bytes(), []byte(`"tab\there"`)) {
		t.Fatal("text is not quoted in the export")
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	recs := sample(t, 5)
	if err := s.Apply(ctx, recs); err != nil {
		t.Fatal(err)
	}
	var before bytes.Buffer
	_ = s.Export(ctx, &before)
	s.Close()
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var after bytes.Buffer
	_ = s.Export(ctx, &after)
	if !bytes.Equal(before.Bytes(), after.Bytes()) {
		t.Fatal("reopened projection differs")
	}
}

// TestReadersNeverSeeAHalfBatch reads the applied count and the number of
// entry rows in one read transaction while batches are applied; the two
// must always agree.
func TestReadersNeverSeeAHalfBatch(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	recs := sample(t, 400)
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				applied, rows, err := s.Consistency(ctx)
				if err != nil {
					errs <- err
					return
				}
				if applied != rows {
					errs <- fmt.Errorf("reader saw applied=%d but %d entry rows", applied, rows)
					return
				}
			}
		}()
	}
	for i := 0; i < len(recs); i += 37 {
		if err := s.Apply(ctx, recs[i:min(i+37, len(recs))]); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func BenchmarkApply(b *testing.B) {
	ctx := context.Background()
	recs := sample(b, 256*8)
	b.ResetTimer()
	var n int
	for b.Loop() {
		b.StopTimer()
		s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "p.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for i := 0; i < len(recs); i += 256 {
			if err := s.Apply(ctx, recs[i:min(i+256, len(recs))]); err != nil {
				b.Fatal(err)
			}
		}
		n += len(recs)
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "entries/s")
}
