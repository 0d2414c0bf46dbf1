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
//     itself: signatures, roles, validity windows, revocations;
//   - unless told not to, the engine run over the log reproduces every
//     derived entry the log holds, byte for byte (engine.Replayer).
//
// It reads the log over HTTP (Config.Server) or from a local tlog-tiles
// directory (Config.Dir), such as a server's data directory or a mirror.
//
// Memory stays constant in the number of entries: entries are streamed
// and folded into a compact Merkle range.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/guarantor/guarantor/engine"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/internal/atomicfile"
	"github.com/guarantor/guarantor/registry"
	"github.com/guarantor/guarantor/witness"
	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/api"
	"github.com/transparency-dev/tessera/api/layout"
	"github.com/transparency-dev/tessera/client"
	"golang.org/x/mod/sumdb/note"
)

// Config says what to audit: exactly one of Server and Dir.
type Config struct {
	// Server is the guarantor server's base URL; tiles are read from
	// Server/log/ and the keys, when not given, from Server/v1/log.
	Server *url.URL

	// Dir is a local directory in the tlog-tiles layout (checkpoint,
	// tile/, tile/entries/) to read the log from instead of a server.
	// LogVKey and AuthorityVKey are then required, unless the state file
	// pins them.
	Dir string

	// NoReplay skips running the engine over the log.
	NoReplay bool

	// AllowRejected lets the audit pass a log holding entries the key
	// registry refuses (an unknown or revoked signer, a bad signature),
	// listing them in Report.Rejected as every projection records them.
	// Without it the first such entry fails the audit. Servers sharing
	// one log can, rarely, log an entry of a key another revoked an
	// instant before. Optional.
	AllowRejected bool

	// Engine is the engine configuration the log was written with.
	// Optional: default engine.DefaultConfig().
	Engine *engine.Config

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

	// WitnessPolicy, if set, requires the audited checkpoint to carry
	// cosignatures meeting it. Optional. Default: none required.
	WitnessPolicy *witness.Policy

	// Peers are other views of the log (checkpoints from other servers or
	// files); a split view with any of them fails the audit. Optional.
	Peers []Peer
}

// State is what the auditor remembers between runs, kept as JSON in
// Config.StatePath: the keys it was pinned to and the last checkpoint
// it verified, from which the next run demands a consistency proof.
type State struct {
	// Origin is the log's origin line (its checkpoint signer's name).
	Origin string `json:"origin"`
	// LogVKey is the log's verifier key the checkpoint was verified with.
	LogVKey string `json:"log_vkey"`
	// AuthorityVKey is the mission authority's verifier key the key
	// registry was replayed from.
	AuthorityVKey string `json:"authority_vkey"`
	// Size is the tree size of the verified checkpoint.
	Size uint64 `json:"size"`
	// RootHash is its root hash (base64 in JSON).
	RootHash []byte `json:"root_hash"`
	// Checkpoint is the full signed checkpoint text, so that it can be
	// shown to a third party as evidence of what the log claimed.
	Checkpoint string `json:"checkpoint"`
	// VerifiedAt is when it was verified (RFC 3339, UTC); informative.
	VerifiedAt string `json:"verified_at"`
}

// Report is the outcome of a successful audit.
type Report struct {
	// Origin is the log's origin line.
	Origin string
	// Size is the tree size of the verified checkpoint.
	Size uint64
	// RootHash is the checkpoint's root hash, recomputed from the entries.
	RootHash []byte
	// PreviousSize is the size verified last time (from the state
	// file), 0 if none.
	PreviousSize uint64
	// Entries is the number of entries read, hashed and replayed (equal
	// to Size on success).
	Entries uint64
	// Keys is the number of keys registered in the log.
	Keys int
	// Revocations is the number of those keys that were revoked.
	Revocations int
	// ByKind counts the entries by kind ("key", "observation", ...).
	ByKind map[string]int
	// Rejected counts the entries the log holds but the rules refuse in
	// log order, as every server's projection records them: the same
	// bytes again, a second observation with one id from one signer, and
	// (only with Config.AllowRejected; else the audit fails) an entry
	// failing the key registry. Several servers sharing one log can race
	// into the first two, and rarely into a key revoked an instant before;
	// a single server never logs any. RejectedFirst lists the first few.
	Rejected      int
	RejectedFirst []RejectedEntry
	// Replay is what the engine replay checked; nil with NoReplay.
	Replay *ReplayReport
	// Duration is the wall time the audit took.
	Duration time.Duration
}

// RejectedEntry is an entry the rules refuse, and why.
type RejectedEntry struct {
	Index  uint64
	Reason string
}

// maxRejectedListed bounds Report.RejectedFirst.
const maxRejectedListed = 20

// ReplayReport is the outcome of running the engine over the log.
type ReplayReport struct {
	// Derived is how many derived entries the log holds, each checked
	// byte for byte against the engine's.
	Derived uint64
	// Emitted is how many derived entries the engine emitted.
	Emitted uint64
	// Pending is how many of those the log does not hold yet (the last
	// ones a server is still writing).
	Pending int
	// Open is how many incidents were open at the end.
	Open int
}

// String summarises the report in one paragraph.
func (r *Report) String() string {
	var kinds []string
	for _, k := range []string{"key", "revocation", "observation"} {
		if n := r.ByKind[k]; n > 0 {
			kinds = append(kinds, fmt.Sprintf("%d %s", n, k))
		}
	}
	var others []string
	for k := range r.ByKind {
		if k != "key" && k != "revocation" && k != "observation" {
			others = append(others, k)
		}
	}
	sort.Strings(others)
	for _, k := range others {
		kinds = append(kinds, fmt.Sprintf("%d %s", r.ByKind[k], k))
	}
	if len(kinds) == 0 {
		kinds = append(kinds, "empty")
	}
	grew := ""
	if r.PreviousSize > 0 {
		grew = fmt.Sprintf(", consistent with the %d entries verified before", r.PreviousSize)
	}
	replay := "; engine replay skipped"
	if p := r.Replay; p != nil {
		replay = fmt.Sprintf("; engine replay reproduced all %d derived entries byte for byte", p.Derived)
		if p.Pending > 0 {
			replay += fmt.Sprintf(" (%d more emitted, not yet logged)", p.Pending)
		}
	}
	return fmt.Sprintf("OK: %s has %d entries (%s)%s; root %x recomputed; every signature checked against %d registered keys (%d revoked)%s; in %s",
		r.Origin, r.Size, strings.Join(kinds, ", "), grew, r.RootHash, r.Keys, r.Revocations, replay, r.Duration.Round(time.Millisecond))
}

// bundleWorkers is how many entry bundles are fetched ahead in parallel:
// enough to hide HTTP latency, few enough to stay polite and keep memory
// at a handful of 64 KiB × 256 bundles at most.
const bundleWorkers = 4

// Verify audits the log at cfg.Server or in cfg.Dir. It fails with one error naming
// what failed (the checkpoint signature, consistency with the state file,
// an entry by index, or the recomputed root); on success it updates the
// state file, if any, and reports what it checked.
func Verify(ctx context.Context, cfg Config) (*Report, error) {
	start := time.Now()
	if (cfg.Server == nil) == (cfg.Dir == "") {
		return nil, errors.New("audit: exactly one of Config.Server and Config.Dir is required")
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
	reg, err := registry.New(authVKey)
	if err != nil {
		return nil, fmt.Errorf("authority verifier key %q: %w", authVKey, err)
	}

	// 1. The checkpoint, signed by the log key.
	var f fetcher
	root := cfg.Dir
	if cfg.Server != nil {
		u := cfg.Server.JoinPath("log") // tlog-tiles prefix
		u.Path += "/"
		hf, err := client.NewHTTPFetcher(u, hc)
		if err != nil {
			return nil, fmt.Errorf("tile fetcher: %w", err)
		}
		f, root = hf, u.String()
	} else {
		f = client.FileFetcher{Root: cfg.Dir}
	}
	cpRaw, err := f.ReadCheckpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetch checkpoint from %s: %w", root, err)
	}
	cp, _, _, err := log.ParseCheckpoint(cpRaw, logV.Name(), logV)
	if err != nil {
		return nil, fmt.Errorf("checkpoint signature does not verify with log key %s: %w", logVKey, err)
	}

	// 1b. Witness cosignatures and other views of the log.
	if err := checkWitnessed(ctx, cfg, logV, cpRaw, cp, f.ReadTile); err != nil {
		return nil, err
	}

	// 2. The log only grew since last time.
	if prev != nil {
		if err := checkConsistency(ctx, f, prev, cp); err != nil {
			return nil, fmt.Errorf("log is not consistent with the checkpoint of size %d seen before (state file %s): %w", prev.Size, cfg.StatePath, err)
		}
	}

	// 3 and 4. Every entry, in order: folded into the tree, replayed
	// through the key registry.
	rep := &Report{Origin: cp.Origin, Size: cp.Size, RootHash: cp.Hash, ByKind: map[string]int{}}
	if prev != nil {
		rep.PreviousSize = prev.Size
	}
	rf := &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	rng := rf.NewEmptyRange(0)
	size := func(context.Context) (uint64, error) { return cp.Size, nil }
	var next uint64 // index of the next entry expected
	seen := newSeen()
	var rep2 *engine.Replayer
	if !cfg.NoReplay {
		ec := engine.DefaultConfig()
		if cfg.Engine != nil {
			ec = *cfg.Engine
		}
		rep2 = engine.NewReplayer(ec)
	}
	for b, err := range client.EntryBundles(ctx, bundleWorkers, size, f.ReadEntryBundle, 0, cp.Size) {
		if err != nil {
			return nil, fmt.Errorf("entry bundle %d (entries from %d): %w", next/layout.EntryBundleWidth, next, err)
		}
		ents, err := bundleEntries(b)
		if err != nil {
			return nil, err
		}
		for _, raw := range ents {
			if err := rng.Append(rfc6962.DefaultHasher.HashLeaf(raw), nil); err != nil {
				return nil, fmt.Errorf("entry %d: %w", next, err)
			}
			leaf := rfc6962.DefaultHasher.HashLeaf(raw)
			e, body, why, regErr := admit(reg, seen, next, raw, leaf)
			if regErr != nil && !cfg.AllowRejected {
				return nil, fmt.Errorf("entry %d: %w", next, regErr)
			}
			if e != nil {
				rep.ByKind[string(e.Kind)]++
			}
			if why != "" {
				rep.Rejected++
				if len(rep.RejectedFirst) < maxRejectedListed {
					rep.RejectedFirst = append(rep.RejectedFirst, RejectedEntry{next, why})
				}
				next++
				continue
			}
			if rep2 != nil {
				if err := replayEntry(rep2, next, raw, e, body); err != nil {
					return nil, err
				}
			}
			next++
		}
		if cfg.Progress != nil {
			cfg.Progress(next, cp.Size)
		}
	}
	rep.Entries = next
	if next != cp.Size {
		return nil, fmt.Errorf("read %d entries, the checkpoint commits to %d", next, cp.Size)
	}
	got := rfc6962.DefaultHasher.EmptyRoot()
	if cp.Size > 0 {
		if got, err = rng.GetRootHash(nil); err != nil {
			return nil, fmt.Errorf("recompute root: %w", err)
		}
	}
	if !bytes.Equal(got, cp.Hash) {
		return nil, fmt.Errorf("root mismatch at size %d: recomputed %x from the entries, the checkpoint says %x", cp.Size, got, cp.Hash)
	}
	if rep2 != nil {
		rep.Replay = &ReplayReport{Derived: rep2.Matched(), Emitted: rep2.Engine().Seq(), Pending: rep2.PendingCount(), Open: rep2.Engine().Open()}
	}
	for _, k := range reg.Keys() {
		rep.Keys++
		if k.Revoked != nil {
			rep.Revocations++
		}
	}

	// 5. Remember this checkpoint.
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

// fetcher reads the log's public files, over HTTP or from a directory.
type fetcher interface {
	ReadCheckpoint(ctx context.Context) ([]byte, error)
	ReadTile(ctx context.Context, l, i uint64, p uint8) ([]byte, error)
	ReadEntryBundle(ctx context.Context, i uint64, p uint8) ([]byte, error)
}

// replayEntry feeds one admitted entry to the engine replay.
func replayEntry(r *engine.Replayer, index uint64, raw []byte, e *entry.Entry, body any) error {
	signers := make([]string, len(e.Sigs))
	for i, s := range e.Sigs {
		signers[i] = entry.KeyID(s.Name, s.Hash)
	}
	in := engine.Input{Index: index, LeafHash: rfc6962.DefaultHasher.HashLeaf(raw), Kind: e.Kind, Signers: signers, Body: body}
	text := ""
	if entry.Derived(e.Kind) {
		text = e.Text
	}
	if _, err := r.Next(in, text); err != nil {
		return fmt.Errorf("entry %d: %w", index, err)
	}
	return nil
}

// bundleEntries parses an entry bundle and returns the entries of it that
// the range asks for. A bundle must hold exactly as many entries as its
// tlog-tiles width says (256, or W for a partial bundle "N.p/W"; a full
// bundle may stand in for a partial one that was collected), so that a
// server cannot pad or shorten one unnoticed.
func bundleEntries(b client.Bundle) ([][]byte, error) {
	ri := b.RangeInfo
	var eb api.EntryBundle
	if err := eb.UnmarshalText(b.Data); err != nil {
		return nil, fmt.Errorf("entry bundle %d: %w", ri.Index, err)
	}
	want := uint64(ri.Partial)
	if want == 0 {
		want = layout.EntryBundleWidth
	}
	n := uint64(len(eb.Entries))
	if n != want && (ri.Partial == 0 || n != layout.EntryBundleWidth) {
		return nil, fmt.Errorf("entry bundle %d holds %d entries, its width is %d", ri.Index, n, want)
	}
	if uint64(ri.First)+uint64(ri.N) > n {
		return nil, fmt.Errorf("entry bundle %d holds %d entries, entries %d to %d were wanted", ri.Index, n, ri.First, ri.First+ri.N)
	}
	return eb.Entries[ri.First : ri.First+ri.N], nil
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
	if cfg.Server == nil {
		return "", "", errors.New("reading a log from a directory needs its log and authority verifier keys (--log-vkey, --authority-vkey) or a state file that pins them")
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
func checkConsistency(ctx context.Context, f fetcher, prev *State, cp *log.Checkpoint) error {
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

// seenEntries remembers, by 128-bit prefixes of their hashes, the leaf
// hashes and the observation ids (signer and id) accepted so far.
type seenEntries struct {
	leaves map[[16]byte]uint64
	obs    map[[16]byte]uint64
}

func newSeen() *seenEntries {
	return &seenEntries{leaves: map[[16]byte]uint64{}, obs: map[[16]byte]uint64{}}
}

// admit decides the entry at index as every server's projection does
// (node's follower): the same bytes again are a duplicate; then the key
// registry's rules; then an observation whose signer already logged its
// id is refused. It returns the parsed entry (nil if it does not parse)
// and, for a refused one, why; regErr is the registry's refusal, if that
// was the reason.
func admit(reg *registry.Registry, seen *seenEntries, index uint64, raw, leaf []byte) (_ *entry.Entry, _ any, why string, regErr error) {
	var lk [16]byte
	copy(lk[:], leaf)
	if first, dup := seen.leaves[lk]; dup {
		e, _ := entry.Parse(raw)
		return e, nil, fmt.Sprintf("duplicate of entry %d (the same bytes)", first), nil
	}
	seen.leaves[lk] = index
	e, body, err := reg.Admit(index, raw)
	if err != nil {
		return e, nil, err.Error(), err
	}
	if ob, ok := body.(*entry.Observation); ok {
		h := sha256.Sum256([]byte(entry.KeyID(e.Sigs[0].Name, e.Sigs[0].Hash) + "\x00" + ob.ID))
		var ok [16]byte
		copy(ok[:], h[:])
		if prev, taken := seen.obs[ok]; taken {
			return e, nil, fmt.Sprintf("observation id %q is already logged at index %d", ob.ID, prev), nil
		}
		seen.obs[ok] = index
	}
	return e, body, "", nil
}
