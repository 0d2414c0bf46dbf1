package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/guarantor/guarantor/entry"
	"golang.org/x/mod/sumdb/note"
)

// cli runs one command in-process and returns its exit code and output.
func cli(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb}, args)
	return code, out.String(), errb.String()
}

func TestKeygenWritesAPrivateKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.key")
	code, out, errs := cli(t, "", "keygen", "--name", "monitor.team-7", "--out", path)
	if code != 0 {
		t.Fatalf("keygen exited %d: %s", code, errs)
	}
	v, err := note.NewVerifier(strings.TrimSpace(out))
	if err != nil || v.Name() != "monitor.team-7" {
		t.Fatalf("keygen printed %q: %v", out, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(b), "PRIVATE+KEY+monitor.team-7+") {
		t.Fatalf("key file holds %q", b)
	}
	// Never overwrite a key.
	if code, _, errs := cli(t, "", "keygen", "--name", "x", "--out", path); code == 0 || !strings.Contains(errs, "already exists") {
		t.Fatalf("second keygen: %d %s", code, errs)
	}
}

func TestBadInvocationsSayWhatToDo(t *testing.T) {
	for _, args := range [][]string{
		{"keygen"},
		{"serve"},
		{"sign", "--key", "nope.key", "--kind", "observation"},
		{"verify"},
		{"verify", "--server", "ftp://x"},
		{"receipt", "check"},
		{"submit", "--server", "http://127.0.0.1:1"},
		{"init"},
		{"frobnicate"},
		{"serve", "--no-such-flag"},
	} {
		code, _, errs := cli(t, "", args...)
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		if code == 0 || len(lines) != 1 || !strings.HasPrefix(lines[0], "guarantor") {
			t.Errorf("%v: exit %d, stderr %q; want non-zero and one line", args, code, errs)
		}
	}
}

func TestSignCosignAndRefuseInvalid(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.key"), filepath.Join(dir, "b.key")
	_, avk, _ := cli(t, "", "keygen", "--name", "party.UA", "--out", a)
	_, bvk, _ := cli(t, "", "keygen", "--name", "party.RU", "--out", b)
	body := `{"id": "o1", "observed_at": "2025-03-01T12:00:00Z", "location": {"type": "Point", "coordinates": [37.8, 48.0]}, "category": "shelling"}`
	code, signed, errs := cli(t, "", "sign", "--key", a, "--kind", "observation", "--body", body)
	if code != 0 {
		t.Fatalf("sign: %s", errs)
	}
	code, both, errs := cli(t, signed, "sign", "--key", b, "--cosign")
	if code != 0 {
		t.Fatalf("cosign: %s", errs)
	}
	e, err := entry.Parse([]byte(both))
	if err != nil {
		t.Fatal(err)
	}
	va, _ := note.NewVerifier(strings.TrimSpace(avk))
	vb, _ := note.NewVerifier(strings.TrimSpace(bvk))
	vs, err := e.Verify(note.VerifierList(va, vb))
	if err != nil || len(vs) != 2 {
		t.Fatalf("co-signed note: %v %v", vs, err)
	}
	// The body was compacted; a schema violation is refused with the field.
	if !strings.Contains(string(e.Body), `"id":"o1"`) {
		t.Fatalf("body not compacted: %s", e.Body)
	}
	code, _, errs = cli(t, "", "sign", "--key", a, "--kind", "observation", "--body", `{"id":"o1"}`)
	if code == 0 || !strings.Contains(errs, "/observed_at") {
		t.Fatalf("invalid body: exit %d, %s", code, errs)
	}
}

func TestSplitNotes(t *testing.T) {
	skey, _, _ := note.GenerateKey(rand.Reader, "m")
	s, _ := note.NewSigner(skey)
	var all bytes.Buffer
	var want [][]byte
	for i := range 3 {
		raw, _ := entry.Sign(entry.KindObservation, []byte(fmt.Sprintf(`{"id":"%d"}`, i)), s)
		if i == 1 {
			raw, _ = entry.Cosign(raw, s)
		}
		want = append(want, raw)
		all.Write(raw)
	}
	got, err := splitNotes(&all)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("split into %d notes", len(got))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("note %d: %q, want %q", i, got[i], want[i])
		}
	}
}

// TestSubmitAndVerifyReceipts drives the documented workflow: sign, submit
// from stdin, verify each printed receipt offline, and audit.
func TestSubmitAndVerifyReceipts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	f := newFixture(t, "monitor.cli")
	s := startServer(t, f.data)
	defer s.term(t)
	f.registerMonitor(t, newClient(s.url))
	dir := t.TempDir()
	var notes bytes.Buffer
	var raws [][]byte
	for i := range 3 {
		raw := observation(t, f.monitor, fmt.Sprintf("cli-%d", i))
		raws = append(raws, raw)
		notes.Write(raw)
	}
	code, out, errs := cli(t, notes.String(), "submit", "--server", s.url, "-")
	if code != 0 {
		t.Fatalf("submit: %s", errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("submit printed %d lines: %s", len(lines), out)
	}
	for i, line := range lines {
		rp, np := filepath.Join(dir, fmt.Sprintf("r%d.json", i)), filepath.Join(dir, fmt.Sprintf("e%d.note", i))
		_ = os.WriteFile(rp, []byte(line), 0o644)
		_ = os.WriteFile(np, raws[i], 0o644)
		if code, out, errs := cli(t, "", "receipt", "verify", "--log-vkey", f.info.LogVKey, rp, np); code != 0 || !strings.HasPrefix(out, "OK") {
			t.Fatalf("receipt verify: %d %s %s", code, out, errs)
		}
		// The receipt does not prove another entry.
		other := filepath.Join(dir, "other.note")
		_ = os.WriteFile(other, raws[(i+1)%3], 0o644)
		if code, _, _ := cli(t, "", "receipt", "verify", "--log-vkey", f.info.LogVKey, rp, other); code == 0 {
			t.Fatal("a receipt verified for another entry")
		}
	}
	var rc struct{ Index uint64 }
	_ = json.Unmarshal([]byte(lines[0]), &rc)
	state := filepath.Join(dir, "state.json")
	if code, out, errs := cli(t, "", "verify", "--server", s.url, "--log-vkey", f.info.LogVKey, "--state", state); code != 0 || !strings.Contains(out, "OK") {
		t.Fatalf("verify: %d %s %s", code, out, errs)
	}
	// A refused note: one line, non-zero.
	bad := observation(t, newMonitorKey(t, "monitor.unknown"), "x")
	if code, _, errs := cli(t, string(bad), "submit", "--server", s.url, "-"); code == 0 || !strings.Contains(errs, "unknown_key") {
		t.Fatalf("submit by an unknown key: %d %s", code, errs)
	}
}

func TestInitWithOfflineAuthority(t *testing.T) {
	_, vkey, _ := note.GenerateKey(rand.Reader, "mission.authority")
	data := filepath.Join(t.TempDir(), "d")
	code, out, errs := cli(t, "", "init", "--data", data, "--origin", "example.org/log", "--authority-vkey", vkey)
	if code != 0 {
		t.Fatalf("init: %s", errs)
	}
	var info map[string]string
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatal(err)
	}
	if info["authority_vkey"] != vkey || info["origin"] != "example.org/log" || !strings.HasPrefix(info["engine_vkey"], "example.org/engine+") {
		t.Fatalf("init printed %v", info)
	}
	if _, err := os.Stat(filepath.Join(data, "keys", "authority.key")); !os.IsNotExist(err) {
		t.Fatal("an authority private key was created although the authority is offline")
	}
	for _, k := range []string{"log", "engine"} {
		st, err := os.Stat(filepath.Join(data, "keys", k+".key"))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s.key: %v %v", k, st, err)
		}
	}
	if code, _, errs := cli(t, "", "init", "--data", data); code == 0 || !strings.Contains(errs, "never touches") {
		t.Fatalf("second init: %d %s", code, errs)
	}
}

func newMonitorKey(t *testing.T, name string) note.Signer {
	t.Helper()
	skey, _, _ := note.GenerateKey(rand.Reader, name)
	s, _ := note.NewSigner(skey)
	return s
}
