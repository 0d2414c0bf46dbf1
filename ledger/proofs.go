package ledger

import (
	"context"
	"fmt"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/api"
	"github.com/transparency-dev/tessera/api/layout"
	"github.com/transparency-dev/tessera/client"
)

// nodeHashes serves Merkle node hashes for inclusion proofs from the log's
// tiles. Every hash a tile stores, and every node above them, is the root
// of a complete subtree, which never changes as the log grows; so they are
// kept in a bounded cache shared by all tree sizes. Tessera's
// client.ProofBuilder recomputes them for each proof, which at thousands
// of receipts a second costs a third of the server's CPU.
type nodeHashes struct {
	readTile client.TileFetcherFunc
	cache    *lru.Cache[compact.NodeID, []byte]
}

func newNodeHashes(read client.TileFetcherFunc, size int) *nodeHashes {
	c, _ := lru.New[compact.NodeID, []byte](size)
	return &nodeHashes{readTile: read, cache: c}
}

// inclusionProof returns the proof for leaf index in the tree of size.
func (n *nodeHashes) inclusionProof(ctx context.Context, index, size uint64) ([][]byte, error) {
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, err
	}
	hashes := make([][]byte, 0, len(nodes.IDs))
	for _, id := range nodes.IDs {
		h, err := n.node(ctx, id, size)
		if err != nil {
			return nil, fmt.Errorf("node %+v: %w", id, err)
		}
		hashes = append(hashes, h)
	}
	return nodes.Rehash(hashes, rfc6962.DefaultHasher.HashChildren)
}

// node returns the hash of the complete subtree id in a tree of at least
// size leaves.
func (n *nodeHashes) node(ctx context.Context, id compact.NodeID, size uint64) ([]byte, error) {
	if h, ok := n.cache.Get(id); ok {
		return h, nil
	}
	if id.Level%layout.TileHeight != 0 {
		l, err := n.node(ctx, compact.NewNodeID(id.Level-1, 2*id.Index), size)
		if err != nil {
			return nil, err
		}
		r, err := n.node(ctx, compact.NewNodeID(id.Level-1, 2*id.Index+1), size)
		if err != nil {
			return nil, err
		}
		h := rfc6962.DefaultHasher.HashChildren(l, r)
		n.cache.Add(id, h)
		return h, nil
	}
	// A node stored in a tile: read the tile and keep all its hashes.
	tileLevel, tileIndex, _, pos := layout.NodeCoordsToTileAddress(uint64(id.Level), id.Index)
	raw, err := n.readTile(ctx, tileLevel, tileIndex, layout.PartialTileSize(tileLevel, tileIndex, size))
	if err != nil {
		return nil, fmt.Errorf("read tile %d/%d: %w", tileLevel, tileIndex, err)
	}
	var t api.HashTile
	if err := t.UnmarshalText(raw); err != nil {
		return nil, fmt.Errorf("parse tile %d/%d: %w", tileLevel, tileIndex, err)
	}
	if pos >= uint64(len(t.Nodes)) {
		return nil, fmt.Errorf("tile %d/%d has %d hashes, need %d", tileLevel, tileIndex, len(t.Nodes), pos+1)
	}
	first := tileIndex * layout.TileWidth
	for i, h := range t.Nodes {
		n.cache.Add(compact.NewNodeID(id.Level, first+uint64(i)), h)
	}
	return t.Nodes[pos], nil
}
