package audit

import (
	"bytes"
	"context"
	"fmt"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/client"
	"golang.org/x/mod/sumdb/note"
)

// Peer is another view of the log to compare the audited checkpoint
// with, to detect a split view: a checkpoint from a second server, a
// mirror, or a file someone was shown.
type Peer struct {
	// Source names where the checkpoint came from, for messages.
	Source string
	// Checkpoint is the signed checkpoint.
	Checkpoint []byte
	// ReadTile reads that source's hash tiles. Optional: without it, a
	// peer checkpoint larger than the audited one is proven consistent
	// from the audited source's tiles, which then must reach its size.
	ReadTile client.TileFetcherFunc
}

// SplitViewError says two checkpoints of the log cannot both be true.
type SplitViewError struct {
	// Source is the peer the audited checkpoint disagrees with.
	Source string
	// Reason says how they disagree.
	Reason string
}

// Error describes the split view.
func (e *SplitViewError) Error() string {
	return fmt.Sprintf("split view: the checkpoint from %s %s", e.Source, e.Reason)
}

// ComparePeer checks that the peer's checkpoint, signed by the log key
// v, and the audited checkpoint cp (whose source's tiles readTile
// reads) are views of one append-only log: same root at the same size,
// else a verifying consistency proof between them. A disagreement is a
// *SplitViewError.
func ComparePeer(ctx context.Context, v note.Verifier, cp *log.Checkpoint, readTile client.TileFetcherFunc, p Peer) error {
	other, _, _, err := log.ParseCheckpoint(p.Checkpoint, v.Name(), v)
	if err != nil {
		return fmt.Errorf("checkpoint from %s does not verify with the log key: %w", p.Source, err)
	}
	small, large, tiles := other, cp, readTile
	if other.Size > cp.Size {
		small, large = cp, other
		if p.ReadTile != nil {
			tiles = p.ReadTile
		}
	}
	switch {
	case small.Size == large.Size:
		if !bytes.Equal(small.Hash, large.Hash) {
			return &SplitViewError{p.Source, fmt.Sprintf("has root %x at size %d, the audited log has root %x", other.Hash, other.Size, cp.Hash)}
		}
		return nil
	case small.Size == 0:
		return nil
	}
	pb, err := client.NewProofBuilder(ctx, large.Size, tiles)
	if err != nil {
		return fmt.Errorf("consistency with %s: read tiles at size %d: %w", p.Source, large.Size, err)
	}
	pr, err := pb.ConsistencyProof(ctx, small.Size, large.Size)
	if err != nil {
		return fmt.Errorf("consistency with %s: build proof %d→%d: %w", p.Source, small.Size, large.Size, err)
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, small.Size, large.Size, pr, small.Hash, large.Hash); err != nil {
		return &SplitViewError{p.Source, fmt.Sprintf("(size %d, root %x) is inconsistent with the audited log (size %d, root %x): the consistency proof fails", other.Size, other.Hash, cp.Size, cp.Hash)}
	}
	return nil
}

// checkWitnessed applies Config.WitnessPolicy and Config.Peers to the
// audited checkpoint.
func checkWitnessed(ctx context.Context, cfg Config, v note.Verifier, cpRaw []byte, cp *log.Checkpoint, readTile client.TileFetcherFunc) error {
	if cfg.WitnessPolicy != nil {
		if err := cfg.WitnessPolicy.Check(cpRaw); err != nil {
			return fmt.Errorf("checkpoint of size %d: %w", cp.Size, err)
		}
	}
	for _, p := range cfg.Peers {
		if err := ComparePeer(ctx, v, cp, readTile, p); err != nil {
			return err
		}
	}
	return nil
}
