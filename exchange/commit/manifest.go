package commit

import (
	"bytes"
	"fmt"
	"slices"

	"golang.org/x/mod/sumdb/tlog"
)

// Manifest is a sorted list of commitments and its RFC 6962 Merkle tree.
// It is immutable and safe for concurrent use.
type Manifest struct {
	leaves []Commitment // sorted bytewise, distinct
	stored []tlog.Hash  // the tree's hashes in tlog's storage order
	root   tlog.Hash
}

// NewManifest sorts a copy of cs and builds its Merkle tree, each leaf
// being the 32 bytes of a commitment. The order of cs does not matter. It
// fails if a commitment appears twice (the same person committed twice).
func NewManifest(cs []Commitment) (*Manifest, error) {
	m := &Manifest{leaves: slices.Clone(cs)}
	slices.SortFunc(m.leaves, func(a, b Commitment) int { return bytes.Compare(a[:], b[:]) })
	for i := 1; i < len(m.leaves); i++ {
		if m.leaves[i] == m.leaves[i-1] {
			return nil, fmt.Errorf("commit: the list holds one commitment twice (the same record and identity committed twice)")
		}
	}
	m.stored = make([]tlog.Hash, 0, tlog.StoredHashCount(int64(len(m.leaves))))
	for i, c := range m.leaves {
		h, err := tlog.StoredHashes(int64(i), c[:], m.reader())
		if err != nil {
			return nil, fmt.Errorf("commit: build manifest tree: %w", err)
		}
		m.stored = append(m.stored, h...)
	}
	root, err := tlog.TreeHash(m.Len(), m.reader())
	if err != nil {
		return nil, fmt.Errorf("commit: build manifest tree: %w", err)
	}
	m.root = root
	return m, nil
}

func (m *Manifest) reader() tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			if x < 0 || x >= int64(len(m.stored)) {
				return nil, fmt.Errorf("commit: tree hash %d not stored", x)
			}
			out[i] = m.stored[x]
		}
		return out, nil
	})
}

// Len returns the number of commitments, the tree size n.
func (m *Manifest) Len() int64 { return int64(len(m.leaves)) }

// Root returns the RFC 6962 root hash of the sorted commitments (the
// SHA-256 of the empty string for an empty manifest).
func (m *Manifest) Root() tlog.Hash { return m.root }

// Commitments returns the commitments in manifest order, sorted.
func (m *Manifest) Commitments() []Commitment { return slices.Clone(m.leaves) }

// Index returns the position of c in the manifest, and whether it is there.
func (m *Manifest) Index(c Commitment) (int64, bool) {
	i, ok := slices.BinarySearchFunc(m.leaves, c, func(a, b Commitment) int { return bytes.Compare(a[:], b[:]) })
	return int64(i), ok
}

// Prove returns the inclusion proof of the commitment at index i.
func (m *Manifest) Prove(i int64) (tlog.RecordProof, error) {
	if i < 0 || i >= m.Len() {
		return nil, fmt.Errorf("commit: index %d is outside a manifest of %d commitments", i, m.Len())
	}
	p, err := tlog.ProveRecord(m.Len(), i, m.reader())
	if err != nil {
		return nil, fmt.Errorf("commit: prove index %d: %w", i, err)
	}
	return p, nil
}

// Verify checks that proof shows c at index i of the manifest with the
// given root and n commitments. Failures wrap [ErrNotIncluded].
func Verify(root tlog.Hash, n, i int64, c Commitment, proof tlog.RecordProof) error {
	if why := verify(root, n, i, c, proof); why != "" {
		return fmt.Errorf("commit: %w: %s", ErrNotIncluded, why)
	}
	return nil
}

// verify returns why a proof fails, or "".
func verify(root tlog.Hash, n, i int64, c Commitment, proof tlog.RecordProof) string {
	if i < 0 || i >= n {
		return fmt.Sprintf("index %d is outside a manifest of %d commitments", i, n)
	}
	if tlog.CheckRecord(proof, n, root, i, tlog.RecordHash(c[:])) != nil {
		return fmt.Sprintf("the proof does not place the commitment at index %d of a manifest with this root and %d commitments", i, n)
	}
	return ""
}
