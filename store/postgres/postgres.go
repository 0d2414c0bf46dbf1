// Package postgres is the projection of the log in PostgreSQL (pgx,
// pgxpool), for missions that run several servers or want the projection
// in a database they already operate. It holds the same tables and
// columns as package sqlite, fed the same way, answers every node.Store
// query the same way, and exports the same bytes for the same log.
// Everything in it is derived from the log and can be rebuilt from it.
//
// Text columns compare byte by byte (COLLATE "C"), as SQLite's do, so that
// filters and orderings agree whatever the database's collation. PostgreSQL
// text cannot hold NUL, which a logged body may carry (JSON "\u0000"), so
// every text value is stored escaped: NUL as U+0001 U+0001 and U+0001 as
// U+0001 U+0002. The escape keeps byte order and is undone on every read
// and in Export; only ad-hoc SQL sees it, and only in such strings.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrations embed.FS

// versionTable holds the schema version: the number of the last
// migration applied. It is the one table Export leaves out (SQLite keeps
// the version in PRAGMA user_version, outside any table).
const versionTable = "guarantor_schema"

// Store is the PostgreSQL projection. It implements node.Store.
type Store struct {
	pool   *pgxpool.Pool
	schema int // the schema version: the number of the last migration
}

var _ node.Store = (*Store)(nil)

// Option configures Open.
type Option func(*options)

type options struct {
	schema   string
	maxConns int32
}

// WithSchema keeps the projection's tables in the named PostgreSQL schema,
// which Open creates if it does not exist, by putting it alone on every
// connection's search_path. Optional; by default the tables go where the
// DSN's search_path puts them (normally "public").
func WithSchema(name string) Option { return func(o *options) { o.schema = name } }

// WithMaxConns caps the connection pool: one connection applies, the rest
// serve readers. Optional; the default is pgxpool's (pool_max_conns in the
// DSN, else the larger of 4 and the number of CPUs).
func WithMaxConns(n int32) Option { return func(o *options) { o.maxConns = n } }

// Open connects to the database dsn names (a postgres:// URL or key=value
// string, as pgx takes it; its encoding must be UTF8), applies any pending
// migrations and returns the store. Migrations run under an advisory lock, so several servers may
// open the same database at once. Every commit is durable as PostgreSQL
// makes it (synchronous_commit as the server is configured).
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	cfg, o, err := parseConfig(dsn, opts)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s := &Store{pool: pool}
	if err := s.migrate(ctx, o.schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	return s, nil
}

// parseConfig reads the DSN and applies the options.
func parseConfig(dsn string, opts []Option) (*pgxpool.Config, options, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, o, fmt.Errorf("postgres: parse DSN: %w", err)
	}
	if o.schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{o.schema}.Sanitize()
	}
	if o.maxConns > 0 {
		cfg.MaxConns = o.maxConns
	}
	return cfg, o, nil
}

// Drop deletes the projection that dsn and opts name: every table Open
// made, the version table included, in one transaction under the
// migration lock (the schema itself, and anything else in it, stay). It
// is what a rebuild does before Open makes the projection anew from the
// log; no server may use the projection meanwhile.
func Drop(ctx context.Context, dsn string, opts ...Option) error {
	cfg, _, err := parseConfig(dsn, opts)
	if err != nil {
		return err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return fmt.Errorf("postgres: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tables := []string{versionTable}
	for _, t := range node.ExportTables {
		tables = append(tables, t.Name)
	}
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if err := lockMigrations(ctx, tx); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "DROP TABLE IF EXISTS "+strings.Join(tables, ", ")+" CASCADE")
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: drop the projection: %w", err)
	}
	return nil
}

// Close closes every connection of the pool, waiting for those in use to
// be released. It may be called more than once.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// migration is one embedded migration file.
type migration struct {
	n    int
	name string
}

// listMigrations returns the embedded migrations in order, checking that
// their numbers run 1, 2, 3, ... without gaps or repeats.
func listMigrations() ([]migration, error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	ms := make([]migration, 0, len(names))
	for _, name := range names {
		num, _, _ := strings.Cut(strings.TrimPrefix(name, "migrations/"), "_")
		n, err := strconv.Atoi(num)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("migration %s does not start with a positive number", name)
		}
		ms = append(ms, migration{n, name})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.n - b.n })
	for i, m := range ms {
		if m.n != i+1 {
			return nil, fmt.Errorf("migration %s: numbers must run 1, 2, 3, ... without gaps or repeats", m.name)
		}
	}
	return ms, nil
}

// lockMigrations takes, for the rest of tx, the advisory lock that
// serialises migrations of the projection on the connection's search_path
// (another server opening the same projection waits for it).
func lockMigrations(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('guarantor migrate ' || current_setting('search_path'), 0))")
	return err
}

// migrate creates the schema (when one was named) and the version table if
// need be, then applies, in order and each in its own transaction
// together with the new version, every embedded migration newer than the
// database. It refuses a database written by a newer version of this
// package.
func (s *Store) migrate(ctx context.Context, schema string) error {
	ms, err := listMigrations()
	if err != nil {
		return err
	}
	var encoding string
	if err := s.pool.QueryRow(ctx, "SELECT current_setting('server_encoding')").Scan(&encoding); err != nil {
		return fmt.Errorf("read the database's encoding: %w", err)
	}
	if encoding != "UTF8" {
		// Any other encoding would refuse characters that logged
		// entries hold, and the projection could not follow the log.
		return fmt.Errorf("the database's encoding is %s; the projection needs UTF8 (CREATE DATABASE ... ENCODING 'UTF8')", encoding)
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockMigrations(ctx, tx); err != nil {
			return err
		}
		if schema != "" {
			if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+versionTable+" (version BIGINT NOT NULL)"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO "+versionTable+" (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM "+versionTable+")")
		return err
	})
	if err != nil {
		return fmt.Errorf("create the version table: %w", err)
	}
	for _, m := range ms {
		if err := s.migrateOne(ctx, m, len(ms)); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	s.schema = len(ms)
	return nil
}

// errNewer is migrateOne's error for a database written by a newer
// version of this package.
var errNewer = errors.New("newer schema")

// migrateOne runs migration m and its backfill, if the database does not
// hold it yet, and records its number, atomically.
func (s *Store) migrateOne(ctx context.Context, m migration, known int) error {
	body, err := migrations.ReadFile(m.name)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockMigrations(ctx, tx); err != nil {
			return err
		}
		var version int
		if err := tx.QueryRow(ctx, "SELECT version FROM "+versionTable).Scan(&version); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if version > known {
			return fmt.Errorf("schema version %d is newer than this program knows (%d); rebuild the projection or upgrade", version, known)
		}
		if version >= m.n {
			return nil
		}
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return err
		}
		if fill := backfills[m.n]; fill != nil {
			if err := fill(ctx, tx); err != nil {
				return fmt.Errorf("backfill: %w", err)
			}
		}
		_, err := tx.Exec(ctx, "UPDATE "+versionTable+" SET version = $1", m.n)
		return err
	})
}

// backfills holds, by migration number, the Go step that fills the new
// tables from entries applied before the migration, in the migration's
// transaction (as package sqlite's).
var backfills = map[int]func(context.Context, pgx.Tx) error{
	2: backfill(2, entry.KindIncident, entry.KindVerification),
	3: backfill(3, entry.KindAgreement, entry.KindAmendment, entry.KindDetermination, entry.KindObligation, entry.KindResponse),
	// Obligations re-impose sanctions by snap-back: replayed in log order
	// with the statements, they leave each measure as Apply would have.
	4: backfill(4, entry.KindSanction, entry.KindObligation),
	5: backfill(5, entry.KindCoverage),
	6: backfill(6, entry.KindExchangeList, entry.KindExchangeManifest, entry.KindExchangeConfirmation),
	7: backfill(7, entry.KindPatrolPlan, entry.KindPatrolReport),
}

// backfill returns the backfill of migration n, whose tables project the
// given kinds: it projects the accepted entries of those kinds that a
// projection applied before the migration kept in entries only, in log
// order, as Apply would have, so that the projection equals one rebuilt
// from the log. It writes only the tables of migration n: those of
// earlier ones are filled already, those of later ones do not exist yet.
func backfill(n int, kinds ...entry.Kind) func(context.Context, pgx.Tx) error {
	list := make([]string, len(kinds))
	for i, k := range kinds {
		list[i] = string(k)
	}
	return func(ctx context.Context, tx pgx.Tx) error {
		type pending struct {
			idx           int64
			kind, signers string
			raw           []byte
		}
		rows, err := tx.Query(ctx, `SELECT idx, kind, signers, raw FROM entries
			WHERE rejected = '' AND kind = ANY($1) ORDER BY idx`, list)
		if err != nil {
			return err
		}
		var todo []pending
		for rows.Next() {
			var p pending
			if err := rows.Scan(&p.idx, &p.kind, &p.signers, &p.raw); err != nil {
				rows.Close()
				return err
			}
			todo = append(todo, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(todo) == 0 {
			return nil
		}
		ins := newInserter(tx, n-1, n)
		for _, p := range todo {
			r := node.Record{Index: uint64(p.idx), Kind: entry.Kind(unescape(p.kind))}
			e, err := entry.Parse(p.raw)
			if err == nil {
				r.Body, err = e.Validate()
			}
			if err != nil {
				return fmt.Errorf("entry %d no longer decodes: %w", p.idx, err)
			}
			if r.Signers, err = decodeSigners(unescape(p.signers)); err != nil {
				return fmt.Errorf("entry %d signers: %w", p.idx, err)
			}
			ins.cur = r.Index
			if err := ins.project(ctx, r); err != nil {
				return fmt.Errorf("entry %d: %w", p.idx, err)
			}
		}
		return ins.flush(ctx)
	}
}
