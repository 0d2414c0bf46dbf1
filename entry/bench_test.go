package entry_test

import (
	"testing"

	"github.com/guarantor/guarantor/entry"
	"golang.org/x/mod/sumdb/note"
)

// BenchmarkEd25519Open is the baseline: one note signature verified by
// golang.org/x/mod/sumdb/note, on one core.
func BenchmarkEd25519Open(b *testing.B) {
	s, v := newSigner(b, "monitor.bench")
	raw, _ := entry.Sign(entry.KindObservation, []byte(obsBody), s)
	vs := note.VerifierList(v)
	for b.Loop() {
		if _, err := note.Open(raw, vs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseValidateVerify is everything intake does to one entry
// before it reaches the log: strict parse, schema validation, signature.
// Compare with BenchmarkEd25519Open from the same run.
func BenchmarkParseValidateVerify(b *testing.B) {
	s, v := newSigner(b, "monitor.bench")
	raw, _ := entry.Sign(entry.KindObservation, []byte(obsBody), s)
	vs := note.VerifierList(v)
	for b.Loop() {
		e, err := entry.Parse(raw)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.Validate(); err != nil {
			b.Fatal(err)
		}
		if _, err := e.Verify(vs); err != nil {
			b.Fatal(err)
		}
	}
}
