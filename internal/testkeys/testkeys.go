// Package testkeys makes signing keys and signed entries for tests.
package testkeys

import (
	"crypto/rand"
	"encoding/json"
	"testing"

	"github.com/guarantor/guarantor/entry"
	"golang.org/x/mod/sumdb/note"
)

// Key is a fresh Ed25519 note key: its signer, verifier key string and
// name+hash identifier.
type Key struct {
	S    note.Signer
	VKey string
	ID   string
}

// New generates a key named name.
func New(tb testing.TB, name string) Key {
	tb.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		tb.Fatal(err)
	}
	return Key{S: s, VKey: vkey, ID: entry.KeyID(s.Name(), s.KeyHash())}
}

// Sign returns body as an entry of kind signed by every key, in order.
func Sign(tb testing.TB, kind entry.Kind, body string, keys ...Key) []byte {
	tb.Helper()
	signers := make([]note.Signer, len(keys))
	for i, k := range keys {
		signers[i] = k.S
	}
	raw, err := entry.Sign(kind, []byte(body), signers...)
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// Valid marshals body, signs it as kind with k, and returns the error the
// log's own parser and schema give it (nil when the log would take its
// form).
func Valid(tb testing.TB, kind entry.Kind, body any, k Key) error {
	tb.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	raw, err := entry.Sign(kind, b, k.S)
	if err != nil {
		return err
	}
	e, err := entry.Parse(raw)
	if err != nil {
		return err
	}
	_, err = e.Validate()
	return err
}
