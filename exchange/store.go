package exchange

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/guarantor/guarantor/exchange/commit"
	"github.com/guarantor/guarantor/exchange/reconcile"
	"github.com/guarantor/guarantor/exchange/vault"
	"github.com/guarantor/guarantor/internal/sqlitemigrate"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// timeLayout stores times in UTC with fixed-width nanoseconds, so that
// text order is time order.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// Config configures a Service. Path, Ring and Committer are required.
type Config struct {
	// Path is the service's SQLite database, for example DATA/exchange.db;
	// it is created with mode 0600 if missing.
	Path string
	// Ring seals records at rest: new records under its active key; older
	// ones open under any of its keys. See [Service.Rewrap].
	Ring *vault.Ring
	// Committer holds the verifier's commitment key, which also derives
	// record ids. It must never change for an exchange: published
	// commitments and stored ids depend on it.
	Committer *commit.Committer
	// Reconcile holds the reconciliation thresholds. Optional; the zero
	// value selects the engine's defaults.
	Reconcile reconcile.Options
}

// Service is the verifier's private exchange service. It is safe for
// concurrent use.
type Service struct {
	db   *sql.DB
	com  *commit.Committer
	opts reconcile.Options

	mu   sync.RWMutex
	ring *vault.Ring
}

// Open validates cfg, opens or creates the database at cfg.Path and
// applies any pending migrations. The database runs in WAL mode with
// foreign keys, synchronous=FULL and secure_delete on: what a call
// acknowledges survives a power loss, and deleted sealed data is
// overwritten.
func Open(ctx context.Context, cfg Config) (*Service, error) {
	switch {
	case cfg.Path == "":
		return nil, errors.New("exchange: Config.Path is empty")
	case cfg.Ring == nil || cfg.Ring.ActiveID() == "":
		return nil, errors.New("exchange: Config.Ring is empty (load one with vault.LoadFile)")
	case cfg.Committer == nil:
		return nil, errors.New("exchange: Config.Committer is nil (load one with commit.LoadFile)")
	}
	if err := cfg.Reconcile.Validate(); err != nil {
		return nil, fmt.Errorf("exchange: Config.Reconcile: %w", err)
	}
	f, err := os.OpenFile(cfg.Path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("exchange: open %s: %w", cfg.Path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("exchange: open %s: %w", cfg.Path, err)
	}
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(FULL)", "secure_delete(1)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: cfg.Path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("exchange: open %s: %w", cfg.Path, err)
	}
	db.SetMaxOpenConns(1)
	s := &Service{db: db, com: cfg.Committer, opts: cfg.Reconcile, ring: cfg.Ring}
	if err := s.migrate(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("exchange: open %s: %w", cfg.Path, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Service) Close() error { return s.db.Close() }

// migrate applies the embedded migrations newer than the database.
func (s *Service) migrate(ctx context.Context) error {
	return sqlitemigrate.Apply(ctx, s.db, migrations, "migrations")
}

// tx runs fn in a transaction, committed if fn returns nil.
func (s *Service) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) { return time.Parse(timeLayout, s) }

// keyRing returns the ring in use.
func (s *Service) keyRing() *vault.Ring {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ring
}

// Associated data of the sealed columns: each binds the ciphertext to the
// row it belongs in.
func recordAAD(listID, recordID string) []byte {
	return []byte("guarantor/exchange/record/v1\x00" + listID + "\x00" + recordID)
}

func reconciliationAAD(exchange, holder, what string) []byte {
	return []byte("guarantor/exchange/reconciliation/v1\x00" + exchange + "\x00" + holder + "\x00" + what)
}

func noteAAD(exchange, holder string, seq int) []byte {
	return []byte("guarantor/exchange/decision-note/v1\x00" + exchange + "\x00" + holder + "\x00" + strconv.Itoa(seq))
}

// seal encrypts plaintext and returns its stored form.
func seal(r *vault.Ring, plaintext, aad []byte) ([]byte, error) {
	sealed, err := r.Seal(plaintext, aad)
	if err != nil {
		return nil, err
	}
	return sealed.MarshalBinary()
}

// unseal opens a stored sealed column. Its errors name key ids, never
// data.
func unseal(r *vault.Ring, stored, aad []byte) ([]byte, error) {
	sealed, err := vault.ParseSealed(stored)
	if err != nil {
		return nil, err
	}
	return r.Open(sealed, aad)
}
