package sqlite

import (
	"context"
	"database/sql"
)

// Consistency reads, in one read transaction, the applied count and the
// number of entry rows (for tests).
func (s *Store) Consistency(ctx context.Context) (applied, rows int64, err error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, "SELECT value FROM meta WHERE name = 'applied'").Scan(&applied); err != nil {
		return 0, 0, err
	}
	err = tx.QueryRowContext(ctx, "SELECT count(*) FROM entries").Scan(&rows)
	return applied, rows, err
}
