package postgres_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/store/postgres"
	"github.com/guarantor/guarantor/store/sqlite"
	"github.com/guarantor/guarantor/store/storetest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// dsnEnv names the environment variable holding the DSN of the
// PostgreSQL server the tests run against.
const dsnEnv = "GUARANTOR_TEST_POSTGRES"

// serverDSN returns the test server's DSN, or skips the test.
func serverDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		tb.Skip(dsnEnv + " not set: no PostgreSQL server to test against")
	}
	return dsn
}

// testSchema names a fresh PostgreSQL schema for one test and drops it,
// with everything in it, when the test ends.
func testSchema(tb testing.TB) (dsn, schema string) {
	tb.Helper()
	dsn = serverDSN(tb)
	var b [8]byte
	rand.Read(b[:])
	schema = "guarantor_test_" + hex.EncodeToString(b[:])
	tb.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return dsn, schema
}

// openSchema opens the store in schema and closes it when the test ends.
func openSchema(tb testing.TB, dsn, schema string) *postgres.Store {
	tb.Helper()
	s, err := postgres.Open(context.Background(), dsn, postgres.WithSchema(schema))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// open returns an empty store in a schema of its own.
func open(tb testing.TB) *postgres.Store {
	tb.Helper()
	dsn, schema := testSchema(tb)
	return openSchema(tb, dsn, schema)
}

func openSQLite(tb testing.TB) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "p.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func apply(tb testing.TB, s node.Store, recs []node.Record) {
	tb.Helper()
	for i := 0; i < len(recs); i += 1000 {
		if err := s.Apply(context.Background(), recs[i:min(i+1000, len(recs))]); err != nil {
			tb.Fatal(err)
		}
	}
}

func export(tb testing.TB, s node.Store) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := s.Export(context.Background(), &b); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func TestConformance(t *testing.T) {
	serverDSN(t)
	storetest.Run(t, func(t *testing.T) node.Store { return open(t) })
}

// TestSameExportOnBoth feeds the same logs to SQLite and PostgreSQL: the
// exports are the same bytes.
func TestSameExportOnBoth(t *testing.T) {
	serverDSN(t)
	logs := map[string][]node.Record{
		"every kind":           storetest.Log(t),
		"observations":         storetest.Observations(t, 1500),
		"the engine's, 7 days": storetest.EngineLog(t, 7),
	}
	for name, recs := range logs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			lite, pg := openSQLite(t), open(t)
			apply(t, lite, recs)
			apply(t, pg, recs)
			want, got := export(t, lite), export(t, pg)
			if !bytes.Equal(got, want) {
				gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
				for i := range min(len(gl), len(wl)) {
					if gl[i] != wl[i] {
						t.Fatalf("exports differ at line %d:\npostgres: %s\nsqlite:   %s", i+1, gl[i], wl[i])
					}
				}
				t.Fatalf("exports differ in length: %d lines on postgres, %d on sqlite", len(gl), len(wl))
			}
		})
	}
}

// TestApplyNamesTheConstraint: a refused batch names its entry and wraps
// the server's error.
func TestApplyNamesTheConstraint(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	recs := storetest.Observations(t, 3)
	apply(t, s, recs[:3])
	dup := recs[3]
	dup.Index, dup.LeafHash = 4, bytes.Repeat([]byte{9}, 32)
	err := s.Apply(ctx, []node.Record{recs[3], dup})
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23505" || !strings.Contains(err.Error(), "apply entry 4") {
		t.Fatalf("Apply = %v; want a unique violation naming entry 4", err)
	}
	if n, _ := s.Applied(ctx); n != 3 {
		t.Fatalf("Applied = %d, want 3", n)
	}
}

// TestReopenKeepsEverything closes the store half-way and reopens it: the
// projection continues as if built in one go.
func TestReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	dsn, schema := testSchema(t)
	recs := storetest.Log(t)
	s, err := postgres.Open(ctx, dsn, postgres.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	half := len(recs) / 2
	apply(t, s, recs[:half])
	before := export(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	s = openSchema(t, dsn, schema)
	if after := export(t, s); !bytes.Equal(before, after) {
		t.Fatal("the reopened projection differs")
	}
	if n, _ := s.Applied(ctx); n != uint64(half) {
		t.Fatalf("Applied after reopening = %d, want %d", n, half)
	}
	apply(t, s, recs[half:])
	ref := open(t)
	apply(t, ref, recs)
	if !bytes.Equal(export(t, s), export(t, ref)) {
		t.Fatal("a projection continued after reopening differs from one built in one go")
	}
}

// TestDrop deletes a projection: opened again, it is empty and takes the
// log from the start; another schema's projection is left alone.
func TestDrop(t *testing.T) {
	ctx := context.Background()
	dsn, schema := testSchema(t)
	other := open(t)
	recs := storetest.Observations(t, 20)
	apply(t, other, recs)
	s := openSchema(t, dsn, schema)
	apply(t, s, recs)
	s.Close()
	if err := postgres.Drop(ctx, dsn, postgres.WithSchema(schema)); err != nil {
		t.Fatal(err)
	}
	if err := postgres.Drop(ctx, dsn, postgres.WithSchema(schema)); err != nil {
		t.Fatalf("dropping a dropped projection: %v", err)
	}
	s = openSchema(t, dsn, schema)
	if n, _ := s.Applied(ctx); n != 0 {
		t.Fatalf("Applied after Drop = %d, want 0", n)
	}
	apply(t, s, recs)
	if !bytes.Equal(export(t, s), export(t, other)) {
		t.Fatal("a projection rebuilt after Drop differs")
	}
}

// TestSchemasAreApart: two stores in two schemas of one database do not
// see each other's rows.
func TestSchemasAreApart(t *testing.T) {
	a, b := open(t), open(t)
	apply(t, a, storetest.Observations(t, 5))
	if n, _ := b.Applied(context.Background()); n != 0 {
		t.Fatalf("the other schema's store holds %d entries", n)
	}
}

// TestOpenConcurrently opens one new projection from several goroutines
// at once, as several servers starting together would: the migrations run
// once, under their lock, and every store works.
func TestOpenConcurrently(t *testing.T) {
	ctx := context.Background()
	dsn, schema := testSchema(t)
	var wg sync.WaitGroup
	stores := make([]*postgres.Store, 4)
	errs := make([]error, len(stores))
	for i := range stores {
		wg.Go(func() {
			stores[i], errs[i] = postgres.Open(ctx, dsn, postgres.WithSchema(schema), postgres.WithMaxConns(2))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	// Two writers starting at the same index: one applies, the other is
	// refused and changes nothing.
	recs := storetest.Observations(t, 50)
	apply(t, stores[0], recs[:10])
	var ok, refused int
	var mu sync.Mutex
	for _, s := range stores[:2] {
		wg.Go(func() {
			err := s.Apply(ctx, recs[10:])
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ok++
			} else {
				refused++
			}
		})
	}
	wg.Wait()
	if ok != 1 || refused != 1 {
		t.Fatalf("two writers of the same batch: %d applied, %d refused; want one each", ok, refused)
	}
	for _, s := range stores {
		if n, _ := s.Applied(ctx); n != uint64(len(recs)) {
			t.Fatalf("Applied = %d, want %d", n, len(recs))
		}
	}
}

// TestOpenRefusesNewerSchema refuses a projection written by a newer
// version of the package.
func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	dsn, schema := testSchema(t)
	s := openSchema(t, dsn, schema)
	s.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "UPDATE "+pgx.Identifier{schema, "guarantor_schema"}.Sanitize()+" SET version = 999"); err != nil {
		t.Fatal(err)
	}
	if s, err := postgres.Open(ctx, dsn, postgres.WithSchema(schema)); err == nil {
		s.Close()
		t.Fatal("Open accepted a projection from a newer schema")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open = %v; want it to say the schema is newer", err)
	}
}

// migrationTables lists, by migration, the tables it creates, last
// created first.
var migrationTables = map[int][]string{
	2: {"verifications", "incident_parties", "incident_members", "incident_current", "incidents"},
	3: {"responses", "obligation_current", "obligations", "determination_incidents", "determinations", "agreements"},
	4: {"sanction_current", "sanctions"},
	5: {"coverage"},
	6: {"exchange_entries"},
	7: {"patrol_entries"},
}

// TestMigrationBackfills takes projections back to older schemas by
// dropping the later migrations' tables (their entries rows stay), as a
// projection made by an older version of this package would be: reopened,
// the migrations project those entries, so that each equals a projection
// rebuilt from the log.
func TestMigrationBackfills(t *testing.T) {
	ctx := context.Background()
	ref := open(t)
	recs := storetest.Log(t)
	apply(t, ref, recs)
	want := export(t, ref)
	for version := len(migrationTables); version >= 1; version-- {
		t.Run(fmt.Sprintf("from schema %d", version), func(t *testing.T) {
			t.Parallel()
			dsn, schema := testSchema(t)
			s, err := postgres.Open(ctx, dsn, postgres.WithSchema(schema))
			if err != nil {
				t.Fatal(err)
			}
			apply(t, s, recs)
			s.Close()
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			for n := len(migrationTables) + 1; n > version; n-- {
				for _, table := range migrationTables[n] {
					if _, err := conn.Exec(ctx, "DROP TABLE "+pgx.Identifier{schema, table}.Sanitize()); err != nil {
						t.Fatalf("drop %s: %v", table, err)
					}
				}
			}
			if _, err := conn.Exec(ctx, "UPDATE "+pgx.Identifier{schema, "guarantor_schema"}.Sanitize()+" SET version = $1", version); err != nil {
				t.Fatal(err)
			}
			s = openSchema(t, dsn, schema)
			if got := export(t, s); !bytes.Equal(got, want) {
				t.Fatalf("migrated projection differs from a rebuilt one:\n%s\n---\n%s", got, want)
			}
		})
	}
}

// TestOpenBadDSN fails with the DSN's fault, not a panic.
func TestOpenBadDSN(t *testing.T) {
	if _, err := postgres.Open(context.Background(), "postgres://%zz"); err == nil {
		t.Fatal("Open accepted a malformed DSN")
	}
}
