package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/exchange"
)

// The neutral verifier's endpoints of a prisoner exchange. Only the
// verifier sees both sides' clear data; a party sees and submits its own;
// everyone else is refused (the public reads the log's counts and
// commitments at GET /v1/exchanges/{exchange}). Every request is signed
// (Guarantor-Note); a body that carries data must be covered by the
// signature (body_sha256). No identity field is ever logged by the
// server: the request log records method, path and status only.

// WithExchange serves the verifier's exchange endpoints with svc, which
// holds the clear records encrypted at rest.
func WithExchange(svc *exchange.Service) Option { return func(s *Server) { s.exchange = svc } }

// MaxExchangeUpload is the largest list upload, in bytes.
const MaxExchangeUpload = 32 << 20

// The verifier's request bodies' limits, in bytes.
const (
	maxReconcileBody = 4 << 10
	maxDecisionsBody = 1 << 20
	maxDraftBody     = 4 << 10
)

// ListUpload is the body of POST /v1/exchanges/{exchange}/lists.
type ListUpload struct {
	List   string            `json:"list"` // held or claimed
	At     time.Time         `json:"at"`
	People []exchange.Person `json:"people"`
}

// ReconcileRequest is the body of POST /v1/exchanges/{exchange}/reconcile.
type ReconcileRequest struct {
	Holder string `json:"holder"`
}

// DecisionsRequest is the body of POST /v1/exchanges/{exchange}/decisions.
type DecisionsRequest struct {
	Holder    string              `json:"holder"`
	Decisions []exchange.Decision `json:"decisions"`
}

// ManifestRequest is the body of POST /v1/exchanges/{exchange}/manifests.
type ManifestRequest struct {
	From  string    `json:"from"`
	Batch int       `json:"batch"`
	Limit int       `json:"limit,omitempty"`
	At    time.Time `json:"at"`
}

func isVerifier(r guarantor.Role) bool { return r == guarantor.RoleVerifier }

func isParty(r guarantor.Role) bool { return strings.HasPrefix(string(r), "party:") }

// exchangeService returns the service, or answers 404 when this server
// runs none.
func (s *Server) exchangeService(w http.ResponseWriter, r *http.Request) *exchange.Service {
	if s.exchange == nil {
		s.problem(w, r, guarantor.Errorf(guarantor.ENotFound, "", "this server runs no exchange verifier service"))
		return nil
	}
	if id := r.PathValue("exchange"); !exchangeName.MatchString(id) {
		s.problem(w, r, guarantor.Errorf(guarantor.EInvalid, "exchange", "%q is not an exchange id", id))
		return nil
	}
	return s.exchange
}

// readSigned reads a JSON body covered by the caller's signature into v.
func (s *Server) readSigned(w http.ResponseWriter, r *http.Request, c *caller, limit int64, v any) bool {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.problem(w, r, guarantor.Errorf(guarantor.ETooLarge, "", "the body exceeds %d bytes", limit))
		} else {
			s.problem(w, r, guarantor.Errorf(guarantor.EInvalid, "", "read the body: %v", err))
		}
		return false
	}
	if err := checkBody(c, raw); err != nil {
		s.problem(w, r, err)
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		// The decoder's message names a field or an offset, never a value.
		s.problem(w, r, guarantor.Errorf(guarantor.EInvalid, "", "the body is not the expected JSON object: %s", jsonProblem(err)))
		return false
	}
	if dec.More() {
		s.problem(w, r, guarantor.Errorf(guarantor.EInvalid, "", "the body holds more than one JSON value"))
		return false
	}
	return true
}

// jsonProblem describes a decoding error without quoting the input.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return "syntax error at byte " + strconv.FormatInt(syn.Offset, 10)
	case errors.As(err, &typ):
		return "field " + typ.Field + " must be a " + typ.Type.String()
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return "malformed"
}

// handleExchangeUpload serves POST /v1/exchanges/{exchange}/lists: a
// party uploads its list (held or claimed) in clear over a signed
// request; the service stores it encrypted and answers the list's log
// bodies (exchange-list parts) for the party to sign and submit.
func (s *Server) handleExchangeUpload(w http.ResponseWriter, r *http.Request) {
	svc := s.exchangeService(w, r)
	if svc == nil {
		return
	}
	c := s.requireRole(w, r, isParty, "upload a party's exchange list")
	if c == nil {
		return
	}
	var req ListUpload
	if !s.readSigned(w, r, c, MaxExchangeUpload, &req) {
		return
	}
	if req.At.IsZero() {
		req.At = s.now().UTC().Truncate(time.Second)
	}
	up, err := svc.Upload(r.Context(), r.PathValue("exchange"), strings.TrimPrefix(string(c.Role), "party:"), req.List, req.People, req.At)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, up)
}

// handleExchangeLists serves GET /v1/exchanges/{exchange}/lists: the
// stored lists (ids, sides, counts; no identity data), to the verifier
// and the parties.
func (s *Server) handleExchangeLists(w http.ResponseWriter, r *http.Request) {
	svc := s.exchangeService(w, r)
	if svc == nil {
		return
	}
	c := s.requireRole(w, r, func(r guarantor.Role) bool { return isVerifier(r) || isParty(r) }, "read the exchange's stored lists")
	if c == nil {
		return
	}
	lists, err := svc.Lists(r.Context(), r.PathValue("exchange"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if isParty(c.Role) {
		own := lists[:0]
		for _, l := range lists {
			if "party:"+l.Side == string(c.Role) {
				own = append(own, l)
			}
		}
		lists = own
	}
	writeJSON(w, http.StatusOK, map[string]any{"lists": lists})
}

// handleExchangeRecords serves GET
// /v1/exchanges/{exchange}/lists/{id}/records: a list's clear records, to
// the verifier or the party whose list it is.
func (s *Server) handleExchangeRecords(w http.ResponseWriter, r *http.Request) {
	svc := s.exchangeService(w, r)
	if svc == nil {
		return
	}
	c := s.requireRole(w, r, func(r guarantor.Role) bool { return isVerifier(r) || isParty(r) }, "read an exchange list's records")
	if c == nil {
		return
	}
	id := r.PathValue("id")
	lists, err := svc.Lists(r.Context(), r.PathValue("exchange"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	side := ""
	for _, l := range lists {
		if l.ID == id {
			side = l.Side
		}
	}
	if side == "" {
		s.problem(w, r, guarantor.Errorf(guarantor.ENotFound, "id", "exchange %s has no list %q", r.PathValue("exchange"), id))
		return
	}
	if isParty(c.Role) && string(c.Role) != "party:"+side {
		s.problem(w, r, guarantor.Errorf(guarantor.EForbidden, "Authorization", "key %s has role %s; list %s is party:%s's, which only it and the verifier may read", c.ID, c.Role, id, side))
		return
	}
	recs, err := svc.Records(r.Context(), id)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"list": id, "records": recs})
}

// handleExchangeReconcile serves POST /v1/exchanges/{exchange}/reconcile
// (verifier): reconcile the holder's latest held list with the other
// side's latest claimed list.
func (s *Server) handleExchangeReconcile(w http.ResponseWriter, r *http.Request) {
	svc := s.exchangeService(w, r)
	if svc == nil {
		return
	}
	c := s.requireRole(w, r, isVerifier, "reconcile exchange lists")
	if c == nil {
		return
	}
	var req ReconcileRequest
	if !s.readSigned(w, r, c, maxReconcileBody, &req) {
		return
	}
	rec, err := svc.Reconcile(r.Context(), r.PathValue("exchange"), req.Holder)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

// handleExchangeReconciliation serves GET
// /v1/exchanges/{exchange}/reconciliations/{holder} (verifier).
func (s *Server) handleExchangeReconciliation(w http.ResponseWriter, r *http.Request) {
	svc := s.exchangeService(w, r)
	if svc == nil {
		return
	}
	if s.requireRole(w, r, isVerifier, "read a reconciliation") == nil {
		return
	}
	rec, err := svc.Reconciliation(r.Context(), r.PathValue("exchange"), r.PathValue("holder"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

// handleExchangeDecisions serves POST /v1/exchanges/{exchange}/decisions
// (verifier): rulings on ambiguous matches.
func (s *Server) handleExchangeDecisions(w http.ResponseWriter, r *http.Request) {
	svc := s.exchangeService(w, r)
	if svc == nil {
		return
	}
	c := s.requireRole(w, r, isVerifier, "decide ambiguous matches")
	if c == nil {
		return
	}
	var req DecisionsRequest
	if !s.readSigned(w, r, c, maxDecisionsBody, &req) {
		return
	}
	rec, err := svc.Decide(r.Context(), r.PathValue("exchange"), req.Holder, req.Decisions)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

// handleExchangeParty serves GET /v1/exchanges/{exchange}/parties/{side}:
// a party's own records and their reconciliation states, to that party
// or the verifier; never the other side's records.
func (s *Server) handleExchangeParty(w http.ResponseWriter, r *http.Request) {
	svc := s.exchangeService(w, r)
	if svc == nil {
		return
	}
	side := r.PathValue("side")
	c := s.requireRole(w, r, func(r guarantor.Role) bool { return isVerifier(r) || string(r) == "party:"+side }, "read party:"+side+"'s exchange records")
	if c == nil {
		return
	}
	v, err := svc.PartyView(r.Context(), r.PathValue("exchange"), side)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// handleExchangeDraft serves POST /v1/exchanges/{exchange}/manifests
// (verifier): draft a batch of matched persons held by from, answering
// the manifest's log bodies for both parties and the verifier to
// co-sign.
func (s *Server) handleExchangeDraft(w http.ResponseWriter, r *http.Request) {
	svc := s.exchangeService(w, r)
	if svc == nil {
		return
	}
	c := s.requireRole(w, r, isVerifier, "draft an exchange batch")
	if c == nil {
		return
	}
	var req ManifestRequest
	if !s.readSigned(w, r, c, maxDraftBody, &req) {
		return
	}
	if req.At.IsZero() {
		req.At = s.now().UTC().Truncate(time.Second)
	}
	m, err := svc.DraftManifest(r.Context(), r.PathValue("exchange"), req.From, req.Batch, req.Limit, req.At)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, m)
}

// handleExchangeOpening serves GET
// /v1/exchanges/{exchange}/persons/{person}/opening (verifier): the
// opening the verifier hands one family, out of band, so that it can
// check its relative's inclusion in a logged batch.
func (s *Server) handleExchangeOpening(w http.ResponseWriter, r *http.Request) {
	svc := s.exchangeService(w, r)
	if svc == nil {
		return
	}
	if s.requireRole(w, r, isVerifier, "issue a family's opening") == nil {
		return
	}
	o, err := svc.Opening(r.Context(), r.PathValue("person"), r.URL.Query().Get("manifest"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}
