package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/keyfile"
)

// TestFieldKitSurvivesAKilledServer signs 1,000 notes offline, syncs with
// the server killed halfway, syncs again, and checks: exactly 1,000
// entries in the log and 1,000 receipts that verify.
func TestFieldKitSurvivesAKilledServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	f := newFixture(t, "monitor.unused")
	dir := t.TempDir()
	spool := filepath.Join(dir, "spool")
	keyPath := filepath.Join(dir, "patrol.key")
	vkey, err := keyfile.Generate(keyPath, "monitor.patrol-3")
	if err != nil {
		t.Fatal(err)
	}
	// Offline: no server is running while the patrol signs.
	now := time.Now().UTC().Add(-time.Hour)
	for i := range 1000 {
		body := fmt.Sprintf(`{"id":"p3-%04d","observed_at":%q,"location":{"type":"Point","coordinates":[37.8,48.0]},"category":"explosion_heard","source_type":"patrol"}`,
			i, now.Add(time.Duration(i)*time.Second).Format(time.RFC3339))
		if code, _, errs := cli(t, "", "field", "sign", "--key", keyPath, "--spool", spool, "--body", body); code != 0 {
			t.Fatalf("field sign %d: %s", i, errs)
		}
	}

	s := startServer(t, f.data)
	c := newClient(s.url)
	raw, err := keyEntry(f.auth, vkey, guarantor.RoleMonitor, "patrol 3", now.AddDate(0, 0, -1), now.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.submit(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	logV := f.logV
	_, err = fieldSync(context.Background(), c, spool, syncOptions{batch: 50, logV: logV, afterBatch: func(sent int) {
		if sent >= 500 {
			s.kill(t) // halfway: the rest of this sync fails
		}
	}}, os.Stderr)
	if err == nil {
		t.Fatal("sync against a killed server reported success")
	}
	receipts, _ := filepath.Glob(filepath.Join(spool, "*"+spoolReceipt))
	if len(receipts) < 500 || len(receipts) >= 1000 {
		t.Fatalf("%d receipts after the interrupted sync", len(receipts))
	}

	s = startServer(t, f.data)
	defer s.term(t)
	code, out, errs := cli(t, "", "field", "sync", "--server", s.url, "--spool", spool, "--log-vkey", f.info.LogVKey)
	if code != 0 {
		t.Fatalf("second sync: %s", errs)
	}
	if !strings.Contains(out, "already in the log") {
		t.Fatalf("second sync printed %q", out)
	}
	receipts, _ = filepath.Glob(filepath.Join(spool, "*"+spoolReceipt))
	if len(receipts) != 1000 {
		t.Fatalf("%d receipts, want 1000", len(receipts))
	}
	indexes := map[uint64]bool{}
	for _, rp := range receipts {
		var rc guarantor.Receipt
		b, _ := os.ReadFile(rp)
		if err := json.Unmarshal(b, &rc); err != nil {
			t.Fatal(err)
		}
		n, err := os.ReadFile(strings.TrimSuffix(rp, spoolReceipt) + spoolNote)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rc.Verify(logV, n); err != nil {
			t.Fatalf("%s: %v", filepath.Base(rp), err)
		}
		indexes[rc.Index] = true
	}
	if len(indexes) != 1000 {
		t.Fatalf("%d distinct indexes", len(indexes))
	}
	if got := inputEntries(t, s.url, f.info); got != initKeys+1+1000 {
		t.Fatalf("log holds %d entries besides the engine's, want %d (init's keys, the patrol's key and 1,000 notes, each once)", got, initKeys+1+1000)
	}
	// A third sync has nothing to send.
	if code, out, _ := cli(t, "", "field", "sync", "--server", s.url, "--spool", spool); code != 0 || !strings.HasPrefix(out, "sync: 0 notes to send") {
		t.Fatalf("third sync: %q", out)
	}
}
