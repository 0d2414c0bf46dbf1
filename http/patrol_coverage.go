package http

import (
	"cmp"
	"encoding/csv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/engine/agreement"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/patrol"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// Defaults of GET /v1/patrols/coverage.
const (
	// DefaultPatrolDistanceM is how near a track a place must be to count
	// as visited: what a patrol sees from the road.
	DefaultPatrolDistanceM = 1000
	// DefaultGapDays is how long a place may go unvisited before it is a
	// gap.
	DefaultGapDays = 7
	// MaxPatrolPeriods caps the periods one request computes.
	MaxPatrolPeriods = 92
)

// PatrolCoverageView is what GET /v1/patrols/coverage serves: for an
// agreement's zones (by default its patrol areas and its lines), the
// share covered by the patrols' tracks and cameras per day or week, the
// places not visited for more than Days days as of To, the restrictions
// counted by party, by whom and by zone, and the cameras' outages. Every
// figure is recomputable from the log with package patrol, whose
// documentation states the method.
type PatrolCoverageView struct {
	Agreement    string                    `json:"agreement"`
	Version      int                       `json:"version"`
	From         time.Time                 `json:"from"`
	To           time.Time                 `json:"to"`
	Period       string                    `json:"period"`
	DistanceM    float64                   `json:"distance_m"`
	Days         int                       `json:"days"`
	Coverage     []patrol.ZoneCoverage     `json:"coverage"`
	Gaps         []patrol.ZoneGaps         `json:"gaps"`
	Restrictions []patrol.RestrictionTally `json:"restrictions"`
	Outages      []CameraOutage            `json:"outages"`
}

// CameraOutage is a span within a camera's report when it was not up.
type CameraOutage struct {
	Plan   string          `json:"plan"`
	Report string          `json:"report"`
	Index  uint64          `json:"index"`
	Outage patrol.Interval `json:"outage"`
}

// PatrolCoverageCSVColumns are the columns of GET /v1/patrols/coverage.csv.
var PatrolCoverageCSVColumns = []string{"zone", "kind", "period", "from", "to", "share", "samples", "covered", "length_km", "covered_km", "area_km2", "covered_km2", "tracks"}

// patrolCoverage computes the view a request asks for, or writes the
// problem.
func (s *Server) patrolCoverage(w http.ResponseWriter, r *http.Request) (*PatrolCoverageView, bool) {
	q := r.URL.Query()
	fail := func(err error) (*PatrolCoverageView, bool) {
		s.problem(w, r, err)
		return nil, false
	}
	id := q.Get("agreement")
	if !agreementName.MatchString(id) {
		return fail(guarantor.Errorf(guarantor.EInvalid, "agreement", "agreement=%q is not an agreement id (required)", id))
	}
	from, to, err := parseTimes(q)
	if err != nil {
		return fail(err)
	}
	if from.IsZero() || to.IsZero() || !to.After(from) {
		return fail(guarantor.Errorf(guarantor.EInvalid, "to", "give from and to (YYYY-MM-DD or RFC 3339), to after from"))
	}
	v := &PatrolCoverageView{Agreement: id, From: from.UTC(), To: to.UTC(), Period: cmp.Or(q.Get("period"), "day"), DistanceM: DefaultPatrolDistanceM, Days: DefaultGapDays}
	if x := q.Get("distance_m"); x != "" {
		if v.DistanceM, err = strconv.ParseFloat(x, 64); err != nil || v.DistanceM <= 0 || v.DistanceM > 50000 {
			return fail(guarantor.Errorf(guarantor.EInvalid, "distance_m", "distance_m=%q is not a distance in metres between 0 and 50000", x))
		}
	}
	if x := q.Get("days"); x != "" {
		if v.Days, err = strconv.Atoi(x); err != nil || v.Days < 0 || v.Days > 366 {
			return fail(guarantor.Errorf(guarantor.EInvalid, "days", "days=%q is not a number of days from 0 to 366", x))
		}
	}
	var periods []patrol.Period
	switch v.Period {
	case "day":
		periods = patrol.Days(from, to)
	case "week":
		periods = patrol.Weeks(from, to)
	default:
		return fail(guarantor.Errorf(guarantor.EInvalid, "period", "period=%q is not day or week", v.Period))
	}
	if len(periods) > MaxPatrolPeriods {
		return fail(guarantor.Errorf(guarantor.EInvalid, "to", "%d periods asked for; at most %d per request", len(periods), MaxPatrolPeriods))
	}
	c, err := s.node.LatestAgreement(r.Context(), id)
	if err != nil {
		return fail(err)
	}
	v.Version = c.Doc.Version
	zones, err := patrolZones(c, q.Get("zones"))
	if err != nil {
		return fail(err)
	}
	tracks, footprints, rs, outages, err := s.patrolSources(r, v.To)
	if err != nil {
		return fail(err)
	}
	survey, err := patrol.NewSurvey(zones, tracks, footprints, patrol.Params{DistanceM: v.DistanceM})
	if err != nil {
		return fail(err)
	}
	v.Coverage = survey.Coverage(periods)
	v.Gaps = survey.Gaps(v.To, v.Days)
	ids := make([]string, len(zones))
	for i, z := range zones {
		ids[i] = z.ID
	}
	v.Restrictions = patrol.RestrictionCounts(rs, ids, c.InZone, periods)
	v.Outages = outages
	return v, true
}

// patrolZones returns the zones asked for (comma-separated ids of zones
// and lines of the agreement), by default its patrol areas and lines.
func patrolZones(c *agreement.Compiled, list string) ([]patrol.Zone, error) {
	want := map[string]bool{}
	for _, z := range strings.Split(list, ",") {
		if z = strings.TrimSpace(z); z != "" {
			want[z] = true
		}
	}
	var out []patrol.Zone
	add := func(id string, raw []byte) error {
		g, err := geojson.UnmarshalGeometry(raw)
		if err != nil {
			return guarantor.Errorf(guarantor.EInternal, "", "agreement %s: zone %s: %v", c.Doc.ID, id, err)
		}
		out = append(out, patrol.Zone{ID: id, Geometry: g.Geometry()})
		delete(want, id)
		return nil
	}
	for _, z := range c.Doc.Zones {
		if (len(want) == 0 && list == "" && z.Kind == "patrol_area") || want[z.ID] {
			if err := add(z.ID, z.Geometry); err != nil {
				return nil, err
			}
		}
	}
	for _, l := range c.Doc.Lines {
		if (list == "") || want[l.ID] {
			if err := add(l.ID, l.Geometry); err != nil {
				return nil, err
			}
		}
	}
	if len(want) > 0 {
		missing := make([]string, 0, len(want))
		for z := range want {
			missing = append(missing, z)
		}
		slices.Sort(missing)
		return nil, guarantor.Errorf(guarantor.EInvalid, "zones", "agreement %s has no zone or line %s", c.Doc.ID, strings.Join(missing, ", "))
	}
	if len(out) == 0 {
		return nil, guarantor.Errorf(guarantor.EInvalid, "zones", "agreement %s has no patrol area or line; name its zones with zones=", c.Doc.ID)
	}
	return out, nil
}

// patrolSources reads every patrol report up to asOf: tracks, camera
// footprints with their up intervals, restrictions, and camera outages.
func (s *Server) patrolSources(r *http.Request, asOf time.Time) ([]patrol.Track, []patrol.Footprint, []patrol.Restriction, []CameraOutage, error) {
	ps, err := s.loadPatrols(r.Context(), node.PatrolFilter{To: asOf})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	var tracks []patrol.Track
	var fps []patrol.Footprint
	var rs []patrol.Restriction
	outages := []CameraOutage{}
	for _, p := range ps {
		var area orb.Polygon
		if len(p.Plan.Area) > 0 {
			if g, err := geojson.UnmarshalGeometry(p.Plan.Area); err == nil {
				area, _ = g.Geometry().(orb.Polygon)
			}
		}
		for _, rep := range p.Reports {
			if len(rep.Track) > 0 {
				if g, err := geojson.UnmarshalGeometry(rep.Track); err == nil {
					if ls, ok := g.Geometry().(orb.LineString); ok {
						tracks = append(tracks, patrol.Track{ID: rep.ID, Team: p.Plan.Team, Start: rep.Start, End: rep.End, Path: ls})
					}
				}
			}
			if (len(rep.Up) > 0 || p.Plan.Means == "camera") && area != nil { // a camera day with no up interval is one outage
				fp := patrol.Footprint{ID: rep.ID, Kind: p.Plan.Means, Area: area}
				at := rep.Start
				for _, u := range rep.Up {
					fp.Up = append(fp.Up, patrol.Interval{From: u.From, To: u.To})
					if u.From.After(at) {
						outages = append(outages, CameraOutage{Plan: p.Plan.ID, Report: rep.ID, Index: rep.Index, Outage: patrol.Interval{From: at, To: u.From}})
					}
					at = maxTime(at, u.To)
				}
				if rep.End.After(at) {
					outages = append(outages, CameraOutage{Plan: p.Plan.ID, Report: rep.ID, Index: rep.Index, Outage: patrol.Interval{From: at, To: rep.End}})
				}
				fps = append(fps, fp)
			}
			for _, x := range rep.Restrictions {
				rs = append(rs, patrol.Restriction{ID: x.Observation, At: x.At, Lon: x.Location.Coordinates[0], Lat: x.Location.Coordinates[1],
					By: x.By, Party: x.Party, Duration: time.Duration(x.DurationM) * time.Minute})
			}
		}
	}
	return tracks, fps, rs, outages, nil
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// handlePatrolCoverage serves GET /v1/patrols/coverage.
func (s *Server) handlePatrolCoverage(w http.ResponseWriter, r *http.Request) {
	if v, ok := s.patrolCoverage(w, r); ok {
		writeJSON(w, http.StatusOK, v)
	}
}

// handlePatrolCoverageCSV serves GET /v1/patrols/coverage.csv: one row per
// zone and period.
func (s *Server) handlePatrolCoverageCSV(w http.ResponseWriter, r *http.Request) {
	v, ok := s.patrolCoverage(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="patrol-coverage.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write(PatrolCoverageCSVColumns)
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	for _, z := range v.Coverage {
		_ = cw.Write([]string{z.Zone, z.Kind, z.Period.Label, z.Period.From.Format(time.RFC3339), z.Period.To.Format(time.RFC3339), f(z.Share),
			strconv.Itoa(z.Samples), strconv.Itoa(z.Covered), f(z.LengthKM), f(z.CoveredKM), f(z.AreaKM2), f(z.CoveredKM2), strings.Join(z.Tracks, ";")})
	}
	cw.Flush()
}
