package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/store/internal/column"
	"github.com/jackc/pgx/v5"
)

// insertCoverage projects the snapshot logged at index.
func (ins *inserter) insertCoverage(index uint64, b *entry.Coverage) {
	ins.exec(fmt.Sprintf("coverage of %s %s", b.Agreement, b.Month), "INSERT INTO coverage (idx, agreement, month, at) VALUES ($1, $2, $3, $4)",
		int64(index), b.Agreement, b.Month, column.Time(b.At))
}

// Coverage returns the latest coverage snapshot of an agreement for a
// month ("" for its latest month), if one is logged.
func (s *Store) Coverage(ctx context.Context, agreement, month string) (node.CoverageRow, bool, error) {
	q := "SELECT c.idx, e.raw FROM coverage c JOIN entries e ON e.idx = c.idx WHERE c.agreement = $1 AND c.month = $2 ORDER BY c.idx DESC LIMIT 1"
	args := []any{agreement, month}
	if month == "" {
		q = "SELECT c.idx, e.raw FROM coverage c JOIN entries e ON e.idx = c.idx WHERE c.agreement = $1 ORDER BY c.month DESC, c.idx DESC LIMIT 1"
		args = args[:1]
	}
	var r node.CoverageRow
	var idx int64
	var raw []byte
	err := s.pool.QueryRow(ctx, q, dbArgs(args)...).Scan(&idx, &raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("postgres: read coverage of %s: %w", agreement, err)
	}
	r.Index = uint64(idx)
	if err := entry.DecodeLogged(raw, entry.KindCoverage, &r.Coverage); err != nil {
		return r, false, fmt.Errorf("postgres: coverage entry %d: %w", r.Index, err)
	}
	return r, true, nil
}
