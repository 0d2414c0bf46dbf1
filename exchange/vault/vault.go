// Package vault encrypts personal records at rest with envelope encryption
// and key rotation.
//
// Every record gets its own random 32-byte data key (DEK). The record is
// encrypted with AES-256-GCM under the DEK, with associated data chosen by
// the caller; the DEK is then encrypted ("wrapped") with AES-256-GCM under
// the active key-encryption key (KEK) of a [Ring], whose id is stored with
// the record. Both GCM operations use a fresh random 96-bit nonce.
//
// The associated data is not stored: the caller passes the same bytes to
// [Ring.Seal] and [Ring.Open]. Bind it to where the record lives, for
// example "detainee/" + record id, so that a ciphertext copied into another
// row or table does not open there.
//
// Rotation: add a new key at the top of the key file (see [RotateKeyFile]);
// new records are sealed under it, old ones still open under the old keys,
// which stay in the ring for decryption only. [Ring.Rewrap] moves one record
// to the active key by re-wrapping its 32-byte DEK, without decrypting or
// rewriting the record itself; once [Ring.NeedsRewrap] is false for every
// record, the old key can be deleted from the file. A KEK must not wrap more
// than 2^32 DEKs (the random-nonce limit of AES-GCM): rotate well before.
//
// # Key files
//
// Key files (and key environment variables) are text, one key per line:
//
//	# Lines starting with # and blank lines are ignored.
//	<id> <key>
//
// where <id> is 1 to 64 characters of A-Z a-z 0-9 . _ - and <key> is 32
// bytes in padded standard base64 (44 characters), separated by spaces or
// tabs. The first key is the active key; the others open and rewrap older
// records only. Ids and keys must not repeat. In an environment variable,
// keys may also be separated by ';'. A key file must not be readable or
// writable by group or others ([ReadKeyFile] refuses it and says to run
// chmod 600). [GenerateKeyFile] writes a new file; [RotateKeyFile] adds a
// new active key to one; retiring a key is deleting its line.
//
// # Stored form
//
// [Sealed.MarshalBinary] writes, for a BLOB or bytea column:
//
//	offset  size  field
//	0       1     version, 0x01
//	1       1     L, the length of the key id, 1 to 64
//	2       L     key id
//	2+L     60    wrapped DEK: nonce (12) | AES-256-GCM(KEK, DEK) (32) | tag (16),
//	              associated data "guarantor/vault/v1/dek" 0x00 key-id
//	62+L    28+n  record: nonce (12) | AES-256-GCM(DEK, plaintext) (n) | tag (16),
//	              associated data chosen by the caller
//
// so a record costs 90 bytes plus its key id more than its plaintext.
//
// Errors never contain plaintext, associated data or key material, only key
// ids, lengths and line numbers, so they can be logged. [Key] and [Ring]
// print only key ids under every fmt verb and through log/slog.
//
// The package has no global state; a Ring is immutable and safe for
// concurrent use.
package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// KeySize is the size in bytes of every key-encryption key and data key.
const KeySize = 32

// MaxKeyIDLen is the longest key id accepted, in bytes.
const MaxKeyIDLen = 64

// ErrMalformed is wrapped by the errors of [ParseSealed] and of the key
// file and key variable parsers.
var ErrMalformed = errors.New("malformed")

// ErrDecrypt is wrapped by the errors of [Ring.Open] and [Ring.Rewrap] when
// authentication fails: a wrong key under the right id, wrong associated
// data, or a corrupted or altered record.
var ErrDecrypt = errors.New("authentication failed")

// UnknownKeyError reports a record sealed under a key that the ring does not
// hold: the key was retired before the record was rewrapped, or the wrong
// key file was loaded.
type UnknownKeyError struct {
	// ID is the id of the missing key.
	ID string
}

// Error names the missing key and how to recover.
func (e *UnknownKeyError) Error() string {
	return fmt.Sprintf("vault: record is sealed under key %q, which is not in the key ring (restore that key, or rewrap every record before retiring a key)", e.ID)
}

// A Key is one 32-byte key with its id. It prints as its id only; use
// [Key.Secret] to get the key bytes. The zero Key is not a valid key.
type Key struct {
	id string
	// secret is behind two pointers so that fmt, which cannot call Format
	// on a Key held in an unexported field, prints an address and not the
	// bytes, even under verbs such as %s that dereference one pointer.
	secret **[KeySize]byte
}

// NewKey returns the key with the given id and 32-byte secret. The id must
// be 1 to [MaxKeyIDLen] characters of A-Z a-z 0-9 . _ -.
func NewKey(id string, secret []byte) (Key, error) {
	if !validID(id) {
		return Key{}, fmt.Errorf("vault: key id must be 1 to %d characters of A-Z a-z 0-9 . _ -", MaxKeyIDLen)
	}
	if len(secret) != KeySize {
		return Key{}, fmt.Errorf("vault: key %q is %d bytes, want %d", id, len(secret), KeySize)
	}
	k := newKey(id)
	copy(k.bytes(), secret)
	return k, nil
}

// GenerateKey returns a new random key with a random 12-character hex id.
func GenerateKey() Key {
	var id [6]byte
	rand.Read(id[:])
	k := newKey(hex.EncodeToString(id[:]))
	rand.Read(k.bytes())
	return k
}

// ID returns the key's id.
func (k Key) ID() string { return k.id }

// Secret returns a copy of the key's 32 bytes, for packages that derive
// their own keys from a key file (such as exchange/commit).
// It returns nil for the zero Key.
func (k Key) Secret() []byte {
	if k.secret == nil {
		return nil
	}
	return append([]byte(nil), k.bytes()...)
}

func newKey(id string) Key {
	p := new([KeySize]byte)
	return Key{id: id, secret: &p}
}

// bytes returns the key's secret, not a copy.
func (k Key) bytes() []byte { return (*k.secret)[:] }

// String returns the key's id and hides its secret.
func (k Key) String() string { return fmt.Sprintf("vault.Key(%s)", k.id) }

// Format prints [Key.String] under every verb, so that %v, %+v and %#v
// never print the secret.
func (k Key) Format(f fmt.State, verb rune) { fmt.Fprint(f, k.String()) }

// LogValue logs the key's id only.
func (k Key) LogValue() slog.Value { return slog.StringValue(k.String()) }

func validID(id string) bool {
	if len(id) == 0 || len(id) > MaxKeyIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ringKey is a key of a ring with its KEK cipher.
type ringKey struct {
	key  Key
	aead cipher.AEAD // AES-256-GCM with random nonces
}

// A Ring holds the active key, which seals and wraps, and older keys that
// only open and unwrap. It is immutable and safe for concurrent use.
type Ring struct {
	keys []ringKey // keys[0] is active
}

// NewRing returns a ring that seals under active and also opens records
// sealed under any of old. Ids and secrets must all differ.
func NewRing(active Key, old ...Key) (*Ring, error) {
	all := append([]Key{active}, old...)
	r := &Ring{keys: make([]ringKey, 0, len(all))}
	for i, k := range all {
		if !validID(k.id) || k.secret == nil {
			return nil, fmt.Errorf("vault: key %d of the ring has no valid id (use NewKey or GenerateKey)", i+1)
		}
		for _, prev := range r.keys {
			if prev.key.id == k.id {
				return nil, fmt.Errorf("vault: key id %q appears twice in the ring", k.id)
			}
			if hmac.Equal(prev.key.bytes(), k.bytes()) {
				return nil, fmt.Errorf("vault: keys %q and %q have the same secret", prev.key.id, k.id)
			}
		}
		r.keys = append(r.keys, ringKey{key: k, aead: newGCM(k.bytes())})
	}
	return r, nil
}

// newGCM returns AES-256-GCM with random nonces under a 32-byte key.
func newGCM(key []byte) cipher.AEAD {
	b, err := aes.NewCipher(key)
	if err != nil {
		panic("vault: " + err.Error()) // unreachable: key is always 32 bytes
	}
	g, err := cipher.NewGCMWithRandomNonce(b)
	if err != nil {
		panic("vault: " + err.Error()) // unreachable for AES
	}
	return g
}

// Rotate returns a ring with k as its active key and every key of r kept
// for opening only. r is unchanged.
func (r *Ring) Rotate(k Key) (*Ring, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	return NewRing(k, r.Keys()...)
}

// Retire returns a ring without the key id, which must not be the active
// key. r is unchanged. Records still sealed under id will no longer open:
// rewrap them first.
func (r *Ring) Retire(id string) (*Ring, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	if r.keys[0].key.id == id {
		return nil, fmt.Errorf("vault: cannot retire the active key %q; rotate to a new key first", id)
	}
	out := &Ring{}
	for _, k := range r.keys {
		if k.key.id != id {
			out.keys = append(out.keys, k)
		}
	}
	if len(out.keys) == len(r.keys) {
		return nil, fmt.Errorf("vault: cannot retire key %q: it is not in the ring", id)
	}
	return out, nil
}

// ActiveID returns the id of the key that new records are sealed under.
func (r *Ring) ActiveID() string {
	if r.check() != nil {
		return ""
	}
	return r.keys[0].key.id
}

// IDs returns the ids of the ring's keys, the active key first.
func (r *Ring) IDs() []string {
	if r.check() != nil {
		return nil
	}
	ids := make([]string, len(r.keys))
	for i, k := range r.keys {
		ids[i] = k.key.id
	}
	return ids
}

// Keys returns the ring's keys, the active key first.
func (r *Ring) Keys() []Key {
	if r.check() != nil {
		return nil
	}
	ks := make([]Key, len(r.keys))
	for i, k := range r.keys {
		ks[i] = k.key
	}
	return ks
}

// String lists the ring's key ids, the active key first, and no secret.
func (r *Ring) String() string {
	return "vault.Ring[" + strings.Join(r.IDs(), " ") + "]"
}

// Format prints [Ring.String] under every verb.
func (r *Ring) Format(f fmt.State, verb rune) { fmt.Fprint(f, r.String()) }

// LogValue logs the ring's key ids only.
func (r *Ring) LogValue() slog.Value { return slog.StringValue(r.String()) }

func (r *Ring) check() error {
	if r == nil || len(r.keys) == 0 {
		return errors.New("vault: empty key ring (load one with LoadFile, LoadEnv or NewRing)")
	}
	return nil
}

func (r *Ring) lookup(id string) (ringKey, error) {
	for _, k := range r.keys {
		if k.key.id == id {
			return k, nil
		}
	}
	return ringKey{}, &UnknownKeyError{ID: id}
}

// wrapAAD is the associated data of a wrapped DEK: the format version and
// the KEK id, so that the id stored beside a wrapped key cannot be changed.
func wrapAAD(id string) []byte {
	return append([]byte("guarantor/vault/v1/dek\x00"), id...)
}

// Seal encrypts plaintext under a new data key, authenticating aad with it,
// and wraps the data key under the active key. aad is not stored; Open needs
// the same bytes.
func (r *Ring) Seal(plaintext, aad []byte) (Sealed, error) {
	if err := r.check(); err != nil {
		return Sealed{}, err
	}
	kek := r.keys[0]
	var dek [KeySize]byte
	rand.Read(dek[:])
	defer clear(dek[:])

	id := kek.key.id
	b := make([]byte, 0, headerLen(id)+wrappedLen+gcmOverhead+len(plaintext))
	b = append(b, version1, byte(len(id)))
	b = append(b, id...)
	b = kek.aead.Seal(b, nil, dek[:], wrapAAD(id))
	b = newGCM(dek[:]).Seal(b, nil, plaintext, aad)
	return Sealed{enc: b}, nil
}

// Open decrypts s with the key it names and checks aad.
//
// It fails with an [*UnknownKeyError] if the ring lacks that key, with
// [ErrDecrypt] if the data key does not unwrap or the record does not
// authenticate with aad, and with [ErrMalformed] for a zero Sealed.
func (r *Ring) Open(s Sealed, aad []byte) ([]byte, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	dek, err := r.unwrap(s)
	if err != nil {
		return nil, err
	}
	defer clear(dek)
	pt, err := newGCM(dek).Open(nil, nil, s.data(), aad)
	if err != nil {
		return nil, fmt.Errorf("vault: open record: %w (wrong associated data, or the record was altered)", ErrDecrypt)
	}
	return pt, nil
}

func (r *Ring) unwrap(s Sealed) ([]byte, error) {
	if len(s.enc) == 0 {
		return nil, fmt.Errorf("vault: empty sealed record: %w", ErrMalformed)
	}
	id := s.KeyID()
	kek, err := r.lookup(id)
	if err != nil {
		return nil, err
	}
	dek, err := kek.aead.Open(nil, nil, s.wrapped(), wrapAAD(id))
	if err != nil {
		return nil, fmt.Errorf("vault: unwrap data key with key %q: %w (a different key under the same id, or the record was altered)", id, ErrDecrypt)
	}
	return dek, nil
}

// NeedsRewrap reports whether s is wrapped under a key other than the
// active one.
func (r *Ring) NeedsRewrap(s Sealed) bool {
	return r.check() == nil && len(s.enc) > 0 && s.KeyID() != r.keys[0].key.id
}

// Rewrap returns s with its data key wrapped under the active key. The
// encrypted record is carried over byte for byte and is neither decrypted
// nor checked (that needs its associated data); only the data key is
// authenticated. If s already uses the active key, Rewrap returns it as is.
func (r *Ring) Rewrap(s Sealed) (Sealed, error) {
	if err := r.check(); err != nil {
		return Sealed{}, err
	}
	if len(s.enc) > 0 && !r.NeedsRewrap(s) {
		return s, nil
	}
	dek, err := r.unwrap(s)
	if err != nil {
		return Sealed{}, err
	}
	defer clear(dek)
	kek := r.keys[0]
	id := kek.key.id
	data := s.data()
	b := make([]byte, 0, headerLen(id)+wrappedLen+len(data))
	b = append(b, version1, byte(len(id)))
	b = append(b, id...)
	b = kek.aead.Seal(b, nil, dek, wrapAAD(id))
	b = append(b, data...)
	return Sealed{enc: b}, nil
}
