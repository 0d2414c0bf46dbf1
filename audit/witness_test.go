package audit_test

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/guarantor/guarantor/audit"
	"github.com/guarantor/guarantor/ledger"
	"github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"
)

// forkLog opens a log and adds entries one by one, returning the log
// and the checkpoint after each prefix length in sizes.
func forkLog(t *testing.T, s note.Signer, v note.Verifier, entries []string) (*ledger.Log, map[int][]byte) {
	t.Helper()
	ctx := context.Background()
	lg, err := ledger.Open(ctx, ledger.Config{Dir: t.TempDir(), Signer: s, CheckpointInterval: 100 * time.Millisecond, BatchMaxAge: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lg.Close(ctx) })
	cps := map[int][]byte{}
	for i, e := range entries {
		if _, _, err := lg.Await(ctx, lg.Add(ctx, []byte(e))); err != nil {
			t.Fatal(err)
		}
		raw, err := lg.ReadCheckpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cp, _, _, err := log.ParseCheckpoint(raw, v.Name(), v); err != nil || cp.Size != uint64(i+1) {
			t.Fatalf("checkpoint after %d entries: %v", i+1, err)
		}
		cps[i+1] = raw
	}
	return lg, cps
}

func TestComparePeerDetectsSplitView(t *testing.T) {
	ctx := context.Background()
	skey, vkey, _ := note.GenerateKey(rand.Reader, "example.org/log")
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	a, cpsA := forkLog(t, s, v, []string{"e0", "e1", "e2", "honest 3", "honest 4"})
	b, cpsB := forkLog(t, s, v, []string{"e0", "e1", "e2", "forged 3", "forged 4", "forged 5"})
	parse := func(raw []byte) *log.Checkpoint {
		cp, _, _, err := log.ParseCheckpoint(raw, v.Name(), v)
		if err != nil {
			t.Fatal(err)
		}
		return cp
	}
	for _, tc := range []struct {
		name      string
		own       []byte
		ownLog    *ledger.Log
		peer      []byte
		peerLog   *ledger.Log // nil: no tiles of the peer
		splitView bool
	}{
		{"same checkpoint", cpsA[5], a, cpsA[5], a, false},
		{"older prefix", cpsA[5], a, cpsA[2], nil, false},
		{"newer, peer tiles", cpsA[2], a, cpsA[5], a, false},
		{"common prefix across the fork", cpsA[5], a, cpsB[3], nil, false},
		{"same size, other root", cpsA[4], a, cpsB[4], b, true},
		{"peer larger and forked", cpsA[5], a, cpsB[6], b, true},
		{"peer smaller and forked", cpsB[6], b, cpsA[4], a, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := audit.Peer{Source: "peer", Checkpoint: tc.peer}
			if tc.peerLog != nil {
				p.ReadTile = tc.peerLog.Reader().ReadTile
			}
			err := audit.ComparePeer(ctx, v, parse(tc.own), tc.ownLog.Reader().ReadTile, p)
			var sv *audit.SplitViewError
			if got := errors.As(err, &sv); got != tc.splitView || (!tc.splitView && err != nil) {
				t.Fatalf("got %v, want split view %v", err, tc.splitView)
			}
		})
	}
	// A checkpoint not signed by the log key is refused, not compared.
	other, _, _ := note.GenerateKey(rand.Reader, "example.org/log")
	otherS, _ := note.NewSigner(other)
	forged, _ := note.Sign(&note.Note{Text: "example.org/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"}, otherS)
	if err := audit.ComparePeer(ctx, v, parse(cpsA[5]), a.Reader().ReadTile, audit.Peer{Source: "x", Checkpoint: forged}); err == nil {
		t.Fatal("a checkpoint signed by another key was accepted")
	}
}
