package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/guarantor/guarantor/audit"
	"github.com/guarantor/guarantor/witness"
	tclient "github.com/transparency-dev/tessera/client"
)

// logList is a repeatable --log flag.
type logList []string

func (l *logList) String() string     { return strings.Join(*l, " ") }
func (l *logList) Set(s string) error { *l = append(*l, s); return nil }

// runWitness runs a C2SP tlog-witness for one or more logs. Its state
// (key and latest cosigned checkpoint per log) lives in --data.
func runWitness(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "witness")
	o := witnessServerFlags(fs)
	if _, err := parseConfigured(e, fs, args); err != nil {
		return err
	}
	if o.data == "" {
		return usagef("--data DIR is required, e.g. guarantor witness --data witness-state --log ORIGIN=VKEY")
	}
	if o.guarantor != "" {
		info, err := dataDir(o.guarantor).readInfo()
		if err != nil {
			return err
		}
		o.logs = append(o.logs, info.Origin+"="+info.LogVKey)
	}
	if len(o.logs) == 0 {
		return usagef("give at least one --log ORIGIN=VKEY or --guarantor DIR")
	}
	var ls []witness.Log
	for _, s := range o.logs {
		l, err := witness.ParseLog(s)
		if err != nil {
			return usagef("--log %q: %v", s, err)
		}
		ls = append(ls, l)
	}
	if err := os.MkdirAll(o.data, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", o.data, err)
	}
	signer, vkey, err := witness.LoadOrCreateKey(filepath.Join(o.data, "witness.key"), o.name)
	if err != nil {
		return err
	}
	st, err := witness.OpenFileStore(filepath.Join(o.data, "state.json"))
	if err != nil {
		return err
	}
	w, err := witness.New(witness.Config{Signer: signer, Logs: ls, Store: st})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.addr, err)
	}
	srv := &http.Server{Handler: w.Handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(e.stdout, "witness %s %s http://%s\n", policyName(w.Name()), vkey, ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// witnessOptions are witness's settings, from its flags or a --config file.
type witnessOptions struct {
	data, addr, name, guarantor string
	logs                        logList
}

// witnessServerFlags registers witness's flags on fs.
func witnessServerFlags(fs *flag.FlagSet) *witnessOptions {
	o := &witnessOptions{}
	fs.StringVar(&o.data, "data", "", "witness state directory: witness.key (made on first run) and state.json")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8090", "address to serve POST /add-checkpoint on")
	fs.StringVar(&o.name, "name", "guarantor-witness", "the witness's name, used when its key is first generated")
	fs.Var(&o.logs, "log", "a log to witness, ORIGIN=VKEY or VKEY (repeatable)")
	fs.StringVar(&o.guarantor, "guarantor", "", "a guarantor data directory whose log to witness (adds its origin and log key)")
	return o
}

// policyName turns a key name into a policy component name (no "/").
func policyName(keyName string) string {
	return strings.NewReplacer("/", "-", "+", "-").Replace(keyName)
}

// witnessFlags are verify's flags for witness quorums and split views.
type witnessFlags struct {
	policy                 *string
	compareServers, cpFile logList
}

func addWitnessFlags(fs *flag.FlagSet) *witnessFlags {
	w := &witnessFlags{policy: fs.String("witness-policy", "", "witness policy file (witness NAME VKEY URL / group NAME k|any|all MEMBERS / quorum NAME): the checkpoint must carry cosignatures meeting its quorum")}
	fs.Var(&w.compareServers, "compare-server", "another server of the same log; a split view with its checkpoint fails (repeatable)")
	fs.Var(&w.cpFile, "compare-checkpoint", "a checkpoint file of the same log; a split view with it fails (repeatable)")
	return w
}

// apply loads the policy and the peer checkpoints into cfg.
func (w *witnessFlags) apply(ctx context.Context, cfg *audit.Config) error {
	if *w.policy != "" {
		b, err := os.ReadFile(*w.policy)
		if err != nil {
			return usagef("--witness-policy: %v", err)
		}
		p, err := witness.ParsePolicy(b)
		if err != nil {
			return usagef("--witness-policy %s: %v", *w.policy, err)
		}
		cfg.WitnessPolicy = p
	}
	for _, f := range w.cpFile {
		b, err := os.ReadFile(f)
		if err != nil {
			return usagef("--compare-checkpoint: %v", err)
		}
		cfg.Peers = append(cfg.Peers, audit.Peer{Source: f, Checkpoint: b})
	}
	for _, s := range w.compareServers {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return usagef("--compare-server %q is not an http(s) URL", s)
		}
		lu := u.JoinPath("log")
		lu.Path += "/"
		hf, err := tclient.NewHTTPFetcher(lu, &http.Client{Timeout: 30 * time.Second})
		if err != nil {
			return err
		}
		cp, err := hf.ReadCheckpoint(ctx)
		if err != nil {
			return fmt.Errorf("fetch checkpoint from %s: %w", lu, err)
		}
		cfg.Peers = append(cfg.Peers, audit.Peer{Source: s, Checkpoint: cp, ReadTile: hf.ReadTile})
	}
	return nil
}
