package main

import (
	"context"
	"fmt"
	"net/url"

	"github.com/guarantor/guarantor/audit"
)

func runVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "verify")
	server := fs.String("server", "", "server URL, e.g. http://127.0.0.1:8080 (required)")
	logVKey := fs.String("log-vkey", "", "the log's verifier key (default: trust what the server says the first time, then the state file)")
	authVKey := fs.String("authority-vkey", "", "the mission authority's verifier key (default: as for --log-vkey)")
	state := fs.String("state", "", "file keeping the last verified checkpoint, to prove the log only grew")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *server == "" {
		return usagef("--server is required, e.g. guarantor verify --server http://127.0.0.1:8080")
	}
	u, err := url.Parse(*server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return usagef("--server %q is not an http(s) URL", *server)
	}
	rep, err := audit.Verify(ctx, audit.Config{Server: u, LogVKey: *logVKey, AuthorityVKey: *authVKey, StatePath: *state})
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, rep.String())
	return nil
}
