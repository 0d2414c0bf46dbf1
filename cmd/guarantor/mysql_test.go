package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/internal/c2spcheck"
	"github.com/guarantor/guarantor/internal/mysqltest"
)

// TestTwoFrontendsOnMySQL runs two servers on one log in MariaDB/MySQL,
// each with its own data directory and projection, sends them
// interleaved writes (some the same bytes to both, some conflicting
// observation ids), and checks that they serve one log: every
// acknowledged entry at its receipt's index once, the same answer for the
// same bytes from either server, at most one of two conflicting
// observations acknowledged, one engine writer, identical projections,
// and `guarantor verify` and the outside C2SP checker passing against
// both.
func TestTwoFrontendsOnMySQL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dsn := mysqltest.DSN(t)
	ctx := context.Background()
	f := newFixtureIn(t, filepath.Join(t.TempDir(), "a"), "monitor.shared", "--mysql", dsn)
	dataB := filepath.Join(t.TempDir(), "b")
	if out, err := exec.Command(binary(t), "init", "--join", f.data, "--data", dataB).CombinedOutput(); err != nil {
		t.Fatalf("init --join: %v: %s", err, out)
	}
	// Starting without --mysql must refuse, not open an empty log.
	if out, err := exec.Command(binary(t), "serve", "--data", dataB, "--addr", "127.0.0.1:0").CombinedOutput(); err == nil || !bytes.Contains(out, []byte("--mysql")) {
		t.Fatalf("serve without --mysql on a MySQL data directory: %v: %s", err, out)
	}
	a := startServer(t, f.data, "--mysql", dsn)
	b := startServer(t, dataB, "--mysql", dsn)
	stopped := false
	defer func() {
		if !stopped {
			a.kill(t)
			b.kill(t)
		}
	}()
	ca, cb := newClient(a.url), newClient(b.url)
	f.registerMonitor(t, ca)
	// b learns of the key from the log.
	waitFor(t, "server b to apply the monitor's key", func() bool {
		_, _, err := cb.submit(ctx, observation(t, f.monitor, "probe"))
		return err == nil
	})

	const n = 240
	var (
		mu   sync.Mutex
		acks = map[uint64][]byte{}
		fail []error
	)
	record := func(rc *guarantor.Receipt, raw []byte, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			fail = append(fail, err)
			return
		}
		if prev, ok := acks[rc.Index]; ok && !bytes.Equal(prev, raw) {
			fail = append(fail, fmt.Errorf("index %d acknowledged for two different entries", rc.Index))
		}
		acks[rc.Index] = raw
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			raw := observation(t, f.monitor, fmt.Sprintf("inter-%04d", i))
			switch i % 3 {
			case 0, 1: // to one server or the other
				c := []*client{ca, cb}[i%2]
				rc, _, err := c.submit(ctx, raw)
				record(rc, raw, err)
			case 2: // the same bytes to both at once: one index
				var rcs [2]*guarantor.Receipt
				var errs [2]error
				var w2 sync.WaitGroup
				for k, c := range []*client{ca, cb} {
					w2.Go(func() { rcs[k], _, errs[k] = c.submit(ctx, raw) })
				}
				w2.Wait()
				if err := errors.Join(errs[:]...); err != nil {
					record(nil, nil, err)
					return
				}
				if rcs[0].Index != rcs[1].Index {
					record(nil, nil, fmt.Errorf("the same bytes acknowledged at %d by a and %d by b", rcs[0].Index, rcs[1].Index))
				}
				record(rcs[0], raw, nil)
			}
		})
	}
	wg.Wait()
	for _, err := range fail {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	// Two observations with one id and different contents, to both at
	// once: at most one is acknowledged, whichever the log holds first.
	at := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	var cw sync.WaitGroup
	for i := range 10 {
		var raws [2][]byte
		for k := range raws {
			body := fmt.Sprintf(`{"id":"conflict-%02d","observed_at":%q,"location":{"type":"Point","coordinates":[38.0324,48.4196]},"category":"explosion_heard","count":%d,"source_type":"acoustic"}`, i, at, k+1)
			raw, err := entry.Sign(entry.KindObservation, []byte(body), f.monitor)
			if err != nil {
				t.Fatal(err)
			}
			raws[k] = raw
		}
		cw.Go(func() {
			var ok [2]bool
			var w2 sync.WaitGroup
			for k, c := range []*client{ca, cb} {
				w2.Go(func() {
					rc, _, err := c.submit(ctx, raws[k])
					if err == nil {
						ok[k] = true
						record(rc, raws[k], nil)
					}
				})
			}
			w2.Wait()
			if ok[0] && ok[1] {
				t.Errorf("both observations conflict-%02d acknowledged", i)
			}
		})
	}
	cw.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// Both serve the same log: sizes agree, each acknowledged entry is at
	// its index on both, and exactly one runs the engine's writer.
	var size uint64
	waitFor(t, "both servers to apply the whole log", func() bool {
		var la, lb struct {
			Size uint64 `json:"size"`
		}
		var ha, hb struct {
			Applied uint64 `json:"applied"`
			Engine  struct {
				Writer  bool `json:"writer"`
				Pending int  `json:"pending"`
			} `json:"engine"`
		}
		if ca.getJSON(ctx, "/v1/log", &la) != nil || cb.getJSON(ctx, "/v1/log", &lb) != nil ||
			ca.getJSON(ctx, "/healthz", &ha) != nil || cb.getJSON(ctx, "/healthz", &hb) != nil {
			return false
		}
		size = la.Size
		done := la.Size == lb.Size && ha.Applied == la.Size && hb.Applied == la.Size && ha.Engine.Pending == 0 && hb.Engine.Pending == 0
		if done && ha.Engine.Writer == hb.Engine.Writer {
			t.Fatalf("engine writer: a %v, b %v; want exactly one", ha.Engine.Writer, hb.Engine.Writer)
		}
		return done
	})
	for idx, raw := range acks {
		for _, c := range []*client{ca, cb} {
			var ev struct {
				Note string `json:"note"`
			}
			if err := c.getJSON(ctx, fmt.Sprintf("/v1/entries/%d", idx), &ev); err != nil || ev.Note != string(raw) {
				t.Fatalf("acknowledged entry %d not served by %s: %v", idx, c.base, err)
			}
		}
	}
	for _, s := range []*server{a, b} {
		out, err := exec.Command(binary(t), "verify", "--server", s.url).CombinedOutput()
		if err != nil {
			t.Fatalf("verify --server %s: %v\n%s", s.url, err, out)
		}
		res, err := c2spcheck.Check(ctx, s.url+"/log", f.info.LogVKey, f.info.AuthorityVKey)
		if err != nil {
			t.Fatalf("outside checker against %s: %v", s.url, err)
		}
		if uint64(res.Size) < size || res.ByKind["observation"] < len(acks) {
			t.Fatalf("outside checker saw %+v; %d acknowledged", res, len(acks))
		}
	}
	a.term(t)
	b.term(t)
	stopped = true
	var pa, pb bytes.Buffer
	if err := exportProjection(ctx, dataDir(f.data).projection(), &pa); err != nil {
		t.Fatal(err)
	}
	if err := exportProjection(ctx, dataDir(dataB).projection(), &pb); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pa.Bytes(), pb.Bytes()) {
		t.Fatalf("the two servers' projections differ (%d vs %d bytes)", pa.Len(), pb.Len())
	}
	// A rebuild from the shared log gives the same projection again.
	if out, err := exec.Command(binary(t), "rebuild", "--data", dataB, "--mysql", dsn).CombinedOutput(); err != nil {
		t.Fatalf("rebuild --mysql: %v: %s", err, out)
	}
	var rb bytes.Buffer
	if err := exportProjection(ctx, dataDir(dataB).projection(), &rb); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pa.Bytes(), rb.Bytes()) {
		t.Fatal("a projection rebuilt from the shared log differs from the live ones")
	}
	// verify --data cannot read a log kept in the database, and says where to look.
	if out, err := exec.Command(binary(t), "verify", "--data", f.data).CombinedOutput(); err == nil || !bytes.Contains(out, []byte("--server")) {
		t.Fatalf("verify --data on a MySQL data directory: %v: %s", err, out)
	}
	t.Logf("%d entries in the log, %d acknowledged through two servers", size, len(acks))
}

// waitFor polls cond until it holds, for at most a minute (pollUntil).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := pollUntil(context.Background(), time.Minute, 50*time.Millisecond, func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}
