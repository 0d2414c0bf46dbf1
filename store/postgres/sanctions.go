package postgres

import (
	"context"
	"fmt"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/store/internal/column"
	"github.com/jackc/pgx/v5"
)

// insertSanction projects the statement logged at index: its row, and
// the measure's current state.
func (ins *inserter) insertSanction(index uint64, b *entry.Sanction) {
	ins.exec(fmt.Sprintf("sanction %s", b.ID), "INSERT INTO sanctions (idx, id, authority, status, at) VALUES ($1, $2, $3, $4, $5)",
		int64(index), b.ID, b.Authority, b.Status, column.Time(b.At))
	ins.exec(fmt.Sprintf("sanction %s current state", b.ID),
		`INSERT INTO sanction_current (id, idx, authority, status, reimposed_by, reimposed_idx) VALUES ($1, $2, $3, $4, NULL, NULL)
		ON CONFLICT (id) DO UPDATE SET idx = excluded.idx, authority = excluded.authority, status = excluded.status,
			reimposed_by = NULL, reimposed_idx = NULL`,
		b.ID, int64(index), b.Authority, b.Status)
}

// reimposeSanctions marks the measures an obligation revision re-imposed
// as active again. A measure never stated is left alone (the engine names
// only measures it knows, so this happens only in a foreign log). It
// belongs to the sanctions tables (migration 4), whose backfill replays
// obligations for it.
func (ins *inserter) reimposeSanctions(index uint64, b *entry.Obligation) {
	if !ins.writes(4) {
		return
	}
	for _, id := range b.Reimposed {
		ins.exec(fmt.Sprintf("obligation %d re-imposing sanction %s", b.ID, id),
			"UPDATE sanction_current SET status = 'active', reimposed_by = $1, reimposed_idx = $2 WHERE id = $3",
			int64(b.ID), int64(index), id)
	}
}

// Sanctions returns every measure's current state, by id.
func (s *Store) Sanctions(ctx context.Context) ([]node.SanctionRow, error) {
	return collect(ctx, s, "sanctions", `SELECT c.idx, c.status, c.reimposed_by, c.reimposed_idx, e.raw FROM sanction_current c JOIN entries e ON e.idx = c.idx ORDER BY c.id`, nil,
		func(rows pgx.Rows) (node.SanctionRow, error) {
			var r node.SanctionRow
			var idx int64
			var by, byIdx *int64
			var raw []byte
			if err := rows.Scan(&idx, &r.Status, &by, &byIdx, &raw); err != nil {
				return r, fmt.Errorf("postgres: read sanction: %w", err)
			}
			r.Index, r.Status = uint64(idx), unescape(r.Status)
			if err := entry.DecodeLogged(raw, entry.KindSanction, &r.Sanction); err != nil {
				return r, fmt.Errorf("postgres: sanction entry %d: %w", r.Index, err)
			}
			if by != nil {
				var i uint64
				if byIdx != nil {
					i = uint64(*byIdx)
				}
				o := uint64(*by)
				r.ReimposedBy, r.ReimposedIndex = &o, &i
			}
			return r, nil
		})
}

// SanctionHistory returns every statement about one measure, in log order.
func (s *Store) SanctionHistory(ctx context.Context, id string) ([]node.SanctionRow, error) {
	return collect(ctx, s, "sanction history", `SELECT s.idx, s.status, e.raw FROM sanctions s JOIN entries e ON e.idx = s.idx WHERE s.id = $1 ORDER BY s.idx`, []any{id},
		func(rows pgx.Rows) (node.SanctionRow, error) {
			var r node.SanctionRow
			var idx int64
			var raw []byte
			if err := rows.Scan(&idx, &r.Status, &raw); err != nil {
				return r, fmt.Errorf("postgres: read sanction: %w", err)
			}
			r.Index, r.Status = uint64(idx), unescape(r.Status)
			if err := entry.DecodeLogged(raw, entry.KindSanction, &r.Sanction); err != nil {
				return r, fmt.Errorf("postgres: sanction entry %d: %w", r.Index, err)
			}
			return r, nil
		})
}
