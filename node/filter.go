package node

import (
	"context"
	"fmt"
	"sync"

	"github.com/bits-and-blooms/bloom/v3"
)

// seenFilter answers "certainly never applied" for leaf hashes and
// observation keys, so that intake asks the store only about the rare
// entry that may be a duplicate. A false positive costs one store query;
// there are no false negatives, so deduplication stays exact.
type seenFilter struct {
	mu     sync.RWMutex
	leaves *bloom.BloomFilter
	obs    *bloom.BloomFilter
}

// newSeenFilter sizes the filters for the store's current contents with
// room to grow fourfold at a 1% false-positive rate; beyond that the rate
// rises and intake queries the store more often, nothing worse.
func newSeenFilter(ctx context.Context, st Store, applied uint64) (*seenFilter, error) {
	n := uint(max(1<<20, 4*applied))
	f := &seenFilter{leaves: bloom.NewWithEstimates(n, 0.01), obs: bloom.NewWithEstimates(n, 0.01)}
	err := st.Identities(ctx, func(leaf []byte, obsKey string) { f.add(leaf, obsKey) })
	if err != nil {
		return nil, fmt.Errorf("node: build membership filters: %w", err)
	}
	return f, nil
}

func (f *seenFilter) add(leaf []byte, obsKey string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.leaves.Add(leaf)
	if obsKey != "" {
		f.obs.AddString(obsKey)
	}
}

func (f *seenFilter) mayHaveLeaf(leaf []byte) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.leaves.Test(leaf)
}

func (f *seenFilter) mayHaveObservation(key string) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.obs.TestString(key)
}
