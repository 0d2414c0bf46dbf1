package registry_test

import (
	"bytes"
	"fmt"
	"github.com/guarantor/guarantor/internal/testkeys"
	"testing"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/registry"
	"golang.org/x/mod/sumdb/note"
)

type key = testkeys.Key

var newKey = testkeys.New

func sign(t *testing.T, kind entry.Kind, body string, signers ...note.Signer) []byte {
	t.Helper()
	raw, err := entry.Sign(kind, []byte(body), signers...)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func keyBody(k key, role string) string {
	return fmt.Sprintf(`{"vkey":%q,"role":%q,"not_before":"2025-01-01T00:00:00Z","not_after":"2025-12-31T23:59:59Z"}`, k.VKey, role)
}

func obs(id, at string) string {
	return fmt.Sprintf(`{"id":%q,"observed_at":%q,"location":{"type":"Point","coordinates":[37.8,48.0]},"category":"shelling"}`, id, at)
}

// log replays entries into a fresh registry and returns the error code of
// each admission ("" for accepted).
type log struct {
	t   *testing.T
	reg *registry.Registry
	n   uint64
}

func newLog(t *testing.T, auth key) *log {
	reg, err := registry.New(auth.VKey)
	if err != nil {
		t.Fatal(err)
	}
	return &log{t: t, reg: reg}
}

func (l *log) admit(raw []byte) string {
	_, _, err := l.reg.Admit(l.n, raw)
	if err != nil {
		return guarantor.ErrorCode(err)
	}
	l.n++
	return ""
}

func (l *log) must(raw []byte) {
	l.t.Helper()
	if _, _, err := l.reg.Admit(l.n, raw); err != nil {
		l.t.Fatalf("entry %d refused: %v", l.n, err)
	}
	l.n++
}

func TestOnlyTheAuthorityRegistersAndRevokes(t *testing.T) {
	auth, mon, other := newKey(t, "authority"), newKey(t, "monitor.a"), newKey(t, "monitor.b")
	l := newLog(t, auth)
	// A monitor may not register a key, even its own or another's.
	if got := l.admit(sign(t, entry.KindKey, keyBody(other, "monitor"), mon.S)); got != guarantor.EUnknownKey {
		t.Fatalf("unregistered signer registering a key: %q, want %q", got, guarantor.EUnknownKey)
	}
	l.must(sign(t, entry.KindKey, keyBody(mon, "monitor"), auth.S))
	if got := l.admit(sign(t, entry.KindKey, keyBody(other, "monitor"), mon.S)); got != guarantor.EForbidden {
		t.Fatalf("registered monitor registering a key: %q, want %q", got, guarantor.EForbidden)
	}
	// Co-signing with the authority does not make it acceptable either.
	if got := l.admit(sign(t, entry.KindKey, keyBody(other, "monitor"), auth.S, mon.S)); got != guarantor.EForbidden {
		t.Fatalf("key entry co-signed by a monitor: %q, want %q", got, guarantor.EForbidden)
	}
	rev := fmt.Sprintf(`{"key":%q,"reason":"lost","effective":"2025-06-01T00:00:00Z"}`, mon.ID)
	if got := l.admit(sign(t, entry.KindRevocation, rev, mon.S)); got != guarantor.EForbidden {
		t.Fatalf("monitor revoking: %q, want %q", got, guarantor.EForbidden)
	}
	l.must(sign(t, entry.KindRevocation, rev, auth.S))
	if got := l.admit(sign(t, entry.KindRevocation, rev, auth.S)); got != guarantor.EConflict {
		t.Fatalf("second revocation: %q, want %q", got, guarantor.EConflict)
	}
	if got := l.admit(sign(t, entry.KindKey, keyBody(mon, "monitor"), auth.S)); got != guarantor.EConflict {
		t.Fatalf("re-registering: %q, want %q", got, guarantor.EConflict)
	}
	// The authority signs only registry entries.
	if got := l.admit(sign(t, entry.KindObservation, obs("x", "2025-02-01T00:00:00Z"), auth.S)); got != guarantor.EForbidden {
		t.Fatalf("authority observing: %q, want %q", got, guarantor.EForbidden)
	}
}

func TestRevokedKey(t *testing.T) {
	auth, mon := newKey(t, "authority"), newKey(t, "monitor.a")
	l := newLog(t, auth)
	l.must(sign(t, entry.KindKey, keyBody(mon, "monitor"), auth.S))
	l.must(sign(t, entry.KindObservation, obs("before", "2025-05-01T00:00:00Z"), mon.S))
	l.must(sign(t, entry.KindRevocation, fmt.Sprintf(`{"key":%q,"reason":"device captured","effective":"2025-06-01T00:00:00Z"}`, mon.ID), auth.S))
	// After the revocation: times at or after effective are refused...
	if got := l.admit(sign(t, entry.KindObservation, obs("after", "2025-06-01T00:00:00Z"), mon.S)); got != guarantor.ERevoked {
		t.Fatalf("observation at effective time: %q, want %q", got, guarantor.ERevoked)
	}
	// ...while a late report of an earlier observation stands.
	l.must(sign(t, entry.KindObservation, obs("late", "2025-05-31T23:59:59Z"), mon.S))
	k, _ := l.reg.Key(mon.ID)
	if k.Revoked == nil || k.Revoked.Index != 2 || k.Revoked.Reason != "device captured" {
		t.Fatalf("revocation recorded as %+v", k.Revoked)
	}
}

func TestRolesAndWindows(t *testing.T) {
	auth, mon, party, sensor := newKey(t, "authority"), newKey(t, "monitor.a"), newKey(t, "party.ua"), newKey(t, "camera.7")
	l := newLog(t, auth)
	// Unregistered: unknown.
	if got := l.admit(sign(t, entry.KindObservation, obs("a", "2025-02-01T00:00:00Z"), mon.S)); got != guarantor.EUnknownKey {
		t.Fatalf("unregistered signer: %q", got)
	}
	l.must(sign(t, entry.KindKey, keyBody(mon, "monitor"), auth.S))
	l.must(sign(t, entry.KindKey, keyBody(party, "party:UA"), auth.S))
	l.must(sign(t, entry.KindKey, keyBody(sensor, "sensor"), auth.S))
	if got := l.admit(sign(t, entry.KindObservation, obs("a", "2025-02-01T00:00:00Z"), party.S)); got != guarantor.EForbidden {
		t.Fatalf("party observing: %q, want %q", got, guarantor.EForbidden)
	}
	if got := l.admit(sign(t, entry.KindObservation, obs("a", "2024-12-31T23:59:59Z"), mon.S)); got != guarantor.EOutOfWindow {
		t.Fatalf("before not_before: %q, want %q", got, guarantor.EOutOfWindow)
	}
	if got := l.admit(sign(t, entry.KindObservation, obs("a", "2026-01-01T00:00:00Z"), mon.S)); got != guarantor.EOutOfWindow {
		t.Fatalf("after not_after: %q, want %q", got, guarantor.EOutOfWindow)
	}
	l.must(sign(t, entry.KindObservation, obs("a", "2025-12-31T23:59:59Z"), mon.S))
	// Jointly signed by two observing keys: both are checked.
	l.must(sign(t, entry.KindObservation, obs("b", "2025-03-01T00:00:00Z"), mon.S, sensor.S))
	if got := l.admit(sign(t, entry.KindObservation, obs("c", "2025-03-01T00:00:00Z"), mon.S, party.S)); got != guarantor.EForbidden {
		t.Fatalf("co-signed by a party: %q, want %q", got, guarantor.EForbidden)
	}
	// A signature over other text is refused as such.
	forged := bytes.Replace(sign(t, entry.KindObservation, obs("d", "2025-03-01T00:00:00Z"), mon.S), []byte(`"id":"d"`), []byte(`"id":"e"`), 1)
	if got := l.admit(forged); got != guarantor.EUnauthorized {
		t.Fatalf("forged signature: %q, want %q", got, guarantor.EUnauthorized)
	}
}

func TestRestoreMatchesReplay(t *testing.T) {
	auth, a, b := newKey(t, "authority"), newKey(t, "monitor.a"), newKey(t, "monitor.b")
	l := newLog(t, auth)
	l.must(sign(t, entry.KindKey, keyBody(a, "monitor"), auth.S))
	l.must(sign(t, entry.KindKey, keyBody(b, "analyst"), auth.S))
	l.must(sign(t, entry.KindRevocation, fmt.Sprintf(`{"key":%q,"reason":"rotated","effective":"2025-03-01T00:00:00Z"}`, a.ID), auth.S))
	restored, err := registry.New(auth.VKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range l.reg.Keys() {
		if err := restored.Restore(*k); err != nil {
			t.Fatal(err)
		}
	}
	for _, raw := range [][]byte{
		sign(t, entry.KindObservation, obs("x", "2025-04-01T00:00:00Z"), a.S),
		sign(t, entry.KindObservation, obs("y", "2025-02-01T00:00:00Z"), a.S),
		sign(t, entry.KindObservation, obs("z", "2025-04-01T00:00:00Z"), b.S),
	} {
		e, _ := entry.Parse(raw)
		body, _ := e.Validate()
		_, err1 := l.reg.Check(e, body)
		_, err2 := restored.Check(e, body)
		if guarantor.ErrorCode(err1) != guarantor.ErrorCode(err2) || (err1 == nil) != (err2 == nil) {
			t.Fatalf("replayed says %v, restored says %v", err1, err2)
		}
	}
}

// TestCheckOwnAppliesTheRulesWithoutVerifying: the engine's own entries
// skip the signature check, not the rules: an unregistered key, a key
// whose role may not sign the kind, or a revoked key are refused alike.
func TestCheckOwnAppliesTheRulesWithoutVerifying(t *testing.T) {
	auth, eng, mon := newKey(t, "authority"), newKey(t, "engine"), newKey(t, "monitor")
	l := newLog(t, auth)
	l.must(sign(t, entry.KindKey, keyBody(eng, "engine"), auth.S))
	l.must(sign(t, entry.KindKey, keyBody(mon, "monitor"), auth.S))
	tick := func(k key) (*entry.Entry, any) {
		e, err := entry.Parse(sign(t, entry.KindTick, `{"at":"2025-06-01T00:00:00Z"}`, k.S))
		if err != nil {
			t.Fatal(err)
		}
		body, err := e.Validate()
		if err != nil {
			t.Fatal(err)
		}
		return e, body
	}
	if e, body := tick(eng); true {
		if _, err := l.reg.CheckOwn(e, body); err != nil {
			t.Fatalf("engine's tick: %v", err)
		}
	}
	for name, c := range map[string]struct {
		k    key
		code string
	}{"monitor": {mon, guarantor.EForbidden}, "unregistered": {newKey(t, "stranger"), guarantor.EUnknownKey}} {
		e, body := tick(c.k)
		if _, err := l.reg.CheckOwn(e, body); guarantor.ErrorCode(err) != c.code {
			t.Fatalf("%s: %v, want %s", name, err, c.code)
		}
	}
	l.must(sign(t, entry.KindRevocation, fmt.Sprintf(`{"key":%q,"reason":"rotated","effective":"2025-03-01T00:00:00Z"}`, eng.ID), auth.S))
	if e, body := tick(eng); true {
		if _, err := l.reg.CheckOwn(e, body); guarantor.ErrorCode(err) != guarantor.ERevoked {
			t.Fatalf("revoked engine key: %v", err)
		}
	}
}
