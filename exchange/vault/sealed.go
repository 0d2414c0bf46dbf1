package vault

import (
	"fmt"
)

// The stored form is described in the package documentation.
const (
	version1    = 1
	gcmOverhead = 12 + 16 // random nonce and tag
	wrappedLen  = KeySize + gcmOverhead
)

func headerLen(id string) int { return 2 + len(id) }

// Sealed is an encrypted record: its ciphertext, its wrapped data key and
// the id of the key that wrapped it. It holds no secret and can be stored
// and printed freely. The zero Sealed is empty and opens nowhere.
type Sealed struct {
	enc []byte // the version 1 binary encoding
}

// ParseSealed decodes the binary encoding written by [Sealed.MarshalBinary].
// It checks the structure only (authentication is Open's); malformed input
// yields an error wrapping [ErrMalformed]. It copies b.
func ParseSealed(b []byte) (Sealed, error) {
	if len(b) < 2 {
		return Sealed{}, fmt.Errorf("vault: sealed record of %d bytes is too short: %w", len(b), ErrMalformed)
	}
	if b[0] != version1 {
		return Sealed{}, fmt.Errorf("vault: sealed record has unknown version %d: %w", b[0], ErrMalformed)
	}
	n := int(b[1])
	if n == 0 || n > MaxKeyIDLen {
		return Sealed{}, fmt.Errorf("vault: sealed record has a key id length of %d, want 1 to %d: %w", n, MaxKeyIDLen, ErrMalformed)
	}
	if want := 2 + n + wrappedLen + gcmOverhead; len(b) < want {
		return Sealed{}, fmt.Errorf("vault: sealed record of %d bytes is too short, want at least %d: %w", len(b), want, ErrMalformed)
	}
	if !validID(string(b[2 : 2+n])) {
		return Sealed{}, fmt.Errorf("vault: sealed record has an invalid key id: %w", ErrMalformed)
	}
	return Sealed{enc: append([]byte(nil), b...)}, nil
}

// MarshalBinary returns the version 1 encoding of s, for a database column
// (BLOB, bytea). It fails for the zero Sealed.
func (s Sealed) MarshalBinary() ([]byte, error) {
	if len(s.enc) == 0 {
		return nil, fmt.Errorf("vault: cannot encode an empty sealed record")
	}
	return append([]byte(nil), s.enc...), nil
}

// UnmarshalBinary sets s to [ParseSealed] of b.
func (s *Sealed) UnmarshalBinary(b []byte) error {
	p, err := ParseSealed(b)
	if err != nil {
		return err
	}
	*s = p
	return nil
}

// KeyID returns the id of the key that wraps the record's data key, or ""
// for the zero Sealed.
func (s Sealed) KeyID() string {
	if len(s.enc) == 0 {
		return ""
	}
	return string(s.enc[2 : 2+int(s.enc[1])])
}

// Len returns the length of the encoding in bytes, 0 for the zero Sealed.
func (s Sealed) Len() int { return len(s.enc) }

// String describes s by key id and size, without its bytes.
func (s Sealed) String() string {
	return fmt.Sprintf("vault.Sealed(key %s, %d bytes)", s.KeyID(), len(s.enc))
}

func (s Sealed) wrapped() []byte {
	h := 2 + int(s.enc[1])
	return s.enc[h : h+wrappedLen]
}

func (s Sealed) data() []byte {
	return s.enc[2+int(s.enc[1])+wrappedLen:]
}
