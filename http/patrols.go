package http

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// PatrolView is one patrol in GET /v1/patrols: its plan and the reports
// of it, each with its log index.
type PatrolView struct {
	Index   uint64             `json:"index"`
	Plan    entry.PatrolPlan   `json:"plan"`
	Reports []PatrolReportView `json:"reports"`
}

// PatrolReportView is a logged patrol report with its log index and
// signers.
type PatrolReportView struct {
	Index   uint64   `json:"index"`
	Signers []string `json:"signers"`
	entry.PatrolReport
}

// RestrictionCSVColumns are the columns of GET
// /v1/patrols/restrictions.csv: one row per denial of the mission's
// freedom of movement.
var RestrictionCSVColumns = []string{"at", "lon", "lat", "by", "party", "duration_min", "plan", "team", "report", "observation", "index"}

// patrols reads the patrols a request selects (from, to, plan), or
// writes the problem.
func (s *Server) patrols(w http.ResponseWriter, r *http.Request) ([]PatrolView, bool) {
	from, to, err := parseTimes(r.URL.Query())
	if err == nil {
		var ps []PatrolView
		if ps, err = s.loadPatrols(r.Context(), node.PatrolFilter{Plan: r.URL.Query().Get("plan"), From: from, To: to}); err == nil {
			return ps, true
		}
	}
	s.problem(w, r, err)
	return nil, false
}

// loadPatrols reads the patrols f selects (a plan whose window, or a
// report whose span, overlaps f's period) with their reports, in plan log
// order.
func (s *Server) loadPatrols(ctx context.Context, f node.PatrolFilter) ([]PatrolView, error) {
	out := []PatrolView{}
	byPlan := map[string]int{}
	reports := map[string][]PatrolReportView{}
	err := s.node.Store().PatrolEntries(ctx, f, func(rec node.Record) error {
		switch b := rec.Body.(type) {
		case *entry.PatrolPlan:
			byPlan[b.ID] = len(out)
			out = append(out, PatrolView{Index: rec.Index, Plan: *b, Reports: []PatrolReportView{}})
		case *entry.PatrolReport:
			reports[b.Plan] = append(reports[b.Plan], PatrolReportView{Index: rec.Index, Signers: rec.Signers, PatrolReport: *b})
		}
		return nil
	})
	for id, rs := range reports {
		if i, ok := byPlan[id]; ok {
			out[i].Reports = rs
		}
	}
	return out, err
}

// handlePatrols serves GET /v1/patrols: {"patrols": [PatrolView, ...]}.
func (s *Server) handlePatrols(w http.ResponseWriter, r *http.Request) {
	if ps, ok := s.patrols(w, r); ok {
		writeJSON(w, http.StatusOK, map[string]any{"patrols": ps})
	}
}

// handlePatrolsGeoJSON serves GET /v1/patrols.geojson: each plan's route
// or area (kind "plan"), each report's track (kind "track"), and each
// restriction (kind "restriction") as GeoJSON features.
func (s *Server) handlePatrolsGeoJSON(w http.ResponseWriter, r *http.Request) {
	ps, ok := s.patrols(w, r)
	if !ok {
		return
	}
	fc := geojson.NewFeatureCollection()
	add := func(raw json.RawMessage, props geojson.Properties) {
		g, err := geojson.UnmarshalGeometry(raw)
		if err != nil {
			return // intake checked it; a foreign log's oddity is skipped
		}
		ft := geojson.NewFeature(g.Geometry())
		ft.Properties = props
		fc.Append(ft)
	}
	for _, p := range ps {
		props := geojson.Properties{"kind": "plan", "plan": p.Plan.ID, "team": p.Plan.Team, "means": p.Plan.Means,
			"from": p.Plan.From.UTC().Format(time.RFC3339), "to": p.Plan.To.UTC().Format(time.RFC3339), "index": p.Index}
		if len(p.Plan.Route) > 0 {
			add(p.Plan.Route, props)
		} else {
			add(p.Plan.Area, props)
		}
		for _, rep := range p.Reports {
			if len(rep.Track) > 0 {
				add(rep.Track, geojson.Properties{"kind": "track", "plan": p.Plan.ID, "team": p.Plan.Team, "report": rep.ID, "outcome": rep.Outcome,
					"start": rep.Start.UTC().Format(time.RFC3339), "end": rep.End.UTC().Format(time.RFC3339), "index": rep.Index})
			}
			for _, x := range rep.Restrictions {
				ft := geojson.NewFeature(orb.Point{x.Location.Coordinates[0], x.Location.Coordinates[1]})
				ft.Properties = geojson.Properties{"kind": "restriction", "plan": p.Plan.ID, "team": p.Plan.Team, "report": rep.ID,
					"at": x.At.UTC().Format(time.RFC3339), "by": x.By, "party": x.Party, "duration_min": x.DurationM, "observation": x.Observation, "index": rep.Index}
				fc.Append(ft)
			}
		}
	}
	b, err := json.Marshal(fc)
	if err != nil {
		s.problem(w, r, guarantor.Errorf(guarantor.EInternal, "", "encode: %v", err))
		return
	}
	w.Header().Set("Content-Type", "application/geo+json")
	_, _ = w.Write(append(b, '\n'))
}

// handleRestrictionsCSV serves GET /v1/patrols/restrictions.csv.
func (s *Server) handleRestrictionsCSV(w http.ResponseWriter, r *http.Request) {
	ps, ok := s.patrols(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="restrictions.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write(RestrictionCSVColumns)
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	for _, p := range ps {
		for _, rep := range p.Reports {
			for _, x := range rep.Restrictions {
				_ = cw.Write([]string{x.At.UTC().Format(time.RFC3339), f(x.Location.Coordinates[0]), f(x.Location.Coordinates[1]), x.By, x.Party,
					strconv.Itoa(x.DurationM), p.Plan.ID, p.Plan.Team, rep.ID, x.Observation, strconv.FormatUint(rep.Index, 10)})
			}
		}
	}
	cw.Flush()
}
