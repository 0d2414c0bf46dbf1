package postgres

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/guarantor/guarantor/node"
)

// Export writes every table to w: a header line "# table (columns)" and
// one tab-separated line per row in primary-key order. Text is quoted
// with strconv.Quote, blobs are hex, floats use the shortest exact form,
// NULL is \N. It reads one snapshot (a repeatable-read, read-only
// transaction). Two stores fed the same log export identical bytes, and
// so do this store and package sqlite's.
func (s *Store) Export(ctx context.Context, w io.Writer) error {
	bw := bufio.NewWriter(w)
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("postgres: export: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	for _, t := range node.ExportTables {
		fmt.Fprintf(bw, "# %s (%s)\n", t.Name, t.Cols)
		rows, err := tx.Query(ctx, fmt.Sprintf("SELECT %s FROM %s ORDER BY %s", t.Cols, t.Name, t.Order))
		if err != nil {
			return fmt.Errorf("postgres: export %s: %w", t.Name, err)
		}
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				rows.Close()
				return fmt.Errorf("postgres: export %s: %w", t.Name, err)
			}
			for i, v := range vals {
				if i > 0 {
					bw.WriteByte('\t')
				}
				bw.WriteString(exportValue(v))
			}
			bw.WriteByte('\n')
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgres: export %s: %w", t.Name, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("postgres: export: %w", err)
	}
	return nil
}

// exportValue formats one value as package sqlite's Export does; text is
// unescaped first.
func exportValue(v any) string {
	switch x := v.(type) {
	case nil:
		return `\N`
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return strconv.Quote(unescape(x))
	case []byte:
		return hex.EncodeToString(x)
	}
	return fmt.Sprintf("%v", v)
}
