// Package entry encodes, signs, parses and validates guarantor log entries.
//
// Every entry is a C2SP signed note whose text has exactly two lines:
//
//	guarantor.v1/<kind>
//	{"compact":"JSON body"}
//
// followed by a blank line and one or more signature lines. The body must be
// a JSON object in compact form (no insignificant whitespace), so that one
// meaning has one encoding as far as whitespace goes. An entry is at most
// MaxSize bytes, the C2SP tlog-tiles limit.
package entry

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/guarantor/guarantor"
	"golang.org/x/mod/sumdb/note"
)

// Prefix starts the first line of every entry's text.
const Prefix = "guarantor.v1/"

// MaxSize is the largest entry, signatures included, that the log accepts.
const MaxSize = 65535

// Entry is a parsed log entry. Sigs lists every signature line in the note,
// in order; Parse does not verify them (see Verify).
type Entry struct {
	Kind Kind
	Body json.RawMessage // the compact JSON body, exactly as in the note
	Text string          // the note text: both lines and their newlines
	Raw  []byte          // the whole note, signatures included
	Sigs []note.Signature
}

// Encode returns the note text for a body of the given kind. The body is
// compacted; it must be a single JSON object.
func Encode(kind Kind, body []byte) (string, error) {
	if !validKindName(string(kind)) {
		return "", guarantor.Errorf(guarantor.EInvalid, "kind", "kind %q must be lower-case letters and '-'", kind)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, body); err != nil {
		return "", guarantor.Errorf(guarantor.EInvalid, "body", "body is not valid JSON: %v", err)
	}
	if buf.Len() == 0 || buf.Bytes()[0] != '{' {
		return "", guarantor.Errorf(guarantor.EInvalid, "body", "body must be a JSON object")
	}
	return Prefix + string(kind) + "\n" + buf.String() + "\n", nil
}

// Sign encodes body as an entry of the given kind and signs it with every
// signer, in order.
func Sign(kind Kind, body []byte, signers ...note.Signer) ([]byte, error) {
	if len(signers) == 0 {
		return nil, errors.New("entry: at least one signer is required")
	}
	text, err := Encode(kind, body)
	if err != nil {
		return nil, err
	}
	return note.Sign(&note.Note{Text: text}, signers...)
}

// Cosign adds signer's signature to an existing entry, keeping the
// signatures already there (a signature by the same key is replaced).
// It does not verify the existing signatures.
func Cosign(msg []byte, signer note.Signer) ([]byte, error) {
	e, err := Parse(msg)
	if err != nil {
		return nil, err
	}
	return note.Sign(&note.Note{Text: e.Text, Sigs: e.Sigs}, signer)
}

// Parse splits msg into text and signature lines and decodes the text. It
// checks the format strictly: a well-formed note, the two-line text, a known
// kind, a compact JSON object body, no repeated signature, and the size
// limit. It verifies no signature; see Verify.
func Parse(msg []byte) (*Entry, error) {
	if len(msg) > MaxSize {
		return nil, guarantor.Errorf(guarantor.ETooLarge, "", "entry is %d bytes; the limit is %d", len(msg), MaxSize)
	}
	_, err := note.Open(msg, nil)
	var unverified *note.UnverifiedNoteError
	if !errors.As(err, &unverified) {
		// With no verifiers, the only success-like outcome is
		// UnverifiedNoteError; anything else is a malformed note.
		return nil, guarantor.Errorf(guarantor.EInvalid, "", "not a signed note: want text, a blank line, then lines \"— <name> <base64 signature>\" (%v)", err)
	}
	n := unverified.Note
	sigCount := bytes.Count(msg[len(n.Text)+1:], []byte("\n"))
	if sigCount != len(n.UnverifiedSigs) {
		return nil, guarantor.Errorf(guarantor.EInvalid, "signature", "note repeats a signature line")
	}
	seen := make(map[string]bool, len(n.UnverifiedSigs))
	for _, s := range n.UnverifiedSigs {
		// One signature, one encoding: base64 that decodes the same with
		// other padding bits would make the same signed note two entries.
		if b, err := base64.StdEncoding.DecodeString(s.Base64); err != nil || base64.StdEncoding.EncodeToString(b) != s.Base64 {
			return nil, guarantor.Errorf(guarantor.EInvalid, "signature", "signature by %s is not canonical base64", s.Name)
		}
		id := KeyID(s.Name, s.Hash)
		if seen[id] {
			return nil, guarantor.Errorf(guarantor.EInvalid, "signature", "note carries two signatures by %s", id)
		}
		seen[id] = true
	}
	e := &Entry{Text: n.Text, Raw: msg, Sigs: n.UnverifiedSigs}
	if err := e.decodeText(); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Entry) decodeText() error {
	head, rest, ok := strings.Cut(e.Text, "\n")
	if !ok || !strings.HasPrefix(head, Prefix) {
		return guarantor.Errorf(guarantor.EInvalid, "kind", "first line must be %q followed by the kind", Prefix+"<kind>")
	}
	kind := Kind(strings.TrimPrefix(head, Prefix))
	if _, ok := kinds[kind]; !ok {
		return guarantor.Errorf(guarantor.EUnsupported, "kind", "unknown kind %q; known kinds: %s", kind, strings.Join(KindNames(), ", "))
	}
	body, tail, ok := strings.Cut(rest, "\n")
	if !ok || tail != "" {
		return guarantor.Errorf(guarantor.EInvalid, "body", "text must be exactly two lines: the kind and the JSON body")
	}
	if !json.Valid([]byte(body)) {
		return guarantor.Errorf(guarantor.EInvalid, "body", "body is not valid JSON")
	}
	var buf bytes.Buffer
	_ = json.Compact(&buf, []byte(body))
	if buf.String() != body {
		return guarantor.Errorf(guarantor.EInvalid, "body", "body must be compact JSON (no spaces or newlines between tokens)")
	}
	if body[0] != '{' {
		return guarantor.Errorf(guarantor.EInvalid, "body", "body must be a JSON object")
	}
	e.Kind = kind
	e.Body = json.RawMessage(body)
	return nil
}

// Verify checks every signature on the entry against known and returns the
// verifiers that signed, in signature order. Every signature must come from
// a known key and verify: a note carrying a signature nobody can check is
// rejected, so the log holds nothing unverifiable.
func (e *Entry) Verify(known note.Verifiers) ([]note.Verifier, error) {
	if len(e.Sigs) == 0 {
		return nil, guarantor.Errorf(guarantor.EUnauthorized, "signature", "entry carries no signature")
	}
	n, err := note.Open(e.Raw, known)
	var invalid *note.InvalidSignatureError
	switch {
	case errors.As(err, &invalid):
		return nil, guarantor.Errorf(guarantor.EUnauthorized, "signature", "signature by %s+%08x does not verify", invalid.Name, invalid.Hash)
	case err != nil && guarantor.ErrorCode(err) != guarantor.EInternal:
		return nil, err
	case err != nil:
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unverified) && len(unverified.Note.UnverifiedSigs) > 0 {
			s := unverified.Note.UnverifiedSigs[0]
			return nil, guarantor.Errorf(guarantor.EUnknownKey, "signature", "signer %s+%08x is not a registered key", s.Name, s.Hash)
		}
		return nil, guarantor.Errorf(guarantor.EUnauthorized, "signature", "signatures do not verify: %v", err)
	}
	if len(n.UnverifiedSigs) > 0 {
		s := n.UnverifiedSigs[0]
		return nil, guarantor.Errorf(guarantor.EUnknownKey, "signature", "signer %s+%08x is not a registered key", s.Name, s.Hash)
	}
	vs := make([]note.Verifier, 0, len(n.Sigs))
	for _, s := range n.Sigs {
		v, err := known.Verifier(s.Name, s.Hash)
		if err != nil {
			return nil, fmt.Errorf("verifier vanished for %s: %w", s.Name, err)
		}
		vs = append(vs, v)
	}
	return vs, nil
}

// KeyID returns the "name+hash" identifier of a key, the prefix of its
// verifier string, as used in revocations.
func KeyID(name string, hash uint32) string {
	return fmt.Sprintf("%s+%08x", name, hash)
}

// VKeyID returns the "name+hash" identifier of a verifier key string
// ("name+hash+key"), checking that it parses.
func VKeyID(vkey string) (string, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return "", err
	}
	return KeyID(v.Name(), v.KeyHash()), nil
}

// Decode unmarshals the body strictly into v: unknown fields are rejected.
// Call Validate first for errors that name the field.
func (e *Entry) Decode(v any) error {
	dec := json.NewDecoder(bytes.NewReader(e.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return guarantor.Errorf(guarantor.EInvalid, "body", "%s body: %v", e.Kind, err)
	}
	return nil
}

// DecodeLogged decodes into v the body of raw, a note of the given kind
// already in the log. Its schema was checked when it was accepted, so it
// is not checked again (stores read their entries back this way).
func DecodeLogged(raw []byte, kind Kind, v any) error {
	e, err := Parse(raw)
	if err != nil {
		return err
	}
	if e.Kind != kind {
		return fmt.Errorf("entry is a %s, not a %s", e.Kind, kind)
	}
	return e.Decode(v)
}
