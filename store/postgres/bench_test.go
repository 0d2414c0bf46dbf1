package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/store/storetest"
)

// BenchmarkApply applies batches of 1,000 observations, as the follower
// does under sustained load, to a growing SQLite projection (a file, WAL,
// synchronous=NORMAL) and a growing PostgreSQL projection (the server's
// durability settings), alternately in the same run, and reports each
// store's rate and the ratio of their times (postgres/sqlite: above 1,
// PostgreSQL is slower). The entries are signed once; each batch gets
// fresh indexes, leaf hashes and ids.
func BenchmarkApply(b *testing.B) {
	ctx := context.Background()
	const batch = 1000
	serverDSN(b)
	recs := storetest.Observations(b, batch)
	head, tmpl := recs[:2], recs[2:]
	stores := []struct {
		name string
		s    node.Store
		took time.Duration
	}{{"sqlite", openSQLite(b), 0}, {"postgres", open(b), 0}}
	for _, st := range stores {
		apply(b, st.s, head)
	}
	next := uint64(len(head))
	batchRecs := make([]node.Record, batch)
	n := 0
	for b.Loop() {
		b.StopTimer()
		for j, r := range tmpl {
			ob := *r.Body.(*entry.Observation)
			ob.ID = fmt.Sprintf("b-%d", next)
			var seed [8]byte
			binary.BigEndian.PutUint64(seed[:], next)
			leaf := sha256.Sum256(seed[:])
			r.Index, r.LeafHash, r.Body = next, leaf[:], &ob
			batchRecs[j] = r
			next++
		}
		b.StartTimer()
		for i := range stores {
			start := time.Now()
			if err := stores[i].s.Apply(ctx, batchRecs); err != nil {
				b.Fatal(err)
			}
			stores[i].took += time.Since(start)
		}
		n += batch
	}
	for _, st := range stores {
		b.ReportMetric(float64(n)/st.took.Seconds(), st.name+"-entries/s")
	}
	b.ReportMetric(stores[1].took.Seconds()/stores[0].took.Seconds(), "postgres/sqlite")
}
