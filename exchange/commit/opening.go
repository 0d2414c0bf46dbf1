package commit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"golang.org/x/mod/sumdb/tlog"
)

// OpeningVersion is the version of the Opening format.
const OpeningVersion = 1

// Opening is what the verifier gives one family: enough to recompute their
// relative's commitment and check that it is in a published manifest. Its
// JSON form is
//
//	{"version":1,"record_id":"…","key":"<64 hex>","manifest":"…",
//	 "index":17,"commitment":"<64 hex>","proof":["<base64>",…]}
//
// The root and size it is checked against come from the log, not from the
// opening. The JSON holds k_p, so it is for the family only; the Opening
// itself prints and logs without the key.
type Opening struct {
	// Version is OpeningVersion.
	Version int `json:"version"`
	// RecordID is the registry's id of the person's record.
	RecordID string `json:"record_id"`
	// Key is the person key k_p.
	Key PersonKey `json:"key"`
	// Manifest names the published manifest, for example its log entry.
	Manifest string `json:"manifest"`
	// Index is the commitment's position in the sorted manifest.
	Index int64 `json:"index"`
	// Commitment is the commitment at Index (public in the manifest); it
	// lets Check tell a mistyped identity from a failing proof.
	Commitment Commitment `json:"commitment"`
	// Proof is the RFC 6962 inclusion proof of Index.
	Proof tlog.RecordProof `json:"proof"`
}

// Open returns the opening of id's commitment in manifest m, published as
// manifest. It fails with [ErrNotIncluded] if the commitment is not in m.
func (c *Committer) Open(id Identity, m *Manifest, manifest string) (Opening, error) {
	k := c.PersonKey(id.RecordID)
	cm, err := k.Commit(id)
	if err != nil {
		return Opening{}, err
	}
	i, ok := m.Index(cm)
	if !ok {
		return Opening{}, fmt.Errorf("commit: this identity's commitment is not in the manifest: %w", ErrNotIncluded)
	}
	proof, err := m.Prove(i)
	if err != nil {
		return Opening{}, err
	}
	return Opening{
		Version:    OpeningVersion,
		RecordID:   id.RecordID,
		Key:        k,
		Manifest:   manifest,
		Index:      i,
		Commitment: cm,
		Proof:      proof,
	}, nil
}

// ParseOpening decodes the JSON form of an opening, rejecting unknown
// fields, other versions and missing fields. Its errors do not quote the
// key.
func ParseOpening(data []byte) (Opening, error) {
	var o Opening
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&o); err != nil {
		return Opening{}, fmt.Errorf("commit: opening is not in the opening format: %w", redactJSON(err))
	}
	if d.More() {
		return Opening{}, errors.New("commit: opening has data after the JSON object")
	}
	switch {
	case o.Version != OpeningVersion:
		return Opening{}, fmt.Errorf("commit: opening version %d, want %d", o.Version, OpeningVersion)
	case o.RecordID == "":
		return Opening{}, errors.New("commit: opening has no record_id")
	case o.Key == PersonKey{}:
		return Opening{}, errors.New("commit: opening has no key")
	case o.Commitment == Commitment{}:
		return Opening{}, errors.New("commit: opening has no commitment")
	case o.Index < 0:
		return Opening{}, fmt.Errorf("commit: opening has a negative index")
	}
	return o, nil
}

// redactJSON keeps the kind of a JSON error but not the input it quotes.
func redactJSON(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Errorf("field %q has the wrong type", te.Field)
	}
	// The remaining errors (unknown field, and those of UnmarshalText of
	// keys, commitments and hashes) name fields or lengths only.
	return err
}

// Check verifies an opening for a family: that id, with the opening's key,
// gives the opening's commitment, and that the commitment is at the
// opening's index in the manifest with the given root and n commitments,
// which the caller takes from the log. If id.RecordID is empty the
// opening's is used.
//
// It fails with [ErrInvalidIdentity], with [ErrMismatch] (a mistyped name
// or date, or a wrong key), or with [ErrNotIncluded] (the commitment is not
// in that manifest). Errors never quote id or the key.
func Check(o Opening, id Identity, root tlog.Hash, n int64) error {
	if o.Version != OpeningVersion {
		return fmt.Errorf("commit: opening version %d, want %d", o.Version, OpeningVersion)
	}
	if id.RecordID == "" {
		id.RecordID = o.RecordID
	} else if id.RecordID != o.RecordID {
		return fmt.Errorf("commit: the record id differs from the opening's: %w", ErrMismatch)
	}
	c, err := o.Key.Commit(id)
	if err != nil {
		return err
	}
	if c != o.Commitment {
		return fmt.Errorf("commit: %w: the name, patronymic and date of birth entered, with this opening's key, do not give the opening's commitment (check their spelling against the registry's, and the key)", ErrMismatch)
	}
	if why := verify(root, n, o.Index, c, o.Proof); why != "" {
		return fmt.Errorf("commit: the identity matches the opening, but %w against manifest %q: %s", ErrNotIncluded, o.Manifest, why)
	}
	return nil
}

// String describes the opening by manifest and index, without its key.
func (o Opening) String() string {
	return fmt.Sprintf("commit.Opening(manifest %q, index %d)", o.Manifest, o.Index)
}

// Format prints [Opening.String] under every verb.
func (o Opening) Format(f fmt.State, verb rune) { fmt.Fprint(f, o.String()) }

// LogValue logs the manifest and index only.
func (o Opening) LogValue() slog.Value {
	return slog.GroupValue(slog.String("manifest", o.Manifest), slog.Int64("index", o.Index))
}
