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
	c := &admitChunk{leaves: map[string]uint64{}, obs: map[string]uint64{}, rejected: map[uint64]string{}, reasons: map[uint64]string{}, from: from}
	for i, raw := range raws {
		rec, err := n.admit(ctx, from+uint64(i), raw, c)
		if err != nil {
			if rerr := n.restore(ctx); rerr != nil {
				return fmt.Errorf("admit entry %d: %w; and restoring the registry failed: %v", from+uint64(i), err, rerr)
			}
			return fmt.Errorf("admit entry %d: %w", from+uint64(i), err)
		}
		recs[i] = rec
		if rec.Rejected != "" {
			c.rejected[rec.Index] = rec.Rejected
		}
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
	for _, r := range c.reasons {
		n.cfg.Metrics.addRejected(r)
	}
	n.setApplied(to)
	n.cfg.Metrics.setApplied(to)
	return nil
}

// admitChunk holds the leaf hashes and observation keys of the records
// admitted so far in one applyRange, which the store does not hold yet.
type admitChunk struct {
	leaves   map[string]uint64 // leaf hash -> first index
	obs      map[string]uint64 // signer NUL observation id -> index
	rejected map[uint64]string // index -> why, for the rejected ones
	reasons  map[uint64]string // index -> metric reason, for the rejected ones
	from     uint64            // the range's first index
}

// admit decides the record for the entry at index, in log order.
//
// The log may hold what this node's intake would have refused, when
// several servers append to it: the same bytes twice, two observations
// with one id from one signer, an entry whose key another server revoked
// just before. Such entries are recorded as rejected, so that every
// projection of the log is the same whichever server wrote what.
//
// Entries checked by this node's intake are not verified again unless the
// registry changed since their check (the gate guarantees it did not,
// unless another server changed it). The registry lock is taken only to
// change the registry or to check an entry from outside. Errors are the
// store's: the range must be admitted again.
func (n *Node) admit(ctx context.Context, index uint64, raw []byte, c *admitChunk) (Record, error) {
	leaf := guarantor.LeafHash(raw)
	rec := Record{Index: index, LeafHash: leaf, Raw: raw}
	n.mu.Lock()
	p := n.inflight[string(leaf)]
	var checked *pending
	if p != nil && p.signers != nil && p.regVersion == n.regVersion.Load() {
		checked = &pending{entry: p.entry, body: p.body, signers: p.signers}
	}
	n.mu.Unlock()

	first, dup, err := n.firstIndex(ctx, leaf, c)
	if err != nil {
		return rec, err
	}
	if !dup {
		c.leaves[string(leaf)] = index
	} else {
		if e, err := entry.Parse(raw); err == nil {
			rec.Kind = e.Kind
			for _, s := range e.Sigs {
				rec.Signers = append(rec.Signers, entry.KeyID(s.Name, s.Hash))
			}
		}
		rec.Rejected = fmt.Sprintf("duplicate of entry %d (the same bytes)", first)
		c.reasons[index] = rejectDuplicate
		if p != nil {
			// These bytes were in flight here while another server logged
			// them first (or this server logged them before a crash): the
			// sender's answer is the first copy's.
			why, err := n.rejectedAt(ctx, first, c)
			if err != nil {
				return rec, err
			}
			n.mu.Lock()
			if p.acceptedAt < 0 && p.rejected == "" {
				if why == "" {
					p.acceptedAt = int64(first)
				} else {
					p.rejected = why
				}
			}
			n.mu.Unlock()
		}
		return rec, nil
	}

	if checked != nil {
		rec.Kind, rec.Body, rec.Signers = checked.entry.Kind, checked.body, checked.signers
		if k := checked.entry.Kind; k == entry.KindKey || k == entry.KindRevocation {
			n.regMu.Lock()
			err := n.reg.Apply(index, checked.entry, checked.body)
			if err == nil {
				n.regVersion.Add(1)
			}
			n.regMu.Unlock()
			if err != nil {
				rec.Body, rec.Rejected = nil, err.Error()
				c.reasons[index] = rejectRegistry
			}
		}
	} else {
		n.regMu.Lock()
		e, body, err := n.reg.Admit(index, raw)
		if err == nil && e != nil && (e.Kind == entry.KindKey || e.Kind == entry.KindRevocation) {
			n.regVersion.Add(1)
		}
		n.regMu.Unlock()
		if e != nil {
			rec.Kind = e.Kind
			for _, s := range e.Sigs {
				rec.Signers = append(rec.Signers, entry.KeyID(s.Name, s.Hash))
			}
		}
		if err != nil {
			rec.Rejected = err.Error()
			c.reasons[index] = rejectRegistry
			if p == nil {
				n.cfg.Logger.Error("log entry fails the registry rules on replay", "index", index, "err", err)
			}
		} else {
			rec.Body = body
		}
	}
	if ob, ok := rec.Body.(*entry.Observation); ok && rec.Rejected == "" {
		key := rec.Signers[0] + "\x00" + ob.ID
		prev, taken := c.obs[key]
		if !taken && n.seen.mayHaveObservation(key) {
			idx, _, ok, err := n.store.ObservationByID(ctx, rec.Signers[0], ob.ID)
			if err != nil {
				return rec, fmt.Errorf("look up observation %q: %w", ob.ID, err)
			}
			prev, taken = idx, ok
		}
		if taken {
			rec.Body, rec.Rejected = nil, fmt.Sprintf("observation id %q from %s is already logged at index %d", ob.ID, rec.Signers[0], prev)
			c.reasons[index] = rejectObservationID
		} else {
			c.obs[key] = index
		}
	}
	if p != nil {
		n.mu.Lock()
		if p.acceptedAt < 0 {
			if rec.Rejected == "" {
				p.acceptedAt = int64(index)
			} else {
				p.rejected = rec.Rejected
			}
		}
		n.mu.Unlock()
	}
	return rec, nil
}

// rejectedAt says why the entry at index (before the one being admitted)
// was rejected, or "" if it was accepted.
func (n *Node) rejectedAt(ctx context.Context, index uint64, c *admitChunk) (string, error) {
	if index >= c.from { // admitted in this range, not yet stored
		return c.rejected[index], nil
	}
	rec, ok, err := n.store.Entry(ctx, index)
	if err != nil {
		return "", fmt.Errorf("read entry %d: %w", index, err)
	}
	if !ok {
		return "", fmt.Errorf("entry %d is not in the projection", index)
	}
	return rec.Rejected, nil
}

// firstIndex returns the index where the log first holds these bytes,
// if it holds them before.
func (n *Node) firstIndex(ctx context.Context, leaf []byte, c *admitChunk) (uint64, bool, error) {
	if i, ok := c.leaves[string(leaf)]; ok {
		return i, true, nil
	}
	if !n.seen.mayHaveLeaf(leaf) {
		return 0, false, nil
	}
	i, ok, err := n.store.IndexByLeafHash(ctx, leaf)
	if err != nil {
		return 0, false, fmt.Errorf("look up leaf hash: %w", err)
	}
	return i, ok, nil
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
