package commit

import (
	"encoding/hex"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// CheckPublished is a family's whole check against a published batch:
// the batch's commitments (hex, in any order) must rebuild the Merkle root
// the log names (hex), and then o must open id's commitment at its place
// in them (see Check). It learns nothing about anyone else in the batch.
func CheckPublished(o Opening, id Identity, commitments []string, root string) error {
	cs := make([]Commitment, len(commitments))
	for i, s := range commitments {
		c, err := ParseCommitment(s)
		if err != nil {
			return fmt.Errorf("commit: published commitment %d: %w", i, err)
		}
		cs[i] = c
	}
	m, err := NewManifest(cs)
	if err != nil {
		return fmt.Errorf("commit: published batch: %w", err)
	}
	got := m.Root()
	if hex.EncodeToString(got[:]) != root {
		return fmt.Errorf("commit: the published commitments rebuild root %x, not the logged %s: this is not the logged batch", got[:], root)
	}
	return Check(o, id, tlog.Hash(got), m.Len())
}
