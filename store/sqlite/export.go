package sqlite

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/guarantor/guarantor/node"
)

// Export writes every table to w: a header line "# table (columns)" and
// one tab-separated line per row in primary-key order. Text is quoted
// with strconv.Quote, blobs are hex, floats use the shortest exact form,
// NULL is \N. Two stores fed the same log export identical bytes.
func (s *Store) Export(ctx context.Context, w io.Writer) error {
	bw := bufio.NewWriter(w)
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: export: %w", err)
	}
	defer tx.Rollback()
	for _, t := range node.ExportTables {
		fmt.Fprintf(bw, "# %s (%s)\n", t.Name, t.Cols)
		rows, err := tx.QueryContext(ctx, fmt.Sprintf("SELECT %s FROM %s ORDER BY %s", t.Cols, t.Name, t.Order))
		if err != nil {
			return fmt.Errorf("sqlite: export %s: %w", t.Name, err)
		}
		n := strings.Count(t.Cols, ",") + 1
		vals := make([]any, n)
		ptrs := make([]any, n)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return fmt.Errorf("sqlite: export %s: %w", t.Name, err)
			}
			for i, v := range vals {
				if i > 0 {
					bw.WriteByte('\t')
				}
				bw.WriteString(exportValue(v))
			}
			bw.WriteByte('\n')
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("sqlite: export %s: %w", t.Name, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("sqlite: export: %w", err)
	}
	return nil
}

func exportValue(v any) string {
	switch x := v.(type) {
	case nil:
		return `\N`
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return strconv.Quote(x)
	case []byte:
		return hex.EncodeToString(x)
	}
	return fmt.Sprintf("%v", v)
}
