package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/store/internal/column"
	"github.com/jackc/pgx/v5"
)

// filter builds the WHERE conditions of a query and their arguments, in
// the order given, and its ORDER BY and LIMIT. Conditions name their
// arguments "?", which and numbers as $1, $2, ...
type filter struct {
	sql  string
	args []any
}

// newFilter starts a query; base ends in a WHERE clause that holds.
func newFilter(base string) *filter { return &filter{sql: base} }

// and adds a condition and its arguments.
func (f *filter) and(cond string, args ...any) {
	f.sql += " AND "
	for i := 0; i < len(cond); i++ {
		if cond[i] == '?' {
			f.args = append(f.args, args[0])
			args = args[1:]
			f.sql += "$" + strconv.Itoa(len(f.args))
			continue
		}
		f.sql += cond[i : i+1]
	}
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
		f.args = append(f.args, int64(limit))
		f.sql += " LIMIT $" + strconv.Itoa(len(f.args))
	}
}

// scanBody reads a row of (idx, raw) into index and decodes the body of
// the logged note, which must be of the given kind, into v.
func scanBody(rows pgx.Rows, kind entry.Kind, index *uint64, v any) error {
	var idx int64
	var raw []byte
	if err := rows.Scan(&idx, &raw); err != nil {
		return fmt.Errorf("postgres: read %s: %w", kind, err)
	}
	*index = uint64(idx)
	if err := entry.DecodeLogged(raw, kind, v); err != nil {
		return fmt.Errorf("postgres: %s entry %d: %w", kind, idx, err)
	}
	return nil
}

// each runs the query q and calls fn with every row, as scan reads it,
// streaming from one snapshot (one statement). It stops at the first
// error and returns it: the server's wrapped with what, scan's and fn's
// as they are.
func (s *Store) each(ctx context.Context, what, q string, args []any, scan func(pgx.Rows) error) error {
	rows, err := s.pool.Query(ctx, q, dbArgs(args)...)
	if err != nil {
		return fmt.Errorf("postgres: query %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: read %s: %w", what, err)
	}
	return nil
}

// visit is each for a scan that reads a row into a T, which fn is then
// called with.
func visit[T any](ctx context.Context, s *Store, what, q string, args []any, scan func(pgx.Rows) (T, error), fn func(T) error) error {
	return s.each(ctx, what, q, args, func(rows pgx.Rows) error {
		r, err := scan(rows)
		if err != nil {
			return err
		}
		return fn(r)
	})
}

// collect is visit gathering the rows into a slice.
func collect[T any](ctx context.Context, s *Store, what, q string, args []any, scan func(pgx.Rows) (T, error)) ([]T, error) {
	var out []T
	err := visit(ctx, s, what, q, args, scan, func(r T) error {
		out = append(out, r)
		return nil
	})
	return out, err
}
