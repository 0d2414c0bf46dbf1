package http

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
)

// Batch limits.
const (
	// MaxBatchNotes is the most notes one batch may carry.
	MaxBatchNotes = 1000
	// MaxBatchBytes is the largest batch request body.
	MaxBatchBytes = 16 << 20
)

// BatchResult is one line of a batch answer: the receipt of the note at
// the same position in the request, or the problem that refused it.
type BatchResult struct {
	Receipt *guarantor.Receipt `json:"receipt,omitempty"`
	Created bool               `json:"created,omitempty"`
	Problem *Problem           `json:"problem,omitempty"`
}

// handleBatch serves POST /v1/entries:batch.
//
// Framing (application/x-ndjson): each line of the request is one JSON
// string holding one whole signed note (its newlines escaped as \n). The
// answer is application/x-ndjson too: one BatchResult per request line, in
// the same order, with a receipt or a problem each. Notes are decided
// independently (not all-or-nothing); every receipt means the same as a
// single POST's: the entry is durable and covered by a published
// checkpoint. A framing error (a line that is not a JSON string, too many
// notes, too large a body) refuses the whole request and logs nothing.
func (s *Server) handleBatch(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-ndjson") {
		s.problem(w, r, guarantor.Errorf(guarantor.EUnsupported, "Content-Type", "send the batch as application/x-ndjson, one JSON string per note (got %q)", ct))
		return
	}
	sc := bufio.NewScanner(http.MaxBytesReader(w, r.Body, MaxBatchBytes))
	sc.Buffer(make([]byte, 0, 64<<10), 2*entry.MaxSize+16) // escaping can double a note
	var notes [][]byte
	for line := 1; sc.Scan(); line++ {
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		var n string
		if err := json.Unmarshal(sc.Bytes(), &n); err != nil {
			s.problem(w, r, guarantor.Errorf(guarantor.EInvalid, fmt.Sprintf("line %d", line), "line %d is not a JSON string holding a note: %v", line, err))
			return
		}
		if len(notes) == MaxBatchNotes {
			s.problem(w, r, guarantor.Errorf(guarantor.ETooLarge, "", "a batch holds at most %d notes", MaxBatchNotes))
			return
		}
		notes = append(notes, []byte(n))
	}
	if err := sc.Err(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.problem(w, r, guarantor.Errorf(guarantor.ETooLarge, "", "a batch is at most %d bytes", MaxBatchBytes))
			return
		}
		s.problem(w, r, guarantor.Errorf(guarantor.EInvalid, "", "cannot read the batch: %v", err))
		return
	}
	if len(notes) == 0 {
		s.problem(w, r, guarantor.Errorf(guarantor.EInvalid, "", "the batch holds no notes"))
		return
	}
	results := make([]BatchResult, len(notes))
	var wg sync.WaitGroup
	for i, raw := range notes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := refuseEngineKinds(raw)
			var res *node.Result
			if err == nil {
				res, err = s.node.Submit(r.Context(), raw)
			}
			if err != nil {
				p := s.problemOf(r, err)
				results[i] = BatchResult{Problem: &p}
				return
			}
			results[i] = BatchResult{Receipt: &res.Receipt, Created: res.Created}
		}()
	}
	wg.Wait()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, res := range results {
		_ = enc.Encode(res)
	}
	_ = bw.Flush()
}
