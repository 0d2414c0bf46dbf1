// Package sqlitemigrate applies numbered, embedded SQL migrations to a
// small SQLite database of its own (the webhook store, the exchange
// verifier's records), keeping the schema version in PRAGMA user_version.
package sqlitemigrate

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
)

// Apply runs, each in its own transaction together with the new schema
// version, every migration in fsys matching dir/*.sql newer than the
// database; names are NNNN_what.sql, numbered 1, 2, 3, ... without gaps.
// It refuses a database written by a newer program.
func Apply(ctx context.Context, db *sql.DB, fsys fs.FS, dir string) error {
	var version int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	names, err := fs.Glob(fsys, dir+"/*.sql")
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	slices.Sort(names)
	for i, name := range names {
		num, _, _ := strings.Cut(strings.TrimPrefix(name, dir+"/"), "_")
		if n, err := strconv.Atoi(num); err != nil || n != i+1 {
			return fmt.Errorf("migration %s: numbers must run 1, 2, 3, ... without gaps", name)
		}
	}
	if version > len(names) {
		return fmt.Errorf("schema version %d is newer than this program knows (%d); upgrade", version, len(names))
	}
	for i, name := range names[version:] {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		if err := inTx(ctx, db, string(b), version+i+1); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

// inTx runs one migration and records its version, atomically.
func inTx(ctx context.Context, db *sql.DB, migration string, version int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, migration); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", version)); err != nil {
		return err
	}
	return tx.Commit()
}
