package ledger

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/api/layout"
	tmysql "github.com/transparency-dev/tessera/storage/mysql"
)

// MinMySQLCheckpointInterval is the least checkpoint interval Tessera's
// MySQL driver accepts; shorter Config.CheckpointInterval values are
// raised to it.
const MinMySQLCheckpointInterval = time.Second

// mysqlSchema creates the five tables Tessera's MySQL driver reads and
// writes (its schema compatibility version 1), if they do not exist.
// Every row maps to one file of the POSIX layout: the published
// checkpoint, the integrated tree's size and root, hash tiles and entry
// bundles.
var mysqlSchema = []string{
	"CREATE TABLE IF NOT EXISTS `Tessera` (`id` TINYINT UNSIGNED NOT NULL, `compatibilityVersion` BIGINT UNSIGNED NOT NULL, PRIMARY KEY (`id`))",
	"INSERT IGNORE INTO `Tessera` (`id`, `compatibilityVersion`) VALUES (0, 1)",
	"CREATE TABLE IF NOT EXISTS `Checkpoint` (`id` TINYINT UNSIGNED NOT NULL, `note` MEDIUMBLOB NOT NULL, `published_at` BIGINT NOT NULL, PRIMARY KEY (`id`))",
	"CREATE TABLE IF NOT EXISTS `TreeState` (`id` TINYINT UNSIGNED NOT NULL, `size` BIGINT UNSIGNED NOT NULL, `root` TINYBLOB NOT NULL, PRIMARY KEY (`id`))",
	"CREATE TABLE IF NOT EXISTS `Subtree` (`level` TINYINT UNSIGNED NOT NULL, `index` BIGINT UNSIGNED NOT NULL, `nodes` MEDIUMBLOB NOT NULL, PRIMARY KEY (`level`, `index`))",
	"CREATE TABLE IF NOT EXISTS `TiledLeaves` (`tile_index` BIGINT UNSIGNED NOT NULL, `size` SMALLINT UNSIGNED NOT NULL, `data` LONGBLOB NOT NULL, PRIMARY KEY (`tile_index`))",
}

// openMySQL connects to the database named by dsn (go-sql-driver form,
// user:password@tcp(host:3306)/dbname), creates Tessera's tables if they
// are missing, and returns the pool and Tessera's driver over it.
func openMySQL(ctx context.Context, dsn string) (*sql.DB, *tmysql.Storage, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("ledger: MySQL DSN: %w (expected user:password@tcp(host:3306)/database)", err)
	}
	if cfg.DBName == "" {
		return nil, nil, errors.New("ledger: the MySQL DSN names no database (add /database after the address)")
	}
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, nil, fmt.Errorf("ledger: open MySQL: %w", err)
	}
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(16)
	db.SetConnMaxLifetime(10 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("ledger: connect to MySQL at %s: %w", cfg.Addr, err)
	}
	for _, q := range mysqlSchema {
		if _, err := db.ExecContext(ctx, q); err != nil {
			db.Close()
			return nil, nil, fmt.Errorf("ledger: create Tessera's tables in %s: %w", cfg.DBName, err)
		}
	}
	st, err := tmysql.New(ctx, db)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("ledger: Tessera MySQL driver: %w", err)
	}
	return db, st, nil
}

// MySQLExists reports whether the database named by dsn already holds a
// log: Tessera's tree state row is there.
func MySQLExists(ctx context.Context, dsn string) (bool, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return false, fmt.Errorf("ledger: MySQL DSN: %w", err)
	}
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return false, err
	}
	defer db.Close()
	var n int
	err = db.QueryRowContext(ctx, "SELECT COUNT(*) FROM `TreeState`").Scan(&n)
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == 1146 { // no such table
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("ledger: read the tree state in %s: %w", cfg.DBName, err)
	}
	return n > 0, nil
}

// exactReader narrows a reader's partial tiles and entry bundles to the
// width asked for. Tessera's MySQL driver answers a request for a partial
// resource with the widest version it holds, which C2SP tlog-tiles
// clients (and the proofs built on them) must not be given.
type exactReader struct{ tessera.LogReader }

// ReadTile returns the hash tile, exactly p hashes wide when p > 0.
func (r exactReader) ReadTile(ctx context.Context, level, index uint64, p uint8) ([]byte, error) {
	t, err := r.LogReader.ReadTile(ctx, level, index, p)
	if err != nil {
		return nil, err
	}
	want := int(p) * sha256.Size
	if p == 0 {
		want = layout.TileWidth * sha256.Size
	}
	if len(t) < want {
		return nil, os.ErrNotExist
	}
	return t[:want], nil
}

// ReadEntryBundle returns the entry bundle, exactly p entries when p > 0.
func (r exactReader) ReadEntryBundle(ctx context.Context, index uint64, p uint8) ([]byte, error) {
	b, err := r.LogReader.ReadEntryBundle(ctx, index, p)
	if err != nil {
		return nil, err
	}
	want := int(p)
	if p == 0 {
		want = layout.EntryBundleWidth
	}
	// A bundle is a sequence of entries, each a big-endian uint16 length
	// followed by that many bytes.
	off := 0
	for i := 0; i < want; i++ {
		if off+2 > len(b) {
			return nil, os.ErrNotExist
		}
		off += 2 + int(binary.BigEndian.Uint16(b[off:]))
		if off > len(b) {
			return nil, fmt.Errorf("ledger: entry bundle %d is truncated", index)
		}
	}
	return b[:off], nil
}

// mysqlLease is the engine's write lease on a log in MySQL: a named lock
// (GET_LOCK) held by one connection. The server holds the lock exactly
// while that connection lives, so a frontend that dies or loses its
// database connection loses the lease, and another may take it.
type mysqlLease struct {
	db   *sql.DB
	name string // the lock's name, unique to the database
}

func newMySQLLease(ctx context.Context, db *sql.DB) (*mysqlLease, error) {
	var dbname string
	if err := db.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&dbname); err != nil {
		return nil, fmt.Errorf("ledger: name the database: %w", err)
	}
	// Lock names are global to the server and at most 64 characters.
	h := sha256.Sum256([]byte(dbname))
	return &mysqlLease{db: db, name: "guarantor.engine." + hex.EncodeToString(h[:16])}, nil
}

// Acquire blocks until this process holds the lease or ctx ends. The
// returned context is cancelled when the lease is lost (the connection
// holding it fails) or when release is called; release gives it up.
func (l *mysqlLease) Acquire(ctx context.Context) (held context.Context, release func(), err error) {
	for {
		conn, err := l.db.Conn(ctx)
		if err == nil {
			var got sql.NullInt64
			err = conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 1)", l.name).Scan(&got)
			if err == nil && got.Valid && got.Int64 == 1 {
				return l.hold(ctx, conn)
			}
			conn.Close()
		}
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		if err != nil {
			// The database is unreachable: wait a little before retrying.
			select {
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			case <-time.After(time.Second):
			}
		}
	}
}

// hold watches the connection holding the lock until it fails or the
// lease is released.
func (l *mysqlLease) hold(ctx context.Context, conn *sql.Conn) (context.Context, func(), error) {
	hctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				rctx, rcancel := context.WithTimeout(context.Background(), 2*time.Second)
				_, _ = conn.ExecContext(rctx, "DO RELEASE_LOCK(?)", l.name)
				rcancel()
				conn.Close()
				return
			case <-t.C:
			}
			var mine sql.NullInt64
			qctx, qcancel := context.WithTimeout(hctx, 2*time.Second)
			err := conn.QueryRowContext(qctx, "SELECT IS_USED_LOCK(?) = CONNECTION_ID()", l.name).Scan(&mine)
			qcancel()
			if hctx.Err() == nil && (err != nil || !mine.Valid || mine.Int64 != 1) {
				cancel() // lost: the next loop iteration releases and closes
			}
		}
	}()
	return hctx, func() { cancel(); <-done }, nil
}
