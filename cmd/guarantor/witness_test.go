package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/guarantor/guarantor/keyfile"
	"github.com/guarantor/guarantor/witness"
	"golang.org/x/mod/sumdb/note"
)

// startWitnessCmd runs "guarantor witness" in-process and returns its
// policy line ("witness NAME VKEY URL").
func startWitnessCmd(t *testing.T, args ...string) []string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int)
	var errb bytes.Buffer
	go func() {
		done <- run(ctx, &env{stdin: strings.NewReader(""), stdout: pw, stderr: &errb}, append([]string{"witness"}, args...))
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("witness exited %d: %s", code, errb.String())
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("witness printed nothing: %v %s", err, errb.String())
	}
	go io.Copy(io.Discard, pr)
	f := strings.Fields(line)
	if len(f) != 4 || f[0] != "witness" {
		t.Fatalf("witness printed %q, want a policy line", line)
	}
	return f
}

func TestVerifyWitnessQuorumAndSplitView(t *testing.T) {
	_, avkey, _ := note.GenerateKey(rand.Reader, "mission.authority")
	data := filepath.Join(t.TempDir(), "d")
	if code, _, errs := cli(t, "", "init", "--data", data, "--origin", "example.org/log", "--authority-vkey", avkey); code != 0 {
		t.Fatalf("init: %s", errs)
	}
	wdir := filepath.Join(t.TempDir(), "w")
	w := startWitnessCmd(t, "--data", wdir, "--addr", "127.0.0.1:0", "--guarantor", data, "--name", "witness.test/w1")
	policy := filepath.Join(t.TempDir(), "policy")
	if err := os.WriteFile(policy, []byte(strings.Join(w, " ")+"\nquorum "+w[1]+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	verify := func(extra ...string) (int, string) {
		t.Helper()
		code, _, errs := cli(t, "", append([]string{"verify", "--data", data, "--no-replay"}, extra...)...)
		return code, errs
	}
	if code, errs := verify(); code != 0 {
		t.Fatalf("plain verify: %d %s", code, errs)
	}

	// Uncosigned: refused, naming the witness.
	code, errs := verify("--witness-policy", policy)
	if code == 0 || !strings.Contains(errs, w[1]) || strings.Count(errs, "\n") != 1 {
		t.Fatalf("verify of an uncosigned checkpoint: %d %q, want one line naming %s", code, errs, w[1])
	}

	// Cosigned by the running witness: accepted.
	cpPath := filepath.Join(data, "log", "checkpoint")
	cp, err := os.ReadFile(cpPath)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(w[3]+"/add-checkpoint", "text/plain", bytes.NewReader(witness.MarshalRequest(0, nil, cp)))
	if err != nil {
		t.Fatal(err)
	}
	sigs, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("witness answered %s %q", resp.Status, sigs)
	}
	if err := os.WriteFile(cpPath, append(cp, sigs...), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, errs := verify("--witness-policy", policy); code != 0 {
		t.Fatalf("verify of a cosigned checkpoint: %d %s", code, errs)
	}

	// Split view: a checkpoint of the same size with another root, signed
	// by the log key, makes verify fail; the log's own checkpoint does not.
	signer, err := keyfile.Signer(filepath.Join(data, "keys", "log.key"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(cp), "\n", 4)
	forged, err := note.Sign(&note.Note{Text: lines[0] + "\n" + lines[1] + "\n" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"}, signer)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	same, fork := filepath.Join(dir, "same"), filepath.Join(dir, "fork")
	os.WriteFile(same, cp, 0o644)
	os.WriteFile(fork, forged, 0o644)
	if code, errs := verify("--compare-checkpoint", same); code != 0 {
		t.Fatalf("verify against its own checkpoint: %d %s", code, errs)
	}
	if code, errs := verify("--compare-checkpoint", fork); code == 0 || !strings.Contains(errs, "split view") {
		t.Fatalf("verify against a forked checkpoint: %d %q, want split view", code, errs)
	}
}
