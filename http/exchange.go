package http

import (
	"net/http"
	"slices"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/exchange/progress"
	"github.com/guarantor/guarantor/node"
)

// exchangeName is the form of an exchange id, the same as an agreement's.
var exchangeName = agreementName

// exchangeRecords reads the logged entries of the exchange a request
// names, or writes the problem.
func (s *Server) exchangeRecords(w http.ResponseWriter, r *http.Request) (string, []progress.Record, bool) {
	id := r.PathValue("exchange")
	if !exchangeName.MatchString(id) {
		s.problem(w, r, guarantor.Errorf(guarantor.EInvalid, "exchange", "%q is not an exchange id", id))
		return "", nil, false
	}
	var recs []progress.Record
	if err := s.node.Store().ExchangeEntries(r.Context(), id, func(rec node.Record) error {
		recs = append(recs, progress.Record{Index: rec.Index, Body: rec.Body})
		return nil
	}); err != nil {
		s.problem(w, r, err)
		return "", nil, false
	}
	if len(recs) == 0 {
		s.problem(w, r, guarantor.Errorf(guarantor.ENotFound, "exchange", "no entry of exchange %q is logged", id))
		return "", nil, false
	}
	return id, recs, true
}

// handleExchange serves GET /v1/exchanges/{exchange}: the exchange's
// public progress (progress.Progress), computed from the log alone.
func (s *Server) handleExchange(w http.ResponseWriter, r *http.Request) {
	if id, recs, ok := s.exchangeRecords(w, r); ok {
		writeJSON(w, http.StatusOK, progress.Compute(id, recs))
	}
}

// ManifestView is what GET /v1/exchanges/{exchange}/manifests/{id}
// serves: a batch's every logged part and all its commitments, sorted, so
// that a family holding the verifier's opening can check its relative's
// inclusion against the root.
type ManifestView struct {
	ID          string   `json:"id"`
	Exchange    string   `json:"exchange"`
	Batch       int      `json:"batch"`
	From        string   `json:"from"`
	To          string   `json:"to"`
	Count       int      `json:"count"`
	Parts       int      `json:"parts"`
	Root        string   `json:"root"`
	Indexes     []uint64 `json:"indexes"`
	Commitments []string `json:"commitments"`
}

// handleManifest serves GET /v1/exchanges/{exchange}/manifests/{id}.
func (s *Server) handleManifest(w http.ResponseWriter, r *http.Request) {
	id, recs, ok := s.exchangeRecords(w, r)
	if !ok {
		return
	}
	var v *ManifestView
	seen := map[int]bool{}
	for _, rec := range recs {
		m, ok := rec.Body.(*entry.ExchangeManifest)
		if !ok || m.ID != r.PathValue("id") || seen[m.Part] {
			continue
		}
		seen[m.Part] = true
		if v == nil {
			v = &ManifestView{ID: m.ID, Exchange: id, Batch: m.Batch, From: m.From, To: m.To, Count: m.Count, Parts: m.Parts, Root: m.Root, Commitments: []string{}}
		}
		v.Indexes = append(v.Indexes, rec.Index)
		v.Commitments = append(v.Commitments, m.Commitments...)
	}
	if v == nil {
		s.problem(w, r, guarantor.Errorf(guarantor.ENotFound, "id", "exchange %s has no manifest %q", id, r.PathValue("id")))
		return
	}
	slices.Sort(v.Commitments)
	writeJSON(w, http.StatusOK, v)
}
