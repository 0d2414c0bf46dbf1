package patrol_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/guarantor/guarantor/patrol"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// The scenario (issue 11's acceptance shape): four teams patrol two areas
// and a line for 30 days, with restrictions, a fixed camera with outages
// and a few UAV flights. The package's figures are compared with figures
// the test computes on its own, by brute force: each track densified to
// points at most 10 m apart, the distance from every sample to every
// point (no index, no prefilter), containment by orb/planar, and its own
// reading of the documented sampling, time and staleness rules.
//
// Tolerance: a sample whose brute-force distance to a track lies in
// (D, D+5 cm] is ambiguous (a point 10 m from its neighbours can be up to
// 1.25 cm farther than the segment at 1 km); ambiguous samples may differ
// and their weight bounds the difference of shares. Every other figure
// must agree exactly (shares to their 6-decimal rounding).

const (
	scenarioDays = 30
	scenarioD    = 1000.0 // metres
	staleDays    = 5
	ambiguousM   = 0.05
)

// scenarioZones are two areas, one of them a MultiPolygon with a hole,
// and a line of two parts, given as km east and north of origin.
func scenarioZones() []patrol.Zone {
	ring := func(pts ...[2]float64) orb.Ring {
		r := orb.Ring{}
		for _, p := range pts {
			r = append(r, at(p[0], p[1]))
		}
		return append(r, r[0])
	}
	ls := func(pts ...[2]float64) orb.LineString {
		l := orb.LineString{}
		for _, p := range pts {
			l = append(l, at(p[0], p[1]))
		}
		return l
	}
	return []patrol.Zone{
		{ID: "north", Geometry: orb.Polygon{ring([2]float64{0.3, 20.2}, [2]float64{15.7, 21.1}, [2]float64{17.4, 31.3}, [2]float64{8.1, 35.6}, [2]float64{-1.2, 30.4})}},
		{ID: "south", Geometry: orb.MultiPolygon{
			{
				ring([2]float64{2.1, 0.4}, [2]float64{22.3, -0.7}, [2]float64{21.6, 12.8}, [2]float64{1.4, 13.3}),
				ring([2]float64{9.3, 4.1}, [2]float64{13.7, 4.4}, [2]float64{13.2, 8.6}, [2]float64{9.6, 8.3}),
			},
			{ring([2]float64{26.2, 3.3}, [2]float64{27.9, 3.1}, [2]float64{28.1, 4.7}, [2]float64{26.4, 4.6})},
		}},
		{ID: "contact", Geometry: orb.MultiLineString{
			ls([2]float64{-5, 16}, [2]float64{5, 17.3}, [2]float64{12, 15.2}, [2]float64{20, 17.8}, [2]float64{30, 16.1}, [2]float64{40, 18.4}),
			ls([2]float64{42, 10}, [2]float64{45, 2}, [2]float64{47, -8}),
		}},
	}
}

// planted camera outages, on the 15-minute heartbeat grid.
var plantedOutages = []patrol.Interval{
	{day0.Add(4*24*time.Hour + 10*time.Hour), day0.Add(5*24*time.Hour + 14*time.Hour)},
	{day0.Add(11*24*time.Hour + 22*time.Hour), day0.Add(13*24*time.Hour + 1*time.Hour)}, // all of day 12
	{day0.Add(20*24*time.Hour + 3*time.Hour), day0.Add(20*24*time.Hour + 5*time.Hour + 30*time.Minute)},
}

type scenario struct {
	zones        []patrol.Zone
	tracks       []patrol.Track
	footprints   []patrol.Footprint
	restrictions []patrol.Restriction
	end          time.Time
}

// newScenario generates the scenario deterministically.
func newScenario(t testing.TB) scenario {
	rng := rand.New(rand.NewPCG(11, 2025))
	sc := scenario{zones: scenarioZones(), end: day0.AddDate(0, 0, scenarioDays)}
	north, south := sc.zones[0].Geometry.(orb.Polygon), sc.zones[1].Geometry.(orb.MultiPolygon)
	contact := sc.zones[2].Geometry.(orb.MultiLineString)
	areas := []orb.MultiPolygon{{north}, south}
	whom := []string{"checkpoint", "armed_persons", "mines", "uav_jamming", "party"}
	parties := []string{"RU", "RU", "UA", ""}
	for d := range scenarioDays {
		day := day0.AddDate(0, 0, d)
		for team := range 4 {
			if rng.Float64() < 0.25 {
				continue // no patrol that day
			}
			target := team
			if team == 3 {
				target = rng.IntN(3)
			}
			var path orb.LineString
			if target < 2 {
				path = walk(rng, areas[target])
			} else {
				path = follow(rng, contact[rng.IntN(len(contact))])
			}
			path = patrol.Simplify(path, 25)
			start := day.Add(6*time.Hour + time.Duration(rng.Float64()*4*float64(time.Hour)))
			if team == 3 { // night patrols, often across midnight
				start = day.Add(20*time.Hour + time.Duration(rng.Float64()*3*float64(time.Hour)))
			}
			start = start.Truncate(time.Minute)
			end := start.Add(time.Duration(2+rng.IntN(7)) * time.Hour)
			id := fmt.Sprintf("team%d-%02d", team+1, d)
			sc.tracks = append(sc.tracks, patrol.Track{ID: id, Team: fmt.Sprintf("team%d", team+1), Start: start, End: end, Path: path})
			if rng.Float64() < 0.2 { // stopped at the end of its track
				p := path[len(path)-1]
				sc.restrictions = append(sc.restrictions, patrol.Restriction{
					ID: "obs-" + id, At: end, Lon: p[0], Lat: p[1],
					By: whom[rng.IntN(len(whom))], Party: parties[rng.IntN(len(parties))],
					Duration: time.Duration(10+rng.IntN(170)) * time.Minute,
				})
			}
		}
	}
	// Restrictions elsewhere, some outside every zone.
	for i := range 15 {
		p := at(rng.Float64()*50-5, rng.Float64()*45-8)
		sc.restrictions = append(sc.restrictions, patrol.Restriction{
			ID: fmt.Sprintf("obs-x%02d", i), At: day0.Add(time.Duration(rng.Int64N(int64(scenarioDays * 24 * time.Hour)))).Truncate(time.Second),
			Lon: p[0], Lat: p[1], By: whom[rng.IntN(len(whom))], Party: parties[rng.IntN(len(parties))],
			Duration: time.Duration(rng.IntN(240)) * time.Minute,
		})
	}
	// The camera: a heartbeat every 15 minutes but in the planted outages.
	var beats []time.Time
	for b := day0; b.Before(sc.end); b = b.Add(15 * time.Minute) {
		out := false
		for _, o := range plantedOutages {
			out = out || (b.After(o.From) && b.Before(o.To))
		}
		if !out {
			beats = append(beats, b)
		}
	}
	up, outages := patrol.Uptime(beats, time.Hour, day0, sc.end)
	if !reflect.DeepEqual(outages, plantedOutages) {
		t.Fatalf("camera outages = %v, want the planted %v", outages, plantedOutages)
	}
	sc.footprints = append(sc.footprints, patrol.Footprint{ID: "cam-1", Kind: "camera", Area: square(4, 23.5, 9, 28), Up: up})
	var flights []patrol.Interval
	for _, d := range []int{3, 9, 15} {
		flights = append(flights, patrol.Interval{From: day0.Add(time.Duration(d*24+10) * time.Hour), To: day0.Add(time.Duration(d*24+12) * time.Hour)})
	}
	sc.footprints = append(sc.footprints, patrol.Footprint{ID: "uav-1", Kind: "uav", Area: square(5, 2, 8, 11), Up: flights})
	return sc
}

// walk is a GPS-like random walk inside an area: a fix every 50 m for 10
// to 20 km, turning back at the edge of the area's bounding box.
func walk(rng *rand.Rand, area orb.MultiPolygon) orb.LineString {
	b := area.Bound()
	var p orb.Point
	for {
		p = orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])}
		if planar.MultiPolygonContains(area, p) {
			break
		}
	}
	heading := rng.Float64() * 2 * math.Pi
	path := orb.LineString{p}
	for range 200 + rng.IntN(200) {
		heading += (rng.Float64() - 0.5) * 0.3
		k := patrol.KMPerDegree * 1000
		q := orb.Point{p[0] + 50*math.Sin(heading)/(k*math.Cos(p[1]*math.Pi/180)), p[1] + 50*math.Cos(heading)/k}
		if !b.Contains(q) {
			heading += math.Pi
			continue
		}
		p = q
		path = append(path, p)
	}
	return path
}

// follow drives along a part of the line for 8 to 20 km, up to 1.5 km
// north or south of it, a fix every 50 m.
func follow(rng *rand.Rand, l orb.LineString) orb.LineString {
	cum := cumKM(l)
	total := cum[len(cum)-1]
	s0 := rng.Float64() * total
	length := 8 + rng.Float64()*12
	offset := (rng.Float64()*3 - 1.5) / patrol.KMPerDegree
	var path orb.LineString
	for s := s0; s <= min(total, s0+length); s += 0.05 {
		p := pointAlong(l, cum, s)
		offset += (rng.Float64() - 0.5) * 0.02 / patrol.KMPerDegree
		path = append(path, orb.Point{p[0], p[1] + offset})
	}
	if len(path) < 2 {
		p := pointAlong(l, cum, total)
		path = append(path, orb.Point{p[0], p[1] + offset})
	}
	return path
}

// The test's own reading of the documented method.

// segKMTest is a segment's length on the projection at its mean latitude.
func segKMTest(a, b orb.Point) float64 {
	dx := (b[0] - a[0]) * math.Cos((a[1]+b[1])/2*math.Pi/180)
	return math.Hypot(dx, b[1]-a[1]) * patrol.KMPerDegree
}

func cumKM(l orb.LineString) []float64 {
	cum := make([]float64, len(l))
	for i := 1; i < len(l); i++ {
		cum[i] = cum[i-1] + segKMTest(l[i-1], l[i])
	}
	return cum
}

func pointAlong(l orb.LineString, cum []float64, s float64) orb.Point {
	for i := 1; i < len(l); i++ {
		if s <= cum[i] || i == len(l)-1 {
			f := (s - cum[i-1]) / (cum[i] - cum[i-1])
			return orb.Point{l[i-1][0] + (l[i][0]-l[i-1][0])*f, l[i-1][1] + (l[i][1]-l[i-1][1])*f}
		}
	}
	return l[0]
}

// tSample is a sample as the test computes it.
type tSample struct {
	p         orb.Point
	part      int
	at, w     float64 // line: km along the part and km it stands for
	col, row  int     // area
	near      []int   // tracks within D
	ambiguous bool    // some track in (D, D+ambiguousM]
	foot      []int   // footprints containing it
}

type tZone struct {
	id      string
	line    bool
	totalKM float64
	samples []tSample
}

// testSamples samples a zone as documented.
func testSamples(z patrol.Zone, stepM, cellM float64) tZone {
	tz := tZone{id: z.ID}
	switch g := z.Geometry.(type) {
	case orb.MultiLineString:
		tz.line = true
		for pi, l := range g {
			cum := cumKM(l)
			L := cum[len(cum)-1]
			if L <= 0 {
				continue // a part of zero length has no samples
			}
			tz.totalKM += L
			n := max(1, math.Ceil(L/(stepM/1000)-1e-6)) // as documented: at least one piece
			for k := 0; k < int(n); k++ {
				s := (float64(k) + 0.5) * L / n
				tz.samples = append(tz.samples, tSample{p: pointAlong(l, cum, s), part: pi, at: s, w: L / n})
			}
		}
	case orb.Polygon, orb.MultiPolygon:
		mp, ok := g.(orb.MultiPolygon)
		if !ok {
			mp = orb.MultiPolygon{g.(orb.Polygon)}
		}
		b := mp.Bound()
		lat0 := (b.Min[1] + b.Max[1]) / 2
		dLat := cellM / (patrol.KMPerDegree * 1000)
		dLon := cellM / (patrol.KMPerDegree * 1000 * math.Cos(lat0*math.Pi/180))
		for j := 0; b.Min[1]+float64(j)*dLat < b.Max[1]; j++ {
			for i := 0; b.Min[0]+float64(i)*dLon < b.Max[0]; i++ {
				c := orb.Point{b.Min[0] + (float64(i)+0.5)*dLon, b.Min[1] + (float64(j)+0.5)*dLat}
				if planar.MultiPolygonContains(mp, c) {
					tz.samples = append(tz.samples, tSample{p: c, col: i, row: j})
				}
			}
		}
	}
	return tz
}

// densify cuts every segment of l into pieces of at most 10 m.
func densify(l orb.LineString) []orb.Point {
	out := []orb.Point{l[0]}
	for i := 1; i < len(l); i++ {
		a, b := l[i-1], l[i]
		n := max(1, int(math.Ceil(segKMTest(a, b)*1000/10)))
		for k := 1; k <= n; k++ {
			f := float64(k) / float64(n)
			out = append(out, orb.Point{a[0] + (b[0]-a[0])*f, a[1] + (b[1]-a[1])*f})
		}
	}
	return out
}

// bruteNear fills each sample's tracks within D, by the distance from the
// sample to every densified point of every track.
func bruteNear(zs []tZone, tracks []patrol.Track, foots []patrol.Footprint) (ambiguous int) {
	dense := make([][]orb.Point, len(tracks))
	for i, t := range tracks {
		dense[i] = densify(t.Path)
	}
	const m = patrol.KMPerDegree * 1000
	for zi := range zs {
		for si := range zs[zi].samples {
			s := &zs[zi].samples[si]
			kx := m * math.Cos(s.p[1]*math.Pi/180)
			for ti, pts := range dense {
				best := math.Inf(1)
				for _, q := range pts {
					dx, dy := (q[0]-s.p[0])*kx, (q[1]-s.p[1])*m
					if d2 := dx*dx + dy*dy; d2 < best {
						best = d2
						if d2 <= scenarioD*scenarioD {
							break
						}
					}
				}
				if d := math.Sqrt(best); d <= scenarioD {
					s.near = append(s.near, ti)
				} else if d <= scenarioD+ambiguousM {
					s.ambiguous = true
					ambiguous++
				}
			}
			for fi, f := range foots {
				if planar.PolygonContains(f.Area, s.p) {
					s.foot = append(s.foot, fi)
				}
			}
		}
	}
	return ambiguous
}

func TestScenario(t *testing.T) {
	sc := newScenario(t)
	p := patrol.Params{DistanceM: scenarioD}
	s, err := patrol.NewSurvey(sc.zones, sc.tracks, sc.footprints, p)
	if err != nil {
		t.Fatal(err)
	}
	var tz []tZone
	nSamples := 0
	for _, z := range sc.zones {
		tz = append(tz, testSamples(z, patrol.DefaultStepM, patrol.DefaultCellM))
		nSamples += len(tz[len(tz)-1].samples)
	}
	t0 := time.Now()
	ambiguous := bruteNear(tz, sc.tracks, sc.footprints)
	t.Logf("brute force: %v", time.Since(t0))
	t.Logf("%d tracks, %d restrictions, %d samples; %d sample–track pairs ambiguous (within %v m beyond D)", len(sc.tracks), len(sc.restrictions), nSamples, ambiguous, ambiguousM)
	if ambiguous > nSamples/100 {
		t.Errorf("%d ambiguous pairs: the scenario should not sit on the boundary", ambiguous)
	}

	days, weeks := patrol.Days(day0, sc.end), patrol.Weeks(day0, sc.end)
	if len(days) != scenarioDays || len(weeks) != 5 {
		t.Fatalf("%d days, %d weeks", len(days), len(weeks))
	}
	for _, periods := range [][]patrol.Period{days, weeks} {
		got := s.Coverage(periods)
		if len(got) != len(tz)*len(periods) {
			t.Fatalf("%d figures, want %d", len(got), len(tz)*len(periods))
		}
		sum := map[string]float64{}
		for zi, z := range tz {
			for pi, per := range periods {
				g := got[zi*len(periods)+pi]
				want := expectCoverage(z, sc, per)
				if g.Zone != z.id || g.Period != per {
					t.Fatalf("figure %d is %s %s, want %s %s", zi*len(periods)+pi, g.Zone, g.Period.Label, z.id, per.Label)
				}
				if g.Samples != len(z.samples) {
					t.Errorf("%s: %d samples, the test finds %d", z.id, g.Samples, len(z.samples))
				}
				if math.Abs(g.Share-want.share) > want.slack+1e-6 || (want.slack == 0 && g.Covered != want.covered) {
					t.Errorf("%s %s: share %v (%d covered), the test finds %v (%d) ± %v", z.id, per.Label, g.Share, g.Covered, want.share, want.covered, want.slack)
				}
				if want.slack == 0 && !reflect.DeepEqual(g.Tracks, want.tracks) {
					t.Errorf("%s %s: tracks %v, the test finds %v", z.id, per.Label, g.Tracks, want.tracks)
				}
				if z.line && math.Abs(g.LengthKM-z.totalKM) > 0.001 {
					t.Errorf("%s: %v km, the test finds %v", z.id, g.LengthKM, z.totalKM)
				}
				if !reflect.DeepEqual(g.Footprints, want.footprints) {
					t.Errorf("%s %s: footprints %+v, the test finds %+v", z.id, per.Label, g.Footprints, want.footprints)
				}
				sum[z.id] += g.Share
			}
		}
		for _, z := range tz {
			t.Logf("%s: mean %s coverage %.3f over %d periods", z.id, map[bool]string{true: "daily", false: "weekly"}[len(periods) == scenarioDays], sum[z.id]/float64(len(periods)), len(periods))
		}
	}

	// The planted outages, as the daily report shows them.
	for d, want := range map[int]float64{3: 24, 4: 10, 5: 10, 12: 0, 20: 21.5} {
		g := s.Coverage(days[d : d+1])[0] // north
		if len(g.Footprints) != 1 || g.Footprints[0].ID != "cam-1" || g.Footprints[0].UpHours != want {
			t.Errorf("north %s: footprints %+v, want cam-1 up %v h", g.Period.Label, g.Footprints, want)
		}
	}

	gaps := s.Gaps(sc.end, staleDays)
	for zi, z := range tz {
		checkGaps(t, z, gaps[zi], expectLast(z, sc, sc.end))
	}

	// Restrictions: by brute force, containment by orb/planar.
	areaZones := []string{"north", "south"}
	contains := func(lon, lat float64, zone string) bool {
		for _, z := range sc.zones {
			switch g := z.Geometry.(type) {
			case orb.Polygon:
				if z.ID == zone {
					return planar.PolygonContains(g, orb.Point{lon, lat})
				}
			case orb.MultiPolygon:
				if z.ID == zone {
					return planar.MultiPolygonContains(g, orb.Point{lon, lat})
				}
			}
		}
		return false
	}
	for _, periods := range [][]patrol.Period{days, weeks} {
		total := 0
		for i, tally := range patrol.RestrictionCounts(sc.restrictions, areaZones, contains, periods) {
			want := expectTally(sc.restrictions, areaZones, contains, periods[i])
			if got := flatten(tally); !reflect.DeepEqual(got, want) {
				t.Errorf("restrictions %s: %v, the test finds %v", periods[i].Label, got, want)
			}
			total += tally.Total
		}
		inWindow := 0
		for _, r := range sc.restrictions {
			if r.At.Before(periods[len(periods)-1].To) {
				inWindow++
			}
		}
		if total != inWindow || inWindow < 20 {
			t.Errorf("%d restrictions counted over the periods, want the %d of the window", total, inWindow)
		}
	}

	// Replay: the same inputs give the same bytes.
	s2, _ := patrol.NewSurvey(sc.zones, sc.tracks, sc.footprints, p)
	a, _ := json.Marshal([]any{s.Coverage(days), s.Gaps(sc.end, staleDays)})
	b, _ := json.Marshal([]any{s2.Coverage(days), s2.Gaps(sc.end, staleDays)})
	if string(a) != string(b) {
		t.Error("two surveys of the same inputs differ")
	}
}

type expected struct {
	share, slack float64
	covered      int
	tracks       []string
	footprints   []patrol.FootprintHours
}

// overlapsTest is the test's reading of "active": a positive overlap of
// the span with the period (every span in the scenario has a length).
func overlapsTest(from, to time.Time, per patrol.Period) bool {
	return from.Before(per.To) && to.After(per.From)
}

func expectCoverage(z tZone, sc scenario, per patrol.Period) expected {
	var e expected
	e.tracks = []string{}
	touch := map[int]bool{}
	footTouch := map[int]bool{}
	coveredKM, slackKM, slackCells := 0.0, 0.0, 0
	for _, s := range z.samples {
		cov := false
		for _, ti := range s.near {
			touch[ti] = true
			tr := sc.tracks[ti]
			cov = cov || overlapsTest(tr.Start, tr.End, per)
		}
		for _, fi := range s.foot {
			footTouch[fi] = true
			for _, u := range sc.footprints[fi].Up {
				cov = cov || overlapsTest(u.From, u.To, per)
			}
		}
		if cov {
			e.covered++
			coveredKM += s.w
		} else if s.ambiguous {
			slackKM += s.w
			slackCells++
		}
	}
	if z.line {
		e.share = coveredKM / z.totalKM
		e.slack = slackKM / z.totalKM
	} else {
		e.share = float64(e.covered) / float64(len(z.samples))
		e.slack = float64(slackCells) / float64(len(z.samples))
	}
	for ti, tr := range sc.tracks {
		if touch[ti] && overlapsTest(tr.Start, tr.End, per) {
			e.tracks = append(e.tracks, tr.ID)
		}
	}
	for fi, f := range sc.footprints {
		if !footTouch[fi] {
			continue
		}
		var up time.Duration
		for _, u := range f.Up {
			if s, en := max(u.From.UnixNano(), per.From.UnixNano()), min(u.To.UnixNano(), per.To.UnixNano()); en > s {
				up += time.Duration(en - s)
			}
		}
		e.footprints = append(e.footprints, patrol.FootprintHours{ID: f.ID, Kind: f.Kind, UpHours: math.Round(up.Hours()*1e4) / 1e4})
	}
	return e
}

// expectLast is each sample's last visit as of asOf (zero: never).
func expectLast(z tZone, sc scenario, asOf time.Time) []time.Time {
	last := make([]time.Time, len(z.samples))
	later := func(i int, t time.Time) {
		if t.After(asOf) {
			t = asOf
		}
		if t.After(last[i]) {
			last[i] = t
		}
	}
	for i, s := range z.samples {
		for _, ti := range s.near {
			if tr := sc.tracks[ti]; !tr.Start.After(asOf) {
				later(i, tr.End)
			}
		}
		for _, fi := range s.foot {
			for _, u := range sc.footprints[fi].Up {
				if !u.From.After(asOf) {
					later(i, u.To)
				}
			}
		}
	}
	return last
}

func checkGaps(t *testing.T, z tZone, g patrol.ZoneGaps, last []time.Time) {
	t.Helper()
	stale := map[int]bool{}
	fuzzy := map[int]bool{}
	for i, l := range last {
		if l.IsZero() || g.AsOf.Sub(l) > staleDays*24*time.Hour {
			stale[i] = true
		}
		fuzzy[i] = z.samples[i].ambiguous
	}
	var visits []patrol.Visit
	found := map[int]bool{}
	if z.line {
		for _, st := range g.Stretches {
			visits = append(visits, st.Visit)
			var latest time.Time
			never := true
			for i, s := range z.samples {
				if s.part == st.Part && s.at > st.FromKM && s.at < st.ToKM {
					found[i] = true
					never = never && last[i].IsZero()
					if last[i].After(latest) {
						latest = last[i]
					}
				}
			}
			if st.Never != never || (!never && !st.LastVisited.Equal(latest)) {
				t.Errorf("%s stretch %v–%v km: never %v last %v, the test finds %v %v", z.id, st.FromKM, st.ToKM, st.Never, st.LastVisited, never, latest)
			}
		}
	} else {
		index := map[[2]int]int{}
		for i, s := range z.samples {
			index[[2]int{s.col, s.row}] = i
		}
		for _, c := range g.Cells {
			visits = append(visits, c.Visit)
			i, ok := index[[2]int{c.Col, c.Row}]
			if !ok {
				t.Errorf("%s: stale cell %d,%d is not in the test's grid", z.id, c.Col, c.Row)
				continue
			}
			found[i] = true
			if c.Never != last[i].IsZero() || (!c.Never && !c.LastVisited.Equal(last[i])) {
				t.Errorf("%s cell %d,%d: never %v last %v, the test finds %v", z.id, c.Col, c.Row, c.Never, c.LastVisited, last[i])
			}
		}
	}
	for i := range z.samples {
		if found[i] != stale[i] && !fuzzy[i] {
			t.Errorf("%s sample %d at %v: stale %v, the test finds %v (last visit %v)", z.id, i, z.samples[i].p, found[i], stale[i], last[i])
		}
	}
	if !slices.IsSortedFunc(visits, func(a, b patrol.Visit) int {
		switch {
		case a.Never && b.Never:
			return 0
		case a.Never:
			return -1
		case b.Never:
			return 1
		}
		return a.LastVisited.Compare(*b.LastVisited)
	}) {
		t.Errorf("%s: gaps not sorted by staleness", z.id)
	}
	t.Logf("%s: %d stale (%d stretches, %d cells), share %v, as of %s, more than %d days", z.id, len(found), len(g.Stretches), len(g.Cells), g.Share, g.AsOf.Format(time.DateOnly), g.Days)
}

// flatten writes a tally as "dimension/key → count/minutes" lines.
func flatten(t patrol.RestrictionTally) map[string]string {
	m := map[string]string{"total": fmt.Sprintf("%d/%g", t.Total, t.DurationMin)}
	for _, c := range t.ByParty {
		m["party/"+c.Key] = fmt.Sprintf("%d/%g", c.Count, c.DurationMin)
	}
	for _, c := range t.ByWhom {
		m["by/"+c.Key] = fmt.Sprintf("%d/%g", c.Count, c.DurationMin)
	}
	for _, c := range t.ByZone {
		if c.Count > 0 {
			m["zone/"+c.Key] = fmt.Sprintf("%d/%g", c.Count, c.DurationMin)
		}
	}
	for _, c := range t.ByPartyZone {
		m["pz/"+c.Party+"/"+c.Zone] = fmt.Sprintf("%d/%g", c.Count, c.DurationMin)
	}
	return m
}

func expectTally(rs []patrol.Restriction, zones []string, in func(lon, lat float64, z string) bool, per patrol.Period) map[string]string {
	type cd struct {
		n int
		m float64
	}
	acc := map[string]*cd{}
	bump := func(k string, m float64) {
		if acc[k] == nil {
			acc[k] = &cd{}
		}
		acc[k].n++
		acc[k].m += m
	}
	acc["total"] = &cd{}
	for _, r := range rs {
		if r.At.Before(per.From) || !r.At.Before(per.To) {
			continue
		}
		m := r.Duration.Minutes()
		bump("total", m)
		bump("party/"+r.Party, m)
		bump("by/"+r.By, m)
		inAny := false
		for _, z := range zones {
			if in(r.Lon, r.Lat, z) {
				inAny = true
				bump("zone/"+z, m)
				bump("pz/"+r.Party+"/"+z, m)
			}
		}
		if !inAny {
			bump("zone/", m)
			bump("pz/"+r.Party+"/", m)
		}
	}
	out := map[string]string{}
	for k, v := range acc {
		out[k] = fmt.Sprintf("%d/%g", v.n, v.m)
	}
	return out
}
