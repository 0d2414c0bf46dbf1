package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"

	ghttp "github.com/guarantor/guarantor/http"
	"github.com/guarantor/guarantor/store/postgres"
	"github.com/guarantor/guarantor/store/sqlite"
	"k8s.io/klog/v2"
)

// tuningFlags registers the log tuning flags on fs.
func tuningFlags(fs interface {
	UintVar(*uint, string, uint, string)
	DurationVar(*time.Duration, string, time.Duration, string)
	Int64Var(*int64, string, int64, string)
	IntVar(*int, string, int, string)
	StringVar(*string, string, string, string)
	BoolVar(*bool, string, bool, string)
	Float64Var(*float64, string, float64, string)
}) *logTuning {
	t := &logTuning{}
	fs.DurationVar(&t.testimonyEvery, "testimony-every", 10*time.Minute, "public testimony: one statement per this interval per client address, after the burst")
	fs.IntVar(&t.testimonyBurst, "testimony-burst", 5, "public testimony: statements a client address may send at once")
	fs.Int64Var(&t.maxBlob, "max-blob", defaultMaxBlob, "largest evidence blob accepted, in bytes")
	fs.Float64Var(&t.writeRate, "write-rate", ghttp.DefaultWriteRate, "public write endpoints (entries, batches, blobs, webhooks, exchange lists): requests per second per client address, after the burst; 0 for no limit")
	fs.IntVar(&t.writeBurst, "write-burst", ghttp.DefaultWriteBurst, "public write endpoints: requests a client address may send at once")
	fs.StringVar(&t.trustedProxies, "trusted-proxies", "", "comma-separated CIDRs of reverse proxies (10.0.0.0/8,fd00::/8) whose X-Forwarded-For the per-address limits believe: a request from one counts against the right-most forwarded address that is not a trusted proxy; empty: the connection's address")
	fs.UintVar(&t.batchSize, "batch-size", 512, "most entries sequenced in one batch")
	fs.DurationVar(&t.batchAge, "batch-age", 25*time.Millisecond, "longest an entry waits for its batch to fill")
	fs.DurationVar(&t.tick, "tick", time.Minute, "how often the engine appends a tick entry (its clock for deadlines)")
	fs.StringVar(&t.postgres, "postgres", "", "keep the projection in PostgreSQL at this DSN (postgres://user@host:5432/db) instead of DATA/projection.db")
	fs.StringVar(&t.mysql, "mysql", "", "the log is in this MySQL/MariaDB database (user:password@tcp(host:3306)/db), made by init --mysql; several servers may serve it, each with its own data directory (init --join)")
	fs.DurationVar(&t.checkpointInterval, "checkpoint-interval", 200*time.Millisecond, "least time between published checkpoints (min 100ms); bounds receipt latency")
	fs.StringVar(&t.witnessPolicy, "witness-policy", "", "witness policy file (witness NAME VKEY URL / group NAME k|any|all MEMBERS / quorum NAME): each checkpoint is sent to the witnesses and published with their cosignatures once the quorum cosigns")
	fs.DurationVar(&t.witnessTimeout, "witness-timeout", 5*time.Second, "how long one checkpoint waits for the witness quorum")
	fs.BoolVar(&t.witnessFailOpen, "witness-fail-open", false, "publish checkpoints without cosignatures when the quorum is not met in time. Without it, while the quorum is unreachable no checkpoint is published and writes are not acknowledged (entries are kept and published once it returns); with it, the log stays available but those checkpoints are unwitnessed")
	return t
}

// defaultMaxBlob is the default size limit of evidence blobs: 32 MiB.
const defaultMaxBlob = 32 << 20

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level %q is not one of debug, info, warn, error", level)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
	quietTessera(logger)
	return logger, nil
}

// quietTessera sends Tessera's klog output through logger, at warning
// level and above: its informational lines would drown ours.
func quietTessera(logger *slog.Logger) {
	h := logger.Handler()
	klog.SetSlogLogger(slog.New(levelFloor{h, slog.LevelWarn}))
}

// levelFloor drops records below min.
type levelFloor struct {
	slog.Handler
	min slog.Level
}

// Enabled reports whether records at l pass the floor and the handler.
func (f levelFloor) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.Handler.Enabled(ctx, l)
}

// serveOptions are serve's settings, from its flags or a --config file.
type serveOptions struct {
	data, addr, logLevel, debugAddr string
	tuning                          *logTuning
}

// serveFlags registers serve's flags on fs.
func serveFlags(fs *flag.FlagSet) *serveOptions {
	o := &serveOptions{}
	fs.StringVar(&o.data, "data", "", "data directory made by init (required)")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&o.debugAddr, "debug-addr", "", "if set, serve Go's pprof profiles on this separate address (keep it private)")
	o.tuning = tuningFlags(fs)
	return o
}

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve")
	o := serveFlags(fs)
	src, err := parseConfigured(e, fs, args)
	if err != nil {
		return err
	}
	if err := validateServe(o); err != nil {
		return src.explain(err)
	}
	tuning := o.tuning
	if err := tuning.loadWitnesses(); err != nil {
		return err
	}
	logger, err := newLogger(o.logLevel)
	if err != nil {
		return err
	}
	inst, err := openInstance(ctx, dataDir(o.data), *tuning, logger)
	if err != nil {
		return err
	}
	if err := inst.openAlerts(ctx); err != nil {
		return errors.Join(err, inst.Close(ctx))
	}
	if o.debugAddr != "" {
		go servePprof(o.debugAddr, logger)
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (choose another --addr)", o.addr, err)
	}
	logger.Info("serving", "addr", ln.Addr().String(), "origin", inst.info.Origin, "size", inst.node.Applied(), "witness_policy", tuning.witnessPolicy)
	// The address line on stdout lets scripts and tests find the port
	// when --addr ends in :0.
	fmt.Fprintf(e.stdout, "listening on http://%s\n", ln.Addr())
	return inst.serveOn(ctx, ln, logger)
}

func runRebuild(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "rebuild")
	data := fs.String("data", "", "data directory made by init (required)")
	pg := fs.String("postgres", "", "rebuild the PostgreSQL projection at this DSN instead of DATA/projection.db (stop every server using it first)")
	my := fs.String("mysql", "", "the log is in this MySQL/MariaDB database (init --mysql)")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *data == "" {
		return usagef("--data is required")
	}
	d := dataDir(*data)
	info, err := d.readInfo()
	if err != nil {
		return err
	}
	unlock, err := lockDataDir(d)
	if err != nil {
		return err
	}
	defer unlock()
	if *pg != "" {
		// No server may use the database meanwhile: the data directory's
		// lock does not reach it.
		if err := postgres.Drop(ctx, *pg); err != nil {
			return fmt.Errorf("delete the PostgreSQL projection: %w", err)
		}
	} else {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(d.projection() + suffix); err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("delete projection: %w", err)
			}
		}
	}
	start := time.Now()
	logger := slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// The engine does not run: a rebuild only projects what the log holds.
	inst, err := openLocked(ctx, d, info, logTuning{noEngine: true, postgres: *pg, mysql: *my}, logger)
	if err != nil {
		return err
	}
	n := inst.node.Applied()
	if err := inst.Close(ctx); err != nil {
		return err
	}
	where := d.projection()
	if *pg != "" {
		where = "the PostgreSQL projection"
	}
	fmt.Fprintf(e.stdout, "rebuilt %s from %d log entries in %s\n", where, n, time.Since(start).Round(time.Millisecond))
	return nil
}

// exportProjection writes the projection of d to w (for tests and audits).
func exportProjection(ctx context.Context, path string, w interface{ Write([]byte) (int, error) }) error {
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	return st.Export(ctx, w)
}

// servePprof serves the runtime profiles on a private address.
func servePprof(addr string, logger *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		logger.Error("debug server", "addr", addr, "err", err)
	}
}
