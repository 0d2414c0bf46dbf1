package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/guarantor/guarantor/node"
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

// TestExportCoversSchema checks that Export writes every table and every
// column the migrations create, so that a projection rebuilt from the log
// can be compared with the original in full.
func TestExportCoversSchema(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.r.QueryContext(ctx, `SELECT m.name, p.name FROM sqlite_schema m, pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	schema := map[string][]string{}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			t.Fatal(err)
		}
		schema[table] = append(schema[table], col)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	exported := map[string][]string{}
	for _, et := range node.ExportTables {
		exported[et.Name] = strings.Split(et.Cols, ", ")
	}
	if !reflect.DeepEqual(exported, schema) {
		t.Fatalf("Export writes\n%v\nbut the schema has\n%v", exported, schema)
	}
}
