package http

import (
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
)

// Determination and obligation list limits: GET /v1/determinations and
// GET /v1/obligations answer at most DefaultDerivedLimit rows unless
// limit asks for more, up to MaxDerivedLimit. GET /v1/obligations.csv is
// open data: it streams every obligation selected unless limit says
// otherwise.
const (
	DefaultDerivedLimit = 1000
	MaxDerivedLimit     = 10000
)

// ObligationCSVColumns are the columns of GET /v1/obligations.csv, one
// row per obligation, its latest revision: group, text, on_request_of,
// acknowledged, settled and reason are empty when the revision has none;
// times are RFC 3339 in UTC;
// determination is the seq of the determination that opened it; index is
// the log index of the revision.
var ObligationCSVColumns = []string{
	"id", "revision", "status", "who", "group", "agreement", "version", "trigger", "determination",
	"action", "text", "on_request_of", "opened", "deadline", "acknowledged", "settled", "reason", "index",
}

var (
	// agreementName is the form of agreement and trigger ids.
	agreementName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	// actorName is the form of party, guarantor and group ids.
	actorName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	// debtorRole is the form of the role an obligation is owed by.
	debtorRole = regexp.MustCompile(`^(party|guarantor):[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
)

// AgreementSummary is one agreement entry as GET /v1/agreements lists it.
type AgreementSummary struct {
	ID        string     `json:"id"`
	Version   int        `json:"version"`
	Title     string     `json:"title"`
	Effective time.Time  `json:"effective"`
	Expires   *time.Time `json:"expires,omitempty"`
	Index     uint64     `json:"index"`   // log index of the entry
	Signers   []string   `json:"signers"` // name+hash of each co-signature
}

// AgreementVersion is one agreement entry in an AgreementDetail: the
// whole logged body with its log index and co-signers.
type AgreementVersion struct {
	Index     uint64          `json:"index"`
	Signers   []string        `json:"signers"`
	Amendment string          `json:"amendment,omitempty"` // the reason, when the version came as an amendment
	Agreement entry.Agreement `json:"agreement"`
}

// AgreementDetail is what GET /v1/agreements/{id} serves: every logged
// version of the agreement, in version order and, for entries claiming
// the same version, in log order.
type AgreementDetail struct {
	ID       string             `json:"id"`
	Versions []AgreementVersion `json:"versions"`
}

// DeterminationView is a determination with the log index of its entry.
type DeterminationView struct {
	Index uint64 `json:"index"`
	entry.Determination
}

// ObligationView is an obligation revision with the log index of its
// entry.
type ObligationView struct {
	Index uint64 `json:"index"`
	entry.Obligation
}

// ObligationRevision is one revision in an ObligationDetail.
type ObligationRevision struct {
	Index      uint64           `json:"index"`
	Obligation entry.Obligation `json:"obligation"`
}

// ResponseView is an accepted response with its log index and signer
// (name+hash of its first signature).
type ResponseView struct {
	Index  uint64 `json:"index"`
	Signer string `json:"signer"`
	entry.Response
}

// ObligationDetail is what GET /v1/obligations/{id} serves: every
// revision of the obligation in log order (the last is current) and every
// accepted response naming it, in log order, including those the engine
// ignored (by a signer that does not owe it, or changing nothing).
type ObligationDetail struct {
	ID        uint64               `json:"id"`
	Revisions []ObligationRevision `json:"revisions"`
	Responses []ResponseView       `json:"responses"`
	// Holders, while the obligation is open and its duty needs a
	// capability of the coalition: the contributors holding each one in
	// place, from the latest coverage snapshot (at CoverageIndex).
	Holders       []entry.CoverageLink `json:"capability_holders,omitempty"`
	CoverageIndex *uint64              `json:"coverage_index,omitempty"`
}

// handleAgreements serves GET /v1/agreements: {"agreements":
// [AgreementSummary, ...]}, every accepted agreement entry, by id, the
// latest version first (and, for entries claiming the same version, the
// latest entry first).
func (s *Server) handleAgreements(w http.ResponseWriter, r *http.Request) {
	rows, err := s.node.Store().Agreements(r.Context())
	if err != nil {
		s.problem(w, r, err)
		return
	}
	list := make([]AgreementSummary, 0, len(rows))
	for _, row := range rows {
		a := row.Agreement
		list = append(list, AgreementSummary{ID: a.ID, Version: a.Version, Title: a.Title, Effective: a.Effective, Expires: a.Expires,
			Index: row.Index, Signers: nonNil(row.Signers)})
	}
	slices.SortStableFunc(list, func(a, b AgreementSummary) int {
		return cmp.Or(strings.Compare(a.ID, b.ID), cmp.Compare(b.Version, a.Version), cmp.Compare(b.Index, a.Index))
	})
	writeJSON(w, http.StatusOK, struct {
		Agreements []AgreementSummary `json:"agreements"`
	}{list})
}

// handleAgreement serves GET /v1/agreements/{id}: an AgreementDetail.
func (s *Server) handleAgreement(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !agreementName.MatchString(id) {
		s.problem(w, r, guarantor.Errorf(guarantor.EInvalid, "id", "agreement id %q is not lower-case letters, digits, '.', '_' and '-' (at most 64)", id))
		return
	}
	rows, err := s.node.Store().Agreements(r.Context())
	if err != nil {
		s.problem(w, r, err)
		return
	}
	d := AgreementDetail{ID: id, Versions: []AgreementVersion{}}
	for _, row := range rows {
		if row.Agreement.ID == id {
			d.Versions = append(d.Versions, AgreementVersion{Index: row.Index, Signers: nonNil(row.Signers), Amendment: row.Amendment, Agreement: row.Agreement})
		}
	}
	if len(d.Versions) == 0 {
		s.problem(w, r, guarantor.Errorf(guarantor.ENotFound, "id", "no agreement %q", id))
		return
	}
	slices.SortStableFunc(d.Versions, func(a, b AgreementVersion) int {
		return cmp.Or(cmp.Compare(a.Agreement.Version, b.Agreement.Version), cmp.Compare(a.Index, b.Index))
	})
	writeJSON(w, http.StatusOK, d)
}

// parseDeterminationFilter reads the determination filters from the query
// string: agreement, trigger, from and to (the determination's time in
// [from, to)) and limit (default DefaultDerivedLimit, at most
// MaxDerivedLimit).
func parseDeterminationFilter(r *http.Request) (node.DeterminationFilter, error) {
	var f node.DeterminationFilter
	q := r.URL.Query()
	var err error
	if f.From, f.To, err = parseTimes(q); err != nil {
		return f, err
	}
	for name, dst := range map[string]*string{"agreement": &f.Agreement, "trigger": &f.Trigger} {
		if v := q.Get(name); v != "" {
			if !agreementName.MatchString(v) {
				return f, guarantor.Errorf(guarantor.EInvalid, name, "%s=%q is not an id of lower-case letters, digits, '.', '_' and '-'", name, v)
			}
			*dst = v
		}
	}
	if f.Limit, err = parseLimit(q, DefaultDerivedLimit, MaxDerivedLimit); err != nil {
		return f, err
	}
	return f, nil
}

// handleDeterminations serves GET /v1/determinations: {"determinations":
// [DeterminationView, ...]}, in log order, streamed.
func (s *Server) handleDeterminations(w http.ResponseWriter, r *http.Request) {
	f, err := parseDeterminationFilter(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	head, row, tail := jsonList("determinations", func(d node.DeterminationRow) any {
		return DeterminationView{Index: d.Index, Determination: d.Determination}
	})
	streamRows(s, w, r, "application/json", "", func(ctx context.Context, fn func(node.DeterminationRow) error) error {
		return s.node.Store().Determinations(ctx, f, fn)
	}, head, row, tail)
}

// parseObligationFilter reads the obligation filters from the query
// string: who (a role, e.g. guarantor:UK or party:RU), group, status,
// agreement, determination (a seq) and limit (default defLimit, at most
// maxLimit when that is not 0).
func parseObligationFilter(r *http.Request, defLimit, maxLimit int) (node.ObligationFilter, error) {
	var f node.ObligationFilter
	q := r.URL.Query()
	if v := q.Get("who"); v != "" {
		if !debtorRole.MatchString(v) {
			return f, guarantor.Errorf(guarantor.EInvalid, "who", "who=%q is not a role like guarantor:UK or party:RU", v)
		}
		f.Who = v
	}
	if v := q.Get("group"); v != "" {
		if !actorName.MatchString(v) {
			return f, guarantor.Errorf(guarantor.EInvalid, "group", "group=%q is not a group id like coalition", v)
		}
		f.Group = v
	}
	if v := q.Get("status"); v != "" {
		if !slices.Contains(entry.ObligationStatuses, v) {
			return f, guarantor.Errorf(guarantor.EInvalid, "status", "status=%q is not one of %s", v, strings.Join(entry.ObligationStatuses, ", "))
		}
		f.Status = v
	}
	if v := q.Get("agreement"); v != "" {
		if !agreementName.MatchString(v) {
			return f, guarantor.Errorf(guarantor.EInvalid, "agreement", "agreement=%q is not an id of lower-case letters, digits, '.', '_' and '-'", v)
		}
		f.Agreement = v
	}
	if v := q.Get("determination"); v != "" {
		seq, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return f, guarantor.Errorf(guarantor.EInvalid, "determination", "determination=%q is not a non-negative integer (the seq of a determination)", v)
		}
		f.Determination = &seq
	}
	var err error
	if f.Limit, err = parseLimit(q, defLimit, maxLimit); err != nil {
		return f, err
	}
	return f, nil
}

// handleObligations serves GET /v1/obligations: {"obligations":
// [ObligationView, ...]}, the latest revision of each selected obligation
// by id, streamed.
func (s *Server) handleObligations(w http.ResponseWriter, r *http.Request) {
	f, err := parseObligationFilter(r, DefaultDerivedLimit, MaxDerivedLimit)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	head, row, tail := jsonList("obligations", func(o node.ObligationRow) any {
		return ObligationView{Index: o.Index, Obligation: o.Obligation}
	})
	streamRows(s, w, r, "application/json", "", func(ctx context.Context, fn func(node.ObligationRow) error) error {
		return s.node.Store().Obligations(ctx, f, fn)
	}, head, row, tail)
}

// handleObligationsCSV serves GET /v1/obligations.csv (open data): the
// selection of GET /v1/obligations, every row unless limit says
// otherwise, streamed.
func (s *Server) handleObligationsCSV(w http.ResponseWriter, r *http.Request) {
	f, err := parseObligationFilter(r, 0, 0)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	var cw *csv.Writer
	streamRows(s, w, r, "text/csv; charset=utf-8", "obligations.csv",
		func(ctx context.Context, fn func(node.ObligationRow) error) error {
			return s.node.Store().Obligations(ctx, f, fn)
		},
		func(w io.Writer) error {
			cw = csv.NewWriter(w)
			return cw.Write(ObligationCSVColumns)
		},
		func(_ io.Writer, _ int, row node.ObligationRow) error {
			o := row.Obligation
			return cw.Write([]string{
				strconv.FormatUint(o.ID, 10), strconv.Itoa(o.Revision), o.Status, o.Who, o.Group, o.Agreement, strconv.Itoa(o.Version),
				o.Trigger, strconv.FormatUint(o.Determination, 10), o.Action, o.Text, o.OnRequestOf,
				fmtRFC3339(&o.Opened), fmtRFC3339(&o.Deadline), fmtRFC3339(o.Acknowledged), fmtRFC3339(o.Settled), o.Reason,
				strconv.FormatUint(row.Index, 10),
			})
		},
		func(io.Writer) error {
			cw.Flush()
			return cw.Error()
		})
}

// fmtRFC3339 formats t in UTC, or "" for nil.
func fmtRFC3339(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// handleObligation serves GET /v1/obligations/{id}: an ObligationDetail.
func (s *Server) handleObligation(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		s.problem(w, r, guarantor.Errorf(guarantor.EInvalid, "id", "obligation id %q is not a non-negative integer (the seq of its first revision)", r.PathValue("id")))
		return
	}
	st := s.node.Store()
	revs, err := st.Obligation(ctx, id)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if len(revs) == 0 {
		s.problem(w, r, guarantor.Errorf(guarantor.ENotFound, "id", "no obligation %d", id))
		return
	}
	resps, err := st.Responses(ctx, id)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	d := ObligationDetail{ID: id, Revisions: make([]ObligationRevision, len(revs)), Responses: make([]ResponseView, len(resps))}
	for i, rv := range revs {
		d.Revisions[i] = ObligationRevision{Index: rv.Index, Obligation: rv.Obligation}
	}
	for i, rs := range resps {
		d.Responses[i] = ResponseView{Index: rs.Index, Signer: rs.Signer, Response: rs.Response}
	}
	if last := revs[len(revs)-1].Obligation; last.Status == entry.ObligationOpen {
		cov, ok, err := st.Coverage(ctx, last.Agreement, "")
		if err != nil {
			s.problem(w, r, err)
			return
		}
		for _, l := range cov.Coverage.Obligations {
			if ok && l.Obligation == id {
				d.Holders, d.CoverageIndex = append(d.Holders, l), &cov.Index
			}
		}
	}
	writeJSON(w, http.StatusOK, d)
}

// jsonList returns the head, row and tail functions of streamRows that
// write {"<key>":[...]} with view(row) as each item.
func jsonList[R any](key string, view func(R) any) (head func(io.Writer) error, row func(io.Writer, int, R) error, tail func(io.Writer) error) {
	head = func(w io.Writer) error {
		_, err := io.WriteString(w, `{"`+key+`":[`)
		return err
	}
	row = func(w io.Writer, n int, v R) error {
		b, err := json.Marshal(view(v))
		if err != nil {
			return err
		}
		if n > 0 {
			b = append([]byte{','}, b...)
		}
		_, err = w.Write(b)
		return err
	}
	tail = func(w io.Writer) error {
		_, err := io.WriteString(w, "]}\n")
		return err
	}
	return head, row, tail
}
