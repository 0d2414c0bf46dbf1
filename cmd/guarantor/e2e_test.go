package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/audit"
	"github.com/guarantor/guarantor/entry"
	ghttp "github.com/guarantor/guarantor/http"
	"github.com/guarantor/guarantor/keyfile"
	"golang.org/x/mod/sumdb/note"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary builds the guarantor binary once per test run.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "guarantor-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "guarantor")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// server is a guarantor serve process.
type server struct {
	cmd    *exec.Cmd
	url    string
	stderr *bytes.Buffer
	done   chan error
}

func startServer(t *testing.T, data string, flags ...string) *server {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"serve", "--data", data, "--addr", "127.0.0.1:0", "--log-level", "warn"}, flags...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		t.Fatalf("server did not start: %v; stderr: %s", err, s.stderr)
	}
	s.url = strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
	go func() { s.done <- cmd.Wait() }()
	return s
}

func (s *server) kill(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

func (s *server) term(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("server exited with %v after SIGTERM; stderr: %s", err, s.stderr)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("server did not stop within 60s of SIGTERM")
	}
}

// initKeys is how many key entries init logs: the engine's and the
// intake's.
const initKeys = 2

// fixture is an initialised data directory and a monitor key to register.
type fixture struct {
	data        string
	info        ghttp.Info
	auth        note.Signer
	monitor     note.Signer
	monitorVKey string
	logV        note.Verifier
}

func newFixture(t *testing.T, monitor string) *fixture {
	t.Helper()
	return newFixtureIn(t, filepath.Join(t.TempDir(), "data"), monitor)
}

// newFixtureIn is newFixture with the data directory at data, which may
// exist if it is empty (a mount point), made by init with initArgs.
func newFixtureIn(t *testing.T, data, monitor string, initArgs ...string) *fixture {
	t.Helper()
	out, err := exec.Command(binary(t), append([]string{"init", "--data", data}, initArgs...)...).Output()
	if err != nil {
		t.Fatalf("init: %v", err)
	}
	f := &fixture{data: data}
	if err := json.Unmarshal(out, &f.info); err != nil {
		t.Fatalf("init printed %q: %v", out, err)
	}
	if f.auth, err = keyfile.Signer(filepath.Join(data, "keys", "authority.key")); err != nil {
		t.Fatal(err)
	}
	if f.logV, err = note.NewVerifier(f.info.LogVKey); err != nil {
		t.Fatal(err)
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, monitor)
	if err != nil {
		t.Fatal(err)
	}
	f.monitorVKey = vkey
	if f.monitor, err = note.NewSigner(skey); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) registerMonitor(t *testing.T, c *client) {
	t.Helper()
	raw, err := keyEntry(f.auth, f.monitorVKey, guarantor.RoleMonitor, "kill test", time.Now().AddDate(0, 0, -1), time.Now().AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.submit(context.Background(), raw); err != nil {
		t.Fatalf("register monitor: %v", err)
	}
}

func observation(t *testing.T, s note.Signer, id string) []byte {
	t.Helper()
	body := fmt.Sprintf(`{"id":%q,"observed_at":%q,"location":{"type":"Point","coordinates":[38.0324,48.4196]},"category":"explosion_heard","count":3,"source_type":"acoustic"}`,
		id, time.Now().UTC().Add(-time.Minute).Format(time.RFC3339))
	raw, err := entry.Sign(entry.KindObservation, []byte(body), s)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

type acked struct {
	raw []byte
	rc  guarantor.Receipt
}

// TestKill9LosesNoAcknowledgedEntry kills the server with SIGKILL at
// random moments while clients submit concurrently, over 20 cycles, and
// proves that every entry it ever acknowledged is in the log at its
// receipt's index, with a valid proof, exactly once.
func TestKill9LosesNoAcknowledgedEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs 20 kill cycles")
	}
	f := newFixture(t, "monitor.kill-test")
	var (
		mu   sync.Mutex
		acks = map[string]acked{} // by leaf hash
		sent [][]byte
	)
	const cycles, workers = 20, 24
	for cycle := range cycles {
		s := startServer(t, f.data)
		c := newClient(s.url)
		c.http.Timeout = 30 * time.Second
		if cycle == 0 {
			f.registerMonitor(t, c)
		}
		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ctx.Err() == nil; i++ {
					raw := observation(t, f.monitor, fmt.Sprintf("c%02d-w%02d-%04d", cycle, w, i))
					mu.Lock()
					sent = append(sent, raw)
					mu.Unlock()
					rc, _, err := c.submit(ctx, raw)
					if err != nil {
						return // the server died under us
					}
					mu.Lock()
					acks[string(rc.LeafHash)] = acked{raw, *rc}
					mu.Unlock()
				}
			}()
		}
		// Kill at a pseudo-random moment between 50 and 650 ms in.
		var b [2]byte
		_, _ = rand.Read(b[:])
		time.Sleep(time.Duration(50+int(b[0])%600) * time.Millisecond) // load duration, not synchronisation
		s.kill(t)
		stop()
		wg.Wait()
	}
	if len(acks) < cycles {
		t.Fatalf("only %d entries acknowledged over %d cycles; the load did not get going", len(acks), cycles)
	}

	s := startServer(t, f.data)
	defer s.term(t)
	c := newClient(s.url)
	ctx := context.Background()
	for _, a := range acks {
		if _, err := a.rc.Verify(f.logV, a.raw); err != nil {
			t.Fatalf("receipt for index %d does not verify: %v", a.rc.Index, err)
		}
		var ev ghttp.EntryView
		if err := c.getJSON(ctx, fmt.Sprintf("/v1/entries/%d", a.rc.Index), &ev); err != nil {
			t.Fatalf("acknowledged entry %d is missing after restart: %v", a.rc.Index, err)
		}
		if ev.Note != string(a.raw) {
			t.Fatalf("log index %d holds another entry than the one acknowledged there", a.rc.Index)
		}
		// Resubmitting an acknowledged entry returns its original index.
		rc, created, err := c.submit(ctx, a.raw)
		if err != nil || created || rc.Index != a.rc.Index {
			t.Fatalf("resubmission of index %d: index %v, created %v, err %v", a.rc.Index, rc, created, err)
		}
	}
	// Every entry sent, acknowledged or not, is in the log at most once:
	// resubmit the unacknowledged ones and count distinct indexes.
	seen := map[uint64]bool{}
	var smu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, len(sent))
	sem := make(chan struct{}, 32)
	for _, raw := range sent {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			rc, _, err := c.submit(ctx, raw)
			if err != nil {
				errs <- fmt.Errorf("resubmit after the cycles: %w", err)
				return
			}
			smu.Lock()
			defer smu.Unlock()
			if seen[rc.Index] {
				errs <- fmt.Errorf("two different entries answered with index %d", rc.Index)
			}
			seen[rc.Index] = true
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// The log holds init's engine and intake keys, the monitor's key, and
	// each sent entry exactly once, besides what the engine wrote; and the
	// whole log still audits: root, signatures, registry, engine replay.
	if got, want := inputEntries(t, s.url, f.info), uint64(len(sent))+initKeys+1; got != want {
		t.Fatalf("log holds %d entries besides the engine's, want %d (%d sent + %d key entries): some entry was logged twice or lost", got, want, len(sent), initKeys+1)
	}
	t.Logf("%d cycles, %d entries sent, %d acknowledged before a kill", cycles, len(sent), len(acks))
}

// TestGracefulShutdownFinishesInFlight sends SIGTERM under load and
// checks that every request either was answered with a receipt that holds
// after restart, or failed without an answer.
func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	f := newFixture(t, "monitor.term-test")
	s := startServer(t, f.data)
	c := newClient(s.url)
	f.registerMonitor(t, c)
	var mu sync.Mutex
	var acks []acked
	var wg sync.WaitGroup
	started := make(chan struct{}, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				raw := observation(t, f.monitor, fmt.Sprintf("t-w%d-%d", w, i))
				rc, _, err := c.submit(context.Background(), raw)
				if err != nil {
					return
				}
				mu.Lock()
				acks = append(acks, acked{raw, *rc})
				mu.Unlock()
				if i == 0 {
					started <- struct{}{}
				}
			}
		}()
	}
	for range 8 {
		<-started
	}
	s.term(t)
	wg.Wait()
	s = startServer(t, f.data)
	defer s.term(t)
	c = newClient(s.url)
	for _, a := range acks {
		var ev ghttp.EntryView
		if err := c.getJSON(context.Background(), fmt.Sprintf("/v1/entries/%d", a.rc.Index), &ev); err != nil || ev.Note != string(a.raw) {
			t.Fatalf("acknowledged entry %d lost after SIGTERM: %v", a.rc.Index, err)
		}
	}
	if len(acks) < 8 {
		t.Fatalf("only %d acknowledged", len(acks))
	}
}

// inputEntries audits the log at url, engine replay included, and
// returns how many of its entries are not the engine's own (incident
// revisions and ticks).
func inputEntries(t *testing.T, url string, info ghttp.Info) uint64 {
	t.Helper()
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(context.Background(), audit.Config{Server: u, LogVKey: info.LogVKey, AuthorityVKey: info.AuthorityVKey})
	if err != nil {
		t.Fatalf("audit: %v", err)
	}
	if rep.Replay == nil {
		t.Fatal("audit ran no engine replay")
	}
	return rep.Size - uint64(rep.ByKind["incident"]) - uint64(rep.ByKind["tick"])
}
