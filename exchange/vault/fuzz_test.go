package vault_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/guarantor/guarantor/exchange/vault"
)

// FuzzParseSealed checks that ParseSealed never panics, that what it
// accepts re-encodes to the same bytes, and that Open and Rewrap of
// anything it accepts fail cleanly instead of panicking.
func FuzzParseSealed(f *testing.F) {
	k1, err := vault.NewKey("k1", bytes.Repeat([]byte{1}, vault.KeySize))
	if err != nil {
		f.Fatal(err)
	}
	k2, _ := vault.NewKey("k2", bytes.Repeat([]byte{2}, vault.KeySize))
	r1, _ := vault.NewRing(k1)
	r2, _ := vault.NewRing(k2, k1)
	for _, pt := range []string{"", "x", "a longer record of some length"} {
		s, _ := r1.Seal([]byte(pt), []byte("aad"))
		b, _ := s.MarshalBinary()
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Add([]byte{1, 2, 'k', '1'})
	f.Add([]byte{1, 255})

	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.Clone(b)
		s, err := vault.ParseSealed(b)
		if !bytes.Equal(in, b) {
			t.Fatal("ParseSealed modified its input")
		}
		if err != nil {
			if !errors.Is(err, vault.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		out, err := s.MarshalBinary()
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("accepted input does not re-encode: %v", err)
		}
		_ = s.KeyID()
		_ = s.String()
		r1.Open(s, []byte("aad"))
		r2.NeedsRewrap(s)
		if w, err := r2.Rewrap(s); err == nil {
			r2.Open(w, []byte("aad"))
		}
	})
}
