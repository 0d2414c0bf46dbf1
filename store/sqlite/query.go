package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/guarantor/guarantor/entry"

	"github.com/guarantor/guarantor/store/internal/column"
)

// filter builds the WHERE conditions of a query and their arguments, in
// the order given, and its ORDER BY and LIMIT.
type filter struct {
	sql  string
	args []any
}

// newFilter starts a query; base ends in a WHERE clause that holds.
func newFilter(base string) *filter { return &filter{sql: base} }

// and adds a condition and its arguments.
func (f *filter) and(cond string, args ...any) {
	f.sql += " AND " + cond
	f.args = append(f.args, args...)
}

// eq adds column = v when v is not empty.
func (f *filter) eq(column, v string) {
	if v != "" {
		f.and(column+" = ?", v)
	}
}

// timeRange adds from <= fromCol and toCol < to for the bounds that are set.
func (f *filter) timeRange(fromCol, toCol string, from, to time.Time) {
	if !from.IsZero() {
		f.and(fromCol+" >= ?", column.Time(from))
	}
	if !to.IsZero() {
		f.and(toCol+" < ?", column.Time(to))
	}
}

// bbox adds an inclusive bounding box on the lon and lat columns.
func (f *filter) bbox(lon, lat string, b *[4]float64) {
	if b != nil {
		f.and(lon+" >= ? AND "+lat+" >= ? AND "+lon+" <= ? AND "+lat+" <= ?", b[0], b[1], b[2], b[3])
	}
}

// order ends the query with ORDER BY and, for limit > 0, LIMIT.
func (f *filter) order(by string, limit int) {
	f.sql += " ORDER BY " + by
	if limit > 0 {
		f.sql += " LIMIT ?"
		f.args = append(f.args, limit)
	}
}

// scanBody reads a row of (idx, raw) into index and decodes the body of
// the logged note, which must be of the given kind, into v.
func scanBody(rows *sql.Rows, kind entry.Kind, index *uint64, v any) error {
	var raw []byte
	if err := rows.Scan(index, &raw); err != nil {
		return fmt.Errorf("sqlite: read %s: %w", kind, err)
	}
	if err := entry.DecodeLogged(raw, kind, v); err != nil {
		return fmt.Errorf("sqlite: %s entry %d: %w", kind, *index, err)
	}
	return nil
}

// each runs the query q on db and calls fn with every row, as scan reads
// it, streaming from one snapshot. It stops at the first error and
// returns it: the driver's wrapped with what, scan's and fn's as they
// are.
func each[T any](ctx context.Context, db *sql.DB, what, q string, args []any, scan func(*sql.Rows) (T, error), fn func(T) error) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("sqlite: query %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: read %s: %w", what, err)
	}
	return nil
}

// collect is each gathering the rows into a slice.
func collect[T any](ctx context.Context, db *sql.DB, what, q string, args []any, scan func(*sql.Rows) (T, error)) ([]T, error) {
	var out []T
	err := each(ctx, db, what, q, args, scan, func(r T) error {
		out = append(out, r)
		return nil
	})
	return out, err
}
