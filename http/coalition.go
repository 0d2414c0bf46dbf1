package http

import (
	"cmp"
	"encoding/csv"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
)

// CoverageView is what GET /v1/coalition/{agreement}/coverage serves: the
// engine's latest snapshot for the month, with its log index, and its
// gaps, the most severe first.
type CoverageView struct {
	Index uint64 `json:"index"`
	entry.Coverage
	Gaps []GapView `json:"gaps"`
	// Conflicts are the obligations open at the snapshot that need a
	// capability only caveated contributors hold; Uncovered, those that
	// need one nobody holds in place.
	Conflicts []entry.CoverageLink `json:"conflicts"`
	Uncovered []entry.CoverageLink `json:"uncovered"`
}

// GapView is a sector and capability short of what the agreement
// requires; Severity is the shortfall's share of the requirement.
type GapView struct {
	entry.CoverageCell
	Severity float64 `json:"severity"`
}

// CoverageCSVColumns are the columns of GET /v1/coalition/{agreement}/coverage.csv.
var CoverageCSVColumns = []string{"agreement", "month", "sector", "capability", "required", "pledged", "deployed", "confirmed", "shortfall", "index"}

// SupportCSVColumns are the columns of GET
// /v1/coalition/{agreement}/support.csv: each donor's economic support at
// the snapshot, in the capability's unit at the agreement's declared
// rates; ratio is disbursed / due (empty when nothing is due yet).
var SupportCSVColumns = []string{"agreement", "month", "at", "contributor", "capability", "unit", "pledged", "due", "disbursed", "ratio", "index"}

// monthName is the form of a month: YYYY-MM.
var monthName = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)

// coverage reads the snapshot a request asks for, or writes the problem.
func (s *Server) coverage(w http.ResponseWriter, r *http.Request) (*CoverageView, bool) {
	id, month := r.PathValue("agreement"), r.URL.Query().Get("month")
	if !agreementName.MatchString(id) {
		s.problem(w, r, guarantor.Errorf(guarantor.EInvalid, "agreement", "%q is not an agreement id", id))
		return nil, false
	}
	if month != "" && !monthName.MatchString(month) {
		s.problem(w, r, guarantor.Errorf(guarantor.EInvalid, "month", "month=%q is not YYYY-MM", month))
		return nil, false
	}
	row, ok, err := s.node.Store().Coverage(r.Context(), id, month)
	if err != nil {
		s.problem(w, r, err)
		return nil, false
	}
	if !ok {
		s.problem(w, r, guarantor.Errorf(guarantor.ENotFound, "agreement", "no coverage of agreement %q is logged for %s", id, cmp.Or(month, "any month")))
		return nil, false
	}
	v := &CoverageView{Index: row.Index, Coverage: row.Coverage, Gaps: []GapView{}}
	for _, c := range row.Coverage.Cells {
		if c.Shortfall > 0 && c.Required > 0 {
			v.Gaps = append(v.Gaps, GapView{CoverageCell: c, Severity: c.Shortfall / c.Required})
		}
	}
	slices.SortStableFunc(v.Gaps, func(a, b GapView) int { return cmp.Compare(b.Severity, a.Severity) })
	v.Conflicts, v.Uncovered = []entry.CoverageLink{}, []entry.CoverageLink{}
	for _, l := range row.Coverage.Obligations {
		switch {
		case l.Conflict:
			v.Conflicts = append(v.Conflicts, l)
		case len(l.Holders) == 0:
			v.Uncovered = append(v.Uncovered, l)
		}
	}
	return v, true
}

// handleCoverage serves GET /v1/coalition/{agreement}/coverage.
func (s *Server) handleCoverage(w http.ResponseWriter, r *http.Request) {
	if v, ok := s.coverage(w, r); ok {
		writeJSON(w, http.StatusOK, v)
	}
}

// handleCoverageCSV serves GET /v1/coalition/{agreement}/coverage.csv.
func (s *Server) handleCoverageCSV(w http.ResponseWriter, r *http.Request) {
	v, ok := s.coverage(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="coverage.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write(CoverageCSVColumns)
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	for _, c := range v.Cells {
		_ = cw.Write([]string{v.Agreement, v.Month, c.Sector, c.Capability, f(c.Required), f(c.Pledged), f(c.Deployed), f(c.Confirmed), f(c.Shortfall), strconv.FormatUint(v.Index, 10)})
	}
	cw.Flush()
}

// handleSupportCSV serves GET /v1/coalition/{agreement}/support.csv.
func (s *Server) handleSupportCSV(w http.ResponseWriter, r *http.Request) {
	v, ok := s.coverage(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="support.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write(SupportCSVColumns)
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	for _, sp := range v.Support {
		ratio := ""
		if sp.Due > 0 {
			ratio = strconv.FormatFloat(sp.Disbursed/sp.Due, 'f', 4, 64)
		}
		_ = cw.Write([]string{v.Agreement, v.Month, v.At.Format(time.RFC3339), sp.Contributor, sp.Capability, sp.Unit, f(sp.Pledged), f(sp.Due), f(sp.Disbursed), ratio, strconv.FormatUint(v.Index, 10)})
	}
	cw.Flush()
}
