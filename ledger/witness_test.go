package ledger_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guarantor/guarantor/ledger"
	"github.com/guarantor/guarantor/witness"
	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/tessera"
	"golang.org/x/mod/sumdb/note"
)

// testWitness is an in-process tlog-witness for one log that can be
// taken down (it then answers 503) and brought back.
type testWitness struct {
	policy *witness.Policy
	group  tessera.WitnessGroup
	down   atomic.Bool
	// refused receives the size of each checkpoint refused while down.
	refused chan uint64
}

func startTestWitness(t *testing.T, logSigner note.Signer, logVKey string) *testWitness {
	t.Helper()
	dir := t.TempDir()
	signer, vkey, err := witness.LoadOrCreateKey(filepath.Join(dir, "witness.key"), "witness.test/w1")
	if err != nil {
		t.Fatal(err)
	}
	st, err := witness.OpenFileStore(filepath.Join(dir, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := witness.ParseLog(logSigner.Name() + "=" + logVKey)
	if err != nil {
		t.Fatal(err)
	}
	w, err := witness.New(witness.Config{Signer: signer, Logs: []witness.Log{l}, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	tw := &testWitness{refused: make(chan uint64, 1024)}
	h := w.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if tw.down.Load() {
			body, _ := io.ReadAll(r.Body)
			req, err := witness.ParseRequest(body)
			if err == nil {
				if cp, _, _, err := log.ParseCheckpoint(req.Checkpoint, logSigner.Name(), l.Verifier); err == nil {
					select {
					case tw.refused <- cp.Size:
					default:
					}
				}
			}
			http.Error(rw, "down for the test", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	if tw.policy, err = witness.ParsePolicy(fmt.Appendf(nil, "witness w1 %s %s\nquorum w1\n", vkey, srv.URL)); err != nil {
		t.Fatal(err)
	}
	if tw.group, err = tw.policy.TesseraGroup(); err != nil {
		t.Fatal(err)
	}
	return tw
}

func newLogKey(t *testing.T) (note.Signer, string) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "example.org/witnessed")
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s, vkey
}

func openWitnessed(t *testing.T, s note.Signer, w *testWitness, failOpen bool) *ledger.Log {
	t.Helper()
	ctx := context.Background()
	lg, err := ledger.Open(ctx, ledger.Config{
		Dir: t.TempDir(), Signer: s,
		CheckpointInterval: 100 * time.Millisecond, BatchMaxAge: time.Millisecond,
		Witnesses: &w.group, WitnessTimeout: 500 * time.Millisecond, WitnessFailOpen: failOpen,
	})
	if err != nil {
		t.Fatal(err)
	}
	return lg
}

func checkpointSize(t *testing.T, cp []byte) uint64 {
	t.Helper()
	lines := strings.SplitN(string(cp), "\n", 3)
	var n uint64
	if len(lines) < 2 {
		t.Fatalf("checkpoint %q is malformed", cp)
	}
	if _, err := fmt.Sscan(lines[1], &n); err != nil {
		t.Fatalf("checkpoint %q: %v", cp, err)
	}
	return n
}

func TestPublishedCheckpointsAreCosigned(t *testing.T) {
	ctx := context.Background()
	s, vkey := newLogKey(t)
	w := startTestWitness(t, s, vkey)
	lg := openWitnessed(t, s, w, false)
	defer lg.Close(ctx)

	var futs []tessera.IndexFuture
	for i := range 20 {
		futs = append(futs, lg.Add(ctx, fmt.Appendf(nil, "entry %d", i)))
	}
	for _, f := range futs {
		_, cp, err := lg.Await(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.policy.Check(cp); err != nil {
			t.Fatalf("Await's checkpoint: %v\n%s", err, cp)
		}
	}
	cp, err := lg.ReadCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := checkpointSize(t, cp), uint64(len(futs)); got < want {
		t.Fatalf("published checkpoint size %d, want at least %d", got, want)
	}
	if err := w.policy.Check(cp); err != nil {
		t.Fatalf("published checkpoint: %v\n%s", err, cp)
	}
	v, _ := note.NewVerifier(vkey)
	if _, _, _, err := log.ParseCheckpoint(cp, s.Name(), v); err != nil {
		t.Fatalf("cosigned checkpoint no longer verifies with the log key: %v", err)
	}
}

// TestWitnessDownStopsPublication shows the FailOpen=false trade-off: an
// added entry is integrated, but no checkpoint covers it while the
// quorum is unreachable; once the witness is back, it is published.
func TestWitnessDownStopsPublication(t *testing.T) {
	ctx := context.Background()
	s, vkey := newLogKey(t)
	w := startTestWitness(t, s, vkey)
	lg := openWitnessed(t, s, w, false)
	defer lg.Close(ctx)
	if _, _, err := lg.Await(ctx, lg.Add(ctx, []byte("before"))); err != nil {
		t.Fatal(err)
	}

	w.down.Store(true)
	f := lg.Add(ctx, []byte("while down"))
	idx, err := f()
	if err != nil {
		t.Fatal(err)
	}
	// Wait until the witness has refused a checkpoint covering the entry.
	for size := uint64(0); size <= idx.Index; {
		select {
		case size = <-w.refused:
		case <-time.After(30 * time.Second):
			t.Fatal("no checkpoint covering the entry was sent to the witness")
		}
	}
	cp, err := lg.ReadCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := checkpointSize(t, cp); got > idx.Index {
		t.Fatalf("published checkpoint of size %d covers entry %d while the witness is down", got, idx.Index)
	}
	actx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if _, _, err := lg.Await(actx, f); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Await while the witness is down: %v, want context.DeadlineExceeded", err)
	}

	w.down.Store(false)
	bctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, cp, err = lg.Await(bctx, f)
	if err != nil {
		t.Fatalf("Await once the witness is back: %v", err)
	}
	if err := w.policy.Check(cp); err != nil {
		t.Fatal(err)
	}
}

// TestWitnessFailOpenPublishesUncosigned shows FailOpen=true: with the
// witness down, checkpoints are published without its cosignature.
func TestWitnessFailOpenPublishesUncosigned(t *testing.T) {
	ctx := context.Background()
	s, vkey := newLogKey(t)
	w := startTestWitness(t, s, vkey)
	w.down.Store(true)
	lg := openWitnessed(t, s, w, true)
	defer lg.Close(ctx)
	actx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, cp, err := lg.Await(actx, lg.Add(ctx, []byte("fail open")))
	if err != nil {
		t.Fatal(err)
	}
	var qe *witness.QuorumError
	if err := w.policy.Check(cp); !errors.As(err, &qe) {
		t.Fatalf("policy check of a fail-open checkpoint: %v, want a *witness.QuorumError", err)
	}
}
