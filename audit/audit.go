// Package audit is the independent auditor behind "guarantor verify". It
// reads a guarantor log over HTTP exactly as any C2SP client would
// (checkpoint, hash tiles, entry bundles), and checks, without trusting
// the server in anything:
//
//   - the checkpoint is signed by the log key;
//   - the log only grew since the checkpoint verified last time (a
//     consistency proof; a rollback or a split view fails);
//   - the root recomputed from every entry equals the checkpoint's;
//   - every entry passes the key registry's rules, replayed from the log
//     itself: signatures, roles, validity windows, revocations.
//
// Memory stays constant in the number of entries: entries are streamed
// and folded into a compact Merkle range.
package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/guarantor/guarantor/internal/atomicfile"
	"github.com/guarantor/guarantor/ledger"
	"github.com/guarantor/guarantor/registry"
	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/client"
	"golang.org/x/mod/sumdb/note"
)

// Config says what to audit. Server is required.
type Config struct {
	// Server is the guarantor server's base URL; tiles are read from
	// Server/log/ and the keys, when not given, from Server/v1/log.
	Server *url.URL

	// LogVKey is the log's verifier key. Optional: by default it is the
	// one in the state file, else the one the server states (trust on
	// first use, then pinned by the state file).
	LogVKey string

	// AuthorityVKey is the mission authority's verifier key. Optional,
	// defaulted like LogVKey.
	AuthorityVKey string

	// StatePath keeps the last verified checkpoint so the next run can
	// prove the log only grew. Optional; without it each run stands alone.
	StatePath string

	// HTTPClient fetches everything. Optional. Default: 30s timeout.
	HTTPClient *http.Client

	// Progress, if set, is called as entries are checked.
	Progress func(done, total uint64)
}

// State is what the auditor remembers between runs.
type State struct {
	Origin        string `json:"origin"`
	LogVKey       string `json:"log_vkey"`
	AuthorityVKey string `json:"authority_vkey"`
	Size          uint64 `json:"size"`
	RootHash      []byte `json:"root_hash"`
	Checkpoint    string `json:"checkpoint"`
	VerifiedAt    string `json:"verified_at"`
}

// Report is the outcome of a successful audit.
type Report struct {
	Origin       string
	Size         uint64
	RootHash     []byte
	PreviousSize uint64 // size verified last time (from the state file), 0 if none
	Keys         int
	Revocations  int
	ByKind       map[string]int
	Duration     time.Duration
}

// String summarises the report in one paragraph.
func (r *Report) String() string {
	var kinds []string
	for _, k := range []string{"key", "revocation", "observation"} {
		if n := r.ByKind[k]; n > 0 {
			kinds = append(kinds, fmt.Sprintf("%d %s", n, k))
		}
	}
	for k, n := range r.ByKind {
		if k != "key" && k != "revocation" && k != "observation" {
			kinds = append(kinds, fmt.Sprintf("%d %s", n, k))
		}
	}
	grew := ""
	if r.PreviousSize > 0 {
		grew = fmt.Sprintf(", consistent with the %d entries verified before", r.PreviousSize)
	}
	return fmt.Sprintf("OK: %s has %d entries (%s)%s; root %x recomputed; every signature checked against %d registered keys (%d revoked) in %s",
		r.Origin, r.Size, strings.Join(kinds, ", "), grew, r.RootHash, r.Keys, r.Revocations, r.Duration.Round(time.Millisecond))
}

// Verify audits the log. Any failure is an error naming what failed.
func Verify(ctx context.Context, cfg Config) (*Report, error) {
	start := time.Now()
	if cfg.Server == nil {
		return nil, errors.New("audit: Config.Server is required")
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	prev, err := readState(cfg.StatePath)
	if err != nil {
		return nil, err
	}
	logVKey, authVKey, err := resolveKeys(ctx, hc, cfg, prev)
	if err != nil {
		return nil, err
	}
	logV, err := note.NewVerifier(logVKey)
	if err != nil {
		return nil, fmt.Errorf("log verifier key %q: %w", logVKey, err)
	}

	root := cfg.Server.JoinPath("log") // tlog-tiles prefix
	root.Path += "/"
	f, err := client.NewHTTPFetcher(root, hc)
	if err != nil {
		return nil, fmt.Errorf("tile fetcher: %w", err)
	}
	cp, cpRaw, _, err := client.FetchCheckpoint(ctx, f.ReadCheckpoint, logV, logV.Name())
	if err != nil {
		return nil, fmt.Errorf("checkpoint from %s does not verify with log key %s: %w", root, logV.Name(), err)
	}
	if prev != nil {
		if err := checkConsistency(ctx, f, prev, cp); err != nil {
			return nil, fmt.Errorf("log is not consistent with the checkpoint verified before (state file %s): %w", cfg.StatePath, err)
		}
	}

	rep := &Report{Origin: cp.Origin, Size: cp.Size, RootHash: cp.Hash, ByKind: map[string]int{}}
	if prev != nil {
		rep.PreviousSize = prev.Size
	}
	reg, err := registry.New(authVKey)
	if err != nil {
		return nil, err
	}
	rf := compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	rng := rf.NewEmptyRange(0)
	var done uint64
	for ent, err := range ledger.ReadEntries(ctx, f.ReadEntryBundle, 0, cp.Size) {
		if err != nil {
			return nil, fmt.Errorf("read entries: %w", err)
		}
		if ent.Index != done {
			return nil, fmt.Errorf("entry %d arrived where %d was expected", ent.Index, done)
		}
		if err := rng.Append(rfc6962.DefaultHasher.HashLeaf(ent.Entry), nil); err != nil {
			return nil, fmt.Errorf("entry %d: %w", ent.Index, err)
		}
		e, _, err := reg.Admit(ent.Index, ent.Entry)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", ent.Index, err)
		}
		rep.ByKind[string(e.Kind)]++
		done++
		if cfg.Progress != nil && done%1024 == 0 {
			cfg.Progress(done, cp.Size)
		}
	}
	if done != cp.Size {
		return nil, fmt.Errorf("read %d entries, the checkpoint commits to %d", done, cp.Size)
	}
	got, err := rng.GetRootHash(nil)
	if err != nil {
		return nil, fmt.Errorf("recompute root: %w", err)
	}
	if cp.Size == 0 {
		got = rfc6962.DefaultHasher.EmptyRoot()
	}
	if !bytes.Equal(got, cp.Hash) {
		return nil, fmt.Errorf("root mismatch at size %d: recomputed %x from the entries, the checkpoint says %x", cp.Size, got, cp.Hash)
	}
	for _, k := range reg.Keys() {
		rep.Keys++
		if k.Revoked != nil {
			rep.Revocations++
		}
	}
	if cfg.Progress != nil {
		cfg.Progress(done, cp.Size)
	}
	if cfg.StatePath != "" {
		st := State{
			Origin: cp.Origin, LogVKey: logVKey, AuthorityVKey: authVKey,
			Size: cp.Size, RootHash: cp.Hash, Checkpoint: string(cpRaw),
			VerifiedAt: time.Now().UTC().Format(time.RFC3339),
		}
		if err := writeState(cfg.StatePath, st); err != nil {
			return nil, err
		}
	}
	rep.Duration = time.Since(start)
	return rep, nil
}

// resolveKeys settles which log and authority keys to trust: those given,
// else those pinned in the state file, else those the server states.
func resolveKeys(ctx context.Context, hc *http.Client, cfg Config, prev *State) (logVKey, authVKey string, err error) {
	logVKey, authVKey = cfg.LogVKey, cfg.AuthorityVKey
	if prev != nil {
		if logVKey != "" && logVKey != prev.LogVKey {
			return "", "", fmt.Errorf("state file %s was made for log key %s, not %s", cfg.StatePath, prev.LogVKey, logVKey)
		}
		if authVKey != "" && authVKey != prev.AuthorityVKey {
			return "", "", fmt.Errorf("state file %s was made for authority key %s, not %s", cfg.StatePath, prev.AuthorityVKey, authVKey)
		}
		logVKey, authVKey = prev.LogVKey, prev.AuthorityVKey
	}
	if logVKey != "" && authVKey != "" {
		return logVKey, authVKey, nil
	}
	var info struct {
		LogVKey       string `json:"log_vkey"`
		AuthorityVKey string `json:"authority_vkey"`
	}
	u := cfg.Server.JoinPath("v1", "log")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("fetch the log's keys from %s (or pass --log-vkey and --authority-vkey): %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("fetch the log's keys from %s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&info); err != nil {
		return "", "", fmt.Errorf("decode %s: %w", u, err)
	}
	if logVKey == "" {
		logVKey = info.LogVKey
	}
	if authVKey == "" {
		authVKey = info.AuthorityVKey
	}
	if logVKey == "" || authVKey == "" {
		return "", "", fmt.Errorf("%s names no log_vkey or authority_vkey", u)
	}
	return logVKey, authVKey, nil
}

// checkConsistency proves the current checkpoint extends the previous one.
func checkConsistency(ctx context.Context, f *client.HTTPFetcher, prev *State, cp *log.Checkpoint) error {
	switch {
	case prev.Origin != cp.Origin:
		return fmt.Errorf("origin changed from %q to %q", prev.Origin, cp.Origin)
	case cp.Size < prev.Size:
		return fmt.Errorf("the log shrank from %d to %d entries (rollback)", prev.Size, cp.Size)
	case cp.Size == prev.Size:
		if !bytes.Equal(cp.Hash, prev.RootHash) {
			return fmt.Errorf("split view: two checkpoints of size %d with roots %x and %x", cp.Size, prev.RootHash, cp.Hash)
		}
		return nil
	case prev.Size == 0:
		return nil
	}
	pb, err := client.NewProofBuilder(ctx, cp.Size, f.ReadTile)
	if err != nil {
		return err
	}
	p, err := pb.ConsistencyProof(ctx, prev.Size, cp.Size)
	if err != nil {
		return fmt.Errorf("build consistency proof %d→%d: %w", prev.Size, cp.Size, err)
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, prev.Size, cp.Size, p, prev.RootHash, cp.Hash); err != nil {
		return fmt.Errorf("consistency proof %d→%d does not verify (split view or rewritten history): %w", prev.Size, cp.Size, err)
	}
	return nil
}

func readState(path string) (*State, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state file: %w", err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("state file %s is not valid JSON (delete it to start afresh): %w", path, err)
	}
	if st.LogVKey == "" || st.AuthorityVKey == "" {
		return nil, fmt.Errorf("state file %s lacks log_vkey or authority_vkey", path)
	}
	return &st, nil
}

// writeState replaces the state file atomically.
func writeState(path string, st State) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	return nil
}
