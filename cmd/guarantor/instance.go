package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/guarantor/guarantor/alert"
	"github.com/guarantor/guarantor/blob"
	"github.com/guarantor/guarantor/engine"
	"github.com/guarantor/guarantor/exchange"
	"github.com/guarantor/guarantor/exchange/commit"
	"github.com/guarantor/guarantor/exchange/vault"
	ghttp "github.com/guarantor/guarantor/http"
	"github.com/guarantor/guarantor/keyfile"
	"github.com/guarantor/guarantor/ledger"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/store/postgres"
	"github.com/guarantor/guarantor/store/sqlite"
	"github.com/guarantor/guarantor/web"
	"github.com/guarantor/guarantor/witness"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/transparency-dev/tessera"
	"golang.org/x/mod/sumdb/note"
)

// logTuning holds the log's batching and checkpoint settings.
type logTuning struct {
	postgres           string // DSN of the PostgreSQL projection; "": SQLite in the data directory
	mysql              string // DSN of the MySQL/MariaDB database holding the log; "": DATA/log
	batchSize          uint
	batchAge           time.Duration
	checkpointInterval time.Duration
	maxBlob            int64 // largest evidence blob, bytes
	testimonyEvery     time.Duration
	testimonyBurst     int
	writeRate          float64 // public write endpoints: requests per second per address; 0: none
	writeBurst         int
	trustedProxies     string        // --trusted-proxies: comma-separated CIDRs; "": none
	tick               time.Duration // engine tick interval; 0: a minute
	noEngine           bool          // run no engine (rebuild)

	witnessPolicy   string                // --witness-policy file; "": no witnessing
	witnessTimeout  time.Duration         // how long a checkpoint waits for the quorum
	witnessFailOpen bool                  // publish uncosigned when the quorum is not met
	witnesses       *tessera.WitnessGroup // loadWitnesses parses witnessPolicy into it
}

// parseTrustedProxies parses --trusted-proxies, comma-separated CIDRs
// such as 10.0.0.0/8,fd00::/8; "" is none.
func parseTrustedProxies(list string) ([]netip.Prefix, error) {
	if list == "" {
		return nil, nil
	}
	var nets []netip.Prefix
	for c := range strings.SplitSeq(list, ",") {
		c = strings.TrimSpace(c)
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8 or fd00::/8", c)
		}
		nets = append(nets, p)
	}
	return nets, nil
}

// loadWitnesses parses the witness policy file, if one was given, into
// t.witnesses. Its errors are one line naming the file (and the policy
// line at fault).
func (t *logTuning) loadWitnesses() error {
	if t.witnessPolicy == "" {
		return nil
	}
	b, err := os.ReadFile(t.witnessPolicy)
	if err != nil {
		return usagef("--witness-policy: %v", err)
	}
	p, err := witness.ParsePolicy(b)
	if err != nil {
		return usagef("--witness-policy %s: %v", t.witnessPolicy, err)
	}
	g, err := p.TesseraGroup()
	if err != nil {
		return usagef("--witness-policy %s: %v (serve needs every witness's URL)", t.witnessPolicy, err)
	}
	t.witnesses = &g
	return nil
}

// instance is an opened data directory: log, projection and node.
type instance struct {
	dir        dataDir
	info       ghttp.Info
	log        *ledger.Log
	store      node.Store // SQLite in the data directory, or PostgreSQL (--postgres)
	node       *node.Node
	reg        *prometheus.Registry
	blobs      *blob.Store
	testimony  *ghttp.TestimonyConfig // nil: no intake key, no public testimony
	alerts     *alert.Store           // nil: no webhooks (openAlerts opens it)
	exchange   *exchange.Service      // nil: this server is not the exchange verifier
	writeRate  float64                // see logTuning.writeRate
	writeBurst int
	proxies    []netip.Prefix // see logTuning.trustedProxies
	unlock     func()
}

// openInstance opens the log and projection in dir and starts a node,
// which first brings the projection up to the log.
func openInstance(ctx context.Context, dir dataDir, t logTuning, logger *slog.Logger) (*instance, error) {
	info, err := dir.readInfo()
	if err != nil {
		return nil, err
	}
	unlock, err := lockDataDir(dir)
	if err != nil {
		return nil, err
	}
	inst, err := openLocked(ctx, dir, info, t, logger)
	if err != nil {
		unlock()
		return nil, err
	}
	inst.unlock = unlock
	return inst, nil
}

func openLocked(ctx context.Context, dir dataDir, info ghttp.Info, t logTuning, logger *slog.Logger) (*instance, error) {
	proxies, err := parseTrustedProxies(t.trustedProxies)
	if err != nil {
		return nil, usagef("--trusted-proxies: %v", err)
	}
	signer, err := keyfile.Signer(dir.key("log"))
	if err != nil {
		return nil, err
	}
	if signer.Name() != info.Origin {
		return nil, fmt.Errorf("log key is named %q but the log's origin is %q", signer.Name(), info.Origin)
	}
	if err := dir.checkLogDriver(t.mysql); err != nil {
		return nil, err
	}
	logDir := dir.logDir()
	if t.mysql != "" {
		logDir = ""
	}
	lg, err := ledger.Open(ctx, ledger.Config{
		Dir: logDir, MySQL: t.mysql, Signer: signer,
		BatchMaxSize: t.batchSize, BatchMaxAge: t.batchAge, CheckpointInterval: t.checkpointInterval,
		Witnesses: t.witnesses, WitnessTimeout: t.witnessTimeout, WitnessFailOpen: t.witnessFailOpen,
	})
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, dir, t.postgres)
	if err != nil {
		_ = lg.Close(ctx)
		return nil, err
	}
	if t.maxBlob <= 0 {
		t.maxBlob = defaultMaxBlob
	}
	blobs, err := blob.Open(dir.blobs(), t.maxBlob)
	if err != nil {
		_ = st.Close()
		_ = lg.Close(ctx)
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var eng *node.EngineConfig
	if !t.noEngine {
		es, err := keyfile.Signer(dir.key("engine"))
		if err != nil {
			_ = st.Close()
			_ = lg.Close(ctx)
			return nil, fmt.Errorf("engine key: %w", err)
		}
		eng = &node.EngineConfig{Rules: engine.DefaultConfig(), Signer: es, TickEvery: t.tick}
		if l := lg.EngineLease(); l != nil {
			// Servers sharing the log take turns writing the engine's
			// entries; every one of them checks them.
			eng.Lease = l
		}
	}
	xs, err := openExchange(ctx, dir)
	if err != nil {
		_ = st.Close()
		_ = lg.Close(ctx)
		return nil, err
	}
	cfg := node.Config{
		Log: lg, Store: st, AuthorityVKey: info.AuthorityVKey,
		Logger: logger, Metrics: node.NewMetrics(reg), Evidence: blobs,
		Engine: eng, Disk: dir.checkDisk,
	}
	if xs != nil {
		cfg.Exchange = xs
	}
	n, err := node.New(ctx, cfg)
	if err != nil {
		if xs != nil {
			_ = xs.Close()
		}
		_ = st.Close()
		_ = lg.Close(ctx)
		return nil, err
	}
	inst := &instance{dir: dir, info: info, log: lg, store: st, node: n, reg: reg, blobs: blobs, exchange: xs, writeRate: t.writeRate, writeBurst: t.writeBurst, proxies: proxies}
	if intake, err := keyfile.Signer(dir.key("intake")); err == nil {
		b, err := os.ReadFile(dir.contactKey())
		var key []byte
		if err == nil {
			key, err = hex.DecodeString(strings.TrimSpace(string(b)))
		}
		if err != nil || len(key) < 16 {
			_ = inst.Close(ctx)
			return nil, fmt.Errorf("contact key %s missing or malformed (hex, at least 16 bytes)", dir.contactKey())
		}
		inst.testimony = &ghttp.TestimonyConfig{Signer: intake, ContactKey: key, Every: t.testimonyEvery, Burst: t.testimonyBurst}
		if inst.testimony.Every <= 0 {
			inst.testimony.Every = 10 * time.Minute
		}
		if inst.testimony.Burst <= 0 {
			inst.testimony.Burst = 5
		}
	}
	return inst, nil
}

// Close flushes the log and closes everything.
func (i *instance) Close(ctx context.Context) error {
	i.node.Close()
	err := i.log.Close(ctx)
	err = errors.Join(err, i.store.Close())
	if i.alerts != nil {
		err = errors.Join(err, i.alerts.Close())
	}
	if i.exchange != nil {
		err = errors.Join(err, i.exchange.Close())
	}
	if i.unlock != nil {
		i.unlock()
	}
	return err
}

// handler returns the HTTP API of the instance.
func (i *instance) handler(logger *slog.Logger) http.Handler {
	opts := []ghttp.Option{ghttp.WithBlobs(i.blobs)}
	if i.writeBurst > 0 || i.writeRate > 0 {
		opts = append(opts, ghttp.WithWriteLimit(i.writeRate, i.writeBurst))
	}
	if len(i.proxies) > 0 {
		opts = append(opts, ghttp.WithTrustedProxies(i.proxies))
	}
	if i.testimony != nil {
		opts = append(opts, ghttp.WithTestimony(*i.testimony))
	}
	if i.alerts != nil {
		opts = append(opts, ghttp.WithAlerts(i.alerts))
	}
	if i.exchange != nil {
		opts = append(opts, ghttp.WithExchange(i.exchange))
	}
	webOpts := []web.Option{web.WithLog(i.node.Log()), web.WithLogger(logger)}
	if v, err := note.NewVerifier(i.info.LogVKey); err == nil {
		webOpts = append(webOpts, web.WithLogVerifier(v)) // the explorer checks the checkpoint's signature
	}
	opts = append(opts, ghttp.WithUI(web.New(i.node.Store(), webOpts...)))
	return ghttp.NewServer(i.node, i.info, i.reg, logger, opts...)
}

// serveOn serves the instance's API on ln until ctx ends, then shuts down
// gracefully: requests in flight finish (their entries are published)
// before the log is closed.
func (i *instance) serveOn(ctx context.Context, ln net.Listener, logger *slog.Logger) error {
	srv := &http.Server{
		Handler:           i.handler(logger),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	stopAlerts, err := i.startAlerts(ctx, logger)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		stopAlerts()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	stopAlerts()
	return errors.Join(err, i.Close(sctx))
}

// openAlerts opens the webhook subscriptions and delivery log,
// DATA/alerts.db: operator configuration kept apart from the projection,
// so that a rebuild keeps it.
func (i *instance) openAlerts(ctx context.Context) error {
	st, err := alert.Open(ctx, filepath.Join(string(i.dir), "alerts.db"))
	if err != nil {
		return err
	}
	i.alerts = st
	return nil
}

// startAlerts runs the webhook dispatcher over the projection, if
// openAlerts was called, until ctx ends or the returned stop is called;
// stop returns once it has stopped.
func (i *instance) startAlerts(ctx context.Context, logger *slog.Logger) (stop func(), err error) {
	if i.alerts == nil {
		return func() {}, nil
	}
	d, err := alert.NewDispatcher(alert.Config{Store: i.alerts, Source: i.node.Store(), Logger: logger})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = d.Run(ctx) })
	return func() { cancel(); wg.Wait() }, nil
}

// VaultEnv names the environment variable that may hold the exchange
// vault's keys instead of the key file (same format: "id base64key",
// the first active, separated by newlines or ';').
const VaultEnv = "GUARANTOR_EXCHANGE_VAULT_KEYS"

// openExchange opens the neutral verifier's exchange service when this
// data directory holds its keys (init --verifier made them), or returns
// nil: a server that is not the verifier holds no detainee data at all.
// The vault's keys come from VaultEnv when it is set, else from the key
// file, which must not be readable by group or others.
func openExchange(ctx context.Context, d dataDir) (*exchange.Service, error) {
	if _, err := os.Stat(d.exchangeCommit()); os.IsNotExist(err) {
		return nil, nil
	}
	var ring *vault.Ring
	var err error
	if os.Getenv(VaultEnv) != "" {
		ring, err = vault.LoadEnv(VaultEnv)
	} else {
		ring, err = vault.LoadFile(d.exchangeVault())
	}
	if err != nil {
		return nil, fmt.Errorf("exchange vault: %w", err)
	}
	cm, err := commit.LoadFile(d.exchangeCommit())
	if err != nil {
		return nil, fmt.Errorf("exchange commitment key: %w", err)
	}
	return exchange.Open(ctx, exchange.Config{Path: d.exchangeDB(), Ring: ring, Committer: cm})
}

// openStore opens the projection: PostgreSQL at dsn when one is given,
// else SQLite in the data directory.
func openStore(ctx context.Context, d dataDir, dsn string) (node.Store, error) {
	if dsn != "" {
		st, err := postgres.Open(ctx, dsn)
		if err != nil {
			return nil, fmt.Errorf("PostgreSQL projection: %w", err)
		}
		return st, nil
	}
	return sqlite.Open(ctx, d.projection())
}
