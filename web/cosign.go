package web

import (
	"errors"
	"fmt"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
)

// Log signature states (checkpointSigs).
const (
	sigVerified  = "verified"  // verified with the log's key
	sigInvalid   = "invalid"   // does not verify with the log's key
	sigUnchecked = "unchecked" // the page has no key to check it with
)

// checkpointSig is one signature line of a signed checkpoint.
type checkpointSig struct {
	Name     string
	KeyHash  string    // the key hash of the line, 8 hex digits
	Cosigned time.Time // a cosignature/v1's timestamp; zero for any other signature
}

// checkpointSigs reads the signature lines of the signed checkpoint cp:
// the log's, the one by logV's key (or the first line when logV is nil),
// with its state (sigVerified, sigInvalid or sigUnchecked), and the
// others, which the page cannot verify: it does not know the witnesses'
// keys. logSig is nil when no line is the log's.
func checkpointSigs(cp []byte, logV note.Verifier) (logSig *checkpointSig, state string, others []checkpointSig, err error) {
	// With no known key, note.Open parses every line as unverified.
	_, err = note.Open(cp, note.VerifierList())
	var unverified *note.UnverifiedNoteError
	if !errors.As(err, &unverified) {
		return nil, "", nil, fmt.Errorf("checkpoint signatures: %w", err)
	}
	state = sigUnchecked
	if logV != nil {
		_, err := note.Open(cp, note.VerifierList(logV))
		var invalid *note.InvalidSignatureError
		switch {
		case err == nil:
			state = sigVerified
		case errors.As(err, &invalid):
			state = sigInvalid
		}
	}
	for i, s := range unverified.Note.UnverifiedSigs {
		cs := checkpointSig{Name: s.Name, KeyHash: fmt.Sprintf("%08x", s.Hash)}
		if logSig == nil && (logV == nil && i == 0 || logV != nil && s.Name == logV.Name() && s.Hash == logV.KeyHash()) {
			logSig = &cs
			continue
		}
		// Only a cosignature/v1 has the length CoSigV1Timestamp accepts.
		if ts, err := fnote.CoSigV1Timestamp(s); err == nil {
			cs.Cosigned = ts
		}
		others = append(others, cs)
	}
	return logSig, state, others, nil
}
