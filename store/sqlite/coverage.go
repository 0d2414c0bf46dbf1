package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/store/internal/column"
)

// coverageStmts project coverage snapshots.
type coverageStmts struct {
	coverage *sql.Stmt
}

func (st *coverageStmts) prepareCoverage(prep func(string) *sql.Stmt) {
	st.coverage = prep("INSERT INTO coverage (idx, agreement, month, at) VALUES (?, ?, ?, ?)")
}

func (st *coverageStmts) all() []*sql.Stmt { return []*sql.Stmt{st.coverage} }

// insertCoverage projects the snapshot logged at index.
func (ins *inserter) insertCoverage(ctx context.Context, index uint64, b *entry.Coverage) error {
	if _, err := ins.coverage.ExecContext(ctx, int64(index), b.Agreement, b.Month, column.Time(b.At)); err != nil {
		return fmt.Errorf("coverage of %s %s: %w", b.Agreement, b.Month, err)
	}
	return nil
}

// Coverage returns the latest coverage snapshot of an agreement for a
// month ("" for its latest month), if one is logged.
func (s *Store) Coverage(ctx context.Context, agreement, month string) (node.CoverageRow, bool, error) {
	q := "SELECT c.idx, e.raw FROM coverage c JOIN entries e ON e.idx = c.idx WHERE c.agreement = ? AND c.month = ? ORDER BY c.idx DESC LIMIT 1"
	args := []any{agreement, month}
	if month == "" {
		q = "SELECT c.idx, e.raw FROM coverage c JOIN entries e ON e.idx = c.idx WHERE c.agreement = ? ORDER BY c.month DESC, c.idx DESC LIMIT 1"
		args = args[:1]
	}
	var r node.CoverageRow
	var raw []byte
	err := s.r.QueryRowContext(ctx, q, args...).Scan(&r.Index, &raw)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("sqlite: read coverage of %s: %w", agreement, err)
	}
	if err := entry.DecodeLogged(raw, entry.KindCoverage, &r.Coverage); err != nil {
		return r, false, fmt.Errorf("sqlite: coverage entry %d: %w", r.Index, err)
	}
	return r, true, nil
}
