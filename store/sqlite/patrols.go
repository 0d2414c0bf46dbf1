package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/guarantor/guarantor/node"

	"github.com/guarantor/guarantor/store/internal/column"
)

// patrolStmts project patrol plans and reports.
type patrolStmts struct {
	patrol *sql.Stmt
}

func (st *patrolStmts) preparePatrols(prep func(string) *sql.Stmt) {
	st.patrol = prep("INSERT INTO patrol_entries (idx, kind, id, plan, from_at, to_at) VALUES (?, ?, ?, ?, ?, ?)")
}

func (st *patrolStmts) all() []*sql.Stmt { return []*sql.Stmt{st.patrol} }

// insertPatrol projects a patrol plan or report logged at r.Index.
func (ins *inserter) insertPatrol(ctx context.Context, r node.Record, id, plan string, from, to string) error {
	if _, err := ins.patrol.ExecContext(ctx, int64(r.Index), string(r.Kind), id, plan, from, to); err != nil {
		return fmt.Errorf("%s %s: %w", r.Kind, id, err)
	}
	return nil
}

// PatrolEntries calls fn with every accepted patrol plan and report f
// selects, in log order, streaming.
func (s *Store) PatrolEntries(ctx context.Context, f node.PatrolFilter, fn func(node.Record) error) error {
	var where []string
	var args []any
	if f.Kind != "" {
		where, args = append(where, "p.kind = ?"), append(args, string(f.Kind))
	}
	if f.ID != "" {
		where, args = append(where, "p.id = ?"), append(args, f.ID)
	}
	if f.Plan != "" {
		where, args = append(where, "p.plan = ?"), append(args, f.Plan)
	}
	if !f.From.IsZero() {
		where, args = append(where, "p.to_at >= ?"), append(args, column.Time(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, "p.from_at < ?"), append(args, column.Time(f.To))
	}
	q := "SELECT e.idx, e.leaf_hash, e.kind, e.signers, e.raw, e.rejected FROM patrol_entries p JOIN entries e ON e.idx = p.idx"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	scan := func(rows *sql.Rows) (node.Record, error) { return scanRecord(rows) }
	return each(ctx, s.r, "patrol entries", q+" ORDER BY p.idx", args, scan, fn)
}
