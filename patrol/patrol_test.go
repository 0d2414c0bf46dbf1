package patrol_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/engine/agreement"
	"github.com/guarantor/guarantor/patrol"
	"github.com/paulmach/orb"
	"pgregory.net/rapid"
)

// origin is where the test geometry lies (synthetic; near 48°N).
var origin = orb.Point{38.0, 48.3}

// at is the point e km east and n km north of origin, on the package's
// projection at origin's latitude.
func at(e, n float64) orb.Point {
	return orb.Point{
		origin[0] + e/(patrol.KMPerDegree*math.Cos(origin[1]*math.Pi/180)),
		origin[1] + n/patrol.KMPerDegree,
	}
}

// line is the straight line from (e0, n0) to (e1, n1) km, with a vertex
// every km.
func line(e0, n0, e1, n1 float64) orb.LineString {
	steps := int(math.Ceil(math.Hypot(e1-e0, n1-n0)))
	l := orb.LineString{}
	for i := 0; i <= steps; i++ {
		f := float64(i) / float64(steps)
		l = append(l, at(e0+(e1-e0)*f, n0+(n1-n0)*f))
	}
	return l
}

// square is the polygon with corners (e0, n0) and (e1, n1) km.
func square(e0, n0, e1, n1 float64) orb.Polygon {
	return orb.Polygon{{at(e0, n0), at(e1, n0), at(e1, n1), at(e0, n1), at(e0, n0)}}
}

func TestKMPerDegree(t *testing.T) {
	if patrol.KMPerDegree != agreement.KMPerDegree {
		t.Fatalf("patrol.KMPerDegree = %v, agreement.KMPerDegree = %v: the two must measure alike", patrol.KMPerDegree, agreement.KMPerDegree)
	}
}

func TestLineCoverage(t *testing.T) {
	ten := line(0, 0, 10, 0) // 10 km west to east
	for _, tc := range []struct {
		name      string
		tracks    []orb.LineString
		dM, stepM float64
		want, tol float64
	}{
		{"parallel 1 km away, D 2 km", []orb.LineString{line(0, 1, 10, 1)}, 2000, 0, 1, 0},
		{"parallel 1 km away, D 0.5 km", []orb.LineString{line(0, 1, 10, 1)}, 500, 0, 0, 0},
		{"parallel 1 km away, D exactly 1 km plus 1 mm", []orb.LineString{line(0, 1, 10, 1)}, 1000.001, 0, 1, 0},
		{"on the line over its west half, D 10 m", []orb.LineString{line(0, 0, 5, 0)}, 10, 0, 0.5, 0.01},
		{"on the west half, 250 m step", []orb.LineString{line(0, 0, 5, 0)}, 10, 250, 0.5, 0.025},
		// covered up to 5 + sqrt(2² − 1²) km along the line.
		{"west half, 1 km away, D 2 km", []orb.LineString{line(0, 1, 5, 1)}, 2000, 0, (5 + math.Sqrt(3)) / 10, 0.01},
		{"two halves by two tracks", []orb.LineString{line(0, 0.3, 5, 0.3), line(5, -0.3, 10, -0.3)}, 400, 0, 1, 0},
		{"across at 3 km, D 1 km", []orb.LineString{line(3, -5, 3, 5)}, 1000, 0, 0.2, 0.01},
		{"no track", nil, 1000, 0, 0, 0},
		{"one-point track on the line", []orb.LineString{{at(5, 0)}}, 1000, 0, 0.2, 0.01},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := patrol.LineCoverage(ten, tc.tracks, tc.dM, tc.stepM)
			if math.Abs(c.Share-tc.want) > tc.tol+1e-9 {
				t.Errorf("share = %v, want %v ± %v", c.Share, tc.want, tc.tol)
			}
			if math.Abs(c.LengthKM-10) > 0.001 {
				t.Errorf("length = %v km, want 10", c.LengthKM)
			}
			if got, want := c.CoveredKM, round3(c.Share*c.LengthKM); math.Abs(got-want) > 0.002 {
				t.Errorf("covered = %v km, want share × length = %v", got, want)
			}
			step := tc.stepM
			if step == 0 {
				step = patrol.DefaultStepM
			}
			if want := int(math.Ceil(10000 / step)); c.Samples != want {
				t.Errorf("samples = %d, want %d", c.Samples, want)
			}
			if c.Kind != patrol.KindLine || c.ResolutionM != step {
				t.Errorf("kind, resolution = %s, %v", c.Kind, c.ResolutionM)
			}
		})
	}
}

func TestLineCoverageMulti(t *testing.T) {
	ml := orb.MultiLineString{line(0, 0, 10, 0), line(20, 0, 30, 0), {at(20, 20)}}
	c := patrol.LineCoverage(ml, []orb.LineString{line(0, 0.5, 10, 0.5)}, 1000, 100)
	if c.Share != 0.5 || c.LengthKM != 20 || c.CoveredKM != 10 || c.Samples != 200 {
		t.Errorf("got %+v, want share 0.5 of 20 km in 200 samples", c)
	}
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

func TestAreaCoverage(t *testing.T) {
	sq := square(0, 0, 10, 10)
	west := []orb.LineString{line(0, -1, 0, 11)}
	for _, tc := range []struct {
		name       string
		area       orb.MultiPolygon
		tracks     []orb.LineString
		footprints []orb.Polygon
		dM         float64
		want, tol  float64
		cells      int
	}{
		{"half, by a track along the west side", orb.MultiPolygon{sq}, west, nil, 5000, 0.5, 0.05, 400},
		{"half and a quarter footprint", orb.MultiPolygon{sq}, west, []orb.Polygon{square(5, 5, 10, 10)}, 5000, 0.75, 0.05, 400},
		{"footprint alone", orb.MultiPolygon{sq}, nil, []orb.Polygon{square(5, 5, 10, 10)}, 5000, 0.25, 0.05, 400},
		{"none", orb.MultiPolygon{sq}, []orb.LineString{line(20, 0, 20, 10)}, nil, 5000, 0, 0, 400},
		{"with a hole, west track", orb.MultiPolygon{{sq[0], square(4, 4, 6, 6)[0]}}, west, nil, 5000, 0.5, 0.05, 384},
		{"two squares, one covered", orb.MultiPolygon{sq, square(20, 0, 30, 10)}, west, nil, 12000, 0.5, 0.01, 800},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := patrol.AreaCoverage(tc.area, tc.tracks, tc.footprints, tc.dM, 0)
			if math.Abs(c.Share-tc.want) > tc.tol {
				t.Errorf("share = %v, want %v ± %v", c.Share, tc.want, tc.tol)
			}
			if c.Samples != tc.cells {
				t.Errorf("cells = %d, want %d", c.Samples, tc.cells)
			}
			if c.AreaKM2 != float64(tc.cells)/4 || c.CoveredKM2 != float64(c.Covered)/4 {
				t.Errorf("km² = %v, %v for %d cells, %d covered", c.AreaKM2, c.CoveredKM2, c.Samples, c.Covered)
			}
		})
	}
	// A single polygon is accepted as such, and a tiny one has one cell.
	if c := patrol.AreaCoverage(sq, west, nil, 5000, 1000); c.Samples != 100 || c.Share != 0.5 {
		t.Errorf("1 km cells: %+v, want 100 cells, share 0.5", c)
	}
	if c := patrol.AreaCoverage(square(1, 1, 1.1, 1.1), west, nil, 2000, 0); c.Samples != 1 || c.Share != 1 {
		t.Errorf("tiny square: %+v, want 1 cell, covered", c)
	}
}

var day0 = time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC) // a Monday

func hour(h float64) time.Time { return day0.Add(time.Duration(h * float64(time.Hour))) }

func TestUptime(t *testing.T) {
	var beats []time.Time
	for m := 0; m <= 6*60; m += 10 { // 00:00–06:00
		beats = append(beats, hour(float64(m)/60))
	}
	for m := 9 * 60; m <= 12*60; m += 10 { // 09:00–12:00
		beats = append(beats, hour(float64(m)/60))
	}
	beats = append(beats, hour(15)) // a lone beat
	// Shuffle the order: Uptime sorts.
	beats[0], beats[len(beats)-1] = beats[len(beats)-1], beats[0]
	up, out := patrol.Uptime(beats, 30*time.Minute, day0, hour(24))
	wantUp := []patrol.Interval{{hour(0), hour(6)}, {hour(9), hour(12)}, {hour(15), hour(15)}}
	wantOut := []patrol.Interval{{hour(6), hour(9)}, {hour(12), hour(15)}, {hour(15), hour(24)}}
	if !reflect.DeepEqual(up, wantUp) {
		t.Errorf("up = %v, want %v", up, wantUp)
	}
	if !reflect.DeepEqual(out, wantOut) {
		t.Errorf("outages = %v, want %v", out, wantOut)
	}
	// Clipped to a window that starts inside an outage.
	up, out = patrol.Uptime(beats, 30*time.Minute, hour(7), hour(11))
	if want := []patrol.Interval{{hour(9), hour(11)}}; !reflect.DeepEqual(up, want) {
		t.Errorf("clipped up = %v, want %v", up, want)
	}
	if want := []patrol.Interval{{hour(7), hour(9)}}; !reflect.DeepEqual(out, want) {
		t.Errorf("clipped outages = %v, want %v", out, want)
	}
	if up, out := patrol.Uptime(nil, time.Hour, day0, hour(24)); up != nil || len(out) != 1 || out[0] != (patrol.Interval{From: day0, To: hour(24)}) {
		t.Errorf("no beats: up %v, outages %v, want the whole window out", up, out)
	}
	// A gap of exactly maxGap is not an outage.
	if _, out := patrol.Uptime([]time.Time{hour(1), hour(2)}, time.Hour, hour(0), hour(3)); len(out) != 0 {
		t.Errorf("gaps of exactly maxGap: outages %v, want none", out)
	}
}

func TestCameraCoverage(t *testing.T) {
	area := patrol.Zone{ID: "a", Geometry: square(0, 0, 10, 10)}
	fov := square(0, 0, 5, 5) // a quarter of the zone
	var beats []time.Time
	// Up from 00:00 on day 0 to 08:00 on day 1, then down until day 3.
	for m := 0; m <= 32*60; m += 15 {
		beats = append(beats, hour(float64(m)/60))
	}
	beats = append(beats, hour(72))
	up, outages := patrol.Uptime(beats, time.Hour, day0, hour(96))
	if want := []patrol.Interval{{hour(32), hour(72)}, {hour(72), hour(96)}}; !reflect.DeepEqual(outages, want) {
		t.Fatalf("outages = %v, want %v", outages, want)
	}
	s, err := patrol.NewSurvey([]patrol.Zone{area}, nil, []patrol.Footprint{{ID: "cam-1", Kind: "camera", Area: fov, Up: up}}, patrol.Params{DistanceM: 1000})
	if err != nil {
		t.Fatal(err)
	}
	got := s.Coverage(patrol.Days(day0, hour(96)))
	want := []struct {
		share, hours float64
	}{{0.25, 24}, {0.25, 8}, {0, 0}, {0.25, 0}} // day 3: the lone beat at 00:00
	if len(got) != len(want) {
		t.Fatalf("%d figures, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Share != w.share || len(g.Footprints) != 1 || g.Footprints[0].UpHours != w.hours {
			t.Errorf("day %d (%s): share %v, footprints %+v; want share %v, %v up-hours", i, g.Period.Label, g.Share, g.Footprints, w.share, w.hours)
		}
	}
}

func TestPeriods(t *testing.T) {
	days := patrol.Days(time.Date(2025, 12, 30, 15, 0, 0, 0, time.UTC), time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC))
	var labels []string
	for _, d := range days {
		labels = append(labels, d.Label)
	}
	if want := []string{"2025-12-30", "2025-12-31", "2026-01-01"}; !reflect.DeepEqual(labels, want) {
		t.Errorf("days = %v, want %v", labels, want)
	}
	weeks := patrol.Weeks(time.Date(2025, 12, 24, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 6, 0, 0, 0, 0, time.UTC))
	labels = nil
	for _, w := range weeks {
		labels = append(labels, w.Label)
		if w.From.Weekday() != time.Monday || w.To.Sub(w.From) != 7*24*time.Hour {
			t.Errorf("week %s: %s to %s", w.Label, w.From, w.To)
		}
	}
	if want := []string{"2025-W52", "2026-W01", "2026-W02"}; !reflect.DeepEqual(labels, want) {
		t.Errorf("weeks = %v, want %v", labels, want)
	}
}

func TestSurveyTime(t *testing.T) {
	zones := []patrol.Zone{
		{ID: "line", Geometry: line(0, 0, 10, 0)},
		{ID: "area", Geometry: square(0, 2, 10, 12)},
	}
	tracks := []patrol.Track{
		// Day 0: the line's west half.
		{ID: "t1", Start: hour(8), End: hour(12), Path: line(0, 0.2, 5, 0.2)},
		// Across midnight from day 1 to day 2: the whole line.
		{ID: "t2", Start: hour(46), End: hour(50), Path: line(0, -0.2, 10, -0.2)},
		// Day 3: the area's west side, and the line's west end.
		{ID: "t3", Start: hour(80), End: hour(82), Path: line(0, 0, 0, 12)},
	}
	s, err := patrol.NewSurvey(zones, tracks, nil, patrol.Params{DistanceM: 500})
	if err != nil {
		t.Fatal(err)
	}
	got := s.Coverage(patrol.Days(day0, hour(96)))
	want := []struct {
		share  float64
		tracks []string
	}{
		{0.55, []string{"t1"}}, {1, []string{"t2"}}, {1, []string{"t2"}}, {0.05, []string{"t3"}},
		{0, []string{}}, {0, []string{}}, {0, []string{}}, {0.05, []string{"t3"}},
	}
	for i, w := range want {
		g := got[i]
		if math.Abs(g.Share-w.share) > 0.011 || !reflect.DeepEqual(g.Tracks, w.tracks) {
			t.Errorf("%s %s: share %v tracks %v, want %v %v", g.Zone, g.Period.Label, g.Share, g.Tracks, w.share, w.tracks)
		}
	}
	week := s.Coverage(patrol.Weeks(day0, hour(96)))
	if len(week) != 2 || week[0].Share != 1 || week[0].Period.Label != "2025-W10" || !reflect.DeepEqual(week[0].Tracks, []string{"t1", "t2", "t3"}) {
		t.Errorf("week: %+v", week)
	}

	// Gaps as of day 4 00:00, more than 1 day: the line was last seen
	// whole at 02:00 on day 2 (t2), its west end at 10:00 on day 3 (t3).
	gaps := s.Gaps(hour(96), 1)
	lg := gaps[0]
	if len(lg.Stretches) != 1 {
		t.Fatalf("line gaps: %+v", lg)
	}
	st := lg.Stretches[0]
	if st.Never || !st.LastVisited.Equal(hour(50)) || st.FromKM != 0.5 || st.ToKM != 10 || st.DaysSince != 1.917 {
		t.Errorf("stretch: %+v (last visited %v)", st, st.LastVisited)
	}
	if end := at(10, 0); len(st.Path) < 2 || math.Abs(st.Path[len(st.Path)-1][0]-end[0]) > 1e-9 || math.Abs(st.Path[len(st.Path)-1][1]-end[1]) > 1e-9 {
		t.Errorf("stretch path %v", st.Path)
	}
	ag := gaps[1]
	if ag.Share < 0.94 || ag.Share > 0.96 || !ag.Cells[0].Never {
		t.Errorf("area gaps: share %v, %d cells", ag.Share, len(ag.Cells))
	}
	// As of day 2 12:00, more than 0 days: never-visited stretch first.
	gaps = s.Gaps(hour(60), 0)
	if sts := gaps[0].Stretches; len(sts) != 1 || sts[0].Never || sts[0].FromKM != 0 || sts[0].ToKM != 10 {
		t.Errorf("as of day 2 12:00: %+v", sts)
	}
	gaps = s.Gaps(hour(20), 0)
	if sts := gaps[0].Stretches; len(sts) != 2 || !sts[0].Never || sts[0].FromKM != 5.5 || sts[1].Never || sts[1].ToKM != 5.5 {
		t.Errorf("as of day 0 20:00: %+v", sts)
	}
	// JSON: null for never.
	b, _ := json.Marshal(gaps[0].Stretches[0])
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if v, ok := m["last_visited"]; !ok || v != nil || m["never"] != true {
		t.Errorf("never-visited stretch as JSON: %s", b)
	}
}

func TestNewSurveyErrors(t *testing.T) {
	ok := []patrol.Zone{{ID: "a", Geometry: square(0, 0, 1, 1)}}
	for _, tc := range []struct {
		name   string
		zones  []patrol.Zone
		tracks []patrol.Track
		foot   []patrol.Footprint
		p      patrol.Params
		want   string
	}{
		{"no distance", ok, nil, nil, patrol.Params{}, "distance_m: the coverage distance must be a positive number of metres, not 0"},
		{"NaN distance", ok, nil, nil, patrol.Params{DistanceM: math.NaN()}, "distance_m: the coverage distance must be a positive number of metres, not NaN"},
		{"tiny step", ok, nil, nil, patrol.Params{DistanceM: 1, StepM: 0.5}, "step_m: the sampling step must be at least 1 metre, not 0.5"},
		{"duplicate zone", append(ok, ok...), nil, nil, patrol.Params{DistanceM: 1}, `zones: zone 1: the id "a" is empty or used twice`},
		{"point zone", []patrol.Zone{{ID: "p", Geometry: orb.Point{1, 2}}}, nil, nil, patrol.Params{DistanceM: 1}, `zones: zone "p": a Point is neither a line nor an area`},
		{"bad latitude", []patrol.Zone{{ID: "l", Geometry: orb.LineString{{1, 2}, {1, 95}}}}, nil, nil, patrol.Params{DistanceM: 1}, `zones: zone "l": [1 95] is not a longitude and latitude`},
		{"too many cells", []patrol.Zone{{ID: "big", Geometry: orb.Polygon{{{0, 0}, {10, 0}, {10, 10}, {0, 0}}}}}, nil, nil, patrol.Params{DistanceM: 1, CellM: 100}, `zones: zone "big": more than 5000000 samples in all: use a longer step or larger cells`},
		{"track backwards", ok, []patrol.Track{{ID: "t", Start: hour(2), End: hour(1)}}, nil, patrol.Params{DistanceM: 1}, `tracks: track "t" ends (2025-03-03T01:00:00Z) before it starts (2025-03-03T02:00:00Z)`},
		{"up backwards", ok, nil, []patrol.Footprint{{ID: "c", Up: []patrol.Interval{{hour(2), hour(1)}}}}, patrol.Params{DistanceM: 1}, `footprints: footprint "c": an up interval ends (2025-03-03T01:00:00Z) before it starts (2025-03-03T02:00:00Z)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := patrol.NewSurvey(tc.zones, tc.tracks, tc.foot, tc.p)
			var ge *guarantor.Error
			if !errors.As(err, &ge) || ge.Code != guarantor.EInvalid {
				t.Fatalf("err = %v, want an invalid *guarantor.Error", err)
			}
			if err.Error() != tc.want {
				t.Errorf("err = %q, want %q", err, tc.want)
			}
		})
	}
}

func TestRestrictionCounts(t *testing.T) {
	zones := map[string]orb.Polygon{"a": square(0, 0, 10, 10), "b": square(5, 5, 15, 15)}
	inZone := func(lon, lat float64, z string) bool {
		p := zones[z]
		b := p.Bound()
		return b.Contains(orb.Point{lon, lat})
	}
	r := func(h float64, e, n float64, by, party string, min int) patrol.Restriction {
		p := at(e, n)
		return patrol.Restriction{At: hour(h), Lon: p[0], Lat: p[1], By: by, Party: party, Duration: time.Duration(min) * time.Minute}
	}
	rs := []patrol.Restriction{
		r(9, 1, 1, "checkpoint", "RU", 30),
		r(10, 7, 7, "armed_persons", "RU", 60), // in a and b
		r(11, 20, 20, "mines", "", 0),          // in no zone
		r(30, 12, 12, "uav_jamming", "UA", 15), // day 1, in b
		r(24, 1, 1, "checkpoint", "RU", 45),    // day 1 at 00:00
	}
	got := patrol.RestrictionCounts(rs, []string{"a", "b"}, inZone, patrol.Days(day0, hour(48)))
	d0, d1 := got[0], got[1]
	if d0.Total != 3 || d0.DurationMin != 90 || d1.Total != 2 || d1.DurationMin != 60 {
		t.Errorf("totals: %d/%v, %d/%v", d0.Total, d0.DurationMin, d1.Total, d1.DurationMin)
	}
	if want := []patrol.Count{{"", 1, 0}, {"RU", 2, 90}}; !reflect.DeepEqual(d0.ByParty, want) {
		t.Errorf("day 0 by party = %v, want %v", d0.ByParty, want)
	}
	if want := []patrol.Count{{"armed_persons", 1, 60}, {"checkpoint", 1, 30}, {"mines", 1, 0}}; !reflect.DeepEqual(d0.ByWhom, want) {
		t.Errorf("day 0 by whom = %v, want %v", d0.ByWhom, want)
	}
	if want := []patrol.Count{{"a", 2, 90}, {"b", 1, 60}, {"", 1, 0}}; !reflect.DeepEqual(d0.ByZone, want) {
		t.Errorf("day 0 by zone = %v, want %v", d0.ByZone, want)
	}
	if want := []patrol.PartyZoneCount{{"", "", 1, 0}, {"RU", "a", 2, 90}, {"RU", "b", 1, 60}}; !reflect.DeepEqual(d0.ByPartyZone, want) {
		t.Errorf("day 0 by party and zone = %v, want %v", d0.ByPartyZone, want)
	}
	if want := []patrol.Count{{"a", 1, 45}, {"b", 1, 15}}; !reflect.DeepEqual(d1.ByZone, want) {
		t.Errorf("day 1 by zone = %v, want %v", d1.ByZone, want)
	}
	w := patrol.RestrictionCounts(rs, []string{"a", "b"}, nil, patrol.Weeks(day0, hour(48)))
	if len(w) != 1 || w[0].Total != 5 || len(w[0].ByZone) != 3 || w[0].ByZone[2].Count != 5 {
		t.Errorf("week without inZone: %+v", w)
	}
	b, err := json.Marshal(rs[1])
	if err != nil {
		t.Fatal(err)
	}
	var back patrol.Restriction
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, rs[1]) {
		t.Errorf("JSON %s read back as %+v (%v)", b, back, err)
	}
}

func TestActiveAtMidnight(t *testing.T) {
	zones := []patrol.Zone{{ID: "line", Geometry: line(0, 0, 10, 0)}}
	tracks := []patrol.Track{
		{ID: "ends-at-midnight", Start: hour(20), End: hour(24), Path: line(0, 0, 2, 0)},
		{ID: "instant-at-midnight", Start: hour(48), End: hour(48), Path: line(4, 0, 6, 0)},
	}
	s, err := patrol.NewSurvey(zones, tracks, nil, patrol.Params{DistanceM: 10})
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, c := range s.Coverage(patrol.Days(day0, hour(72))) {
		got = append(got, c.Tracks)
	}
	if want := [][]string{{"ends-at-midnight"}, {}, {"instant-at-midnight"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("tracks by day = %v, want %v", got, want)
	}
}

// TestIndexProperty checks the segment index against the engine's own
// distance, agreement.SegmentKM, from every sample to every segment:
// long segments, steep lines and distances of a few metres to tens of
// kilometres. Samples within a micrometre of D are left out.
func TestIndexProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		pt := func(name string) orb.Point {
			return at(rapid.Float64Range(-40, 40).Draw(t, name+"_e"), rapid.Float64Range(-40, 40).Draw(t, name+"_n"))
		}
		var l orb.LineString
		for i := range rapid.IntRange(2, 5).Draw(t, "line_vertices") {
			l = append(l, pt(fmt.Sprint("line", i)))
		}
		var tracks []orb.LineString
		for i := range rapid.IntRange(0, 5).Draw(t, "tracks") {
			var tr orb.LineString
			for j := range rapid.IntRange(1, 6).Draw(t, "track_vertices") {
				tr = append(tr, pt(fmt.Sprint("track", i, "_", j)))
			}
			tracks = append(tracks, tr)
		}
		d := math.Exp(rapid.Float64Range(0, math.Log(30000)).Draw(t, "d_m"))
		step := rapid.Float64Range(100, 3000).Draw(t, "step_m")
		c := patrol.LineCoverage(l, tracks, d, step)
		z := testSamples(patrol.Zone{Geometry: orb.MultiLineString{l}}, step, 0)
		covered, unsure := 0, 0
		for _, s := range z.samples {
			best := math.Inf(1)
			for _, tr := range tracks {
				if len(tr) == 1 {
					best = min(best, agreement.SegmentKM(s.p, tr[0], tr[0])*1000)
				}
				for i := 1; i < len(tr); i++ {
					best = min(best, agreement.SegmentKM(s.p, tr[i-1], tr[i])*1000)
				}
			}
			switch {
			case math.Abs(best-d) < 1e-6:
				unsure++
			case best <= d:
				covered++
			}
		}
		if c.Samples != len(z.samples) || c.Covered < covered || c.Covered > covered+unsure {
			t.Fatalf("%d of %d samples covered, the engine's distance gives %d (+%d unsure) of %d", c.Covered, c.Samples, covered, unsure, len(z.samples))
		}
	})
}

// TestIndexEdges crosses a line with a short track at many offsets from
// the index's buckets, east–west and north–south, at several latitudes:
// the covered length must be 2D ± one step wherever the buckets fall.
func TestIndexEdges(t *testing.T) {
	for _, lat := range []float64{0, 48.3, 70} {
		k := patrol.KMPerDegree * math.Cos(lat*math.Pi/180)
		pt := func(e, n float64) orb.Point { return orb.Point{30 + e/k, lat + n/patrol.KMPerDegree} }
		for _, d := range []float64{10, 250, 1000, 3000} {
			dkm, step := d/1000, d/20
			for i := range 23 {
				off := float64(i) * 0.37 * dkm // shifts the track across the buckets
				ew := orb.LineString{pt(off-4*dkm, 0), pt(off+4*dkm, 0)}
				ns := orb.LineString{pt(0, off-4*dkm), pt(0, off+4*dkm)}
				for _, tc := range []struct {
					name        string
					line, track orb.LineString
				}{
					{"east-west line", ew, orb.LineString{pt(off, -0.2*dkm), pt(off, 0.2*dkm)}},
					{"north-south line", ns, orb.LineString{pt(-0.2*dkm, off), pt(0.2*dkm, off)}},
				} {
					c := patrol.LineCoverage(tc.line, []orb.LineString{tc.track}, d, step)
					if math.Abs(c.CoveredKM-2*dkm) > step/1000+1e-9 {
						t.Errorf("lat %v, D %v m, offset %d, %s: covered %v km, want %v ± %v", lat, d, i, tc.name, c.CoveredKM, 2*dkm, step/1000)
					}
				}
			}
		}
	}
}
