package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"

	"github.com/guarantor/guarantor/audit"
	"github.com/guarantor/guarantor/engine"
)

// auditFlags are the flags verify and replay share.
type auditFlags struct {
	server, data, logVKey, authVKey *string
}

func addAuditFlags(fs *flag.FlagSet) auditFlags {
	return auditFlags{
		server:   fs.String("server", "", "server URL to read the log from over the C2SP tile API, e.g. http://127.0.0.1:8080"),
		data:     fs.String("data", "", "data directory to read the log from instead of a server (read only; the server may be running)"),
		logVKey:  fs.String("log-vkey", "", "the log's verifier key (default: the data directory's, else trust what the server says the first time, then the state file)"),
		authVKey: fs.String("authority-vkey", "", "the mission authority's verifier key (default: as for --log-vkey)"),
	}
}

// config turns the flags into an audit configuration.
func (a auditFlags) config(name string) (audit.Config, error) {
	var cfg audit.Config
	if (*a.server == "") == (*a.data == "") {
		return cfg, usagef("give exactly one of --server URL and --data DIR, e.g. guarantor %s --server http://127.0.0.1:8080", name)
	}
	cfg.LogVKey, cfg.AuthorityVKey = *a.logVKey, *a.authVKey
	if *a.server != "" {
		u, err := url.Parse(*a.server)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return cfg, usagef("--server %q is not an http(s) URL", *a.server)
		}
		cfg.Server = u
		return cfg, nil
	}
	d := dataDir(*a.data)
	info, err := d.readInfo()
	if err != nil {
		return cfg, err
	}
	if _, err := os.Stat(d.mysqlMarker()); err == nil {
		return cfg, usagef("the log of %s is kept in MySQL/MariaDB, not in its directory: audit it through any of its servers (--server URL)", d)
	}
	cfg.Dir = d.logDir()
	if cfg.LogVKey == "" {
		cfg.LogVKey = info.LogVKey
	}
	if cfg.AuthorityVKey == "" {
		cfg.AuthorityVKey = info.AuthorityVKey
	}
	return cfg, nil
}

func runVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "verify")
	af := addAuditFlags(fs)
	state := fs.String("state", "", "file keeping the last verified checkpoint, to prove the log only grew")
	noReplay := fs.Bool("no-replay", false, "skip re-running the engine over the log")
	allowRejected := fs.Bool("allow-rejected", false, "pass a log holding entries the key registry refuses (listing them, as every projection records them as rejected) instead of failing at the first; servers sharing a log can rarely log one signed by a key revoked an instant before")
	wf := addWitnessFlags(fs)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	cfg, err := af.config("verify")
	if err != nil {
		return err
	}
	cfg.StatePath, cfg.NoReplay, cfg.AllowRejected = *state, *noReplay, *allowRejected
	if err := wf.apply(ctx, &cfg); err != nil {
		return err
	}
	rep, err := audit.Verify(ctx, cfg)
	if err != nil {
		printDivergence(e, err)
		return err
	}
	fmt.Fprintln(e.stdout, rep.String())
	printRejected(e, rep)
	return nil
}

// printRejected lists the entries the log holds but the rules refuse (as
// every projection records them), if there are any.
func printRejected(e *env, rep *audit.Report) {
	if rep.Rejected == 0 {
		return
	}
	fmt.Fprintf(e.stdout, "NOTE: %d entries are in the log but refused by the rules in log order (every projection records them as rejected; servers sharing a log can race into these):\n", rep.Rejected)
	for _, r := range rep.RejectedFirst {
		fmt.Fprintf(e.stdout, "  entry %d: %s\n", r.Index, r.Reason)
	}
	if rep.Rejected > len(rep.RejectedFirst) {
		fmt.Fprintf(e.stdout, "  ... and %d more\n", rep.Rejected-len(rep.RejectedFirst))
	}
}

func runReplay(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "replay")
	af := addAuditFlags(fs)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	cfg, err := af.config("replay")
	if err != nil {
		return err
	}
	rep, err := audit.Verify(ctx, cfg)
	if err != nil {
		printDivergence(e, err)
		return err
	}
	p := rep.Replay
	defer printRejected(e, rep)
	fmt.Fprintf(e.stdout, "OK: replayed %d entries of %s; %d derived entries checked byte for byte, %d emitted but not yet logged; %d incidents open\n",
		rep.Entries, rep.Origin, p.Derived, p.Pending, p.Open)
	return nil
}

// printDivergence shows both texts of a replay divergence on stdout; the
// one-line error follows on stderr.
func printDivergence(e *env, err error) {
	var d *engine.Divergence
	if !errors.As(err, &d) {
		return
	}
	fmt.Fprintf(e.stdout, "first divergence: entry %d (derived seq %d): %s\n", d.Index, d.Seq, d.Reason)
	show := func(label, text string) {
		if text == "" {
			text = "(none)\n"
		}
		fmt.Fprintf(e.stdout, "%s:\n%s", label, text)
	}
	show("expected (the engine)", d.Expected)
	show("found (the log)", d.Found)
}
