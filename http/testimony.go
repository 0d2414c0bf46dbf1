package http

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/time/rate"
)

// TestimonyConfig configures public testimony.
type TestimonyConfig struct {
	// Signer is the server's intake key, registered with role intake.
	Signer note.Signer
	// ContactKey keys the HMAC commitments to submitters' contact details.
	// It never leaves the server.
	ContactKey []byte
	// Every and Burst rate-limit each client address: Burst statements at
	// once, then one per Every.
	Every time.Duration
	Burst int
}

// MaxTestimonyBody is the largest statement, in bytes.
const MaxTestimonyBody = 32 << 10

type testimony struct {
	cfg      TestimonyConfig
	limiters *lru.Cache[string, *rate.Limiter]
}

// WithTestimony accepts public testimony at POST /v1/testimony.
func WithTestimony(cfg TestimonyConfig) Option {
	return func(s *Server) {
		l, _ := lru.New[string, *rate.Limiter](1 << 14)
		s.testimony = &testimony{cfg: cfg, limiters: l}
	}
}

// TestimonyRequest is what a submitter posts. Contact, if given, is kept
// out of the log: only its keyed commitment is logged, and the submitter
// gets it back to prove authorship later.
type TestimonyRequest struct {
	Text          string           `json:"text"`
	OccurredAt    *time.Time       `json:"occurred_at,omitempty"`
	Location      *entry.Point     `json:"location,omitempty"`
	Category      string           `json:"category,omitempty"`
	Language      string           `json:"language,omitempty"`
	SubmitterKind string           `json:"submitter_kind,omitempty"`
	Contact       string           `json:"contact,omitempty"`
	Evidence      []entry.Evidence `json:"evidence,omitempty"`
}

// TestimonyReceipt answers a logged statement.
type TestimonyReceipt struct {
	ID                string            `json:"id"`
	ContactCommitment string            `json:"contact_commitment,omitempty"`
	Receipt           guarantor.Receipt `json:"receipt"`
}

// handleTestimony serves POST /v1/testimony: anyone, rate limited per
// client address. The statement is validated against the testimony
// schema, signed by the intake key and logged like any entry.
func (s *Server) handleTestimony(w http.ResponseWriter, r *http.Request) {
	t := s.testimony
	if t == nil {
		s.problem(w, r, guarantor.Errorf(guarantor.ENotFound, "", "this server takes no public testimony"))
		return
	}
	host := s.clientAddr(r)
	lim, ok := t.limiters.Get(host)
	if !ok {
		lim = rate.NewLimiter(rate.Every(t.cfg.Every), t.cfg.Burst)
		t.limiters.Add(host, lim)
	}
	if !lim.Allow() {
		s.problem(w, r, guarantor.Errorf(guarantor.ERateLimited, "", "too many statements from this address; try again later"))
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		s.problem(w, r, guarantor.Errorf(guarantor.EUnsupported, "Content-Type", "send the statement as application/json (got %q)", ct))
		return
	}
	var req TestimonyRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxTestimonyBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.problem(w, r, guarantor.Errorf(guarantor.ETooLarge, "", "a statement is at most 32 KiB"))
			return
		}
		s.problem(w, r, guarantor.Errorf(guarantor.EInvalid, "", "the statement is not the expected JSON object: %v", err))
		return
	}
	if len(req.Contact) > 500 {
		s.problem(w, r, guarantor.Errorf(guarantor.EInvalid, "/contact", "contact details are at most 500 bytes"))
		return
	}
	var idb [12]byte
	_, _ = rand.Read(idb[:])
	body := entry.Testimony{
		ID: "t-" + hex.EncodeToString(idb[:]), ReceivedAt: s.now().UTC().Truncate(time.Second),
		OccurredAt: req.OccurredAt, Location: req.Location, Category: req.Category, Text: req.Text,
		Language: req.Language, SubmitterKind: req.SubmitterKind, Evidence: req.Evidence,
	}
	if req.Contact != "" {
		m := hmac.New(sha256.New, t.cfg.ContactKey)
		m.Write([]byte(strings.TrimSpace(req.Contact)))
		body.ContactCommitment = hex.EncodeToString(m.Sum(nil))
	}
	b, err := json.Marshal(body)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	raw, err := entry.Sign(entry.KindTestimony, b, t.cfg.Signer)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	res, err := s.node.Submit(r.Context(), raw)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, TestimonyReceipt{ID: body.ID, ContactCommitment: body.ContactCommitment, Receipt: res.Receipt})
}
