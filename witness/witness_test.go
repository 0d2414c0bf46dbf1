package witness_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/guarantor/guarantor/ledger"
	"github.com/guarantor/guarantor/witness"
	"github.com/transparency-dev/formats/log"
	fnote "github.com/transparency-dev/formats/note"
	"github.com/transparency-dev/tessera"
	"golang.org/x/mod/sumdb/note"
)

// testLog is a real guarantor log in a temporary directory.
type testLog struct {
	t  testing.TB
	lg *ledger.Log
	v  note.Verifier
	cp []byte // latest checkpoint returned by grow
}

func newLogKey(t testing.TB, origin string) (note.Signer, note.Verifier, string) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	return s, v, vkey
}

func openLog(t testing.TB, s note.Signer, v note.Verifier) *testLog {
	t.Helper()
	ctx := context.Background()
	lg, err := ledger.Open(ctx, ledger.Config{Dir: t.TempDir(), Signer: s, CheckpointInterval: 100 * time.Millisecond, BatchMaxAge: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lg.Close(ctx) })
	return &testLog{t: t, lg: lg, v: v}
}

// grow adds the entries one after the other (so two logs given the same
// entries hold them in the same order) and returns the checkpoint
// covering them all.
func (l *testLog) grow(entries ...string) (*log.Checkpoint, []byte) {
	l.t.Helper()
	ctx := context.Background()
	var futs []tessera.IndexFuture
	for _, e := range entries {
		futs = append(futs, l.lg.Add(ctx, []byte(e)))
		if _, _, err := l.lg.Await(ctx, futs[len(futs)-1]); err != nil {
			l.t.Fatal(err)
		}
	}
	raw, err := l.lg.ReadCheckpoint(ctx)
	if err != nil {
		l.t.Fatal(err)
	}
	cp, _, _, err := log.ParseCheckpoint(raw, l.v.Name(), l.v)
	if err != nil {
		l.t.Fatal(err)
	}
	l.cp = raw
	return cp, raw
}

func (l *testLog) proof(from, to uint64) [][]byte {
	l.t.Helper()
	if from == 0 || from == to {
		return nil
	}
	p, err := l.lg.ConsistencyProof(context.Background(), from, to)
	if err != nil {
		l.t.Fatal(err)
	}
	return p
}

// testWitness is a witness over a state directory, served over HTTP.
type testWitness struct {
	dir  string
	vkey string
	srv  *httptest.Server
}

func startWitness(t testing.TB, dir string, logs ...string) *testWitness {
	t.Helper()
	signer, vkey, err := witness.LoadOrCreateKey(filepath.Join(dir, "witness.key"), "witness.test/w1")
	if err != nil {
		t.Fatal(err)
	}
	st, err := witness.OpenFileStore(filepath.Join(dir, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ls []witness.Log
	for _, s := range logs {
		l, err := witness.ParseLog(s)
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
	}
	w, err := witness.New(witness.Config{Signer: signer, Logs: ls, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w.Handler())
	t.Cleanup(srv.Close)
	return &testWitness{dir: dir, vkey: vkey, srv: srv}
}

func (w *testWitness) post(t testing.TB, old uint64, proof [][]byte, cp []byte) (int, string, []byte) {
	t.Helper()
	resp, err := http.Post(w.srv.URL+"/add-checkpoint", "text/plain", bytes.NewReader(witness.MarshalRequest(old, proof, cp)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

func (w *testWitness) state(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(w.dir, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mustCosign posts and checks that the answer is a valid cosignature.
func (w *testWitness) mustCosign(t testing.TB, old uint64, proof [][]byte, cp []byte) []byte {
	t.Helper()
	code, _, body := w.post(t, old, proof, cp)
	if code != http.StatusOK {
		t.Fatalf("add-checkpoint old %d: got %d %q, want 200", old, code, body)
	}
	v, err := fnote.NewVerifierForCosignatureV1(w.vkey)
	if err != nil {
		t.Fatal(err)
	}
	cosigned := append(append([]byte{}, cp...), body...)
	n, err := note.Open(cosigned, note.VerifierList(v))
	if err != nil || len(n.Sigs) != 1 {
		t.Fatalf("cosignature %q does not verify with %s: %v", body, w.vkey, err)
	}
	return cosigned
}

func TestWitnessCosignsGrowingLog(t *testing.T) {
	s, v, vkey := newLogKey(t, "example.org/guarantor")
	l := openLog(t, s, v)
	w := startWitness(t, t.TempDir(), vkey)
	policy, err := witness.ParsePolicy([]byte("witness w1 " + w.vkey + " " + w.srv.URL + "\nquorum w1\n"))
	if err != nil {
		t.Fatal(err)
	}
	var prev uint64
	n := 0
	for _, step := range []int{1, 2, 5, 40} {
		var es []string
		for range step {
			es = append(es, fmt.Sprintf("entry %d", n))
			n++
		}
		cp, raw := l.grow(es...)
		if err := policy.Check(raw); err == nil {
			t.Fatalf("policy accepts a checkpoint of size %d with no cosignature", cp.Size)
		}
		cosigned := w.mustCosign(t, prev, l.proof(prev, cp.Size), raw)
		if err := policy.Check(cosigned); err != nil {
			t.Fatalf("size %d: %v", cp.Size, err)
		}
		prev = cp.Size
	}
	// The same checkpoint again is cosigned again (old size = size).
	w.mustCosign(t, prev, nil, l.cp)
}

func TestWitnessRefusesFork(t *testing.T) {
	s, v, vkey := newLogKey(t, "example.org/guarantor")
	a, b := openLog(t, s, v), openLog(t, s, v)
	common := []string{"e0", "e1", "e2", "e3"}
	cpA4, rawA4 := a.grow(common...)
	b.grow(common...)
	cpA5, rawA5 := a.grow("honest 4")
	cpB5, rawB5 := b.grow("forged 4")
	if cpA5.Size != cpB5.Size || bytes.Equal(cpA5.Hash, cpB5.Hash) {
		t.Fatalf("fork not made: A %d %x, B %d %x", cpA5.Size, cpA5.Hash, cpB5.Size, cpB5.Hash)
	}

	dir := t.TempDir()
	w := startWitness(t, dir, "example.org/guarantor="+vkey)
	w.mustCosign(t, 0, nil, rawA4)
	w.mustCosign(t, cpA4.Size, a.proof(cpA4.Size, cpA5.Size), rawA5)
	before := w.state(t)

	cpB6, rawB6 := b.grow("forged 5")
	otherS, _, _ := newLogKey(t, "example.org/guarantor")
	forgedSig, err := note.Sign(&note.Note{Text: string(rawA5[:bytes.Index(rawA5, []byte("\n\n"))+1])}, otherS)
	if err != nil {
		t.Fatal(err)
	}
	_, _, unknownVKey := newLogKey(t, "elsewhere.org/log")
	_ = unknownVKey
	for _, tc := range []struct {
		name     string
		old      uint64
		proof    [][]byte
		cp       []byte
		want     int
		wantBody string
	}{
		{"same size, other root", cpA5.Size, nil, rawB5, http.StatusConflict, ""},
		{"fork grows, proof from the fork", cpA5.Size, b.proof(cpA5.Size, cpB6.Size), rawB6, http.StatusUnprocessableEntity, ""},
		{"fork from scratch", 0, nil, rawB6, http.StatusConflict, "5\n"},
		{"rollback", cpA5.Size, nil, rawA4, http.StatusBadRequest, ""},
		{"stale old size", cpA4.Size, a.proof(cpA4.Size, cpA5.Size), rawA5, http.StatusConflict, "5\n"},
		{"not the log's key", cpA5.Size, nil, forgedSig, http.StatusForbidden, ""},
		{"unknown origin", 0, nil, []byte("elsewhere.org/log\n1\n" + strings.Repeat("A", 43) + "=\n\n— elsewhere.org/log AAAA\n"), http.StatusNotFound, ""},
		{"proof from size 0", 0, [][]byte{make([]byte, 32)}, rawA5, http.StatusConflict, "5\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, ctype, body := w.post(t, tc.old, tc.proof, tc.cp)
			if code != tc.want {
				t.Fatalf("got %d %q, want %d", code, body, tc.want)
			}
			if tc.wantBody != "" && (string(body) != tc.wantBody || ctype != "text/x.tlog.size") {
				t.Errorf("got body %q (%s), want %q (text/x.tlog.size)", body, ctype, tc.wantBody)
			}
			if got := w.state(t); !bytes.Equal(got, before) {
				t.Errorf("state changed on refusal:\n%s\nwas\n%s", got, before)
			}
		})
	}

	// After a restart the witness still knows size 5 and A's root.
	w.srv.Close()
	w2 := startWitness(t, dir, vkey)
	if w2.vkey != w.vkey {
		t.Fatalf("key changed across restart: %s, was %s", w2.vkey, w.vkey)
	}
	if code, _, body := w2.post(t, 0, nil, rawA5); code != http.StatusConflict || string(body) != "5\n" {
		t.Fatalf("after restart, old 0: got %d %q, want 409 \"5\\n\"", code, body)
	}
	if code, _, body := w2.post(t, cpA5.Size, b.proof(cpA5.Size, cpB6.Size), rawB6); code != http.StatusUnprocessableEntity {
		t.Fatalf("after restart, forked checkpoint: got %d %q, want 422", code, body)
	}
	cpA6, rawA6 := a.grow("honest 5")
	w2.mustCosign(t, cpA5.Size, a.proof(cpA5.Size, cpA6.Size), rawA6)
}

func TestParseRequest(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		ok         bool
	}{
		{"minimal", "old 0\n\norigin\n1\nroot\n", true},
		{"leading zero", "old 01\n\nx\n", false},
		{"no blank line", "old 0\nx\n", false},
		{"bad proof", "old 1\nnot base64!\n\nx\n", false},
		{"no old", "new 0\n\nx\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := witness.ParseRequest([]byte(tc.body))
			if (err == nil) != tc.ok {
				t.Errorf("ParseRequest(%q): err %v, want ok %v", tc.body, err, tc.ok)
			}
		})
	}
}
