package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/exchange"
	"github.com/guarantor/guarantor/exchange/vault"
)

// TestExchangeRotate: rotating the verifier's vault key re-wraps every
// stored record under the new key; with --retire the old key leaves the
// file, and the records still open.
func TestExchangeRotate(t *testing.T) {
	ctx := context.Background()
	d := dataDir(filepath.Join(t.TempDir(), "data"))
	if _, err := initDataDir(ctx, d, "test.rotate/log", "", time.Now(), ""); err != nil {
		t.Fatal(err)
	}
	if err := initVerifier(d); err != nil {
		t.Fatal(err)
	}
	before, err := vault.ReadKeyFile(d.exchangeVault())
	if err != nil || len(before) != 1 {
		t.Fatal(len(before), err)
	}
	svc, err := openExchange(ctx, d)
	if err != nil || svc == nil {
		t.Fatal(svc, err)
	}
	up, err := svc.Upload(ctx, "x", "RU", entry.ListHeld, []exchange.Person{{Ref: "SYN-1", Family: "Петренко", Given: "Іван", Born: "1990-04-02", Status: exchange.StatusHeld}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	svc.Close()

	code, out, errs := cli(t, "", "exchange", "rotate", "--data", string(d), "--retire")
	if code != 0 || !strings.Contains(out, "data keys re-wrapped") || !strings.Contains(out, "older keys retired") {
		t.Fatalf("rotate: %d %q %q", code, out, errs)
	}
	after, err := vault.ReadKeyFile(d.exchangeVault())
	if err != nil || len(after) != 1 || after[0].ID() == before[0].ID() {
		t.Fatalf("key file after rotation: %v %v", after, err)
	}
	svc, err = openExchange(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	recs, err := svc.Records(ctx, up.ListID)
	if err != nil || len(recs) != 1 || recs[0].Person.Family != "Петренко" {
		t.Fatalf("records after rotation: %v %v", len(recs), err)
	}
	if code, _, errs := cli(t, "", "exchange", "rotate"); code == 0 || !strings.Contains(errs, "usage: guarantor exchange rotate --data DIR") {
		t.Fatalf("rotate without --data: %d %q", code, errs)
	}
}
