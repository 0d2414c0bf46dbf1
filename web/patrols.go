package web

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/guarantor/guarantor/engine/agreement"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/patrol"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// The settings of the report's patrol coverage: the defaults of GET
// /v1/patrols/coverage, so that the report's figures are the API's.
const (
	// PatrolDistanceM is how near a track a place must be to count as
	// visited, in metres.
	PatrolDistanceM = 1000
	// PatrolGapDays is how long a place may go unvisited before it is
	// stale, in days.
	PatrolGapDays = 7
)

// AccessDays is how many days back the board counts the restrictions of
// the mission's movement.
const AccessDays = 7

// restrictionBy are the values of a restriction's "by", in the schema's
// order, with their catalogue keys: who or what stopped the patrol.
var restrictionBy = []string{"restriction.by.party", "restriction.by.checkpoint", "restriction.by.armed_persons", "restriction.by.mines", "restriction.by.uav_jamming", "restriction.by.other"}

// outcomes are the keys of the patrol outcomes the pages name, in the
// order the report lists them; unreported is a plan without a report.
var outcomes = []string{"outcome.completed", "outcome.partial", "outcome.cancelled", "outcome.restricted", "outcome.unreported"}

// patrolView is a patrol plan with the reports of it, as GET /v1/patrols
// serves it.
type patrolView struct {
	Index   uint64 // the plan's log index
	Plan    *entry.PatrolPlan
	Reports []reportView // in log order
}

// reportView is a logged patrol report with its log index.
type reportView struct {
	Index uint64
	*entry.PatrolReport
}

// loadPatrols reads the patrols f selects as GET /v1/patrols does: the
// plans in log order, each with the reports of it that f selects, in log
// order; a report whose plan f does not select is left out, and reports
// naming a plan id logged twice go to the later plan.
func (h *handler) loadPatrols(ctx context.Context, f node.PatrolFilter) ([]patrolView, error) {
	var out []patrolView
	byPlan := map[string]int{}
	reports := map[string][]reportView{}
	err := h.src.PatrolEntries(ctx, f, func(rec node.Record) error {
		switch b := rec.Body.(type) {
		case *entry.PatrolPlan:
			byPlan[b.ID] = len(out)
			out = append(out, patrolView{Index: rec.Index, Plan: b})
		case *entry.PatrolReport:
			reports[b.Plan] = append(reports[b.Plan], reportView{Index: rec.Index, PatrolReport: b})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for id, rs := range reports {
		if i, ok := byPlan[id]; ok {
			out[i].Reports = rs
		}
	}
	return out, nil
}

// restrictionRow is one denial of the mission's freedom of movement, as
// a row of GET /v1/patrols/restrictions.csv.
type restrictionRow struct {
	At                  time.Time
	Lon, Lat            float64
	By, Party           string
	DurationMin         int
	Plan, Team          string
	Report, Observation string
	Index               uint64 // the report's log index
}

// restrictionRows lists the restrictions of the patrols ps, newest first
// (ties in log order).
func restrictionRows(ps []patrolView) []restrictionRow {
	var out []restrictionRow
	for _, p := range ps {
		for _, rep := range p.Reports {
			for _, x := range rep.Restrictions {
				out = append(out, restrictionRow{At: x.At, Lon: x.Location.Coordinates[0], Lat: x.Location.Coordinates[1], By: x.By, Party: x.Party,
					DurationMin: x.DurationM, Plan: p.Plan.ID, Team: p.Plan.Team, Report: rep.ID, Observation: x.Observation, Index: rep.Index})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b restrictionRow) int { return b.At.Compare(a.At) })
	return out
}

// cameraOutage is a span within a camera's report when it was not up.
type cameraOutage struct {
	Plan, Team, Report string
	Index              uint64
	From, To           time.Time
}

// patrolSources turns patrols into what package patrol measures, exactly
// as GET /v1/patrols/coverage does: each report's track (a LineString),
// each camera's footprint (its plan's area, a Polygon, with the report's
// up intervals), every restriction, and each camera's outages (from the
// report's start to its first up interval, between up intervals, and
// from the last to the report's end).
func patrolSources(ps []patrolView) ([]patrol.Track, []patrol.Footprint, []patrol.Restriction, []cameraOutage) {
	var tracks []patrol.Track
	var fps []patrol.Footprint
	var rs []patrol.Restriction
	var outages []cameraOutage
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
			if len(rep.Up) > 0 && area != nil {
				fp := patrol.Footprint{ID: rep.ID, Kind: p.Plan.Means, Area: area}
				at := rep.Start
				for _, u := range rep.Up {
					fp.Up = append(fp.Up, patrol.Interval{From: u.From, To: u.To})
					if u.From.After(at) {
						outages = append(outages, cameraOutage{Plan: p.Plan.ID, Team: p.Plan.Team, Report: rep.ID, Index: rep.Index, From: at, To: u.From})
					}
					if u.To.After(at) {
						at = u.To
					}
				}
				if rep.End.After(at) {
					outages = append(outages, cameraOutage{Plan: p.Plan.ID, Team: p.Plan.Team, Report: rep.ID, Index: rep.Index, From: at, To: rep.End})
				}
				fps = append(fps, fp)
			}
			for _, x := range rep.Restrictions {
				rs = append(rs, patrol.Restriction{ID: x.Observation, At: x.At, Lon: x.Location.Coordinates[0], Lat: x.Location.Coordinates[1],
					By: x.By, Party: x.Party, Duration: time.Duration(x.DurationM) * time.Minute})
			}
		}
	}
	return tracks, fps, rs, outages
}

// recentTracks returns the tracks that can count in a day's coverage or in
// its gaps as of asOf over days days: those that end at or after asOf less
// the days. Any other track ended before the day began, so no period of
// the day counts it, and its last visit is too old to keep a place from
// being stale: leaving it out changes no figure, and keeps the survey's
// cost bounded as the log grows.
func recentTracks(tracks []patrol.Track, asOf time.Time, days int) []patrol.Track {
	limit := asOf.Add(-time.Duration(days) * 24 * time.Hour)
	out := make([]patrol.Track, 0, len(tracks))
	for _, t := range tracks {
		if !t.End.Before(limit) {
			out = append(out, t)
		}
	}
	return out
}

// patrolZone is a zone or line of an agreement whose patrol coverage is
// measured.
type patrolZone struct {
	patrol.Zone
	Title string
}

// patrolZones returns an agreement's patrol areas and then its lines, the
// zones GET /v1/patrols/coverage measures by default, in the agreement's
// order. A zone whose geometry does not parse is left out.
func patrolZones(c *agreement.Compiled) []patrolZone {
	var out []patrolZone
	add := func(id, title string, raw []byte) {
		if g, err := geojson.UnmarshalGeometry(raw); err == nil {
			out = append(out, patrolZone{Zone: patrol.Zone{ID: id, Geometry: g.Geometry()}, Title: cmp.Or(title, id)})
		}
	}
	for _, z := range c.Doc.Zones {
		if z.Kind == "patrol_area" {
			add(z.ID, z.Title, z.Geometry)
		}
	}
	for _, l := range c.Doc.Lines {
		add(l.ID, l.Title, l.Geometry)
	}
	return out
}

// latestVersion returns the row of the highest version of agreement id
// (the first logged of that version), as GET /v1/patrols/coverage reads
// it, or nil.
func latestVersion(rows []node.AgreementRow, id string) *node.AgreementRow {
	var best *node.AgreementRow
	for i := range rows {
		if a := &rows[i].Agreement; a.ID == id && (best == nil || a.Version > best.Agreement.Version) {
			best = &rows[i]
		}
	}
	return best
}

// accessView is the board's block on the mission's access: the
// restrictions of its movement in the last AccessDays days, by party.
type accessView struct {
	Days        int
	From, To    time.Time
	Total       int
	DurationMin float64
	ByParty     []patrol.Count // the empty key, no party named, first
	CSVURL      string         // the restrictions of the period's patrols
	MapURL      string         // the map of the period
}

// access counts the restrictions whose time lies in the AccessDays days
// before now, from the reports whose span overlaps that period.
func (h *handler) access(ctx context.Context, now time.Time) (accessView, error) {
	from := now.Add(-AccessDays * 24 * time.Hour)
	v := accessView{Days: AccessDays, From: from, To: now}
	var rs []patrol.Restriction
	err := h.src.PatrolEntries(ctx, node.PatrolFilter{Kind: entry.KindPatrolReport, From: from, To: now}, func(rec node.Record) error {
		if b, ok := rec.Body.(*entry.PatrolReport); ok {
			for _, x := range b.Restrictions {
				rs = append(rs, patrol.Restriction{ID: x.Observation, At: x.At, By: x.By, Party: x.Party, Duration: time.Duration(x.DurationM) * time.Minute})
			}
		}
		return nil
	})
	if err != nil {
		return v, err
	}
	t := patrol.RestrictionCounts(rs, nil, nil, []patrol.Period{{From: from, To: now}})[0]
	v.Total, v.DurationMin, v.ByParty = t.Total, t.DurationMin, t.ByParty
	q := "?from=" + from.UTC().Format(time.RFC3339) + "&to=" + now.UTC().Format(time.RFC3339)
	v.CSVURL = "/v1/patrols/restrictions.csv" + q
	// The map's filter takes days: the days that hold the period.
	v.MapURL = "/map?from=" + from.UTC().Format(time.DateOnly) + "&to=" + now.UTC().AddDate(0, 0, 1).Format(time.DateOnly) + "#restrictions-h"
	return v, nil
}

// byName is the catalogue key of a restriction's "by", or "" for a value
// the schema does not list (shown as it is).
func byName(by string) string {
	key := "restriction.by." + by
	if slices.Contains(restrictionBy, key) {
		return key
	}
	return ""
}

// outcomeKey is the catalogue key of a patrol outcome, or "".
func outcomeKey(outcome string) string {
	key := "outcome." + outcome
	if slices.Contains(outcomes, key) {
		return key
	}
	return ""
}

// restrictedBy writes who stopped a patrol in lang: the catalogue's name
// for a value of the schema, the value itself otherwise.
func restrictedBy(lang, by string) string {
	if key := byName(by); key != "" {
		s, _ := translate(lang, key)
		return s
	}
	return by
}

// outcomeName writes a patrol outcome in lang, or the value itself.
func outcomeName(lang, outcome string) string {
	if key := outcomeKey(outcome); key != "" {
		s, _ := translate(lang, key)
		return s
	}
	return outcome
}
