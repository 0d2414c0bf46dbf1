package audit_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/guarantor/guarantor/audit"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/internal/testkeys"
	"github.com/guarantor/guarantor/ledger"
	"github.com/transparency-dev/tessera/api"
)

type key = testkeys.Key

var newKey = testkeys.New

// testLog is a real Tessera log written directly (bypassing intake, so
// tests can plant entries intake would refuse), served over HTTP.
type testLog struct {
	t    testing.TB
	dir  string
	logK key
	auth key
	lg   *ledger.Log
	srv  *httptest.Server
}

func newTestLog(tb testing.TB, logK, auth key) *testLog {
	tb.Helper()
	l := &testLog{t: tb, dir: tb.TempDir(), logK: logK, auth: auth}
	var err error
	l.lg, err = ledger.Open(context.Background(), ledger.Config{Dir: l.dir, Signer: logK.S, CheckpointInterval: 100 * time.Millisecond, BatchMaxAge: time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/log/", http.StripPrefix("/log/", ledger.TileHandler(l.dir)))
	mux.HandleFunc("/v1/log", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"log_vkey": logK.VKey, "authority_vkey": auth.VKey})
	})
	l.srv = httptest.NewServer(mux)
	tb.Cleanup(func() {
		l.srv.Close()
		_ = l.lg.Close(context.Background())
	})
	return l
}

// add appends raw entries in order, each awaited before the next.
func (l *testLog) add(raws ...[]byte) {
	l.t.Helper()
	for _, raw := range raws {
		if _, _, err := l.lg.Await(context.Background(), l.lg.Add(context.Background(), raw)); err != nil {
			l.t.Fatal(err)
		}
	}
}

// addBatch appends raw entries concurrently (order not guaranteed).
func (l *testLog) addBatch(raws [][]byte) {
	l.t.Helper()
	ctx := context.Background()
	futs := make([]func() (uint64, error), len(raws))
	for i, raw := range raws {
		f := l.lg.Add(ctx, raw)
		futs[i] = func() (uint64, error) { idx, _, err := l.lg.Await(ctx, f); return idx, err }
	}
	for _, f := range futs {
		if _, err := f(); err != nil {
			l.t.Fatal(err)
		}
	}
}

func (l *testLog) url() *url.URL {
	u, _ := url.Parse(l.srv.URL)
	return u
}

func sign(tb testing.TB, kind entry.Kind, body string, k key) []byte {
	tb.Helper()
	raw, err := entry.Sign(kind, []byte(body), k.S)
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

func keyEntry(tb testing.TB, auth, k key) []byte {
	return sign(tb, entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":"monitor","not_before":"2020-01-01T00:00:00Z","not_after":"2030-01-01T00:00:00Z"}`, k.VKey), auth)
}

func obs(tb testing.TB, k key, id, at string) []byte {
	return sign(tb, entry.KindObservation, fmt.Sprintf(`{"id":%q,"observed_at":%q,"location":{"type":"Point","coordinates":[37.8,48.0]},"category":"shelling"}`, id, at), k)
}

func goodLog(tb testing.TB, n int) (*testLog, key) {
	logK, auth, mon := newKey(tb, "test.log"), newKey(tb, "authority"), newKey(tb, "monitor.a")
	l := newTestLog(tb, logK, auth)
	l.add(keyEntry(tb, auth, mon))
	var raws [][]byte
	for i := range n {
		raws = append(raws, obs(tb, mon, fmt.Sprint(i), "2025-01-02T03:04:05Z"))
	}
	l.addBatch(raws)
	return l, mon
}

func TestVerifyHappyPathAndState(t *testing.T) {
	l, mon := goodLog(t, 600) // two full bundles and a partial one
	state := filepath.Join(t.TempDir(), "state.json")
	ctx := context.Background()
	var calls int
	var last, total uint64
	progress := func(done, tot uint64) {
		if done < last {
			t.Errorf("progress went back from %d to %d", last, done)
		}
		calls, last, total = calls+1, done, tot
	}
	rep, err := audit.Verify(ctx, audit.Config{Server: l.url(), LogVKey: l.logK.VKey, StatePath: state, Progress: progress})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Size != 601 || rep.Entries != 601 || rep.ByKind["observation"] != 600 || rep.ByKind["key"] != 1 || rep.Keys != 1 || rep.Revocations != 0 || rep.PreviousSize != 0 {
		t.Fatalf("report %+v", rep)
	}
	if calls != 3 || last != 601 || total != 601 {
		t.Fatalf("progress: %d calls, last %d/%d", calls, last, total)
	}

	// The state file pins both keys and holds the signed checkpoint.
	b, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	cp, err := os.ReadFile(filepath.Join(l.dir, "checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	if st["origin"] != "test.log" || st["log_vkey"] != l.logK.VKey || st["authority_vkey"] != l.auth.VKey ||
		st["size"] != float64(601) || st["root_hash"] != base64.StdEncoding.EncodeToString(rep.RootHash) || st["checkpoint"] != string(cp) {
		t.Fatalf("state file:\n%s", b)
	}
	if !strings.Contains(string(cp), base64.StdEncoding.EncodeToString(rep.RootHash)) {
		t.Fatalf("reported root %x is not the checkpoint's:\n%s", rep.RootHash, cp)
	}

	// A second run, keys from the state file only, proves the growth.
	l.add(obs(t, mon, "later", "2025-01-03T00:00:00Z"))
	rep, err = audit.Verify(ctx, audit.Config{Server: l.url(), StatePath: state})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Size != 602 || rep.PreviousSize != 601 {
		t.Fatalf("second run %+v", rep)
	}
	sum := rep.String()
	if !strings.HasPrefix(sum, "OK: test.log has 602 entries (1 key, 601 observation), consistent with the 601 entries verified before") {
		t.Fatalf("summary %q", sum)
	}
	// Nothing new: same size, same root, still fine.
	if rep, err = audit.Verify(ctx, audit.Config{Server: l.url(), StatePath: state}); err != nil || rep.PreviousSize != 602 {
		t.Fatalf("third run: %v %+v", err, rep)
	}
}

func TestVerifyEmptyLog(t *testing.T) {
	l := newTestLog(t, newKey(t, "test.log"), newKey(t, "authority"))
	rep, err := audit.Verify(context.Background(), audit.Config{Server: l.url()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Size != 0 || rep.Entries != 0 || !strings.Contains(rep.String(), "(empty)") {
		t.Fatalf("report %+v: %s", rep, rep)
	}
}

func TestVerifyFailures(t *testing.T) {
	ctx := context.Background()
	t.Run("unregistered signer", func(t *testing.T) {
		l, _ := goodLog(t, 3)
		l.add(obs(t, newKey(t, "monitor.stranger"), "x", "2025-01-02T03:04:05Z"))
		_, err := audit.Verify(ctx, audit.Config{Server: l.url()})
		if err == nil || !strings.Contains(err.Error(), "entry 4:") || !strings.Contains(err.Error(), "not a registered key") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("after revocation", func(t *testing.T) {
		l, mon := goodLog(t, 3)
		l.add(sign(t, entry.KindRevocation, fmt.Sprintf(`{"key":%q,"reason":"seized","effective":"2025-02-01T00:00:00Z"}`, mon.ID), l.auth))
		l.add(obs(t, mon, "late-but-before", "2025-01-31T00:00:00Z"))
		l.add(obs(t, mon, "after", "2025-02-01T00:00:00Z"))
		_, err := audit.Verify(ctx, audit.Config{Server: l.url()})
		if err == nil || !strings.Contains(err.Error(), "entry 6:") || !strings.Contains(err.Error(), "revoked") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("wrong log key", func(t *testing.T) {
		l, _ := goodLog(t, 3)
		_, err := audit.Verify(ctx, audit.Config{Server: l.url(), LogVKey: newKey(t, "test.log").VKey})
		if err == nil || !strings.HasPrefix(err.Error(), "checkpoint signature does not verify with log key") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("wrong authority key", func(t *testing.T) {
		l, _ := goodLog(t, 3)
		_, err := audit.Verify(ctx, audit.Config{Server: l.url(), AuthorityVKey: newKey(t, "authority").VKey})
		if err == nil || !strings.HasPrefix(err.Error(), "entry 0:") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("padded bundle", func(t *testing.T) {
		// An extra, validly signed entry appended to the partial bundle
		// the checkpoint covers: the tree would not notice it (it lies
		// past the checkpoint's width), the bundle's width does.
		l, mon := goodLog(t, 299) // bundle 0 full, bundle 1 partial with 44
		path := filepath.Join(l.dir, "tile", "entries", "001.p", "44")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		extra := obs(t, mon, "smuggled", "2025-01-02T03:04:05Z")
		b = binary.BigEndian.AppendUint16(b, uint16(len(extra)))
		if err := os.WriteFile(path, append(b, extra...), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = audit.Verify(ctx, audit.Config{Server: l.url()})
		if err == nil || !strings.Contains(err.Error(), "entry bundle 1 holds 45 entries, its width is 44") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("missing bundle", func(t *testing.T) {
		l, _ := goodLog(t, 300)
		if err := os.Remove(filepath.Join(l.dir, "tile", "entries", "000")); err != nil {
			t.Fatal(err)
		}
		_, err := audit.Verify(ctx, audit.Config{Server: l.url()})
		if err == nil || !strings.HasPrefix(err.Error(), "entry bundle 0 (entries from 0):") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("tampered bundle", func(t *testing.T) {
		// Swap an entry for another, validly signed one of the same
		// length: every signature checks, only the tree betrays it.
		l, mon := goodLog(t, 300)
		path := filepath.Join(l.dir, "tile", "entries", "000")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var eb api.EntryBundle
		if err := eb.UnmarshalText(b); err != nil {
			t.Fatal(err)
		}
		var old []byte
		for _, e := range eb.Entries {
			if strings.Contains(string(e), `"id":"7"`) {
				old = e
			}
		}
		forged := obs(t, mon, "Z", "2025-01-02T03:04:05Z")
		if old == nil || len(forged) != len(old) {
			t.Fatalf("cannot forge: old %d bytes, forged %d", len(old), len(forged))
		}
		if err := os.WriteFile(path, bytes.Replace(b, old, forged, 1), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = audit.Verify(ctx, audit.Config{Server: l.url()})
		if err == nil || !strings.Contains(err.Error(), "root mismatch") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("split view", func(t *testing.T) {
		// Two logs with the same key and different histories: the state
		// from one must not accept the other.
		logK, auth := newKey(t, "test.log"), newKey(t, "authority")
		a, b := newTestLog(t, logK, auth), newTestLog(t, logK, auth)
		m1, m2 := newKey(t, "monitor.one"), newKey(t, "monitor.two")
		a.add(keyEntry(t, auth, m1), obs(t, m1, "a", "2025-01-02T03:04:05Z"))
		b.add(keyEntry(t, auth, m2), obs(t, m2, "b", "2025-01-02T03:04:05Z"))
		state := filepath.Join(t.TempDir(), "state.json")
		if _, err := audit.Verify(ctx, audit.Config{Server: a.url(), StatePath: state}); err != nil {
			t.Fatal(err)
		}
		_, err := audit.Verify(ctx, audit.Config{Server: b.url(), StatePath: state})
		if err == nil || !strings.Contains(err.Error(), "split view") {
			t.Fatalf("same size, other root: err = %v", err)
		}
		b.add(obs(t, m2, "c", "2025-01-02T03:04:05Z"))
		_, err = audit.Verify(ctx, audit.Config{Server: b.url(), StatePath: state})
		if err == nil || !strings.Contains(err.Error(), "consistency proof") {
			t.Fatalf("larger, other history: err = %v", err)
		}
	})
	t.Run("rollback", func(t *testing.T) {
		l, _ := goodLog(t, 3)
		state := filepath.Join(t.TempDir(), "state.json")
		if _, err := audit.Verify(ctx, audit.Config{Server: l.url(), StatePath: state}); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(state)
		var st audit.State
		_ = json.Unmarshal(b, &st)
		st.Size += 10
		b, _ = json.Marshal(st)
		_ = os.WriteFile(state, b, 0o600)
		_, err := audit.Verify(ctx, audit.Config{Server: l.url(), StatePath: state})
		if err == nil || !strings.Contains(err.Error(), "of size 14 seen before") || !strings.Contains(err.Error(), "shrank from 14 to 4 entries (rollback)") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("state pinned to another key", func(t *testing.T) {
		l, _ := goodLog(t, 1)
		state := filepath.Join(t.TempDir(), "state.json")
		if _, err := audit.Verify(ctx, audit.Config{Server: l.url(), StatePath: state}); err != nil {
			t.Fatal(err)
		}
		_, err := audit.Verify(ctx, audit.Config{Server: l.url(), StatePath: state, LogVKey: newKey(t, "x").VKey})
		if err == nil || !strings.Contains(err.Error(), "was made for log key") {
			t.Fatalf("err = %v", err)
		}
	})
}

// BenchmarkVerify audits a log of GUARANTOR_BENCH_N entries (default
// 10000) over HTTP; compare entries/s with BenchmarkEd25519Open in
// package entry, run alongside.
func BenchmarkVerify(b *testing.B) {
	n := 10000
	if s := os.Getenv("GUARANTOR_BENCH_N"); s != "" {
		fmt.Sscan(s, &n)
	}
	l, _ := goodLog(b, n)
	b.ResetTimer()
	for b.Loop() {
		if _, err := audit.Verify(context.Background(), audit.Config{Server: l.url()}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n+1)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// TestVerifySharedLogRaces: a log that several servers append to may hold
// the same bytes twice and two observations with one id from one signer.
// The audit records the later ones as rejected, as every projection does,
// and replays the engine without them; an entry the registry refuses
// passes only with AllowRejected, and is then listed too.
func TestVerifySharedLogRaces(t *testing.T) {
	ctx := context.Background()
	l, mon := goodLog(t, 3)                           // entries 0-3
	l.add(obs(t, mon, "1", "2025-01-02T03:04:05Z"))   // 4: the bytes of entry 2 again
	l.add(obs(t, mon, "2", "2025-01-02T03:04:06Z"))   // 5: entry 3's id, other content
	l.add(obs(t, mon, "new", "2025-01-02T03:04:07Z")) // 6: accepted
	rep, err := audit.Verify(ctx, audit.Config{Server: l.url()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rejected != 2 || len(rep.RejectedFirst) != 2 ||
		rep.RejectedFirst[0].Index != 4 || !strings.Contains(rep.RejectedFirst[0].Reason, "duplicate of entry 2") ||
		rep.RejectedFirst[1].Index != 5 || !strings.Contains(rep.RejectedFirst[1].Reason, `observation id "2" is already logged at index 3`) {
		t.Fatalf("rejected: %d %+v", rep.Rejected, rep.RejectedFirst)
	}
	l.add(obs(t, newKey(t, "monitor.stranger"), "x", "2025-01-02T03:04:05Z")) // 7
	if _, err := audit.Verify(ctx, audit.Config{Server: l.url()}); err == nil || !strings.Contains(err.Error(), "entry 7:") {
		t.Fatalf("a registry refusal without AllowRejected: %v", err)
	}
	rep, err = audit.Verify(ctx, audit.Config{Server: l.url(), AllowRejected: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rejected != 3 || rep.RejectedFirst[2].Index != 7 || !strings.Contains(rep.RejectedFirst[2].Reason, "not a registered key") {
		t.Fatalf("with AllowRejected: %d %+v", rep.Rejected, rep.RejectedFirst)
	}
}
