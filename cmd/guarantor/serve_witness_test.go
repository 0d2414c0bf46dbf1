package main

import (
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/guarantor/guarantor/witness"
	"golang.org/x/mod/sumdb/note"
)

// TestServeWithWitnessPolicy serves a log whose checkpoints a running
// witness must cosign, fills it, and checks that the published
// checkpoint meets the policy and that verify --witness-policy passes.
func TestServeWithWitnessPolicy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	f := newFixture(t, "monitor.witnessed")
	w := startWitnessCmd(t, "--data", filepath.Join(t.TempDir(), "w"), "--addr", "127.0.0.1:0", "--guarantor", f.data, "--name", "witness.test/w1")
	policyText := strings.Join(w, " ") + "\nquorum " + w[1] + "\n"
	policy := filepath.Join(t.TempDir(), "policy")
	if err := os.WriteFile(policy, []byte(policyText), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := witness.ParsePolicy([]byte(policyText))
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, f.data, "--checkpoint-interval", "100ms", "--witness-policy", policy, "--witness-timeout", "2s")
	defer s.term(t)
	fillLog(t, f, s, 20)
	url := s.url

	resp, err := http.Get(url + "/log/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	cp, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET checkpoint: %s", resp.Status)
	}
	if err := p.Check(cp); err != nil {
		t.Fatalf("served checkpoint: %v\n%s", err, cp)
	}
	code, out, errs := cli(t, "", "verify", "--server", url, "--log-vkey", f.info.LogVKey, "--authority-vkey", f.info.AuthorityVKey, "--witness-policy", policy)
	if code != 0 {
		t.Fatalf("verify --witness-policy of the served log: %d %s", code, errs)
	}
	t.Logf("verify: %s", out)
}

// TestServeRefusesBadWitnessPolicy checks that serve rejects a bad
// policy with one line naming the file and the fault, before it opens
// the data directory (which here does not even exist).
func TestServeRefusesBadWitnessPolicy(t *testing.T) {
	data := filepath.Join(t.TempDir(), "never-initialised")
	_, vkey, err := witness.CosignerFromKey(mustKey(t, "witness.test/w1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, policy, want string }{
		{"unknown keyword", "witness w1 " + vkey + " http://127.0.0.1:1\nquorom w1\n", "line 2"},
		{"bad key", "witness w1 not-a-key http://127.0.0.1:1\nquorum w1\n", "line 1"},
		{"no quorum", "witness w1 " + vkey + " http://127.0.0.1:1\n", "no quorum"},
		{"no URL", "witness w1 " + vkey + "\nquorum w1\n", "URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "policy")
			if err := os.WriteFile(path, []byte(tc.policy), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, errs := cli(t, "", "serve", "--data", data, "--addr", "127.0.0.1:0", "--witness-policy", path)
			t.Logf("serve: %s", errs)
			if code == 0 || !strings.Contains(errs, path) || !strings.Contains(errs, tc.want) || strings.Count(errs, "\n") != 1 {
				t.Fatalf("serve with a bad policy: %d %q, want one line naming %s and %q", code, errs, path, tc.want)
			}
		})
	}
}

func mustKey(t *testing.T, name string) string {
	t.Helper()
	skey, _, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	return skey
}
