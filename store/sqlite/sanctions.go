package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/store/internal/column"
)

// sanctionStmts project sanction statements and snap-backs.
type sanctionStmts struct {
	sanction, sanctionCurrent, reimpose *sql.Stmt
}

// prepareSanctions prepares the statements with prep, which records the
// first error itself.
func (st *sanctionStmts) prepareSanctions(prep func(string) *sql.Stmt) {
	st.sanction = prep("INSERT INTO sanctions (idx, id, authority, status, at) VALUES (?, ?, ?, ?, ?)")
	st.sanctionCurrent = prep(`INSERT INTO sanction_current (id, idx, authority, status, reimposed_by, reimposed_idx) VALUES (?, ?, ?, ?, NULL, NULL)
		ON CONFLICT (id) DO UPDATE SET idx = excluded.idx, authority = excluded.authority, status = excluded.status,
			reimposed_by = NULL, reimposed_idx = NULL`)
	st.reimpose = prep("UPDATE sanction_current SET status = 'active', reimposed_by = ?, reimposed_idx = ? WHERE id = ?")
}

func (st *sanctionStmts) all() []*sql.Stmt {
	return []*sql.Stmt{st.sanction, st.sanctionCurrent, st.reimpose}
}

// insertSanction projects the statement logged at index: its row, and
// the measure's current state.
func (ins *inserter) insertSanction(ctx context.Context, index uint64, b *entry.Sanction) error {
	if _, err := ins.sanction.ExecContext(ctx, int64(index), b.ID, b.Authority, b.Status, column.Time(b.At)); err != nil {
		return fmt.Errorf("sanction %s: %w", b.ID, err)
	}
	if _, err := ins.sanctionCurrent.ExecContext(ctx, b.ID, int64(index), b.Authority, b.Status); err != nil {
		return fmt.Errorf("sanction %s current state: %w", b.ID, err)
	}
	return nil
}

// reimposeSanctions marks the measures an obligation revision re-imposed
// as active again. A measure never stated is left alone (the engine names
// only measures it knows, so this happens only in a foreign log).
func (ins *inserter) reimposeSanctions(ctx context.Context, index uint64, b *entry.Obligation) error {
	if ins.reimpose == nil {
		return nil
	}
	for _, id := range b.Reimposed {
		if _, err := ins.reimpose.ExecContext(ctx, int64(b.ID), int64(index), id); err != nil {
			return fmt.Errorf("obligation %d re-imposing sanction %s: %w", b.ID, id, err)
		}
	}
	return nil
}

// Sanctions returns every measure's current state, by id.
func (s *Store) Sanctions(ctx context.Context) ([]node.SanctionRow, error) {
	return collect(ctx, s.r, "sanctions", `SELECT c.idx, c.status, c.reimposed_by, c.reimposed_idx, e.raw FROM sanction_current c JOIN entries e ON e.idx = c.idx ORDER BY c.id`, nil,
		func(rows *sql.Rows) (node.SanctionRow, error) {
			var r node.SanctionRow
			var by, byIdx sql.NullInt64
			var raw []byte
			if err := rows.Scan(&r.Index, &r.Status, &by, &byIdx, &raw); err != nil {
				return r, fmt.Errorf("sqlite: read sanction: %w", err)
			}
			if err := entry.DecodeLogged(raw, entry.KindSanction, &r.Sanction); err != nil {
				return r, fmt.Errorf("sqlite: sanction entry %d: %w", r.Index, err)
			}
			if by.Valid {
				o, i := uint64(by.Int64), uint64(byIdx.Int64)
				r.ReimposedBy, r.ReimposedIndex = &o, &i
			}
			return r, nil
		})
}

// SanctionHistory returns every statement about one measure, in log order.
func (s *Store) SanctionHistory(ctx context.Context, id string) ([]node.SanctionRow, error) {
	return collect(ctx, s.r, "sanction history", `SELECT s.idx, s.status, e.raw FROM sanctions s JOIN entries e ON e.idx = s.idx WHERE s.id = ? ORDER BY s.idx`, []any{id},
		func(rows *sql.Rows) (node.SanctionRow, error) {
			var r node.SanctionRow
			var raw []byte
			if err := rows.Scan(&r.Index, &r.Status, &raw); err != nil {
				return r, fmt.Errorf("sqlite: read sanction: %w", err)
			}
			if err := entry.DecodeLogged(raw, entry.KindSanction, &r.Sanction); err != nil {
				return r, fmt.Errorf("sqlite: sanction entry %d: %w", r.Index, err)
			}
			return r, nil
		})
}
