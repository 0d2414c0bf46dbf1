// Package commit publishes who is on an exchange list without publishing
// anyone's name: one keyed commitment per person, gathered into a manifest
// whose Merkle root goes on the public log, and a private "opening" that
// lets one family check that their relative is on the list and learn
// nothing about anyone else.
//
// # For a family
//
// You receive an opening: a record id, a 64-character key, the name of a
// published manifest, a position in it and a short list of hashes. With
// them, and with your relative's name, patronymic and date of birth typed
// the way the registry spelled them, your own computer recomputes a
// 64-character code and checks, against the manifest's root published on
// the public log, that this exact code is on the list. Nobody else's name
// is needed or revealed, and nothing you type is sent anywhere. If the
// check says "commitment mismatch", the name or date was typed differently
// from the record (try the spelling on the registry's letter) or the key
// was copied wrongly; if it says "inclusion proof failed", the code is not
// in that manifest: ask the verifier.
//
// # For an auditor
//
// Notation: HMAC is HMAC-SHA-256, || is concatenation, len32(x) is the
// length of x in bytes as 4 bytes big-endian.
//
//   - The verifier holds one 32-byte master key K, in the key file format of
//     package exchange/vault (exactly one key; see [LoadFile]). K never
//     rotates: every published commitment depends on it.
//   - Identity fields are UTF-8 strings normalised by the caller before they
//     reach this package (the registry and the family tool must use the
//     same normalisation; [Identity.Normalised] applies one). This package
//     only rejects fields that are plainly not normalised: invalid UTF-8,
//     not NFC, control characters, or leading or trailing spaces.
//   - canonical = for each f of ("guarantor/exchange/identity/v1",
//     record id, family, given, patronymic, born): len32(f) || f.
//     See [Canonical]; the length prefixes make the encoding injective.
//   - The person key is k_p = HMAC(K, "guarantor/exchange/person/v1" ||
//     record id) ([Committer.PersonKey]); the prefix has a fixed length, so
//     the input is unambiguous.
//   - The commitment is c = HMAC(k_p, canonical) ([PersonKey.Commit]),
//     published as 64 lower-case hex digits.
//   - A manifest sorts its commitments bytewise and builds the RFC 6962
//     Merkle tree over them (leaf hash SHA-256(0x00 || c), node hash
//     SHA-256(0x01 || left || right)), with golang.org/x/mod/sumdb/tlog.
//     The log publishes the root, the count n and, if wanted, the sorted
//     commitments. Sorting makes the position of a commitment depend only
//     on the (pseudorandom) commitments, not on the order of intake.
//   - An [Opening] gives one family the record id, k_p, the manifest's
//     name, the index, c and an inclusion proof; [Check] recomputes c from
//     the identity typed by the family and verifies the proof against the
//     root and n taken from the log, not from the opening.
//
// Properties, assuming HMAC-SHA-256 is a PRF and SHA-256 collision
// resistant:
//
//   - Hiding: without K (or that person's k_p), a commitment is
//     indistinguishable from random, so names and birth dates, however
//     guessable, cannot be tested against the log. Holders of K can test
//     guesses for everyone: K must be protected like a vault key, and a
//     leak of K exposes every published identity to dictionary attack.
//   - One family, one person: distinct record ids give independent
//     person keys, so an opening lets its holder test guesses about that
//     one record only; the proof's sibling hashes reveal nothing about
//     other entries. An opening is as sensitive as the identity it opens.
//   - Binding: the verifier cannot later open a published c to another
//     identity or another key (with 32-byte keys that needs a SHA-256
//     collision), so a commitment in a logged manifest is a lasting claim
//     that the person with exactly these normalised fields was on the list.
//   - Linkability: the same record id and identity give the same
//     commitment in every manifest, so anyone can count how many entries
//     two manifests share (for example, listed and released). Record ids
//     must be opaque random ids, never derived from personal data.
//   - Not shown: that entries are real or distinct people. Only a family
//     can check their own relative; the same person entered under two
//     record ids gives two unrelated commitments, so the published count
//     is only as good as the verifier's registry.
//
// Errors never quote identity fields or keys. [PersonKey] and [Opening]
// print their keys redacted under fmt and log/slog; the JSON of an Opening
// does carry k_p, for the family alone.
package commit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/guarantor/guarantor/exchange/vault"
)

// Domain separation tags; the "v1" is the version of the whole scheme.
const (
	identityTag = "guarantor/exchange/identity/v1"
	personTag   = "guarantor/exchange/person/v1"
)

// Limits on identity fields, in bytes.
const (
	maxRecordID = 256
	maxField    = 1024
)

// ErrInvalidIdentity is wrapped by the errors of [Identity.Validate].
var ErrInvalidIdentity = errors.New("invalid identity")

// ErrMismatch is wrapped by the errors of [Check] when the identity and the
// opening's key do not give the opening's commitment.
var ErrMismatch = errors.New("commitment mismatch")

// ErrNotIncluded is wrapped by the errors of [Verify] and [Check] when an
// inclusion proof fails, and of [Committer.Open] when a commitment is not
// in the manifest.
var ErrNotIncluded = errors.New("inclusion proof failed")

// Identity is what a commitment binds: a record id and the person's
// normalised identity fields. Fields must already be normalised (see the
// package documentation); Validate checks what it can.
type Identity struct {
	// RecordID is the registry's opaque id for the person's record. It
	// must be 1 to 256 bytes and must not be derived from personal data.
	RecordID string
	// Family is the family name (surname).
	Family string
	// Given is the given name.
	Given string
	// Patronymic is the patronymic, or "" for none.
	Patronymic string
	// Born is the date of birth as YYYY-MM-DD, or only YYYY-MM or YYYY
	// when that is all that is known, or "" if unknown.
	Born string
}

// Canonical returns the unambiguous encoding of id that commitments bind:
// the tag "guarantor/exchange/identity/v1", then RecordID, Family, Given,
// Patronymic and Born, each preceded by its length in bytes as 4 bytes
// big-endian. It encodes the fields as given, without validating them.
func Canonical(id Identity) []byte {
	fields := [...]string{identityTag, id.RecordID, id.Family, id.Given, id.Patronymic, id.Born}
	n := 0
	for _, f := range fields {
		n += 4 + len(f)
	}
	b := make([]byte, 0, n)
	for _, f := range fields {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b
}

// Normalised returns id with normalise applied to Family, Given and
// Patronymic. RecordID and Born are left as they are.
func (id Identity) Normalised(normalise func(string) string) Identity {
	id.Family = normalise(id.Family)
	id.Given = normalise(id.Given)
	id.Patronymic = normalise(id.Patronymic)
	return id
}

// Validate reports whether id can be committed: a record id, a family or a
// given name, names that are valid NFC UTF-8 without control characters or
// surrounding spaces, and Born in one of the accepted forms. Its errors
// name the field, never its value.
func (id Identity) Validate() error {
	if id.RecordID == "" || len(id.RecordID) > maxRecordID {
		return fmt.Errorf("commit: record id must be 1 to %d bytes: %w", maxRecordID, ErrInvalidIdentity)
	}
	if id.Family == "" && id.Given == "" {
		return fmt.Errorf("commit: family and given names are both empty: %w", ErrInvalidIdentity)
	}
	for _, f := range []struct{ name, value string }{
		{"record id", id.RecordID},
		{"family name", id.Family},
		{"given name", id.Given},
		{"patronymic", id.Patronymic},
	} {
		if err := checkField(f.value); err != "" {
			return fmt.Errorf("commit: %s %s: %w", f.name, err, ErrInvalidIdentity)
		}
	}
	if !validBorn(id.Born) {
		return fmt.Errorf("commit: date of birth must be YYYY-MM-DD, YYYY-MM, YYYY or empty: %w", ErrInvalidIdentity)
	}
	return nil
}

// checkField returns what is wrong with a field, or "".
func checkField(s string) string {
	switch {
	case len(s) > maxField:
		return fmt.Sprintf("is longer than %d bytes", maxField)
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "contains a control character"
	case strings.TrimSpace(s) != s:
		return "has leading or trailing white space (not normalised)"
	case !norm.NFC.IsNormalString(s):
		return "is not in Unicode NFC (not normalised)"
	}
	return ""
}

func validBorn(s string) bool {
	var layout string
	switch len(s) {
	case 0:
		return true
	case 4:
		layout = "2006"
	case 7:
		layout = "2006-01"
	case 10:
		layout = "2006-01-02"
	default:
		return false
	}
	t, err := time.Parse(layout, s)
	// Insist on the round trip: only the canonical spelling of a date.
	return err == nil && t.Format(layout) == s
}

// Commitment is a published commitment, c = HMAC-SHA-256(k_p, canonical
// identity). It reveals nothing about the identity without k_p.
type Commitment [sha256.Size]byte

// String returns c as 64 lower-case hex digits.
func (c Commitment) String() string { return hex.EncodeToString(c[:]) }

// MarshalText returns c as 64 lower-case hex digits.
func (c Commitment) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText parses 64 hex digits.
func (c *Commitment) UnmarshalText(b []byte) error {
	p, err := ParseCommitment(string(b))
	if err != nil {
		return err
	}
	*c = p
	return nil
}

// ParseCommitment parses a commitment written as 64 hex digits.
func ParseCommitment(s string) (Commitment, error) {
	var c Commitment
	if len(s) != hex.EncodedLen(len(c)) {
		return Commitment{}, fmt.Errorf("commit: commitment must be %d hex digits, got %d characters", hex.EncodedLen(len(c)), len(s))
	}
	if _, err := hex.Decode(c[:], []byte(s)); err != nil {
		return Commitment{}, errors.New("commit: commitment is not hex")
	}
	return c, nil
}

// PersonKey is k_p, the key of one person's commitment. Whoever holds it
// can test guesses of that person's identity against the commitment, so it
// goes to that person's family only. It prints redacted under fmt and
// log/slog; MarshalText (and so JSON) writes it as hex.
type PersonKey [sha256.Size]byte

// Commit returns the commitment of id under k: HMAC-SHA-256(k, Canonical(id)).
// It fails if id does not validate.
func (k PersonKey) Commit(id Identity) (Commitment, error) {
	if err := id.Validate(); err != nil {
		return Commitment{}, err
	}
	m := hmac.New(sha256.New, k[:])
	m.Write(Canonical(id))
	var c Commitment
	m.Sum(c[:0])
	return c, nil
}

// String returns a redacted placeholder, not the key.
func (k PersonKey) String() string { return "commit.PersonKey(redacted)" }

// Format prints [PersonKey.String] under every verb.
func (k PersonKey) Format(f fmt.State, verb rune) { fmt.Fprint(f, k.String()) }

// LogValue logs a redacted placeholder.
func (k PersonKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// MarshalText returns k as 64 lower-case hex digits, for the opening given
// to a family.
func (k PersonKey) MarshalText() ([]byte, error) {
	return []byte(hex.EncodeToString(k[:])), nil
}

// UnmarshalText parses 64 hex digits. Its errors do not quote the input.
func (k *PersonKey) UnmarshalText(b []byte) error {
	var p PersonKey
	if len(b) != hex.EncodedLen(len(p)) {
		return fmt.Errorf("commit: person key must be %d hex digits, got %d characters", hex.EncodedLen(len(p)), len(b))
	}
	if _, err := hex.Decode(p[:], b); err != nil {
		return errors.New("commit: person key is not hex")
	}
	*k = p
	return nil
}

// Committer holds the master key K and makes commitments and openings. It
// is safe for concurrent use.
type Committer struct {
	key vault.Key
}

// New returns a Committer under the master key k.
func New(k vault.Key) (*Committer, error) {
	if len(k.Secret()) != vault.KeySize {
		return nil, errors.New("commit: master key is not a 32-byte key (use vault.NewKey or a key file)")
	}
	return &Committer{key: k}, nil
}

// LoadFile returns a Committer under the master key in a vault key file
// (see package exchange/vault; mode 0600). The file must hold exactly one
// key.
func LoadFile(path string) (*Committer, error) {
	keys, err := vault.ReadKeyFile(path)
	if err != nil {
		return nil, fmt.Errorf("commit: master key: %w", err)
	}
	return fromKeys(keys, "key file "+path)
}

// LoadEnv returns a Committer under the master key held by the environment
// variable name, in the vault key format. It must hold exactly one key.
func LoadEnv(name string) (*Committer, error) {
	keys, err := vault.ReadKeyEnv(name)
	if err != nil {
		return nil, fmt.Errorf("commit: master key: %w", err)
	}
	return fromKeys(keys, "environment variable "+name)
}

func fromKeys(keys []vault.Key, source string) (*Committer, error) {
	if len(keys) != 1 {
		return nil, fmt.Errorf("commit: %s holds %d keys, want exactly one (the commitment key never rotates: published commitments depend on it)", source, len(keys))
	}
	return New(keys[0])
}

// KeyID returns the id of the master key.
func (c *Committer) KeyID() string { return c.key.ID() }

// String names the master key by id only.
func (c *Committer) String() string { return "commit.Committer(" + c.key.ID() + ")" }

// Format prints [Committer.String] under every verb.
func (c *Committer) Format(f fmt.State, verb rune) { fmt.Fprint(f, c.String()) }

// PersonKey returns k_p = HMAC-SHA-256(K, "guarantor/exchange/person/v1" ||
// recordID).
func (c *Committer) PersonKey(recordID string) PersonKey {
	m := hmac.New(sha256.New, c.key.Secret())
	m.Write([]byte(personTag))
	m.Write([]byte(recordID))
	var k PersonKey
	m.Sum(k[:0])
	return k
}

// Commit returns the commitment of id under its person key.
func (c *Committer) Commit(id Identity) (Commitment, error) {
	return c.PersonKey(id.RecordID).Commit(id)
}
