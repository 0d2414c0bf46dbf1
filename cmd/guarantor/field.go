package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	ghttp "github.com/guarantor/guarantor/http"
	"github.com/guarantor/guarantor/internal/atomicfile"
	"github.com/guarantor/guarantor/keyfile"
	"golang.org/x/mod/sumdb/note"
)

// The field kit works on a spool directory:
//
//	<leaf hash hex>.note          a signed entry waiting to be sent (or sent)
//	<leaf hash hex>.receipt.json  its receipt, once the log acknowledged it
//	<leaf hash hex>.problem.json  why the server refused it
//
// Every file is written to a temporary name, synced and renamed, so an
// interrupted run leaves whole files only. Sync sends the notes that have
// neither a receipt nor a problem; the log's deduplication makes a note
// sent twice (the answer lost to a crash) cost nothing.
const (
	spoolNote    = ".note"
	spoolReceipt = ".receipt.json"
	spoolProblem = ".problem.json"
)

func runField(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("usage: guarantor field sign --key KEY --spool DIR --kind KIND (--body JSON | --body-file FILE) | guarantor field sync --server URL --spool DIR")
	}
	switch args[0] {
	case "sign":
		return runFieldSign(e, args[1:])
	case "sync":
		return runFieldSync(ctx, e, args[1:])
	}
	return usagef("unknown field command %q: use sign or sync", args[0])
}

func runFieldSign(e *env, args []string) error {
	fs := newFlags(e, "field sign")
	keyPath := fs.String("key", "", "private key file (required)")
	spool := fs.String("spool", "", "spool directory (required; created if missing)")
	kind := fs.String("kind", string(entry.KindObservation), "entry kind")
	body := fs.String("body", "", "entry body as JSON")
	bodyFile := fs.String("body-file", "", "file holding the body as JSON")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *keyPath == "" || *spool == "" || (*body == "") == (*bodyFile == "") {
		return usagef("give --key, --spool and exactly one of --body or --body-file")
	}
	signer, err := keyfile.Signer(*keyPath)
	if err != nil {
		return err
	}
	b := []byte(*body)
	if *bodyFile != "" {
		if b, err = os.ReadFile(*bodyFile); err != nil {
			return fmt.Errorf("read body file: %w", err)
		}
	}
	name, err := spoolSign(*spool, signer, entry.Kind(*kind), b)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, name)
	return nil
}

// spoolSign signs body, checks it as the server would check its form, and
// writes it to the spool. It returns the note's file name.
func spoolSign(spool string, signer note.Signer, kind entry.Kind, body []byte) (string, error) {
	raw, err := entry.Sign(kind, body, signer)
	if err != nil {
		return "", err
	}
	parsed, err := entry.Parse(raw)
	if err == nil {
		_, err = parsed.Validate()
	}
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(spool, 0o700); err != nil {
		return "", fmt.Errorf("create spool: %w", err)
	}
	name := hex.EncodeToString(guarantor.LeafHash(raw)) + spoolNote
	return name, atomicfile.Write(filepath.Join(spool, name), raw, 0o600)
}

// syncStats counts what a sync did.
type syncStats struct {
	pending, created, duplicates, refused, done int
}

func (s syncStats) String() string {
	return fmt.Sprintf("%d notes to send: %d logged (%d new, %d already in the log), %d refused; %d had receipts already",
		s.pending, s.created+s.duplicates, s.created, s.duplicates, s.refused, s.done)
}

func runFieldSync(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "field sync")
	server := fs.String("server", "", "server URL (required)")
	spool := fs.String("spool", "", "spool directory (required)")
	batch := fs.Int("batch", 100, "notes per request (at most 1000)")
	logVKey := fs.String("log-vkey", "", "if set, every receipt is verified with this log key before it is kept")
	retry := fs.Bool("retry-refused", false, "send again the notes the server refused before")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *server == "" || *spool == "" || *batch < 1 || *batch > ghttp.MaxBatchNotes {
		return usagef("usage: guarantor field sync --server URL --spool DIR [--batch 1-1000] [--log-vkey V]")
	}
	var v note.Verifier
	if *logVKey != "" {
		var err error
		if v, err = note.NewVerifier(*logVKey); err != nil {
			return fmt.Errorf("--log-vkey: %w", err)
		}
	}
	st, err := fieldSync(ctx, newClient(*server), *spool, syncOptions{batch: *batch, logV: v, retryRefused: *retry}, e.stderr)
	fmt.Fprintf(e.stdout, "sync: %s\n", st)
	return err
}

type syncOptions struct {
	batch        int
	logV         note.Verifier // optional
	retryRefused bool
	afterBatch   func(sent int) // for tests: called after each batch is recorded
}

// fieldSync sends every spooled note without a receipt, batch by batch,
// and records each receipt or problem beside its note.
func fieldSync(ctx context.Context, c *client, spool string, o syncOptions, w io.Writer) (syncStats, error) {
	var st syncStats
	ents, err := os.ReadDir(spool)
	if err != nil {
		return st, fmt.Errorf("read spool: %w", err)
	}
	have := map[string]bool{}
	var notes []string
	for _, e := range ents {
		have[e.Name()] = true
		if strings.HasSuffix(e.Name(), spoolNote) {
			notes = append(notes, strings.TrimSuffix(e.Name(), spoolNote))
		}
	}
	slices.Sort(notes)
	var todo []string
	for _, n := range notes {
		switch {
		case have[n+spoolReceipt]:
			st.done++
		case have[n+spoolProblem] && !o.retryRefused:
			st.refused++
		default:
			todo = append(todo, n)
		}
	}
	st.pending = len(todo)
	sent := 0
	for len(todo) > 0 {
		chunk := todo[:min(o.batch, len(todo))]
		todo = todo[len(chunk):]
		raws := make([][]byte, len(chunk))
		for i, n := range chunk {
			if raws[i], err = os.ReadFile(filepath.Join(spool, n+spoolNote)); err != nil {
				return st, fmt.Errorf("read spooled note: %w", err)
			}
		}
		results, err := c.submitBatch(ctx, raws)
		if err != nil {
			return st, fmt.Errorf("sync stopped after %d notes (run it again to resume): %w", sent, err)
		}
		for i, res := range results {
			base := filepath.Join(spool, chunk[i])
			if res.Problem != nil {
				if res.Problem.Code == guarantor.EUnavailable {
					continue // left for the next run
				}
				st.refused++
				fmt.Fprintf(w, "%s%s: refused: %s\n", chunk[i], spoolNote, res.Problem.Detail)
				if err := writeJSONAtomic(base+spoolProblem, res.Problem); err != nil {
					return st, err
				}
				continue
			}
			if o.logV != nil {
				if _, err := res.Receipt.Verify(o.logV, raws[i]); err != nil {
					return st, fmt.Errorf("%s%s: the server's receipt does not verify: %w", chunk[i], spoolNote, err)
				}
			}
			if err := writeJSONAtomic(base+spoolReceipt, res.Receipt); err != nil {
				return st, err
			}
			_ = os.Remove(base + spoolProblem)
			if res.Created {
				st.created++
			} else {
				st.duplicates++
			}
		}
		sent += len(chunk)
		if o.afterBatch != nil {
			o.afterBatch(sent)
		}
	}
	return st, nil
}

func writeJSONAtomic(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(b, '\n'), 0o600)
}
