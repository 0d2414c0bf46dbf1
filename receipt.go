package guarantor

import (
	"bytes"
	"fmt"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// Receipt is the proof a submitter keeps that its entry is in the log: the
// entry's index and leaf hash, a checkpoint signed by the log that covers
// it, and the inclusion proof of the leaf in that checkpoint's tree. It
// verifies offline with nothing but the log's verifier key.
type Receipt struct {
	Index          uint64   `json:"index"`
	LeafHash       []byte   `json:"leaf_hash"`
	Checkpoint     string   `json:"checkpoint"`
	InclusionProof [][]byte `json:"inclusion_proof"`
}

// LeafHash returns the RFC 6962 leaf hash of an entry's bytes.
func LeafHash(entry []byte) []byte {
	return rfc6962.DefaultHasher.HashLeaf(entry)
}

// Verify checks that the receipt proves entry is in the log whose
// checkpoints logVerifier signs. It returns the verified checkpoint.
func (r *Receipt) Verify(logVerifier note.Verifier, entry []byte) (*log.Checkpoint, error) {
	cp, _, _, err := log.ParseCheckpoint([]byte(r.Checkpoint), logVerifier.Name(), logVerifier)
	if err != nil {
		return nil, fmt.Errorf("checkpoint does not verify with log key %s: %w", logVerifier.Name(), err)
	}
	leaf := LeafHash(entry)
	if !bytes.Equal(leaf, r.LeafHash) {
		return nil, fmt.Errorf("leaf hash in receipt %x does not match the entry's %x", r.LeafHash, leaf)
	}
	if r.Index >= cp.Size {
		return nil, fmt.Errorf("index %d is not covered by the checkpoint of size %d", r.Index, cp.Size)
	}
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, r.Index, cp.Size, leaf, r.InclusionProof, cp.Hash); err != nil {
		return nil, fmt.Errorf("inclusion proof of index %d in tree of size %d: %w", r.Index, cp.Size, err)
	}
	return cp, nil
}
