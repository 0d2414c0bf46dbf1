package http_test

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guarantor/guarantor/agreements"
	"github.com/guarantor/guarantor/entry"
	ghttp "github.com/guarantor/guarantor/http"
	"github.com/guarantor/guarantor/patrol"
	"github.com/paulmach/orb"
)

// TestPatrolScenario is issue 11's acceptance test. Four teams patrol the
// demo agreement's (framework-2025) areas patrol-north and patrol-south
// and its contact line for 30 days — vehicles by day, a UAV team by night
// across midnight —, with rest days, cancelled, partial and restricted
// patrols (each restriction first logged as a movement_restriction
// observation by a member of the team, parties RU and UA, one checkpoint
// outside both areas), and a fixed camera whose daily reports carry its
// up intervals around planted outages (one of them a whole day). All of
// it is logged through POST /v1/entries; GET /v1/patrols/coverage (daily
// and weekly) is then compared with figures the test computes on its own
// from the tracks it generated:
//
//   - samples: its own reading of package patrol's documented sampling
//     (a line cut into ceil(L/100 m) equal pieces sampled at their
//     centres; a 500 m grid over an area's bounding box at its middle
//     latitude), with its own point-in-polygon test (winding number,
//     where the package uses even-odd crossings);
//   - distance: every track densified to points at most 10 m apart, and
//     the distance from each sample to each point on the equirectangular
//     projection centred on the sample (the documented metric), with no
//     segment index: only bounding boxes widened by D skip points that
//     cannot lie within D;
//   - time: its own reading of "active in a period" (a positive overlap
//     with [from, to), or an instant inside it), of a sample's last visit
//     as of the last day, and of "not visited for more than N days".
//
// Tolerance: a densified point lies at most s²/8D (6 mm for s = 10 m and
// D = 2 km) farther from a sample than the track's segment does, so a
// sample–track pair whose point distance exceeds D by less than 2 cm is
// measured again on points 0.5 m apart (at most 0.02 mm too far); a pair
// still within 0.1 mm of D is unsure: the test allows its sample to be
// covered or not, bounds covered counts and shares accordingly, and then
// compares the gap list sample by sample only. Every other figure must
// agree exactly: counts, shares to their 6-decimal rounding, the gap
// list (stretches and cells, their last visits, their order, positions
// to the API's 10⁻⁷ degrees), restriction counts by party, by whom, by
// zone and by party and zone, camera up-hours and outages. With the
// fixed seed one pair is measured again and none remains unsure.
//
// It also checks that bad input is refused with the precise field, and
// that /v1/patrols, /v1/patrols.geojson and /v1/patrols/restrictions.csv
// list every plan, report, track and restriction. It takes about 5 s.
func TestPatrolScenario(t *testing.T) {
	began := time.Now()
	e := newEnv(t)
	geo := psLoadAgreement(t)

	// Keys: every signatory of the agreement, the monitors of four teams,
	// the camera (a sensor), and the operator who signs the plans.
	var doc entry.Agreement
	if err := json.Unmarshal(geo.body, &doc); err != nil {
		t.Fatal(err)
	}
	var keyEntries [][]byte
	reg := func(name, role string) key {
		k := newKey(t, name)
		keyEntries = append(keyEntries, e.sign(entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":%q,"not_before":"2025-06-01T00:00:00Z","not_after":"2026-12-31T00:00:00Z"}`, k.VKey, role), e.auth))
		return k
	}
	var signatories []key
	for _, role := range doc.Signatories() {
		signatories = append(signatories, reg(strings.ReplaceAll(role, ":", "."), role))
	}
	operator := reg("operator.ops", "operator")
	teams := []psTeam{
		{id: "north-1", means: "vehicle", zone: "patrol-north"},
		{id: "south-1", means: "vehicle", zone: "patrol-south"},
		{id: "line-1", means: "vehicle", zone: "contact-line"},
		{id: "uav-1", means: "uav"}, // by night, over either area
	}
	for i := range teams {
		for m := range 2 {
			teams[i].members = append(teams[i].members, reg(fmt.Sprintf("monitor.%s.%d", teams[i].id, m+1), "monitor"))
		}
	}
	camera := reg("camera.cam-1", "sensor")
	psPostAll(t, e, "keys", keyEntries)
	e.mustPost(e.sign(entry.KindAgreement, string(geo.body), signatories...))

	// The scenario, generated deterministically, logged in dependency
	// order: plans and restriction observations, then reports.
	sc := psGenerate(t, geo, teams, camera)
	var first, second [][]byte
	for _, p := range sc.patrols {
		if p.plan.ID != "" {
			first = append(first, e.sign(entry.KindPatrolPlan, psJSON(t, p.plan), operator))
		}
		for _, o := range p.obs {
			first = append(first, e.sign(entry.KindObservation, psJSON(t, o.body), o.by))
		}
		if p.report != nil {
			second = append(second, e.sign(entry.KindPatrolReport, psJSON(t, p.report), p.signers...))
		}
	}
	psPostAll(t, e, "plans and observations", first)
	psPostAll(t, e, "reports", second)
	logged := time.Now()

	t.Run("refused", func(t *testing.T) { psRefused(t, e, sc, teams, operator) })

	// The test's own figures.
	refStart := time.Now()
	zones := []*psZone{psAreaZone("patrol-north", geo.north), psAreaZone("patrol-south", geo.south), psLineZone("contact-line", geo.line)}
	refined, unsure := psVisit(zones, sc.sources)
	nSamples := 0
	for _, z := range zones {
		nSamples += len(z.samples)
	}
	t.Logf("%d patrols (%d reports, %d tracks, %d camera reports with up intervals), %d restrictions; %d samples; %d sample–track pairs within %v m beyond D measured again on %v m points, %d of them still unsure; reference computed in %v",
		len(sc.patrols), len(second), sc.tracks, len(sc.sources)-sc.tracks, len(sc.restrictions), nSamples, refined, psBandM, psFineM, unsure, time.Since(refStart).Round(time.Millisecond))
	if unsure > nSamples/1000 {
		t.Errorf("%d unsure sample–track pairs: the scenario should not sit on the boundary", unsure)
	}

	end := psDay0.AddDate(0, 0, psDays)
	base := fmt.Sprintf("/v1/patrols/coverage?agreement=framework-2025&from=%s&to=%s&distance_m=%g&days=%d&zones=patrol-north,patrol-south,contact-line",
		psDay0.Format(time.DateOnly), end.Format(time.DateOnly), psDistanceM, psGapDays)
	var daily, weekly ghttp.PatrolCoverageView
	psGet(t, e, base, &daily)
	psGet(t, e, base+"&period=week", &weekly)
	days, weeks := psPeriods(psDay0, end, 1), psPeriods(psDay0, end, 7)
	if len(days) != 30 || len(weeks) != 5 {
		t.Fatalf("%d days and %d weeks", len(days), len(weeks))
	}

	psCheckCoverage(t, "daily", daily.Coverage, zones, sc, days)
	psCheckCoverage(t, "weekly", weekly.Coverage, zones, sc, weeks)
	psCheckCameraHours(t, daily.Coverage, days)
	psCheckGaps(t, daily.Gaps, zones, sc.sources, end, psGapDays)
	if a, b := psJSON(t, daily.Gaps), psJSON(t, weekly.Gaps); a != b {
		t.Error("the weekly request's gaps differ from the daily one's, as of the same time")
	}
	psCheckRestrictions(t, "daily", daily.Restrictions, sc.restrictions, geo, days)
	psCheckRestrictions(t, "weekly", weekly.Restrictions, sc.restrictions, geo, weeks)
	psCheckOutages(t, daily.Outages, sc.outages)
	psCheckExports(t, e, sc, end)

	// The same request twice gives the same bytes: the figures replay.
	if a, b := psGetRaw(t, e, base), psGetRaw(t, e, base); a != b {
		t.Error("two identical coverage requests answer differently")
	}
	t.Logf("runtime %v (logging %v)", time.Since(began).Round(time.Millisecond), logged.Sub(began).Round(time.Millisecond))
}

// The scenario's dimensions.
const (
	psDays      = 30
	psDistanceM = 2000.0 // D, passed as distance_m
	psGapDays   = 5      // passed as days
	psDenseM    = 10.0   // the reference's spacing of track points
	psBandM     = 0.02   // beyond D by less than this: measure again
	psFineM     = 0.5    // the spacing to measure again with
	psFineBandM = 0.0001 // beyond D by less than this, still unsure
	psMPerDeg   = 111195.0
	psStepKM    = 0.1   // patrol's documented line step
	psCellM     = 500.0 // patrol's documented cell size
)

// psDay0 is the scenario's first day, a Monday, after the agreement's
// effective date (2025-12-01).
var psDay0 = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// psPlanted are the camera's outages, merged across its daily reports:
// across a midnight, a whole day (2026-01-17: its report has no up
// interval at all), a morning, and the last evening up to the end.
var psPlanted = []psSpan{
	{psDay0.Add(4*24*time.Hour + 10*time.Hour), psDay0.Add(5*24*time.Hour + 14*time.Hour)},
	{psDay0.Add(11*24*time.Hour + 22*time.Hour), psDay0.Add(13*24*time.Hour + 1*time.Hour)},
	{psDay0.Add(20*24*time.Hour + 3*time.Hour), psDay0.Add(20*24*time.Hour + 5*time.Hour + 30*time.Minute)},
	{psDay0.Add(29*24*time.Hour + 21*time.Hour), psDay0.Add(30 * 24 * time.Hour)},
}

// psCameraFOV is the camera's field of view: a wedge across the contact
// line, inside patrol-south, near Donetsk.
var psCameraFOV = orb.Polygon{{{37.66, 48.02}, {37.74, 48.03}, {37.745, 48.05}, {37.735, 48.07}, {37.70, 48.075}, {37.66, 48.02}}}

// psOutsideCheckpoint is where a checkpoint stops south-1 on the
// scenario's ninth day: west of patrol-south, in no zone measured.
var psOutsideCheckpoint = orb.Point{37.2, 47.75}

type psTeam struct {
	id, means string
	zone      string // patrol-north, patrol-south, contact-line; "" either area
	members   []key
}

// psGeom is the agreement as the test reads it.
type psGeom struct {
	body         []byte
	north, south orb.Polygon
	line         orb.LineString
}

type psSpan [2]time.Time

// psSource is a track (during its span) or a camera report's field of
// view (during its up intervals).
type psSource struct {
	id    string
	track orb.LineString
	area  orb.Polygon
	spans []psSpan
}

type psRestriction struct {
	at        time.Time
	lon, lat  float64
	by, party string
	minutes   int
}

type psObs struct {
	body entry.Observation
	by   key
}

type psPatrol struct {
	plan    entry.PatrolPlan
	obs     []psObs
	report  *entry.PatrolReport
	signers []key
}

type psScenario struct {
	patrols      []psPatrol
	sources      []psSource // tracks first, then camera reports
	tracks       int
	restrictions []psRestriction
	outages      []psSpan // planted, merged
	dead         []string // camera reports with no up interval
}

// psLoadAgreement reads framework-2025 and its patrol areas and contact
// line, with the test's own GeoJSON reading.
func psLoadAgreement(t *testing.T) psGeom {
	t.Helper()
	body, err := agreements.JSON("framework-2025")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Zones, Lines []struct {
			ID       string
			Geometry struct {
				Type        string
				Coordinates json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	g := psGeom{body: body}
	polygon := func(raw json.RawMessage) orb.Polygon {
		var c [][][2]float64
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatal(err)
		}
		var p orb.Polygon
		for _, r := range c {
			var ring orb.Ring
			for _, pt := range r {
				ring = append(ring, orb.Point(pt))
			}
			p = append(p, ring)
		}
		return p
	}
	for _, z := range doc.Zones {
		switch {
		case z.ID == "patrol-north" && z.Geometry.Type == "Polygon":
			g.north = polygon(z.Geometry.Coordinates)
		case z.ID == "patrol-south" && z.Geometry.Type == "Polygon":
			g.south = polygon(z.Geometry.Coordinates)
		}
	}
	for _, l := range doc.Lines {
		if l.ID == "contact-line" && l.Geometry.Type == "LineString" {
			var c [][2]float64
			if err := json.Unmarshal(l.Geometry.Coordinates, &c); err != nil {
				t.Fatal(err)
			}
			for _, pt := range c {
				g.line = append(g.line, orb.Point(pt))
			}
		}
	}
	if g.north == nil || g.south == nil || g.line == nil {
		t.Fatal("framework-2025 lacks the Polygons patrol-north and patrol-south or the LineString contact-line")
	}
	return g
}

// psGenerate makes 30 days of patrols with a fixed seed.
func psGenerate(t *testing.T, g psGeom, teams []psTeam, camera key) psScenario {
	t.Helper()
	rng := rand.New(rand.NewPCG(11, 2026))
	var sc psScenario
	var cameraSources []psSource
	reasons := []string{"security", "weather", "technical"}
	whom := []string{"checkpoint", "armed_persons", "party", "mines"}
	for d := range psDays {
		day := psDay0.AddDate(0, 0, d)
		for _, tm := range teams {
			// Three patrols are set: south-1 stopped outside both areas;
			// a UAV flight ending exactly 5 days before the end (its
			// places are not gaps: "more than 5 days"); and the last
			// night's flight, stopped after the end, which only the
			// weekly counts hold.
			special := tm.id == "south-1" && d == 8
			edge, lastNight := tm.id == "uav-1" && d == psDays-6, tm.id == "uav-1" && d == psDays-1
			if !special && !edge && !lastNight && rng.Float64() < 0.1 {
				continue // a rest day: no plan
			}
			zone := tm.zone
			if zone == "" {
				zone = []string{"patrol-north", "patrol-south"}[rng.IntN(2)]
			}
			var raw orb.LineString
			switch {
			case special:
				raw = psStraight(orb.Point{37.48, 47.80}, psOutsideCheckpoint)
			case zone == "contact-line":
				raw = psFollow(rng, g.line, 30+rng.Float64()*30)
			case tm.means == "uav":
				raw = psWalk(rng, map[string]orb.Polygon{"patrol-north": g.north, "patrol-south": g.south}[zone], 25+rng.Float64()*25)
			default:
				raw = psWalk(rng, map[string]orb.Polygon{"patrol-north": g.north, "patrol-south": g.south}[zone], 40+rng.Float64()*40)
			}
			start := day.Add(7*time.Hour + time.Duration(rng.IntN(180))*time.Minute)
			dur := time.Duration(4*60+rng.IntN(5*60)) * time.Minute
			window := psSpan{day.Add(6 * time.Hour), day.Add(20 * time.Hour)}
			if tm.means == "uav" { // at night, often across midnight
				start = day.Add(20*time.Hour + time.Duration(rng.IntN(180))*time.Minute)
				dur = time.Duration(2*60+rng.IntN(3*60)) * time.Minute
				switch {
				case edge:
					start, dur = day.Add(20*time.Hour), 4*time.Hour
				case lastNight:
					start, dur = day.Add(23*time.Hour), 3*time.Hour
				}
				window = psSpan{day.Add(19 * time.Hour), day.Add(31 * time.Hour)}
			}
			planZone := zone
			if zone == "contact-line" {
				planZone = "security-zone"
			}
			members := []string{tm.members[0].ID, tm.members[1].ID}
			plan := entry.PatrolPlan{ID: tm.id + "-" + day.Format("0102"), At: day.Add(5 * time.Hour), Agreement: "framework-2025", Team: tm.id,
				Members: members, Means: tm.means, Route: psGeoJSON(psCoarse(raw)), From: window[0], To: window[1],
				Purpose: "SYNTHETIC scenario patrol", Zones: []string{planZone}}
			p := psPatrol{plan: plan}
			rep := &entry.PatrolReport{ID: plan.ID + "-r", Plan: plan.ID, Start: start, Outcome: entry.PatrolCompleted, SimplifiedM: entry.PatrolTrackTolerance}
			path := raw
			var rs []psRestriction
			u := rng.Float64()
			switch {
			case edge:
				u = 1 // completed
			case lastNight:
				u = 0.3 // restricted
			}
			switch {
			case special:
				rs = append(rs, psRestriction{at: start.Add(dur / 2), by: "checkpoint", party: "RU", minutes: 95})
			case u < 0.1:
				rep.Outcome, rep.Reason, path = entry.PatrolCancelled, reasons[rng.IntN(3)], nil
				start = start.Add(-time.Hour)
				rep.Start, rep.End = start, start
			case u < 0.25:
				f := 0.3 + rng.Float64()*0.4
				rep.Outcome, rep.Reason = entry.PatrolPartial, reasons[rng.IntN(3)]
				path, dur = raw[:max(2, int(f*float64(len(raw))))], time.Duration(f*float64(dur)).Truncate(time.Minute)
			case u < 0.42:
				f := 0.2 + rng.Float64()*0.7
				if lastNight {
					f = 0.5
				}
				path = raw[:max(2, int(f*float64(len(raw))))]
				r := psRestriction{at: start.Add(time.Duration(f * float64(dur))).Truncate(time.Minute), by: whom[rng.IntN(len(whom))], party: "RU", minutes: 10 + rng.IntN(170)}
				if tm.means == "uav" {
					r.by = "uav_jamming"
				}
				if rng.Float64() < 0.35 {
					r.party = "UA"
				}
				if r.by == "mines" && rng.Float64() < 0.5 {
					r.party = ""
				}
				if rng.Float64() < 0.3 { // stopped earlier too, by the other side
					k := len(path) / 2
					other := map[string]string{"RU": "UA", "UA": "RU", "": "RU"}[r.party]
					rs = append(rs, psRestriction{at: start.Add(time.Duration(f / 2 * float64(dur))).Truncate(time.Minute), lon: path[k][0], lat: path[k][1],
						by: "armed_persons", party: other, minutes: 5 + rng.IntN(60)})
				}
				rs = append(rs, r)
				dur = r.at.Sub(start)
			}
			if path != nil {
				path = patrol.Simplify(path, entry.PatrolTrackTolerance)
				if len(path) > 2000 {
					t.Fatalf("%s: %d points after simplification", plan.ID, len(path))
				}
				rep.Track = psGeoJSON(path)
			}
			if len(rs) > 0 {
				rep.Outcome = entry.PatrolRestricted
				last := path[len(path)-1]
				for i := range rs {
					if rs[i].lon == 0 {
						rs[i].lon, rs[i].lat = last[0], last[1]
					}
					r := rs[i]
					id := fmt.Sprintf("mr-%s-%d", plan.ID, i+1)
					p.obs = append(p.obs, psObs{by: tm.members[rng.IntN(2)], body: entry.Observation{ID: id, ObservedAt: r.at, Category: "movement_restriction",
						Location: entry.Point{Type: "Point", Coordinates: [2]float64{r.lon, r.lat}}, SourceType: "patrol", Text: "SYNTHETIC: " + r.by + " " + r.party}})
					rep.Restrictions = append(rep.Restrictions, entry.Restriction{Observation: id, At: r.at, Location: entry.Point{Type: "Point", Coordinates: [2]float64{r.lon, r.lat}},
						By: r.by, Party: r.party, DurationM: r.minutes})
					sc.restrictions = append(sc.restrictions, r)
					dur = max(dur, r.at.Sub(start)+time.Duration(r.minutes)*time.Minute)
				}
			}
			if rep.Outcome != entry.PatrolCancelled {
				rep.End = start.Add(dur)
			}
			rep.At = rep.End.Add(30 * time.Minute)
			p.report, p.signers = rep, tm.members[:1]
			if rng.Float64() < 0.3 {
				p.signers = tm.members // co-signed
			}
			if path != nil {
				sc.sources = append(sc.sources, psSource{id: rep.ID, track: path, spans: []psSpan{{rep.Start, rep.End}}})
				sc.tracks++
			}
			sc.patrols = append(sc.patrols, p)
		}
	}

	// The camera: one plan for the month, one report a day with the
	// intervals its heartbeats show it up.
	end := psDay0.AddDate(0, 0, psDays)
	sc.patrols = append(sc.patrols, psPatrol{plan: entry.PatrolPlan{ID: "cam-1", At: psDay0.Add(-time.Hour), Agreement: "framework-2025", Team: "cam-1",
		Members: []string{camera.ID}, Means: "camera", Area: psGeoJSONPolygon(psCameraFOV), From: psDay0, To: end,
		Purpose: "SYNTHETIC fixed camera over the line", Zones: []string{"patrol-south", "security-zone"}}})
	for d := range psDays {
		day := psDay0.AddDate(0, 0, d)
		up := psMinus(psSpan{day, day.AddDate(0, 0, 1)}, psPlanted)
		rep := &entry.PatrolReport{ID: "cam-1-" + day.Format("0102"), At: day.Add(24*time.Hour + 5*time.Minute), Plan: "cam-1", Start: day, End: day.AddDate(0, 0, 1), Outcome: entry.PatrolCompleted}
		switch {
		case len(up) == 0:
			rep.Outcome, rep.Reason = entry.PatrolCancelled, "technical"
		case len(up) > 1 || up[0] != (psSpan{day, day.AddDate(0, 0, 1)}):
			rep.Outcome, rep.Reason = entry.PatrolPartial, "technical"
		}
		for _, u := range up {
			rep.Up = append(rep.Up, entry.Interval{From: u[0], To: u[1]})
		}
		if len(up) > 0 {
			cameraSources = append(cameraSources, psSource{id: rep.ID, area: psCameraFOV, spans: up})
		} else {
			sc.dead = append(sc.dead, rep.ID)
		}
		sc.patrols = append(sc.patrols, psPatrol{report: rep, signers: []key{camera}})
	}
	sc.sources = append(sc.sources, cameraSources...)
	sc.outages = psPlanted
	return sc
}

// psWalk is a vehicle's GPS fixes every 50 m for about km kilometres,
// inside the area: it turns away from the edge.
func psWalk(rng *rand.Rand, area orb.Polygon, km float64) orb.LineString {
	minLon, minLat, maxLon, maxLat := psBounds(area[0])
	var p orb.Point
	for {
		p = orb.Point{minLon + rng.Float64()*(maxLon-minLon), minLat + rng.Float64()*(maxLat-minLat)}
		if psInPolygon(area, p) {
			break
		}
	}
	p = psRound6(p)
	heading := rng.Float64() * 2 * math.Pi
	path := orb.LineString{p}
	for tries := 0; len(path) < int(km*20) && tries < 1000; {
		heading += rng.NormFloat64() * 0.05
		q := psRound6(orb.Point{p[0] + 50*math.Sin(heading)/(psMPerDeg*math.Cos(p[1]*math.Pi/180)), p[1] + 50*math.Cos(heading)/psMPerDeg})
		if !psInPolygon(area, q) {
			heading += math.Pi/2 + rng.Float64()*math.Pi
			tries++
			continue
		}
		p = q
		path = append(path, p)
	}
	return path
}

// psFollow drives along the line for about km kilometres, a fix every
// 50 m, up to 3 km to either side of it.
func psFollow(rng *rand.Rand, l orb.LineString, km float64) orb.LineString {
	cum := psCum(l)
	total := cum[len(cum)-1]
	s0 := rng.Float64() * max(0, total-km)
	off := rng.Float64()*3 - 1.5
	var path orb.LineString
	for s := s0; s <= min(total, s0+km); s += 0.05 {
		p, i := psAlong(l, cum, s)
		a, b := l[i-1], l[i]
		c := math.Cos(p[1] * math.Pi / 180)
		tx, ty := (b[0]-a[0])*c, b[1]-a[1]
		n := math.Hypot(tx, ty)
		off = max(-3, min(3, off+rng.NormFloat64()*0.03))
		path = append(path, psRound6(orb.Point{p[0] - off*ty/n/(psMPerDeg/1000*c), p[1] + off*tx/n/(psMPerDeg/1000)}))
	}
	return path
}

// psStraight is a drive from a to b, a fix every 50 m.
func psStraight(a, b orb.Point) orb.LineString {
	n := int(math.Ceil(psSegKM(a, b) / 0.05))
	var out orb.LineString
	for k := 0; k <= n; k++ {
		f := float64(k) / float64(n)
		out = append(out, psRound6(orb.Point{a[0] + (b[0]-a[0])*f, a[1] + (b[1]-a[1])*f}))
	}
	return out
}

// psCoarse keeps every 20th point and the last: a planned route.
func psCoarse(l orb.LineString) orb.LineString {
	var out orb.LineString
	for i := 0; i < len(l); i += 20 {
		out = append(out, l[i])
	}
	if out[len(out)-1] != l[len(l)-1] {
		out = append(out, l[len(l)-1])
	}
	if len(out) < 2 {
		out = append(out, l[len(l)-1])
	}
	return out
}

func psRound6(p orb.Point) orb.Point {
	return orb.Point{math.Round(p[0]*1e6) / 1e6, math.Round(p[1]*1e6) / 1e6}
}

// psMinus is a day less the outages.
func psMinus(day psSpan, outages []psSpan) []psSpan {
	out := []psSpan{day}
	for _, o := range outages {
		var next []psSpan
		for _, s := range out {
			if !o[0].Before(s[1]) || !o[1].After(s[0]) {
				next = append(next, s)
				continue
			}
			if o[0].After(s[0]) {
				next = append(next, psSpan{s[0], o[0]})
			}
			if o[1].Before(s[1]) {
				next = append(next, psSpan{o[1], s[1]})
			}
		}
		out = next
	}
	return out
}

func psGeoJSON(l orb.LineString) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"type": "LineString", "coordinates": l})
	return b
}

func psGeoJSONPolygon(p orb.Polygon) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"type": "Polygon", "coordinates": p})
	return b
}

func psJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// psPostAll posts the entries to /v1/entries, 32 at a time (they must not
// depend on each other), and fails on the first refusal.
func psPostAll(t *testing.T, e *env, what string, raws [][]byte) {
	t.Helper()
	type result struct {
		status int
		body   string
	}
	results := make([]result, len(raws))
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for i, raw := range raws {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			resp, err := http.Post(e.srv.URL+"/v1/entries", "text/plain", bytes.NewReader(raw))
			if err != nil {
				results[i] = result{0, err.Error()}
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			results[i] = result{resp.StatusCode, string(b)}
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.status != http.StatusCreated {
			t.Fatalf("%s: entry %d: %d %s\n%s", what, i, r.status, r.body, raws[i])
		}
	}
}

func psGetRaw(t *testing.T, e *env, path string) string {
	t.Helper()
	resp, err := http.Get(e.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %.500s", path, resp.Status, b)
	}
	return string(b)
}

func psGet(t *testing.T, e *env, path string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(psGetRaw(t, e, path)), v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// psRefused: bad input is refused with the precise field.
func psRefused(t *testing.T, e *env, sc psScenario, teams []psTeam, operator key) {
	var north, south *psPatrol
	for i := range sc.patrols {
		p := &sc.patrols[i]
		if p.report == nil || p.report.Track == nil {
			continue
		}
		if north == nil && p.plan.Team == "north-1" {
			north = p
		}
		if south == nil && p.plan.Team == "south-1" && len(p.obs) > 0 {
			south = p
		}
	}
	if north == nil || south == nil {
		t.Fatal("the scenario lacks a north-1 track or a restricted south-1 patrol")
	}
	voronezh := orb.Point{39.2, 51.67} // in Russia, far from every zone
	report := func(mod func(r *entry.PatrolReport)) string {
		r := *north.report
		r.ID, r.Restrictions, r.Outcome = "probe-"+r.ID, nil, entry.PatrolCompleted
		mod(&r)
		return psJSON(t, r)
	}
	plan := func(mod func(p *entry.PatrolPlan)) string {
		p := north.plan
		p.ID = "probe-" + p.ID
		mod(&p)
		return psJSON(t, p)
	}
	for _, c := range []struct {
		name   string
		raw    []byte
		status int
		field  string
	}{
		{"track outside the mission's area", e.sign(entry.KindPatrolReport, report(func(r *entry.PatrolReport) {
			r.Track = psGeoJSON(orb.LineString{{38.5, 48.6}, {38.6, 48.65}, voronezh})
		}), teams[0].members[0]), 400, "/track/coordinates/2"},
		{"route outside the mission's area", e.sign(entry.KindPatrolPlan, plan(func(p *entry.PatrolPlan) {
			p.Route = psGeoJSON(orb.LineString{{38.5, 48.6}, voronezh, {38.6, 48.65}})
		}), operator), 400, "/route/coordinates/1"},
		{"plan ending before it starts", e.sign(entry.KindPatrolPlan, plan(func(p *entry.PatrolPlan) {
			p.From, p.To = p.To, p.From
		}), operator), 400, "/to"},
		{"report signed by a key not in the team", e.sign(entry.KindPatrolReport, report(func(*entry.PatrolReport) {}), teams[1].members[0]), 403, "signature"},
		{"report co-signed by a key not in the team", e.sign(entry.KindPatrolReport, report(func(*entry.PatrolReport) {}), teams[0].members[0], teams[2].members[1]), 403, "signature"},
		{"plan signed by a monitor of another team", e.sign(entry.KindPatrolPlan, plan(func(*entry.PatrolPlan) {}), teams[3].members[0]), 403, "signature"},
		{"restriction logged by another team", e.sign(entry.KindPatrolReport, report(func(r *entry.PatrolReport) {
			r.Outcome, r.Restrictions = entry.PatrolRestricted, south.report.Restrictions[:1]
		}), teams[0].members[0]), 400, "/restrictions/0/observation"},
		{"restricted without a restriction", e.sign(entry.KindPatrolReport, report(func(r *entry.PatrolReport) { r.Outcome = entry.PatrolRestricted }), teams[0].members[0]), 400, "/restrictions"},
	} {
		resp, b := e.post(c.raw)
		var p ghttp.Problem
		_ = json.Unmarshal(b, &p)
		if resp.StatusCode != c.status || p.Field != c.field {
			t.Errorf("%s: %d field %q (%s), want %d field %q", c.name, resp.StatusCode, p.Field, p.Detail, c.status, c.field)
		} else {
			t.Logf("%s: %d %s: %s", c.name, resp.StatusCode, p.Field, p.Detail)
		}
	}
}

// The reference: the test's own reading of the documented method.

// psSample is a line sample or a grid cell, with the sources that surely
// cover it and the tracks whose distance is unsure.
type psSample struct {
	p            orb.Point
	at, w        float64 // line: km along the line, km it stands for
	col, row     int     // area
	sure, unsure []int   // indices of sources
}

type psZone struct {
	id      string
	line    orb.LineString // nil for an area
	cum     []float64
	totalKM float64
	west    float64 // an area's grid
	south   float64
	dLon    float64
	dLat    float64
	samples []psSample
}

func psSegKM(a, b orb.Point) float64 {
	return math.Hypot((b[0]-a[0])*math.Cos((a[1]+b[1])/2*math.Pi/180), b[1]-a[1]) * psMPerDeg / 1000
}

func psCum(l orb.LineString) []float64 {
	cum := make([]float64, len(l))
	for i := 1; i < len(l); i++ {
		cum[i] = cum[i-1] + psSegKM(l[i-1], l[i])
	}
	return cum
}

// psAlong is the point s km along l and the index of the vertex ending
// its segment.
func psAlong(l orb.LineString, cum []float64, s float64) (orb.Point, int) {
	i := 1
	for i < len(l)-1 && cum[i] < s {
		i++
	}
	f := (s - cum[i-1]) / (cum[i] - cum[i-1])
	return orb.Point{l[i-1][0] + (l[i][0]-l[i-1][0])*f, l[i-1][1] + (l[i][1]-l[i-1][1])*f}, i
}

func psLineZone(id string, l orb.LineString) *psZone {
	z := &psZone{id: id, line: l, cum: psCum(l)}
	z.totalKM = z.cum[len(z.cum)-1]
	n := max(1, math.Ceil(z.totalKM/psStepKM-1e-6))
	w := z.totalKM / n
	for k := 0; k < int(n); k++ {
		s := (float64(k) + 0.5) * w
		p, _ := psAlong(l, z.cum, s)
		z.samples = append(z.samples, psSample{p: p, at: s, w: w})
	}
	return z
}

func psAreaZone(id string, poly orb.Polygon) *psZone {
	minLon, minLat, maxLon, maxLat := psBounds(poly[0])
	z := &psZone{id: id, west: minLon, south: minLat}
	z.dLat = psCellM / psMPerDeg
	z.dLon = psCellM / (psMPerDeg * math.Cos((minLat+maxLat)/2*math.Pi/180))
	cols, rows := max(1, int(math.Ceil((maxLon-minLon)/z.dLon))), max(1, int(math.Ceil((maxLat-minLat)/z.dLat)))
	for j := range rows {
		for i := range cols {
			c := orb.Point{minLon + (float64(i)+0.5)*z.dLon, minLat + (float64(j)+0.5)*z.dLat}
			if psInPolygon(poly, c) {
				z.samples = append(z.samples, psSample{p: c, col: i, row: j})
			}
		}
	}
	return z
}

func psBounds(r orb.Ring) (minLon, minLat, maxLon, maxLat float64) {
	minLon, minLat, maxLon, maxLat = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range r {
		minLon, maxLon = min(minLon, p[0]), max(maxLon, p[0])
		minLat, maxLat = min(minLat, p[1]), max(maxLat, p[1])
	}
	return minLon, minLat, maxLon, maxLat
}

// psInPolygon: inside the outer ring and outside every hole, by the
// winding number.
func psInPolygon(poly orb.Polygon, p orb.Point) bool {
	if len(poly) == 0 || psWinding(poly[0], p) == 0 {
		return false
	}
	for _, h := range poly[1:] {
		if psWinding(h, p) != 0 {
			return false
		}
	}
	return true
}

func psWinding(r orb.Ring, p orb.Point) int {
	w := 0
	for i := range r {
		a, b := r[i], r[(i+1)%len(r)]
		side := (b[0]-a[0])*(p[1]-a[1]) - (p[0]-a[0])*(b[1]-a[1])
		switch {
		case a[1] <= p[1] && b[1] > p[1] && side > 0:
			w++
		case a[1] > p[1] && b[1] <= p[1] && side < 0:
			w--
		}
	}
	return w
}

// psDensify cuts every segment into pieces of at most spacingM metres.
func psDensify(l orb.LineString, spacingM float64) []orb.Point {
	out := []orb.Point{l[0]}
	for i := 1; i < len(l); i++ {
		a, b := l[i-1], l[i]
		n := max(1, int(math.Ceil(psSegKM(a, b)*1000/spacingM)))
		for k := 1; k <= n; k++ {
			f := float64(k) / float64(n)
			out = append(out, orb.Point{a[0] + (b[0]-a[0])*f, a[1] + (b[1]-a[1])*f})
		}
	}
	return out
}

// psBox is a bounding box widened so that every point within D (plus the
// band) of a point in it, on the projection centred on that point, lies
// inside the widened box.
type psBox struct{ w, s, e, n float64 }

func psWidened(pts []orb.Point) psBox {
	b := psBox{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	for _, p := range pts {
		b = psBox{min(b.w, p[0]), min(b.s, p[1]), max(b.e, p[0]), max(b.n, p[1])}
	}
	mLat := (psDistanceM + 1) / psMPerDeg
	mLon := (psDistanceM + 1) / (psMPerDeg * math.Cos((max(math.Abs(b.s), math.Abs(b.n))+mLat)*math.Pi/180))
	return psBox{b.w - mLon, b.s - mLat, b.e + mLon, b.n + mLat}
}

func (b psBox) has(p orb.Point) bool { return p[0] >= b.w && p[0] <= b.e && p[1] >= b.s && p[1] <= b.n }

// psVisit finds, by brute force, the sources covering each sample: every
// densified point of every track (skipping only boxes that cannot hold a
// point within D), every camera field of view by psInPolygon. A pair
// whose distance lies within psBandM of D is measured again on points
// psFineM apart; it returns how many pairs were, and how many of them
// remain unsure.
func psVisit(zones []*psZone, srcs []psSource) (refined, unsure int) {
	const sure2 = (psDistanceM - 1e-6) * (psDistanceM - 1e-6)
	for si, src := range srcs {
		if src.track == nil {
			for _, z := range zones {
				for i := range z.samples {
					if psInPolygon(src.area, z.samples[i].p) {
						z.samples[i].sure = append(z.samples[i].sure, si)
					}
				}
			}
			continue
		}
		dense := psDensify(src.track, psDenseM)
		var fine []orb.Point
		type chunk struct {
			pts []orb.Point
			box psBox
		}
		var chunks []chunk
		for k := 0; k < len(dense); k += 64 {
			pts := dense[k:min(len(dense), k+64)]
			chunks = append(chunks, chunk{pts, psWidened(pts)})
		}
		whole := psWidened(dense)
		for _, z := range zones {
			for i := range z.samples {
				s := &z.samples[i]
				if !whole.has(s.p) {
					continue
				}
				kx := psMPerDeg * math.Cos(s.p[1]*math.Pi/180)
				best := math.Inf(1)
			scan:
				for _, c := range chunks {
					if !c.box.has(s.p) {
						continue
					}
					for _, q := range c.pts {
						dx, dy := (q[0]-s.p[0])*kx, (q[1]-s.p[1])*psMPerDeg
						if d2 := dx*dx + dy*dy; d2 < best {
							if best = d2; best <= sure2 {
								break scan
							}
						}
					}
				}
				if best > sure2 && math.Sqrt(best) <= psDistanceM+psBandM {
					refined++
					if fine == nil {
						fine = psDensify(src.track, psFineM)
					}
					for _, q := range fine {
						dx, dy := (q[0]-s.p[0])*kx, (q[1]-s.p[1])*psMPerDeg
						best = min(best, dx*dx+dy*dy)
					}
				}
				switch {
				case best <= sure2:
					s.sure = append(s.sure, si)
				case math.Sqrt(best) <= psDistanceM+psFineBandM:
					s.unsure = append(s.unsure, si)
					unsure++
				}
			}
		}
	}
	return refined, unsure
}

type psPeriod struct {
	label    string
	from, to time.Time
}

// psPeriods are the days (step 1) or ISO weeks (step 7; from is a Monday)
// that overlap [from, to).
func psPeriods(from, to time.Time, step int) []psPeriod {
	var out []psPeriod
	for d := from; d.Before(to); d = d.AddDate(0, 0, step) {
		label := d.Format(time.DateOnly)
		if step == 7 {
			y, w := d.ISOWeek()
			label = fmt.Sprintf("%d-W%02d", y, w)
		}
		out = append(out, psPeriod{label, d, d.AddDate(0, 0, step)})
	}
	return out
}

// psActive: a span overlaps the period for a positive time, or is an
// instant inside it.
func psActive(src psSource, per psPeriod) bool {
	for _, s := range src.spans {
		if s[1].After(s[0]) {
			if s[0].Before(per.to) && s[1].After(per.from) {
				return true
			}
		} else if !s[0].Before(per.from) && s[0].Before(per.to) {
			return true
		}
	}
	return false
}

func psHours(spans []psSpan, per psPeriod) float64 {
	var d time.Duration
	for _, s := range spans {
		a, b := s[0], s[1]
		if a.Before(per.from) {
			a = per.from
		}
		if b.After(per.to) {
			b = per.to
		}
		if b.After(a) {
			d += b.Sub(a)
		}
	}
	return d.Hours()
}

func psRound(x float64, d int) float64 {
	f := math.Pow10(d)
	return math.Round(x*f) / f
}

// psCheckCoverage compares every zone's figures in every period.
func psCheckCoverage(t *testing.T, what string, got []patrol.ZoneCoverage, zones []*psZone, sc psScenario, periods []psPeriod) {
	t.Helper()
	srcs := sc.sources
	if len(got) != len(zones)*len(periods) {
		t.Fatalf("%s: %d figures, want %d zones × %d periods", what, len(got), len(zones), len(periods))
	}
	for zi, z := range zones {
		// The sources that touch the zone at all.
		sureTouch, maybeTouch := map[int]bool{}, map[int]bool{}
		for _, s := range z.samples {
			for _, si := range s.sure {
				sureTouch[si] = true
			}
			for _, si := range s.unsure {
				maybeTouch[si] = true
			}
		}
		var shares []float64
		for pi, per := range periods {
			g := got[zi*len(periods)+pi]
			where := fmt.Sprintf("%s %s %s", what, z.id, per.label)
			if g.Zone != z.id || g.Period.Label != per.label || !g.Period.From.Equal(per.from) || !g.Period.To.Equal(per.to) {
				t.Fatalf("%s: figure %d is %s %+v", where, zi*len(periods)+pi, g.Zone, g.Period)
			}
			act := make([]bool, len(srcs))
			for si := range srcs {
				act[si] = psActive(srcs[si], per)
			}
			lo, hi, loKM, hiKM := 0, 0, 0.0, 0.0
			for _, s := range z.samples {
				switch {
				case slices.ContainsFunc(s.sure, func(si int) bool { return act[si] }):
					lo, hi, loKM, hiKM = lo+1, hi+1, loKM+s.w, hiKM+s.w
				case slices.ContainsFunc(s.unsure, func(si int) bool { return act[si] }):
					hi, hiKM = hi+1, hiKM+s.w
				}
			}
			var shareLo, shareHi float64
			if z.line != nil {
				shareLo, shareHi = loKM/z.totalKM, hiKM/z.totalKM
				if math.Abs(g.LengthKM-z.totalKM) > 0.0006 || g.Kind != "line" {
					t.Errorf("%s: a %s of %v km, the test finds a line of %v km", where, g.Kind, g.LengthKM, z.totalKM)
				}
				if g.CoveredKM < psRound(loKM, 3)-0.0006 || g.CoveredKM > psRound(hiKM, 3)+0.0006 {
					t.Errorf("%s: %v km covered, the test finds %v to %v", where, g.CoveredKM, loKM, hiKM)
				}
			} else {
				shareLo, shareHi = float64(lo)/float64(len(z.samples)), float64(hi)/float64(len(z.samples))
				if g.Kind != "area" || g.AreaKM2 != psRound(float64(len(z.samples))*0.25, 6) || g.CoveredKM2 != psRound(float64(g.Covered)*0.25, 6) {
					t.Errorf("%s: a %s of %v km² (%v covered), the test finds an area of %d cells", where, g.Kind, g.AreaKM2, g.CoveredKM2, len(z.samples))
				}
			}
			if g.Samples != len(z.samples) {
				t.Errorf("%s: %d samples, the test finds %d", where, g.Samples, len(z.samples))
			}
			if g.Covered < lo || g.Covered > hi || g.Share < psRound(shareLo, 6)-1e-6 || g.Share > psRound(shareHi, 6)+1e-6 {
				t.Errorf("%s: %d covered, share %v; the test finds %d to %d, share %.6f to %.6f", where, g.Covered, g.Share, lo, hi, shareLo, shareHi)
			}
			shares = append(shares, g.Share)

			// Tracks: those active in the period that come within D.
			gotTracks := map[string]bool{}
			for _, id := range g.Tracks {
				gotTracks[id] = true
			}
			for si, src := range srcs {
				if src.track == nil {
					continue
				}
				must, may := act[si] && sureTouch[si], act[si] && (sureTouch[si] || maybeTouch[si])
				if gotTracks[src.id] && !may || !gotTracks[src.id] && must {
					t.Errorf("%s: track %s listed %v, the test finds it active %v and within D %v", where, src.id, gotTracks[src.id], act[si], sureTouch[si])
				}
				delete(gotTracks, src.id)
			}
			for id := range gotTracks {
				t.Errorf("%s: unknown track %s", where, id)
			}

			// Footprints: every camera report whose field of view holds a
			// sample, with its up-hours in the period (a report with no
			// up interval may be listed, with none).
			gotFoot := map[string]float64{}
			for _, f := range g.Footprints {
				if f.UpHours != 0 || !slices.Contains(sc.dead, f.ID) {
					gotFoot[f.ID] = f.UpHours
				}
			}
			wantFoot := map[string]float64{}
			for si, src := range srcs {
				if src.track == nil && sureTouch[si] {
					wantFoot[src.id] = psRound(psHours(src.spans, per), 4)
				}
			}
			if !psEqualMaps(gotFoot, wantFoot) {
				t.Errorf("%s: footprints %v, the test finds %v", where, gotFoot, wantFoot)
			}
		}
		mean, lo, hi := 0.0, math.Inf(1), math.Inf(-1)
		for _, s := range shares {
			mean, lo, hi = mean+s/float64(len(shares)), min(lo, s), max(hi, s)
		}
		t.Logf("%s %s (%d samples): share mean %.4f, min %.4f, max %.4f; %v", what, z.id, len(z.samples), mean, lo, hi, psShortShares(shares))
	}
}

func psShortShares(s []float64) string {
	var b strings.Builder
	for i, x := range s {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.3f", x)
	}
	return b.String()
}

func psEqualMaps[V comparable](a, b map[string]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// psCheckCameraHours: the camera's up-hours over patrol-south, day by day,
// are the day less the planted outages.
func psCheckCameraHours(t *testing.T, got []patrol.ZoneCoverage, days []psPeriod) {
	t.Helper()
	var hours []float64
	for _, g := range got {
		if g.Zone != "patrol-south" {
			continue
		}
		sum := 0.0
		for _, f := range g.Footprints {
			sum += f.UpHours
		}
		hours = append(hours, sum)
	}
	for d, per := range days {
		want := 24.0
		for _, o := range psPlanted {
			want -= psHours([]psSpan{o}, per)
		}
		if d >= len(hours) || math.Abs(hours[d]-want) > 1e-9 {
			t.Errorf("camera over patrol-south on %s: up %v h, the planted outages leave %v h", per.label, hours[min(d, len(hours)-1)], want)
		}
	}
	t.Logf("camera up-hours by day: %v", hours)
}

// psCheckGaps compares the gap list as of asOf: each sample's staleness
// and last visit, then, when no unsure pair decides any last visit, the
// whole list (stretches and cells, in order).
func psCheckGaps(t *testing.T, got []patrol.ZoneGaps, zones []*psZone, srcs []psSource, asOf time.Time, days int) {
	t.Helper()
	if len(got) != len(zones) {
		t.Fatalf("gaps for %d zones, want %d", len(got), len(zones))
	}
	last := make([]time.Time, len(srcs))
	for si, src := range srcs {
		for _, s := range src.spans {
			if s[0].After(asOf) {
				continue
			}
			l := s[1]
			if l.After(asOf) {
				l = asOf
			}
			if l.After(last[si]) {
				last[si] = l
			}
		}
	}
	limit := time.Duration(days) * 24 * time.Hour
	stale := func(l time.Time) bool { return l.IsZero() || asOf.Sub(l) > limit }
	for zi, z := range zones {
		g := got[zi]
		if g.Zone != z.id || !g.AsOf.Equal(asOf) || g.Days != days {
			t.Fatalf("gaps %d: %s as of %v, %d days; want %s as of %v, %d days", zi, g.Zone, g.AsOf, g.Days, z.id, asOf, days)
		}
		lo := make([]time.Time, len(z.samples)) // surely visited
		hi := make([]time.Time, len(z.samples)) // perhaps visited
		determined := true
		for i, s := range z.samples {
			for _, si := range s.sure {
				if last[si].After(lo[i]) {
					lo[i] = last[si]
				}
			}
			hi[i] = lo[i]
			for _, si := range s.unsure {
				if last[si].After(hi[i]) {
					hi[i] = last[si]
				}
			}
			determined = determined && lo[i].Equal(hi[i])
		}

		// Each sample's staleness and last visit.
		apiStale := make([]bool, len(z.samples))
		bad := 0
		fail := func(format string, a ...any) {
			if bad++; bad <= 5 {
				t.Errorf("gaps %s: "+format, append([]any{z.id}, a...)...)
			}
		}
		if z.line != nil {
			if len(g.Cells) > 0 {
				t.Errorf("gaps %s: cells on a line", z.id)
			}
			for _, st := range g.Stretches {
				var max0, max1 time.Time
				n := 0
				for i, s := range z.samples {
					if st.Part == 0 && s.at > st.FromKM && s.at < st.ToKM {
						apiStale[i], n = true, n+1
						max0, max1 = psLater(max0, lo[i]), psLater(max1, hi[i])
					}
				}
				switch {
				case n == 0:
					fail("stretch %v–%v km holds no sample", st.FromKM, st.ToKM)
				case st.Never && !max0.IsZero() || !st.Never && max1.IsZero():
					fail("stretch %v–%v km: never %v, the test finds last visits from %v to %v", st.FromKM, st.ToKM, st.Never, max0, max1)
				case !st.Never && (st.LastVisited.Before(max0) || st.LastVisited.After(max1)):
					fail("stretch %v–%v km: last visited %v, the test finds %v", st.FromKM, st.ToKM, st.LastVisited, max1)
				}
			}
		} else {
			if len(g.Stretches) > 0 {
				t.Errorf("gaps %s: stretches on an area", z.id)
			}
			index := map[[2]int]int{}
			for i, s := range z.samples {
				index[[2]int{s.col, s.row}] = i
			}
			for _, c := range g.Cells {
				i, ok := index[[2]int{c.Col, c.Row}]
				if !ok {
					fail("cell %d,%d is not in the test's grid", c.Col, c.Row)
					continue
				}
				apiStale[i] = true
				if c.Never && !lo[i].IsZero() || !c.Never && (hi[i].IsZero() || c.LastVisited.Before(lo[i]) || c.LastVisited.After(hi[i])) {
					fail("cell %d,%d: never %v, last visited %v; the test finds %v", c.Col, c.Row, c.Never, c.LastVisited, hi[i])
				}
			}
		}
		nStale, nNever := 0, 0
		for i := range z.samples {
			if stale(hi[i]) {
				nStale++
				if hi[i].IsZero() {
					nNever++
				}
			}
			if stale(lo[i]) == stale(hi[i]) && apiStale[i] != stale(lo[i]) {
				fail("sample %d at %v: stale %v, the test finds %v (last visit %v)", i, z.samples[i].p, apiStale[i], stale(lo[i]), lo[i])
			}
		}
		if bad > 5 {
			t.Errorf("gaps %s: %d differences in all", z.id, bad)
		}

		// The whole list, when every last visit is known.
		if determined && bad == 0 {
			var want, have []psGap
			var share float64
			if z.line != nil {
				want, share = psWantStretches(z, lo, stale, asOf)
				have = psStretchGaps(g.Stretches)
			} else {
				want, share = psWantCells(z, lo, stale, asOf)
				have = psCellGaps(g.Cells)
			}
			if len(have) != len(want) {
				t.Errorf("gaps %s: %d entries, the test finds %d", z.id, len(have), len(want))
			}
			for k := range min(len(have), len(want)) {
				if !psSameGap(have[k], want[k]) {
					t.Errorf("gaps %s: entry %d is %+v, the test finds %+v", z.id, k, have[k], want[k])
					break
				}
			}
			if math.Abs(g.Share-share) > 1e-6+1e-12 {
				t.Errorf("gaps %s: stale share %v, the test finds %v", z.id, g.Share, share)
			}
		} else if !determined {
			t.Logf("gaps %s: some last visits depend on unsure pairs; compared sample by sample only", z.id)
		}
		t.Logf("gaps %s as of %s, more than %d days: %d stretches, %d cells; %d of %d samples stale (%d never visited), stale share %v",
			z.id, asOf.Format(time.DateOnly), days, len(g.Stretches), len(g.Cells), nStale, len(z.samples), nNever, g.Share)
	}
}

func psLater(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// psGap is one entry of a gap list: a stretch (Part, From, To) or a cell
// (Col, Row, BBox), its position and its last visit.
type psGap struct {
	Part             int
	From, To, Length float64
	Col, Row         int
	Lon, Lat         float64
	BBox             [4]float64
	Never            bool
	Last             time.Time
	Days             float64
}

func psStaleness(a, b psGap) int {
	switch {
	case a.Never && b.Never:
		return 0
	case a.Never:
		return -1
	case b.Never:
		return 1
	}
	return a.Last.Compare(b.Last)
}

func psWantStretches(z *psZone, last []time.Time, stale func(time.Time) bool, asOf time.Time) ([]psGap, float64) {
	var out []psGap
	staleKM := 0.0
	for i := 0; i < len(z.samples); {
		if !stale(last[i]) {
			i++
			continue
		}
		j, latest := i, last[i]
		for j+1 < len(z.samples) && stale(last[j+1]) && last[j+1].IsZero() == last[i].IsZero() {
			j++
			latest = psLater(latest, last[j])
		}
		from, to := z.samples[i].at-z.samples[i].w/2, z.samples[j].at+z.samples[j].w/2
		for k := i; k <= j; k++ {
			staleKM += z.samples[k].w
		}
		mid, _ := psAlong(z.line, z.cum, (from+to)/2)
		out = append(out, psVisitGap(psGap{From: from, To: to, Length: to - from, Lon: mid[0], Lat: mid[1]}, latest, asOf))
		i = j + 1
	}
	slices.SortStableFunc(out, psStaleness)
	return out, psRound(staleKM/z.totalKM, 6)
}

func psWantCells(z *psZone, last []time.Time, stale func(time.Time) bool, asOf time.Time) ([]psGap, float64) {
	var out []psGap
	for i, s := range z.samples {
		if !stale(last[i]) {
			continue
		}
		w, so := z.west+float64(s.col)*z.dLon, z.south+float64(s.row)*z.dLat
		out = append(out, psVisitGap(psGap{Col: s.col, Row: s.row, Lon: s.p[0], Lat: s.p[1], BBox: [4]float64{w, so, w + z.dLon, so + z.dLat}}, last[i], asOf))
	}
	slices.SortStableFunc(out, func(a, b psGap) int {
		return cmp.Or(psStaleness(a, b), cmp.Compare(a.Row, b.Row), cmp.Compare(a.Col, b.Col))
	})
	return out, psRound(float64(len(out))/float64(len(z.samples)), 6)
}

func psVisitGap(g psGap, last, asOf time.Time) psGap {
	if last.IsZero() {
		g.Never = true
		return g
	}
	g.Last, g.Days = last.UTC(), asOf.Sub(last).Hours()/24
	return g
}

// psSameGap compares a served entry with the test's: the same part,
// cell and last visit, km to the metre and positions to the API's
// rounding (10⁻⁷ degrees).
func psSameGap(got, want psGap) bool {
	near := func(a, b, tol float64) bool { return math.Abs(a-b) <= tol }
	pos := 0.5e-7 + 1e-12
	ok := got.Part == want.Part && got.Col == want.Col && got.Row == want.Row && got.Never == want.Never && got.Last.Equal(want.Last) &&
		near(got.From, want.From, 0.0005+1e-9) && near(got.To, want.To, 0.0005+1e-9) && near(got.Length, want.Length, 0.0005+1e-9) && near(got.Lon, want.Lon, pos) && near(got.Lat, want.Lat, pos) &&
		near(got.Days, want.Days, 0.0005+1e-9)
	for k := range got.BBox {
		ok = ok && near(got.BBox[k], want.BBox[k], pos)
	}
	return ok
}

func psStretchGaps(ss []patrol.Stretch) []psGap {
	out := []psGap{}
	for _, s := range ss {
		g := psGap{Part: s.Part, From: s.FromKM, To: s.ToKM, Length: s.LengthKM, Lon: s.Lon, Lat: s.Lat, Never: s.Never, Days: s.DaysSince}
		if s.LastVisited != nil {
			g.Last = s.LastVisited.UTC()
		}
		out = append(out, g)
	}
	return out
}

func psCellGaps(cs []patrol.Cell) []psGap {
	out := []psGap{}
	for _, c := range cs {
		g := psGap{Col: c.Col, Row: c.Row, Lon: c.Lon, Lat: c.Lat, BBox: c.BBox, Never: c.Never, Days: c.DaysSince}
		if c.LastVisited != nil {
			g.Last = c.LastVisited.UTC()
		}
		out = append(out, g)
	}
	return out
}

// psCheckRestrictions compares the restriction counts of every period,
// the test placing each restriction in the areas by psInPolygon (and in
// no line).
func psCheckRestrictions(t *testing.T, what string, got []patrol.RestrictionTally, rs []psRestriction, g psGeom, periods []psPeriod) {
	t.Helper()
	if len(got) != len(periods) {
		t.Fatalf("%s restrictions: %d periods, want %d", what, len(got), len(periods))
	}
	areas := []struct {
		id   string
		poly orb.Polygon
	}{{"patrol-north", g.north}, {"patrol-south", g.south}, {"contact-line", nil}}
	total := map[string]string{}
	all := psPeriod{"all", periods[0].from, periods[len(periods)-1].to}
	for i, per := range slices.Concat(periods, []psPeriod{all}) {
		want := map[string]string{}
		count := map[string][2]int{}
		bump := func(k string, m int) { c := count[k]; count[k] = [2]int{c[0] + 1, c[1] + m} }
		count["total"] = [2]int{}
		for _, r := range rs {
			if r.at.Before(per.from) || !r.at.Before(per.to) {
				continue
			}
			bump("total", r.minutes)
			bump("party/"+r.party, r.minutes)
			bump("by/"+r.by, r.minutes)
			in := false
			for _, a := range areas {
				if a.poly != nil && psInPolygon(a.poly, orb.Point{r.lon, r.lat}) {
					in = true
					bump("zone/"+a.id, r.minutes)
					bump("pz/"+r.party+"/"+a.id, r.minutes)
				}
			}
			if !in {
				bump("zone/", r.minutes)
				bump("pz/"+r.party+"/", r.minutes)
			}
		}
		for k, c := range count {
			want[k] = psCountMin(c[0], float64(c[1]))
		}
		if i == len(periods) {
			total = want
			break
		}
		if tally := psFlatten(got[i]); !psEqualMaps(tally, want) || got[i].Period.Label != per.label {
			t.Errorf("%s restrictions %s (%s): %v, the test finds %v", what, per.label, got[i].Period.Label, tally, want)
		}
		if len(got[i].ByZone) < len(areas) || got[i].ByZone[0].Key != "patrol-north" || got[i].ByZone[2].Key != "contact-line" {
			t.Errorf("%s restrictions %s: by zone %+v, want every zone in order", what, per.label, got[i].ByZone)
		}
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(total)) {
		fmt.Fprintf(&b, " %s=%s", k, total[k])
	}
	t.Logf("%s restrictions over %s–%s (count/minutes):%s", what, all.from.Format(time.DateOnly), all.to.Format(time.DateOnly), b.String())
}

// psFlatten writes a tally as "dimension/key" → "count/minutes".
func psFlatten(tl patrol.RestrictionTally) map[string]string {
	f := psCountMin
	out := map[string]string{"total": f(tl.Total, tl.DurationMin)}
	for _, c := range tl.ByParty {
		out["party/"+c.Key] = f(c.Count, c.DurationMin)
	}
	for _, c := range tl.ByWhom {
		out["by/"+c.Key] = f(c.Count, c.DurationMin)
	}
	for _, c := range tl.ByZone {
		if c.Count > 0 {
			out["zone/"+c.Key] = f(c.Count, c.DurationMin)
		}
	}
	for _, c := range tl.ByPartyZone {
		out["pz/"+c.Party+"/"+c.Zone] = f(c.Count, c.DurationMin)
	}
	return out
}

// psCheckOutages: the outages served, merged across the daily reports,
// are the planted ones.
func psCheckOutages(t *testing.T, got []ghttp.CameraOutage, planted []psSpan) {
	t.Helper()
	var spans []psSpan
	for _, o := range got {
		if o.Plan != "cam-1" {
			t.Errorf("outage of plan %s", o.Plan)
		}
		spans = append(spans, psSpan{o.Outage.From.UTC(), o.Outage.To.UTC()})
	}
	slices.SortFunc(spans, func(a, b psSpan) int { return a[0].Compare(b[0]) })
	var merged []psSpan
	for _, s := range spans {
		if n := len(merged); n > 0 && !s[0].After(merged[n-1][1]) {
			merged[n-1][1] = psLater(merged[n-1][1], s[1])
			continue
		}
		merged = append(merged, s)
	}
	format := func(ss []psSpan) string {
		var b strings.Builder
		for _, s := range ss {
			fmt.Fprintf(&b, " [%s, %s)", s[0].Format("01-02 15:04"), s[1].Format("01-02 15:04"))
		}
		return b.String()
	}
	if !slices.Equal(merged, planted) {
		t.Errorf("camera outages (%d served, merged):%s\nplanted:%s", len(got), format(merged), format(planted))
	} else {
		t.Logf("camera outages (%d served, merged):%s", len(got), format(merged))
	}
}

// psCheckExports: /v1/patrols lists every plan and report, the GeoJSON
// every track and restriction, the CSV every restriction.
func psCheckExports(t *testing.T, e *env, sc psScenario, end time.Time) {
	t.Helper()
	q := fmt.Sprintf("?from=%s&to=%s", psDay0.Format(time.DateOnly), end.AddDate(0, 0, 1).Format(time.DateOnly))
	var list struct {
		Patrols []ghttp.PatrolView `json:"patrols"`
	}
	psGet(t, e, "/v1/patrols"+q, &list)
	plans, reports := 0, 0
	for _, p := range sc.patrols {
		if p.plan.ID != "" {
			plans++
		}
		if p.report != nil {
			reports++
		}
	}
	n := 0
	for _, p := range list.Patrols {
		n += len(p.Reports)
	}
	if len(list.Patrols) != plans || n != reports {
		t.Errorf("/v1/patrols: %d plans and %d reports, want %d and %d", len(list.Patrols), n, plans, reports)
	}
	var fc struct {
		Features []struct {
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	psGet(t, e, "/v1/patrols.geojson"+q, &fc)
	kinds := map[string]int{}
	for _, f := range fc.Features {
		kinds[fmt.Sprint(f.Properties["kind"])]++
	}
	if want := map[string]int{"plan": plans, "track": sc.tracks, "restriction": len(sc.restrictions)}; !psEqualMaps(kinds, want) {
		t.Errorf("/v1/patrols.geojson: features %v, want %v", kinds, want)
	}
	rows, err := csv.NewReader(strings.NewReader(psGetRaw(t, e, "/v1/patrols/restrictions.csv"+q))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, r := range rows[1:] {
		got = append(got, strings.Join(r[:6], ","))
	}
	for _, r := range sc.restrictions {
		want = append(want, fmt.Sprintf("%s,%s,%s,%s,%s,%d", r.at.Format(time.RFC3339), psNum(r.lon), psNum(r.lat), r.by, r.party, r.minutes))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("restrictions.csv: %d rows, want %d:\n%v\n%v", len(got), len(want), got, want)
	}
}

func psNum(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

func psCountMin(n int, minutes float64) string {
	return fmt.Sprintf("%d/%s", n, strconv.FormatFloat(minutes, 'f', -1, 64))
}
