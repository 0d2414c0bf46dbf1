package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/guarantor/guarantor/node"
)

// TestExportCoversSchema checks that Export writes every table and every
// column the migrations create (but the version table), in the order the
// migrations declare them, so that a projection rebuilt from the log can
// be compared with the original in full.
func TestExportCoversSchema(t *testing.T) {
	dsn := os.Getenv("GUARANTOR_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("GUARANTOR_TEST_POSTGRES not set: no PostgreSQL server to test against")
	}
	ctx := context.Background()
	var b [8]byte
	rand.Read(b[:])
	schema := "guarantor_test_" + hex.EncodeToString(b[:])
	s, err := Open(ctx, dsn, WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		s.Close()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	}()
	rows, err := s.pool.Query(ctx, `SELECT table_name, column_name, data_type, collation_name FROM information_schema.columns
		WHERE table_schema = $1 AND table_name <> $2 ORDER BY table_name, ordinal_position`, schema, versionTable)
	if err != nil {
		t.Fatal(err)
	}
	schemaCols := map[string][]string{}
	for rows.Next() {
		var table, col, typ string
		var coll *string
		if err := rows.Scan(&table, &col, &typ, &coll); err != nil {
			t.Fatal(err)
		}
		schemaCols[table] = append(schemaCols[table], col)
		if typ == "text" && (coll == nil || *coll != "C") {
			t.Errorf("%s.%s is text without COLLATE \"C\": it would not order as SQLite does", table, col)
		}
		if typ != "text" && typ != "bigint" && typ != "double precision" && typ != "bytea" {
			t.Errorf("%s.%s is %s: Export knows text, bigint, double precision and bytea", table, col, typ)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	exported := map[string][]string{}
	for _, et := range node.ExportTables {
		exported[et.Name] = strings.Split(et.Cols, ", ")
	}
	if !reflect.DeepEqual(exported, schemaCols) {
		t.Fatalf("Export writes\n%v\nbut the schema has\n%v", exported, schemaCols)
	}
}

func TestEscape(t *testing.T) {
	for _, s := range []string{"", "plain", "\x00", "\x01", "\x01\x02", "a\x00b\x01c", "\x00\x00\x01\x01", "\x02", "ü\x00ü"} {
		e := escape(s)
		if strings.IndexByte(e, 0) >= 0 {
			t.Errorf("escape(%q) = %q holds NUL", s, e)
		}
		if got := unescape(e); got != s {
			t.Errorf("unescape(escape(%q)) = %q", s, got)
		}
	}
}

// FuzzEscape checks that escape is reversible, leaves no NUL, and keeps
// the byte order and equality of any two strings.
func FuzzEscape(f *testing.F) {
	f.Add("a\x00b", "a\x01")
	f.Add("\x00", "")
	f.Add("\x01\x02", "\x00\x03")
	f.Add("ab", "a\x00")
	f.Fuzz(func(t *testing.T, a, b string) {
		ea, eb := escape(a), escape(b)
		if strings.IndexByte(ea, 0) >= 0 {
			t.Fatalf("escape(%q) = %q holds NUL", a, ea)
		}
		if unescape(ea) != a {
			t.Fatalf("unescape(escape(%q)) = %q", a, unescape(ea))
		}
		if strings.Compare(a, b) != strings.Compare(ea, eb) {
			t.Fatalf("%q vs %q compare %d, escaped %q vs %q compare %d", a, b, strings.Compare(a, b), ea, eb, strings.Compare(ea, eb))
		}
	})
}
