package node_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"github.com/guarantor/guarantor/internal/testkeys"
	"maps"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/ledger"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/registry"
	"github.com/guarantor/guarantor/store/sqlite"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/mod/sumdb/note"
)

type key = testkeys.Key

var newKey = testkeys.New

type fixture struct {
	t     testing.TB
	auth  key
	dir   string
	lg    *ledger.Log
	store *sqlite.Store
	n     *node.Node
	// engine, when set before open, runs the engine in the node.
	engine *node.EngineConfig
	// serverLog, when set before open, gives the log the server's own
	// batching and checkpoint settings instead of the tests' quick ones.
	serverLog bool
	// disk, when set before open, is the node's Config.Disk.
	disk func() error
	// metrics, when set before open, receives the node's metrics.
	metrics *node.Metrics
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{t: t, auth: newKey(t, "authority"), dir: t.TempDir()}
	f.open()
	t.Cleanup(f.close)
	return f
}

var logKey = sync.OnceValue(func() string {
	skey, _, _ := note.GenerateKey(rand.Reader, "test.log")
	return skey
})

func (f *fixture) open() {
	ctx := context.Background()
	signer, _ := note.NewSigner(logKey())
	var err error
	cfg := ledger.Config{Dir: filepath.Join(f.dir, "log"), Signer: signer, CheckpointInterval: 100 * time.Millisecond, BatchMaxAge: 5 * time.Millisecond}
	if f.serverLog {
		cfg.CheckpointInterval, cfg.BatchMaxAge, cfg.BatchMaxSize = 200*time.Millisecond, 25*time.Millisecond, 512 // as guarantor serve
	}
	f.lg, err = ledger.Open(ctx, cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	if f.store, err = sqlite.Open(ctx, filepath.Join(f.dir, "p.db")); err != nil {
		f.t.Fatal(err)
	}
	if f.n, err = node.New(ctx, node.Config{Log: f.lg, Store: f.store, AuthorityVKey: f.auth.VKey, Engine: f.engine, Disk: f.disk, Metrics: f.metrics}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) close() {
	if f.n == nil {
		return
	}
	f.n.Close()
	_ = f.lg.Close(context.Background())
	_ = f.store.Close()
	f.n = nil
}

func (f *fixture) sign(kind entry.Kind, body string, k key) []byte {
	f.t.Helper()
	raw, err := entry.Sign(kind, []byte(body), k.S)
	if err != nil {
		f.t.Fatal(err)
	}
	return raw
}

func (f *fixture) keyEntry(k key) []byte {
	return f.sign(entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":"monitor","not_before":"2025-01-01T00:00:00Z","not_after":"2026-01-01T00:00:00Z"}`, k.VKey), f.auth)
}

func obs(id string, minute int) string {
	return fmt.Sprintf(`{"id":%q,"observed_at":"2025-03-01T12:%02d:00Z","location":{"type":"Point","coordinates":[37.8,48.0]},"category":"shelling"}`, id, minute%60)
}

func (f *fixture) submit(raw []byte) (*node.Result, error) {
	return f.n.Submit(context.Background(), raw)
}

func (f *fixture) must(raw []byte) *node.Result {
	f.t.Helper()
	r, err := f.submit(raw)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// replay re-admits every entry of the log into a fresh registry, as an
// auditor would, and fails on the first refusal.
func (f *fixture) replay() {
	f.t.Helper()
	ctx := context.Background()
	size, err := f.lg.IntegratedSize(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	reg, _ := registry.New(f.auth.VKey)
	for e, err := range f.lg.Entries(ctx, 0, size) {
		if err != nil {
			f.t.Fatal(err)
		}
		if _, _, err := reg.Admit(e.Index, e.Entry); err != nil {
			f.t.Fatalf("replay refuses entry %d: %v", e.Index, err)
		}
	}
}

func TestConcurrentIdenticalSubmissionsGetOneIndex(t *testing.T) {
	f := newFixture(t)
	mon := newKey(t, "monitor.a")
	f.must(f.keyEntry(mon))
	raw := f.sign(entry.KindObservation, obs("same", 1), mon)
	var wg sync.WaitGroup
	results := make([]*node.Result, 16)
	errs := make([]error, 16)
	for i := range results {
		wg.Add(1)
		go func() { defer wg.Done(); results[i], errs[i] = f.submit(raw) }()
	}
	wg.Wait()
	created := 0
	for i, r := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if r.Receipt.Index != results[0].Receipt.Index {
			t.Fatalf("indexes %d and %d for the same bytes", r.Receipt.Index, results[0].Receipt.Index)
		}
		if r.Created {
			created++
		}
	}
	if created != 1 {
		t.Fatalf("%d submissions reported created, want exactly 1", created)
	}
	if got := f.n.Applied(); got != 2 {
		t.Fatalf("log size %d, want 2", got)
	}
}

func TestConcurrentSameIDDifferentContent(t *testing.T) {
	f := newFixture(t)
	mon := newKey(t, "monitor.a")
	f.must(f.keyEntry(mon))
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.submit(f.sign(entry.KindObservation, obs("contested", i), mon))
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch guarantor.ErrorCode(err) {
		case guarantor.EConflict:
		default:
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("%d versions of one observation id accepted, want 1", ok)
	}
}

// TestRegistryChangesRaceWithObservations submits observations from a key
// while its revocation and other keys' registrations go in: whatever the
// interleaving, the log must replay without a single refusal.
func TestRegistryChangesRaceWithObservations(t *testing.T) {
	f := newFixture(t)
	mon := newKey(t, "monitor.a")
	f.must(f.keyEntry(mon))
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 30 {
				// Minute 40 onwards is at or after the revocation's effective time.
				_, err := f.submit(f.sign(entry.KindObservation, obs(fmt.Sprintf("w%d-%d", w, i), 30+i), mon))
				if err != nil && guarantor.ErrorCode(err) != guarantor.ERevoked {
					t.Error(err)
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 5 {
			f.must(f.keyEntry(newKey(t, fmt.Sprintf("monitor.new%d", i))))
		}
		f.must(f.sign(entry.KindRevocation, fmt.Sprintf(`{"key":%q,"reason":"compromised","effective":"2025-03-01T12:40:00Z"}`, mon.ID), f.auth))
	}()
	wg.Wait()
	f.replay()
}

func TestKeyUsableRightAfterItsReceipt(t *testing.T) {
	f := newFixture(t)
	for i := range 10 {
		mon := newKey(t, fmt.Sprintf("monitor.%d", i))
		f.must(f.keyEntry(mon))
		f.must(f.sign(entry.KindObservation, obs("first", i), mon))
	}
	f.replay()
}

func TestRestartResumesRegistryAndDedup(t *testing.T) {
	f := newFixture(t)
	mon := newKey(t, "monitor.a")
	f.must(f.keyEntry(mon))
	first := f.must(f.sign(entry.KindObservation, obs("o1", 1), mon))
	f.close()
	f.open()
	again, err := f.submit(f.sign(entry.KindObservation, obs("o1", 1), mon))
	if err != nil || again.Created || again.Receipt.Index != first.Receipt.Index {
		t.Fatalf("resubmission after restart: %+v, %v", again, err)
	}
	if _, err := f.submit(f.sign(entry.KindObservation, obs("o1", 2), mon)); guarantor.ErrorCode(err) != guarantor.EConflict {
		t.Fatalf("same id after restart: %v, want conflict", err)
	}
	f.must(f.sign(entry.KindObservation, obs("o2", 2), mon))
}

// TestProjectionCatchesUpFromTheLog deletes the projection of a stopped
// node and checks the next start rebuilds it to the same export.
func TestProjectionCatchesUpFromTheLog(t *testing.T) {
	f := newFixture(t)
	mon := newKey(t, "monitor.a")
	f.must(f.keyEntry(mon))
	for i := range 40 {
		f.must(f.sign(entry.KindObservation, obs(fmt.Sprint(i), i), mon))
	}
	var live bytes.Buffer
	if err := f.store.Export(context.Background(), &live); err != nil {
		t.Fatal(err)
	}
	f.close()
	for _, s := range []string{"", "-wal", "-shm"} {
		_ = removeIfExists(filepath.Join(f.dir, "p.db"+s))
	}
	f.open()
	var rebuilt bytes.Buffer
	if err := f.store.Export(context.Background(), &rebuilt); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(live.Bytes(), rebuilt.Bytes()) {
		t.Fatal("rebuilt projection differs from the live one")
	}
}

// TestKeyNotYetIntegrated: an entry signed by a key whose key entry is in
// flight (claimed by intake, not yet in the log) is refused as too early,
// not as unknown, so the client knows to retry.
func TestKeyNotYetIntegrated(t *testing.T) {
	f := newFixture(t)
	mon := newKey(t, "monitor.a")
	raw := f.sign(entry.KindObservation, obs("o", 1), mon)
	if _, err := f.submit(raw); guarantor.ErrorCode(err) != guarantor.EUnknownKey {
		t.Fatalf("no key entry anywhere: %v, want %s", err, guarantor.EUnknownKey)
	}
	f.n.MarkKeyPending(mon.ID)
	if _, err := f.submit(raw); guarantor.ErrorCode(err) != guarantor.ETooEarly {
		t.Fatalf("key entry in flight: %v, want %s", err, guarantor.ETooEarly)
	}
	if f.n.Applied() != 0 {
		t.Fatal("refused entries reached the log")
	}
}

// TestForeignEntriesOfASharedLog plants, straight into the log as another
// server sharing it would, the bytes of an accepted entry again and an
// observation reusing an accepted one's id: the projection records both
// as rejected, resubmitting the bytes answers with the first index, and a
// projection rebuilt from the log is identical.
func TestForeignEntriesOfASharedLog(t *testing.T) {
	f := newFixture(t)
	f.close()
	reg := prometheus.NewRegistry()
	f.metrics = node.NewMetrics(reg)
	f.open()
	ctx := context.Background()
	mon := newKey(t, "monitor.a")
	f.must(f.keyEntry(mon))
	raw := f.sign(entry.KindObservation, obs("a", 1), mon)
	first := f.must(raw).Receipt.Index
	plant := func(raw []byte) uint64 {
		t.Helper()
		i, _, err := f.lg.Await(ctx, f.lg.Add(ctx, raw))
		if err != nil {
			t.Fatal(err)
		}
		return i
	}
	dup := plant(raw)
	other := plant(f.sign(entry.KindObservation, obs("a", 2), mon))
	fresh := f.must(f.sign(entry.KindObservation, obs("b", 3), mon)).Receipt.Index // applied after the planted ones
	for _, c := range []struct {
		index uint64
		want  string
	}{{dup, fmt.Sprintf("duplicate of entry %d", first)}, {other, fmt.Sprintf(`observation id "a" from %s is already logged at index %d`, mon.ID, first)}} {
		rec, ok, err := f.store.Entry(ctx, c.index)
		if err != nil || !ok || !strings.Contains(rec.Rejected, c.want) {
			t.Fatalf("entry %d: %+v %v %v; want rejected %q", c.index, rec.Rejected, ok, err, c.want)
		}
	}
	if rec, _, _ := f.store.Entry(ctx, fresh); rec.Rejected != "" {
		t.Fatalf("entry %d rejected: %s", fresh, rec.Rejected)
	}
	if r := f.must(raw); r.Created || r.Receipt.Index != first {
		t.Fatalf("resubmission: index %d, created %v; want %d", r.Receipt.Index, r.Created, first)
	}
	// Operators see the races in the metrics.
	got := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "guarantor_entries_rejected_total" {
			for _, m := range mf.GetMetric() {
				got[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	if want := map[string]float64{"duplicate": 1, "observation_id": 1}; !maps.Equal(got, want) {
		t.Fatalf("guarantor_entries_rejected_total = %v, want %v", got, want)
	}
	var live bytes.Buffer
	if err := f.store.Export(ctx, &live); err != nil {
		t.Fatal(err)
	}
	f.close()
	for _, s := range []string{"", "-wal", "-shm"} {
		_ = removeIfExists(filepath.Join(f.dir, "p.db"+s))
	}
	f.open()
	var rebuilt bytes.Buffer
	if err := f.store.Export(ctx, &rebuilt); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(live.Bytes(), rebuilt.Bytes()) {
		t.Fatal("rebuilt projection differs from the live one")
	}
}
