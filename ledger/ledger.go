// Package ledger is guarantor's transparency log: a Tessera log on its
// POSIX driver (one server) or its MySQL driver (several servers sharing
// one MySQL or MariaDB database), checkpoints signed by the log key, read
// back through the C2SP tlog-tiles API. It adds nothing to the tree that Tessera does not
// do itself; it wires Tessera's appender, publication awaiter and proof
// builder together and serves the tiles over HTTP.
package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/api"
	"github.com/transparency-dev/tessera/client"
	"github.com/transparency-dev/tessera/storage/posix"
	"golang.org/x/mod/sumdb/note"
)

// Config configures a Log. Dir and Signer are required; the rest are
// optional and say their default.
type Config struct {
	// Dir holds the log: the public tlog-tiles files (checkpoint, tile/)
	// and Tessera's private state (.state/). Back them up together.
	// Required unless MySQL is set.
	Dir string

	// MySQL, if set, keeps the log in this MySQL or MariaDB database
	// (go-sql-driver DSN, user:password@tcp(host:3306)/database) with
	// Tessera's MySQL driver instead of in Dir. Several servers may open
	// the same database: Tessera sequences their entries in one
	// transaction per batch, so they serve one log. The driver publishes
	// checkpoints at most once a second (MinMySQLCheckpointInterval).
	MySQL string

	// Signer signs checkpoints; its name is the log's origin line.
	Signer note.Signer

	// BatchMaxSize is the most entries Tessera sequences in one batch.
	// Optional. Default 512.
	BatchMaxSize uint

	// BatchMaxAge is how long an entry may wait for its batch to fill.
	// Optional. Default 25ms.
	BatchMaxAge time.Duration

	// CheckpointInterval is the least time between published checkpoints;
	// it bounds receipt latency. Optional. Default 200ms (Tessera's POSIX
	// minimum is 100ms).
	CheckpointInterval time.Duration

	// PollPeriod is how often the publication awaiter reads the
	// checkpoint while requests wait. Optional. Default 20ms.
	PollPeriod time.Duration

	// PushbackMaxOutstanding is how many sequenced but not yet integrated
	// entries Tessera allows before refusing adds with ErrPushback.
	// Optional. Default 8192.
	PushbackMaxOutstanding uint

	// Witnesses is the witness quorum that must cosign each checkpoint
	// before it is published (Tessera's tlog-witness client); published
	// checkpoints then carry the witnesses' cosignatures after the log's
	// signature. The witnesses must know the log's origin and key.
	// Optional. Default nil: checkpoints carry only the log's signature.
	Witnesses *tessera.WitnessGroup

	// WitnessTimeout is how long to wait for the witnesses to meet the
	// quorum for one checkpoint. Optional. Default 5s.
	WitnessTimeout time.Duration

	// WitnessFailOpen publishes a checkpoint without cosignatures when the
	// quorum is not met in time. Optional. Default false: no checkpoint is
	// published (so Await blocks and Close cannot flush) until the quorum
	// is reachable again; entries stay durably integrated meanwhile.
	WitnessFailOpen bool
}

func (c *Config) setDefaults() {
	if c.BatchMaxSize == 0 {
		c.BatchMaxSize = 512
	}
	if c.BatchMaxAge == 0 {
		c.BatchMaxAge = 25 * time.Millisecond
	}
	if c.CheckpointInterval == 0 {
		c.CheckpointInterval = 200 * time.Millisecond
	}
	if c.MySQL != "" && c.CheckpointInterval < MinMySQLCheckpointInterval {
		c.CheckpointInterval = MinMySQLCheckpointInterval
	}
	if c.PollPeriod == 0 {
		c.PollPeriod = 20 * time.Millisecond
	}
	if c.PushbackMaxOutstanding == 0 {
		c.PushbackMaxOutstanding = 8192
	}
	if c.WitnessTimeout == 0 {
		c.WitnessTimeout = tessera.DefaultWitnessTimeout
	}
}

// Log is an open transparency log. Its methods are safe for concurrent use.
type Log struct {
	cfg      Config
	appender *tessera.Appender
	reader   tessera.LogReader
	shutdown func(context.Context) error
	awaiter  *tessera.PublicationAwaiter
	cancel   context.CancelFunc

	nodes *nodeHashes
	db    *sql.DB     // the MySQL pool; nil on POSIX
	lease *mysqlLease // the engine's write lease on MySQL; nil on POSIX
}

// Exists reports whether dir already holds a log.
func Exists(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, ".state", "treeState"))
	return err == nil
}

// Open opens the log in cfg.Dir, creating an empty one if there is none,
// and starts Tessera's sequencing and publishing. Close it to flush.
// With Config.Witnesses, creating a log needs the quorum too: its first,
// empty checkpoint is witnessed like every other.
func Open(ctx context.Context, cfg Config) (*Log, error) {
	if (cfg.Dir == "" && cfg.MySQL == "") || cfg.Signer == nil {
		return nil, errors.New("ledger: Config.Dir (or Config.MySQL) and Config.Signer are required")
	}
	cfg.setDefaults()
	// The appender's context must outlive every Add; it is cancelled only
	// after shutdown has flushed in Close.
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var (
		driver tessera.Driver
		db     *sql.DB
		lease  *mysqlLease
	)
	if cfg.MySQL != "" {
		var st interface{ tessera.Driver }
		var err error
		db, st, err = openMySQL(ctx, cfg.MySQL)
		if err != nil {
			cancel()
			return nil, err
		}
		if lease, err = newMySQLLease(ctx, db); err != nil {
			cancel()
			db.Close()
			return nil, err
		}
		driver = st
	} else {
		if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
			cancel()
			return nil, fmt.Errorf("ledger: create log directory: %w", err)
		}
		d, err := posix.New(lctx, posix.Config{Path: cfg.Dir})
		if err != nil {
			cancel()
			return nil, fmt.Errorf("ledger: open POSIX log in %s: %w", cfg.Dir, err)
		}
		driver = d
	}
	opts := tessera.NewAppendOptions().
		WithCheckpointSigner(cfg.Signer).
		WithBatching(cfg.BatchMaxSize, cfg.BatchMaxAge).
		WithCheckpointInterval(cfg.CheckpointInterval).
		WithCheckpointRepublishInterval(10 * time.Minute).
		WithPushback(cfg.PushbackMaxOutstanding)
	if cfg.Witnesses != nil {
		opts.WithWitnesses(*cfg.Witnesses, &tessera.WitnessOptions{Timeout: cfg.WitnessTimeout, FailOpen: cfg.WitnessFailOpen})
	}
	appender, shutdown, reader, err := tessera.NewAppender(lctx, driver, opts)
	if err != nil {
		cancel()
		if db != nil {
			db.Close()
		}
		return nil, fmt.Errorf("ledger: start appender: %w", err)
	}
	if db != nil {
		reader = exactReader{reader}
	}
	return &Log{
		cfg:      cfg,
		appender: appender,
		reader:   reader,
		shutdown: shutdown,
		awaiter:  tessera.NewPublicationAwaiter(lctx, reader.ReadCheckpoint, cfg.PollPeriod),
		cancel:   cancel,
		nodes:    newNodeHashes(reader.ReadTile, 1<<18),
		db:       db,
		lease:    lease,
	}, nil
}

// Shared reports whether several servers may append to this log at once
// (the MySQL driver). They must then agree who runs the engine: see
// EngineLease.
func (l *Log) Shared() bool { return l.db != nil }

// EngineLease returns the lease that lets one of the servers sharing the
// log write the engine's entries, or nil on a log only one server opens.
func (l *Log) EngineLease() interface {
	Acquire(ctx context.Context) (held context.Context, release func(), err error)
} {
	if l.lease == nil {
		return nil
	}
	return l.lease
}

// Handler serves the log's public C2SP tlog-tiles resources (see
// TileHandler): from the files in Dir, or from the database.
//
// Anyone may call it: the log is public by design.
func (l *Log) Handler() http.Handler {
	if l.db == nil {
		return TileHandler(l.cfg.Dir)
	}
	return ReaderHandler(l.reader)
}

// Origin returns the log's origin, the name of its checkpoint signer.
func (l *Log) Origin() string { return l.cfg.Signer.Name() }

// Add queues data for sequencing and returns its index future. The
// future resolves once the entry is durably integrated in the tree (on
// the POSIX driver, fsynced); it is not yet covered by a published
// checkpoint. Overload errors wrap tessera.ErrPushback.
func (l *Log) Add(ctx context.Context, data []byte) tessera.IndexFuture {
	return l.appender.Add(ctx, tessera.NewEntry(data))
}

// Await blocks until the future resolves and a published checkpoint
// covers the entry, and returns its index and that signed checkpoint.
func (l *Log) Await(ctx context.Context, f tessera.IndexFuture) (uint64, []byte, error) {
	idx, cp, err := l.awaiter.Await(ctx, f)
	if err != nil {
		return 0, nil, err
	}
	return idx.Index, cp, nil
}

// InclusionProof returns the proof that the leaf at index is in the tree
// of the given size.
func (l *Log) InclusionProof(ctx context.Context, index, size uint64) ([][]byte, error) {
	p, err := l.nodes.inclusionProof(ctx, index, size)
	if err != nil {
		return nil, fmt.Errorf("ledger: inclusion proof of %d at size %d: %w", index, size, err)
	}
	return p, nil
}

// ConsistencyProof returns the proof that the tree of size smaller is a
// prefix of the tree of size larger.
func (l *Log) ConsistencyProof(ctx context.Context, smaller, larger uint64) ([][]byte, error) {
	pb, err := client.NewProofBuilder(ctx, larger, l.reader.ReadTile)
	if err != nil {
		return nil, fmt.Errorf("ledger: proof builder at size %d: %w", larger, err)
	}
	return pb.ConsistencyProof(ctx, smaller, larger)
}

// Reader returns the log's tile reader. It reads integrated data, which
// may be ahead of the published checkpoint.
func (l *Log) Reader() tessera.LogReader { return l.reader }

// ReadCheckpoint returns the latest published signed checkpoint.
func (l *Log) ReadCheckpoint(ctx context.Context) ([]byte, error) {
	return l.reader.ReadCheckpoint(ctx)
}

// IntegratedSize returns the size of the integrated tree, which may be
// ahead of the published checkpoint. Only internal followers may use it.
func (l *Log) IntegratedSize(ctx context.Context) (uint64, error) {
	return l.reader.IntegratedSize(ctx)
}

// Entries yields the raw entries with indexes in [from, to), reading
// integrated entry bundles in order. The caller must pass to ≤ the
// integrated size.
func (l *Log) Entries(ctx context.Context, from, to uint64) iter.Seq2[client.Entry[[]byte], error] {
	return ReadEntries(ctx, l.reader.ReadEntryBundle, from, to)
}

// ReadEntries yields the raw entries with indexes in [from, to) of a log
// of at least size to, using getBundle to fetch tlog-tiles entry bundles.
func ReadEntries(ctx context.Context, getBundle client.EntryBundleFetcherFunc, from, to uint64) iter.Seq2[client.Entry[[]byte], error] {
	if to <= from {
		return func(func(client.Entry[[]byte], error) bool) {}
	}
	size := func(context.Context) (uint64, error) { return to, nil }
	bundles := client.EntryBundles(ctx, 2, size, getBundle, from, to-from)
	return client.Entries(bundles, func(b []byte) ([][]byte, error) {
		var eb api.EntryBundle
		if err := eb.UnmarshalText(b); err != nil {
			return nil, fmt.Errorf("parse entry bundle: %w", err)
		}
		return eb.Entries, nil
	})
}

// Close stops accepting entries, waits until everything whose future was
// resolved is published, and stops Tessera.
func (l *Log) Close(ctx context.Context) error {
	defer l.cancel()
	err := l.shutdown(ctx)
	if err != nil {
		err = fmt.Errorf("ledger: shutdown: %w", err)
	}
	if l.db != nil {
		l.cancel() // stop the checkpoint publisher before its pool closes
		err = errors.Join(err, l.db.Close())
	}
	return err
}
