package exchange_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/exchange"
	"github.com/guarantor/guarantor/exchange/vault"
)

// fill uploads the small lists, reconciles and decides with a note, so
// that every sealed column holds a value, and returns the list ids.
func fill(t *testing.T, s *exchange.Service) (heldList, claimedList string) {
	t.Helper()
	ctx := context.Background()
	held, claimed := smallLists()
	hu, err := s.Upload(ctx, "ex1", "RU", entry.ListHeld, held, testAt)
	if err != nil {
		t.Fatal(err)
	}
	cu, err := s.Upload(ctx, "ex1", "UA", entry.ListClaimed, claimed, testAt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reconcile(ctx, "ex1", "RU"); err != nil {
		t.Fatal(err)
	}
	id := ids(t, s, hu.ListID)
	if _, err := s.Decide(ctx, "ex1", "RU", []exchange.Decision{{Verdict: exchange.VerdictNoMatch, Held: id["H7"], Note: "Ярошенко: not claimed"}}); err != nil {
		t.Fatal(err)
	}
	return hu.ListID, cu.ListID
}

func TestWrongKey(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "exchange.db")
	s := openService(t, path, testRing(t, testKey(t, "k-2026-01", 1)))
	heldList, _ := fill(t, s)
	s.Close()

	held, _ := smallLists()
	for _, tc := range []struct {
		name string
		ring *vault.Ring
		want func(error) bool
	}{
		{"another key", testRing(t, testKey(t, "k-other", 2)), func(err error) bool {
			var u *vault.UnknownKeyError
			return errors.As(err, &u) && u.ID == "k-2026-01"
		}},
		{"another secret under the same id", testRing(t, testKey(t, "k-2026-01", 2)), func(err error) bool {
			return errors.Is(err, vault.ErrDecrypt)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openService(t, path, tc.ring)
			_, err := s.Records(ctx, heldList)
			if err == nil || !tc.want(err) {
				t.Fatalf("Records under %s: %v", tc.name, err)
			}
			if !strings.Contains(err.Error(), "k-2026-01") {
				t.Errorf("error %q does not name the key id", err)
			}
			for _, p := range held {
				for _, v := range identityValues(p) {
					if strings.Contains(err.Error(), v) {
						t.Errorf("error %q quotes an identity field", err)
					}
				}
			}
			if _, err := s.Reconciliation(ctx, "ex1", "RU"); err == nil {
				t.Error("the reconciliation opens under a wrong key")
			}
			if _, err := s.PartyView(ctx, "ex1", "UA"); err == nil {
				t.Error("the party view opens under a wrong key")
			}
			// Counts and commitments need no key.
			if lists, err := s.Lists(ctx, "ex1"); err != nil || len(lists) != 2 {
				t.Errorf("Lists = %d lists, %v", len(lists), err)
			}
		})
	}
}

func TestRewrap(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "exchange.db")
	old := testKey(t, "k-2026-01", 1)
	ring := testRing(t, old)
	s := openService(t, path, ring)
	heldList, claimedList := fill(t, s)
	before, err := s.Records(ctx, heldList)
	if err != nil {
		t.Fatal(err)
	}

	rotated, err := ring.Rotate(testKey(t, "k-2026-06", 3))
	if err != nil {
		t.Fatal(err)
	}
	held, claimed := smallLists()
	// Every record, the reconciliation's two sealed results and the one
	// decision note.
	want := len(held) + len(claimed) + 2 + 1
	n, err := s.Rewrap(ctx, rotated)
	if err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Errorf("Rewrap rewrapped %d values, want %d", n, want)
	}
	if n, err := s.Rewrap(ctx, rotated); err != nil || n != 0 {
		t.Errorf("second Rewrap = %d, %v; want 0, nil", n, err)
	}
	// New records are sealed under the new key.
	if _, err := s.Upload(ctx, "ex1", "UA", entry.ListClaimed, claimed, testAt); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// With the old key retired, everything opens.
	retired, err := rotated.Retire(old.ID())
	if err != nil {
		t.Fatal(err)
	}
	s = openService(t, path, retired)
	after, err := s.Records(ctx, heldList)
	if err != nil {
		t.Fatalf("records after rewrap and retirement: %v", err)
	}
	if len(after) != len(before) || after[0].Person.Family != before[0].Person.Family {
		t.Errorf("records changed in rewrapping")
	}
	if _, err := s.Records(ctx, claimedList); err != nil {
		t.Error(err)
	}
	r, err := s.Reconciliation(ctx, "ex1", "RU")
	if err != nil {
		t.Fatal(err)
	}
	if r.Counts.Decisions != 1 {
		t.Errorf("%d decisions after rewrap, want 1", r.Counts.Decisions)
	}
	// The decision's note opens too: deciding again replays it.
	if _, err := s.Decide(ctx, "ex1", "RU", nil); err != nil {
		t.Errorf("Decide after rewrap: %v", err)
	}
	if _, err := s.PartyView(ctx, "ex1", "UA"); err != nil {
		t.Errorf("PartyView after rewrap: %v", err)
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "exchange.db")
	ring := testRing(t, testKey(t, "k1", 1))
	for _, cfg := range []exchange.Config{
		{Ring: ring, Committer: testCommitter(t)},
		{Path: path, Committer: testCommitter(t)},
		{Path: path, Ring: ring},
	} {
		if s, err := exchange.Open(ctx, cfg); err == nil {
			s.Close()
			t.Errorf("Open(%+v) succeeded", cfg)
		}
	}
	openService(t, path, ring)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("database mode %04o, want 0600", perm)
	}
}
