package audit_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/audit"
	"github.com/guarantor/guarantor/engine"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/internal/testkeys"
	"github.com/guarantor/guarantor/ledger"
	"github.com/guarantor/guarantor/scenario"
	"github.com/transparency-dev/tessera"
	"golang.org/x/mod/sumdb/note"
)

// buildEngineLog writes a log of about n entries into dir as a live
// server would: monitor and engine keys, then observations of a
// generated scenario, each followed by the incident revisions the engine
// derives from it, signed by the engine key. Entries are added from one
// goroutine, which Tessera sequences in call order. It returns the log
// and authority verifier keys.
func buildEngineLog(tb testing.TB, dir string, n int) (logVKey, authVKey string) {
	tb.Helper()
	ctx := context.Background()
	skey, vkey, err := note.GenerateKey(rand.Reader, "bench.log")
	if err != nil {
		tb.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	l, err := ledger.Open(ctx, ledger.Config{Dir: dir, Signer: signer, BatchMaxSize: 4096, BatchMaxAge: 50 * time.Millisecond, CheckpointInterval: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	auth, eng := testkeys.New(tb, "authority"), testkeys.New(tb, "engine")
	cfg := scenario.Config{Seed: 1, Start: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), Days: 10, Monitors: 24, PerDay: 1000}
	var last tessera.IndexFuture
	count := 0
	add := func(raw []byte) {
		last = l.Add(ctx, raw)
		count++
	}
	keyEntry := func(vkey, role string) []byte {
		return testkeys.Sign(tb, entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":%q,"not_before":"2020-01-01T00:00:00Z","not_after":"2099-01-01T00:00:00Z"}`, vkey, role), auth)
	}
	add(keyEntry(eng.VKey, "engine"))
	mons := make([]testkeys.Key, cfg.Monitors)
	for i, m := range scenario.Monitors(cfg) {
		mons[i] = testkeys.New(tb, m.Name)
		add(keyEntry(mons[i].VKey, "monitor"))
	}
	e := engine.New(engine.DefaultConfig())
	for count < n {
		for _, it := range scenario.Generate(cfg) {
			body, _ := entry.MarshalBody(it.Observation)
			raw, err := entry.Sign(entry.KindObservation, body, mons[it.Monitor].S)
			if err != nil {
				tb.Fatal(err)
			}
			o := it.Observation
			in := engine.Input{Index: uint64(count), LeafHash: guarantor.LeafHash(raw), Kind: entry.KindObservation, Signers: []string{mons[it.Monitor].ID}, Body: &o}
			add(raw)
			out, err := e.Apply(in)
			if err != nil {
				tb.Fatal(err)
			}
			for _, d := range out {
				raw, err := note.Sign(&note.Note{Text: d.Text}, eng.S)
				if err != nil {
					tb.Fatal(err)
				}
				add(raw)
			}
		}
		cfg.Seed++
		cfg.Start = cfg.Start.AddDate(0, 0, cfg.Days)
	}
	if _, _, err := l.Await(ctx, last); err != nil {
		tb.Fatal(err)
	}
	if err := l.Close(ctx); err != nil {
		tb.Fatal(err)
	}
	return vkey, auth.VKey
}

// peakHeap samples the live heap every 10 ms until stop is called, and
// returns the largest sample in bytes.
func peakHeap() (stop func() uint64) {
	var mu sync.Mutex
	var peak uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(finished)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			mu.Lock()
			peak = max(peak, s[0].Value.Uint64())
			mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// ed25519Rate measures one core's Ed25519 verifications per second for
// about d, on a message the size of a typical entry.
func ed25519Rate(d time.Duration) float64 {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	msg := make([]byte, 400)
	sig := ed25519.Sign(priv, msg)
	start := time.Now()
	n := 0
	for time.Since(start) < d {
		for range 100 {
			if !ed25519.Verify(pub, msg, sig) {
				panic("ed25519")
			}
		}
		n += 100
	}
	return float64(n) / time.Since(start).Seconds()
}

// BenchmarkReplay replays the engine over a log of GUARANTOR_REPLAY_N
// entries (default 20,000) read from its directory: every signature and
// registry rule checked, the engine run, every derived entry compared.
// It reports entries/s, the one-core Ed25519 verify rate measured in the
// same run, their ratio (target ≥ 0.3) and the peak live heap (flat in
// N: compare runs of different N).
func BenchmarkReplay(b *testing.B) {
	n := 20000
	if s := os.Getenv("GUARANTOR_REPLAY_N"); s != "" {
		fmt.Sscan(s, &n)
	}
	dir := filepath.Join(b.TempDir(), "log")
	logVKey, authVKey := buildEngineLog(b, dir, n)
	base := ed25519Rate(time.Second)
	runtime.GC()
	var rep *audit.Report
	stop := peakHeap()
	for b.Loop() {
		var err error
		rep, err = audit.Verify(context.Background(), audit.Config{Dir: dir, LogVKey: logVKey, AuthorityVKey: authVKey})
		if err != nil {
			b.Fatal(err)
		}
	}
	peak := stop()
	rate := float64(rep.Size) * float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "entries/s")
	b.ReportMetric(base, "ed25519/s")
	b.ReportMetric(rate/base, "x_ed25519")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(rep.Size), "entries")
	b.ReportMetric(float64(rep.Replay.Derived), "derived")
}
