package node

import (
	"context"
	"fmt"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
)

// followChunk is the most entries applied to the projection in one
// transaction.
const followChunk = 2048

// follow applies newly integrated entries to the registry and the
// projection, in log order, until ctx ends.
func (n *Node) follow(ctx context.Context) {
	defer close(n.stopped)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.nudge:
		case <-t.C:
		}
		if err := n.catchUp(ctx); err != nil && ctx.Err() == nil {
			n.cfg.Logger.Error("projection follower", "err", err)
		}
	}
}

// kick asks the follower to look for new entries.
func (n *Node) kick() {
	select {
	case n.nudge <- struct{}{}:
	default:
	}
}

// catchUp applies every integrated entry not yet in the projection.
func (n *Node) catchUp(ctx context.Context) error {
	n.followMu.Lock()
	defer n.followMu.Unlock()
	size, err := n.log.IntegratedSize(ctx)
	if err != nil {
		return fmt.Errorf("read integrated size: %w", err)
	}
	for from := n.applied.Load(); from < size; from = n.applied.Load() {
		to := min(size, from+followChunk)
		if err := n.applyRange(ctx, from, to); err != nil {
			return err
		}
	}
	return nil
}

// applyRange applies entries [from, to) to the registry and, in one
// transaction, to the store. If the store refuses, the registry is
// restored from the store so the two never disagree.
func (n *Node) applyRange(ctx context.Context, from, to uint64) error {
	raws := make([][]byte, 0, to-from)
	for ent, err := range n.log.Entries(ctx, from, to) {
		if err != nil {
			return fmt.Errorf("read entries [%d, %d): %w", from, to, err)
		}
		raws = append(raws, ent.Entry)
	}
	if uint64(len(raws)) != to-from {
		return fmt.Errorf("read entries [%d, %d): got %d", from, to, len(raws))
	}
	recs := make([]Record, len(raws))
	for i, raw := range raws {
		recs[i] = n.admit(from+uint64(i), raw)
	}
	if err := n.store.Apply(ctx, recs); err != nil {
		if rerr := n.restore(ctx); rerr != nil {
			return fmt.Errorf("apply entries [%d, %d): %w; and restoring the registry failed: %v", from, to, err, rerr)
		}
		return fmt.Errorf("apply entries [%d, %d): %w", from, to, err)
	}
	for _, r := range recs {
		obsKey := ""
		if ob, ok := r.Body.(*entry.Observation); ok {
			obsKey = r.Signers[0] + "\x00" + ob.ID
		}
		n.seen.add(r.LeafHash, obsKey)
		if n.engine != nil {
			n.engine.feed(r, n.cfg.Metrics)
		}
	}
	n.setApplied(to)
	n.cfg.Metrics.setApplied(to)
	return nil
}

// admit decides the record for the entry at index, in log order. Entries
// checked by this node's intake are not verified again: the gate
// guarantees the registry has not changed in between. The registry lock
// is taken only to change the registry or to check an entry from outside.
func (n *Node) admit(index uint64, raw []byte) Record {
	leaf := guarantor.LeafHash(raw)
	rec := Record{Index: index, LeafHash: leaf, Raw: raw}
	var checked *pending
	n.mu.Lock()
	if p := n.inflight[string(leaf)]; p != nil && p.signers != nil {
		checked = &pending{entry: p.entry, body: p.body, signers: p.signers}
	}
	n.mu.Unlock()
	if checked != nil {
		rec.Kind, rec.Body, rec.Signers = checked.entry.Kind, checked.body, checked.signers
		if k := checked.entry.Kind; k != entry.KindKey && k != entry.KindRevocation {
			return rec
		}
		n.regMu.Lock()
		defer n.regMu.Unlock()
		if err := n.reg.Apply(index, checked.entry, checked.body); err != nil {
			rec.Body, rec.Rejected = nil, err.Error()
		}
		return rec
	}
	n.regMu.Lock()
	e, body, err := n.reg.Admit(index, raw)
	n.regMu.Unlock()
	if e != nil {
		rec.Kind = e.Kind
		for _, s := range e.Sigs {
			rec.Signers = append(rec.Signers, entry.KeyID(s.Name, s.Hash))
		}
	}
	if err != nil {
		rec.Rejected = err.Error()
		n.cfg.Logger.Error("log entry fails the registry rules on replay", "index", index, "err", err)
		return rec
	}
	rec.Body = body
	return rec
}

func (n *Node) setApplied(v uint64) {
	n.appliedMu.Lock()
	defer n.appliedMu.Unlock()
	if v <= n.applied.Load() && v != 0 {
		return
	}
	n.applied.Store(v)
	close(n.appliedCh)
	n.appliedCh = make(chan struct{})
}

// waitApplied blocks until the projection holds at least size entries.
func (n *Node) waitApplied(ctx context.Context, size uint64) error {
	for {
		n.appliedMu.Lock()
		ch := n.appliedCh
		n.appliedMu.Unlock()
		if n.applied.Load() >= size {
			return nil
		}
		n.kick()
		select {
		case <-ch:
		case <-n.stopped:
			return fmt.Errorf("node stopped before entry %d was applied", size-1)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
