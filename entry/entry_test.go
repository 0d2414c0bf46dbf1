package entry_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"golang.org/x/mod/sumdb/note"
)

func newSigner(tb testing.TB, name string) (note.Signer, note.Verifier) {
	tb.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		tb.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		tb.Fatal(err)
	}
	return s, v
}

const obsBody = `{"id":"o-1","observed_at":"2025-03-01T18:30:00Z","location":{"type":"Point","coordinates":[38.0324,48.4196]},"category":"shelling","count":12,"source_type":"patrol"}`

func TestSignParseVerify(t *testing.T) {
	s, v := newSigner(t, "monitor.team-1")
	raw, err := entry.Sign(entry.KindObservation, []byte(obsBody), s)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.SplitN(string(raw), "\n", 2)[0], "guarantor.v1/observation"; got != want {
		t.Fatalf("first line = %q, want %q", got, want)
	}
	e, err := entry.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if e.Kind != entry.KindObservation || string(e.Body) != obsBody {
		t.Fatalf("parsed kind %q body %s", e.Kind, e.Body)
	}
	body, err := e.Validate()
	if err != nil {
		t.Fatal(err)
	}
	ob := body.(*entry.Observation)
	if ob.ID != "o-1" || *ob.Count != 12 || ob.Location.Coordinates != [2]float64{38.0324, 48.4196} {
		t.Fatalf("decoded %+v", ob)
	}
	vs, err := e.Verify(note.VerifierList(v))
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 || vs[0].Name() != "monitor.team-1" {
		t.Fatalf("verifiers = %v", vs)
	}
}

func TestCosign(t *testing.T) {
	a, av := newSigner(t, "party.UA")
	b, bv := newSigner(t, "party.RU")
	raw, err := entry.Sign(entry.KindObservation, []byte(obsBody), a)
	if err != nil {
		t.Fatal(err)
	}
	both, err := entry.Cosign(raw, b)
	if err != nil {
		t.Fatal(err)
	}
	e, err := entry.Parse(both)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := e.Verify(note.VerifierList(av, bv))
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || vs[0].Name() != "party.UA" || vs[1].Name() != "party.RU" {
		t.Fatalf("signers = %v, want party.UA then party.RU", vs)
	}
	// A signature nobody can check is refused, even next to a good one.
	if _, err := e.Verify(note.VerifierList(av)); guarantor.ErrorCode(err) != guarantor.EUnknownKey {
		t.Fatalf("verify with one key unknown: err = %v, want code %s", err, guarantor.EUnknownKey)
	}
}

func TestParseRejects(t *testing.T) {
	s, _ := newSigner(t, "m")
	sign := func(text string) []byte {
		raw, err := note.Sign(&note.Note{Text: text}, s)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	good, err := entry.Sign(entry.KindObservation, []byte(obsBody), s)
	if err != nil {
		t.Fatal(err)
	}
	sigLine := string(good[strings.Index(string(good), "\n\n")+2:])
	tests := []struct {
		name  string
		raw   []byte
		code  string
		field string
	}{
		{"not a note", []byte("hello\n"), guarantor.EInvalid, ""},
		{"no signature", []byte("guarantor.v1/observation\n" + obsBody + "\n\n"), guarantor.EInvalid, ""},
		{"wrong prefix", sign("other.v1/observation\n" + obsBody + "\n"), guarantor.EInvalid, "kind"},
		{"unknown kind", sign("guarantor.v1/frobnicate\n" + obsBody + "\n"), guarantor.EUnsupported, "kind"},
		{"three lines", sign("guarantor.v1/observation\n" + obsBody + "\nextra\n"), guarantor.EInvalid, "body"},
		{"not json", sign("guarantor.v1/observation\n{nope\n"), guarantor.EInvalid, "body"},
		{"not compact", sign("guarantor.v1/observation\n{\"id\": \"x\"}\n"), guarantor.EInvalid, "body"},
		{"array body", sign("guarantor.v1/observation\n[1,2]\n"), guarantor.EInvalid, "body"},
		{"repeated signature", append(append([]byte{}, good...), sigLine...), guarantor.EInvalid, "signature"},
		{"non-canonical base64", nonCanonical(good), guarantor.EInvalid, "signature"},
		{"too large", sign("guarantor.v1/observation\n{\"text\":\"" + strings.Repeat("a", entry.MaxSize) + "\"}\n"), guarantor.ETooLarge, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := entry.Parse(tt.raw)
			var ge *guarantor.Error
			if !errors.As(err, &ge) {
				t.Fatalf("err = %v, want a *guarantor.Error", err)
			}
			if ge.Code != tt.code || ge.Field != tt.field {
				t.Fatalf("code, field = %q, %q; want %q, %q (%v)", ge.Code, ge.Field, tt.code, tt.field, err)
			}
		})
	}
}

func TestValidateNamesTheField(t *testing.T) {
	s, _ := newSigner(t, "m")
	tests := []struct {
		kind  entry.Kind
		body  string
		field string
	}{
		{entry.KindObservation, `{"observed_at":"2025-03-01T18:30:00Z","location":{"type":"Point","coordinates":[38,48]},"category":"shelling"}`, "/id"},
		{entry.KindObservation, `{"id":"a","observed_at":"yesterday","location":{"type":"Point","coordinates":[38,48]},"category":"shelling"}`, "/observed_at"},
		{entry.KindObservation, `{"id":"a","observed_at":"2025-03-01T18:30:00Z","location":{"type":"Point","coordinates":[38,98]},"category":"shelling"}`, "/location/coordinates/1"},
		{entry.KindObservation, `{"id":"a","observed_at":"2025-03-01T18:30:00Z","location":{"type":"Point","coordinates":[38,48]},"category":"picnic"}`, "/category"},
		{entry.KindObservation, `{"id":"a","observed_at":"2025-03-01T18:30:00Z","location":{"type":"Point","coordinates":[38,48]},"category":"shelling","colour":"red"}`, "/colour"},
		{entry.KindObservation, `{"id":"a","observed_at":"2025-03-01T18:30:00Z","location":{"type":"Point","coordinates":[38,48]},"category":"shelling","evidence":[{"sha256":"xyz","media_type":"image/jpeg"}]}`, "/evidence/0/sha256"},
		{entry.KindKey, `{"vkey":"nonsense","role":"monitor","not_before":"2025-01-01T00:00:00Z","not_after":"2026-01-01T00:00:00Z"}`, "/vkey"},
		{entry.KindKey, `{"vkey":"VKEY","role":"emperor","not_before":"2025-01-01T00:00:00Z","not_after":"2026-01-01T00:00:00Z"}`, "/role"},
		{entry.KindKey, `{"vkey":"VKEY","role":"monitor","not_before":"2026-01-01T00:00:00Z","not_after":"2025-01-01T00:00:00Z"}`, "/not_after"},
		{entry.KindRevocation, `{"key":"m+1234","reason":"lost","effective":"2025-01-01T00:00:00Z"}`, "/key"},
	}
	_, vkey, _ := note.GenerateKey(rand.Reader, "k")
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			raw, err := entry.Sign(tt.kind, []byte(strings.ReplaceAll(tt.body, "VKEY", vkey)), s)
			if err != nil {
				t.Fatal(err)
			}
			e, err := entry.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.Validate()
			var ge *guarantor.Error
			if !errors.As(err, &ge) || ge.Code != guarantor.EInvalid {
				t.Fatalf("err = %v, want an invalid error", err)
			}
			if ge.Field != tt.field {
				t.Fatalf("field = %q, want %q (%v)", ge.Field, tt.field, err)
			}
		})
	}
}

func TestSchemasPublished(t *testing.T) {
	for _, k := range entry.KindNames() {
		if b, ok := entry.Schema(entry.Kind(k)); !ok || !strings.Contains(string(b), "2020-12") {
			t.Errorf("schema for %s missing or not draft 2020-12", k)
		}
	}
}

// FuzzParse checks that Parse never panics and that whatever it accepts
// re-encodes to the same text.
func FuzzParse(f *testing.F) {
	s, _ := newSigner(f, "fuzz")
	good, _ := entry.Sign(entry.KindObservation, []byte(obsBody), s)
	f.Add(good)
	f.Add([]byte("guarantor.v1/key\n{}\n\n— x AAAA\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, err := entry.Parse(raw)
		if err != nil {
			return
		}
		text, err := entry.Encode(e.Kind, e.Body)
		if err != nil {
			t.Fatalf("accepted entry does not re-encode: %v", err)
		}
		if text != e.Text {
			t.Fatalf("re-encoded %q, parsed %q", text, e.Text)
		}
		_, _ = e.Validate()
	})
}

// FuzzValidate checks that body validation never panics on any JSON.
func FuzzValidate(f *testing.F) {
	s, _ := newSigner(f, "fuzz")
	f.Add(obsBody, "observation")
	f.Add(`{"vkey":"a+b+c","role":"party:UA","not_before":"2025-01-01T00:00:00Z","not_after":"2026-01-01T00:00:00Z"}`, "key")
	f.Add(`{"key":"a+01234567","reason":"x","effective":"2025-01-01T00:00:00Z"}`, "revocation")
	f.Fuzz(func(t *testing.T, body, kind string) {
		raw, err := entry.Sign(entry.Kind(kind), []byte(body), s)
		if err != nil {
			return
		}
		e, err := entry.Parse(raw)
		if err != nil {
			return
		}
		if _, err := e.Validate(); err != nil && guarantor.ErrorCode(err) == guarantor.EInternal {
			t.Fatalf("validation failed without a code: %v", err)
		}
	})
}

// nonCanonical flips the unused low bits of the signature's last base64
// character: the bytes decode the same, the encoding differs.
func nonCanonical(raw []byte) []byte {
	out := bytes.Clone(raw)
	i := bytes.LastIndexByte(out[:len(out)-1], '=') - 1 // last data character before the padding
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	v := strings.IndexByte(alphabet, out[i])
	out[i] = alphabet[v^1]
	return out
}
