// Package witness is a C2SP tlog-witness: it keeps, for each log it
// knows, the latest checkpoint it verified, and cosigns (C2SP
// tlog-cosignature, cosignature/v1) a new checkpoint only when the log's
// signature verifies and a consistency proof shows the new tree extends
// the one it saw last. A witness never cosigns two checkpoints of one
// log that disagree, across restarts: its state is persisted before it
// answers.
//
// It also parses the Sigsum-style witness policies Tessera uses and
// checks a checkpoint's cosignatures against one (Policy).
package witness

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// maxProofLines is the most consistency proof lines a request may carry
// (C2SP tlog-witness).
const maxProofLines = 63

// Error is a refusal to cosign, with the HTTP status the tlog-witness
// spec assigns to it.
type Error struct {
	// Status is the HTTP status code: 400, 403, 404, 409 or 422.
	Status int
	// Message says what is wrong.
	Message string
	// Size is, for a 409 on a stale old size, the size of the latest
	// checkpoint the witness cosigned for the origin.
	Size uint64
	// StaleSize reports whether Size is set (a 409 on the old size).
	StaleSize bool
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

func errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// Log is a log the witness knows: its origin line and the verifier of
// its checkpoint signature.
type Log struct {
	Origin   string
	Verifier note.Verifier
}

// ParseLog parses a log given as "ORIGIN=VKEY" or just "VKEY" (then the
// origin is the key's name). The key is a signed-note verifier key.
func ParseLog(s string) (Log, error) {
	origin, vkey, ok := strings.Cut(s, "=")
	if !ok {
		vkey, origin = s, ""
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return Log{}, fmt.Errorf("log verifier key %q: %w", vkey, err)
	}
	if origin == "" {
		origin = v.Name()
	}
	return Log{Origin: origin, Verifier: v}, nil
}

// Config configures a Witness. All fields are required.
type Config struct {
	// Signer makes the witness's cosignatures; it must be a
	// cosignature/v1 signer (see LoadOrCreateKey).
	Signer note.Signer
	// Logs are the logs the witness cosigns for, one per origin.
	Logs []Log
	// Store keeps the latest cosigned checkpoint of each origin.
	Store Store
}

// Witness verifies and cosigns checkpoints. Its methods are safe for
// concurrent use.
type Witness struct {
	signer note.Signer
	logs   map[string]note.Verifier
	store  Store

	mu sync.Mutex // serialises check-then-persist (tlog-witness's race)
}

// New returns a Witness for cfg.
func New(cfg Config) (*Witness, error) {
	if cfg.Signer == nil || cfg.Store == nil {
		return nil, errors.New("witness: Config.Signer and Config.Store are required")
	}
	w := &Witness{signer: cfg.Signer, logs: map[string]note.Verifier{}, store: cfg.Store}
	for _, l := range cfg.Logs {
		if _, dup := w.logs[l.Origin]; dup {
			return nil, fmt.Errorf("witness: log %q given twice", l.Origin)
		}
		w.logs[l.Origin] = l.Verifier
	}
	return w, nil
}

// Name returns the witness's name, its cosigner key's name.
func (w *Witness) Name() string { return w.signer.Name() }

// Request is a parsed add-checkpoint request.
type Request struct {
	// OldSize is the size of the latest checkpoint the client believes
	// the witness cosigned.
	OldSize uint64
	// Proof is the consistency proof from OldSize to the checkpoint's size.
	Proof [][]byte
	// Checkpoint is the signed checkpoint note.
	Checkpoint []byte
}

// MarshalRequest encodes an add-checkpoint request body.
func MarshalRequest(oldSize uint64, proof [][]byte, checkpoint []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "old %d\n", oldSize)
	for _, h := range proof {
		b.WriteString(base64.StdEncoding.EncodeToString(h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.Write(checkpoint)
	return b.Bytes()
}

// ParseRequest decodes an add-checkpoint request body.
func ParseRequest(body []byte) (*Request, error) {
	head, cp, ok := bytes.Cut(body, []byte("\n\n"))
	if !ok {
		return nil, errorf(http.StatusBadRequest, "request has no empty line before the checkpoint")
	}
	lines := strings.Split(string(head), "\n")
	sz, ok := strings.CutPrefix(lines[0], "old ")
	n, err := strconv.ParseUint(sz, 10, 64)
	if !ok || err != nil || (sz != "0" && strings.HasPrefix(sz, "0")) {
		return nil, errorf(http.StatusBadRequest, "first line %q is not \"old SIZE\"", lines[0])
	}
	r := &Request{OldSize: n, Checkpoint: cp}
	if len(lines)-1 > maxProofLines {
		return nil, errorf(http.StatusBadRequest, "%d consistency proof lines, at most %d allowed", len(lines)-1, maxProofLines)
	}
	for _, l := range lines[1:] {
		h, err := base64.StdEncoding.DecodeString(l)
		if err != nil || len(h) != rfc6962.DefaultHasher.Size() {
			return nil, errorf(http.StatusBadRequest, "consistency proof line %q is not a base64 SHA-256 hash", l)
		}
		r.Proof = append(r.Proof, h)
	}
	return r, nil
}

// AddCheckpoint verifies req and, if the checkpoint is signed by its
// log and consistent with the latest one cosigned for that log, records
// it durably and returns the witness's cosignature lines. Otherwise it
// returns an *Error (and its state is unchanged).
func (w *Witness) AddCheckpoint(ctx context.Context, req *Request) ([]byte, error) {
	origin, _, _ := strings.Cut(string(req.Checkpoint), "\n")
	v, ok := w.logs[origin]
	if !ok {
		return nil, errorf(http.StatusNotFound, "unknown log origin %q", origin)
	}
	n, err := note.Open(req.Checkpoint, note.VerifierList(v))
	if err != nil {
		var unv *note.UnverifiedNoteError
		if errors.As(err, &unv) {
			return nil, errorf(http.StatusForbidden, "checkpoint of %q carries no valid signature by its log key", origin)
		}
		return nil, errorf(http.StatusBadRequest, "checkpoint is not a signed note: %v", err)
	}
	var cp log.Checkpoint
	if rest, err := cp.Unmarshal([]byte(n.Text)); err != nil || cp.Origin != origin {
		return nil, errorf(http.StatusBadRequest, "checkpoint body is malformed: %v", err)
	} else {
		_ = rest // extension lines are cosigned but mean nothing to the witness
	}
	if req.OldSize > cp.Size {
		return nil, errorf(http.StatusBadRequest, "old size %d is larger than the checkpoint's size %d", req.OldSize, cp.Size)
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	prev, err := w.store.Latest(ctx, origin)
	if err != nil {
		return nil, fmt.Errorf("witness: read state of %q: %w", origin, err)
	}
	var prevSize uint64
	if prev != nil {
		prevSize = prev.Size
	}
	if req.OldSize != prevSize {
		return nil, &Error{Status: http.StatusConflict, Size: prevSize, StaleSize: true,
			Message: fmt.Sprintf("old size %d is not the size %d of the latest checkpoint cosigned for %q", req.OldSize, prevSize, origin)}
	}
	switch {
	case req.OldSize == 0:
		if len(req.Proof) != 0 {
			return nil, errorf(http.StatusBadRequest, "a consistency proof from size 0 must be empty")
		}
	case req.OldSize == cp.Size:
		if !bytes.Equal(prev.RootHash, cp.Hash) {
			return nil, errorf(http.StatusConflict, "split view: %q at size %d has root %x, the witness cosigned root %x", origin, cp.Size, cp.Hash, prev.RootHash)
		}
		if len(req.Proof) != 0 {
			return nil, errorf(http.StatusUnprocessableEntity, "consistency proof from a size to itself must be empty")
		}
	default:
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, prev.Size, cp.Size, req.Proof, prev.RootHash, cp.Hash); err != nil {
			return nil, errorf(http.StatusUnprocessableEntity, "consistency proof %d→%d of %q does not verify against the cosigned root: %v", prev.Size, cp.Size, origin, err)
		}
	}

	signed, err := note.Sign(&note.Note{Text: n.Text}, w.signer)
	if err != nil {
		return nil, fmt.Errorf("witness: cosign: %w", err)
	}
	sigs := signed[len(n.Text)+1:] // the text, a blank line, then the signature lines
	if err := w.store.Put(ctx, Checkpoint{Origin: origin, Size: cp.Size, RootHash: cp.Hash, Checkpoint: string(req.Checkpoint)}); err != nil {
		return nil, fmt.Errorf("witness: persist checkpoint of %q: %w", origin, err)
	}
	return sigs, nil
}
