package exchange_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/guarantor/guarantor/exchange"
	"github.com/guarantor/guarantor/exchange/commit"
	"github.com/guarantor/guarantor/exchange/vault"
)

// testKey returns a fixed test key; never use a fixed key outside tests.
func testKey(tb testing.TB, id string, b byte) vault.Key {
	tb.Helper()
	k, err := vault.NewKey(id, bytes.Repeat([]byte{b}, vault.KeySize))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func testRing(tb testing.TB, keys ...vault.Key) *vault.Ring {
	tb.Helper()
	r, err := vault.NewRing(keys[0], keys[1:]...)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func testCommitter(tb testing.TB) *commit.Committer {
	tb.Helper()
	c, err := commit.New(testKey(tb, "commit", 0xc0))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// openService opens a service on path (a new file in a temporary
// directory if path is "") and closes it at the end of the test.
func openService(tb testing.TB, path string, ring *vault.Ring) *exchange.Service {
	tb.Helper()
	if path == "" {
		path = filepath.Join(tb.TempDir(), "exchange.db")
	}
	s, err := exchange.Open(context.Background(), exchange.Config{Path: path, Ring: ring, Committer: testCommitter(tb)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}
