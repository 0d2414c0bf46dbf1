package sqlite

import (
	"context"
	"fmt"

	"github.com/guarantor/guarantor/node"
)

// Records calls fn with every applied entry in [from, to), in log order,
// decoded as Entry decodes it. Rows are read in pages so that no read
// transaction stays open while fn runs.
func (s *Store) Records(ctx context.Context, from, to uint64, fn func(node.Record) error) error {
	const page = 1024
	for from < to {
		recs, err := s.recordPage(ctx, from, min(to, from+page))
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			return nil
		}
		for _, rec := range recs {
			if err := fn(rec); err != nil {
				return err
			}
		}
		from = recs[len(recs)-1].Index + 1
	}
	return nil
}

func (s *Store) recordPage(ctx context.Context, from, to uint64) ([]node.Record, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT idx, leaf_hash, kind, signers, raw, rejected FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx", int64(from), int64(to))
	if err != nil {
		return nil, fmt.Errorf("sqlite: read entries [%d, %d): %w", from, to, err)
	}
	defer rows.Close()
	var out []node.Record
	for rows.Next() {
		rec, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: read entries [%d, %d): %w", from, to, err)
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read entries [%d, %d): %w", from, to, err)
	}
	return out, nil
}
