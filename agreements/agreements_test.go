package agreements_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/agreements"
	"github.com/guarantor/guarantor/agreements/internal/geom"
	"github.com/guarantor/guarantor/engine/agreement"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/internal/testkeys"
	"github.com/guarantor/guarantor/scenario"
	"github.com/guarantor/guarantor/ucdp"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"
)

// maxBody is the most a shipped agreement's JSON may take, leaving room
// for the entry's first line and the co-signatures of every party and
// guarantor within the 64 KiB entry limit.
const maxBody = 48 << 10

// ucdpFile is the shared real data, read in place: shared/data beside the
// repository, never in it.
const ucdpFile = "../../shared/data/ucdp-ged-ukraine-2016-2023.csv"

func shipped(t *testing.T, name string) *entry.Agreement {
	t.Helper()
	js, err := agreements.JSON(name)
	if err != nil {
		t.Fatal(err)
	}
	var a entry.Agreement
	if err := json.Unmarshal(js, &a); err != nil {
		t.Fatal(err)
	}
	return &a
}

func compiled(t *testing.T, name string) *agreement.Compiled {
	t.Helper()
	c, err := agreement.Compile(shipped(t, name))
	if err != nil {
		t.Fatalf("%s does not compile: %v", name, err)
	}
	return c
}

func TestNames(t *testing.T) {
	got := strings.Join(agreements.Names(), ",")
	if want := "framework-2025,minsk-ii"; got != want {
		t.Fatalf("Names() = %s, want %s", got, want)
	}
	for _, name := range agreements.Names() {
		if id := shipped(t, name).ID; id != name {
			t.Errorf("%s.yaml has id %q; the file name and the id must agree", name, id)
		}
	}
	if _, err := agreements.JSON("minsk-iii"); !errors.Is(err, agreements.ErrUnknown) {
		t.Errorf("JSON(minsk-iii): got %v, want ErrUnknown", err)
	}
	a, err := agreements.JSON("minsk-ii.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := agreements.JSON("minsk-ii"); !bytes.Equal(a, b) {
		t.Error(`JSON("minsk-ii.yaml") differs from JSON("minsk-ii")`)
	}
}

// TestShippedAgreementsAreValidEntries signs each shipped agreement as an
// entry and runs it through the log's own parser and validator.
func TestShippedAgreementsAreValidEntries(t *testing.T) {
	k := testkeys.New(t, "party.test")
	for _, name := range agreements.Names() {
		t.Run(name, func(t *testing.T) {
			js, err := agreements.JSON(name)
			if err != nil {
				t.Fatal(err)
			}
			if len(js) >= maxBody {
				t.Errorf("JSON form is %d bytes; keep it under %d", len(js), maxBody)
			}
			t.Logf("%s: %d bytes of JSON", name, len(js))
			text, err := entry.Encode(entry.KindAgreement, js)
			if err != nil {
				t.Fatal(err)
			}
			if want := entry.Prefix + "agreement\n" + string(js) + "\n"; text != want {
				t.Error("the JSON form is not compact: Encode changed it")
			}
			raw := testkeys.Sign(t, entry.KindAgreement, string(js), k)
			e, err := entry.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			v, err := e.Validate()
			if err != nil {
				t.Fatalf("the log refuses it: %v", err)
			}
			a := v.(*entry.Agreement)
			if !a.Illustrative {
				t.Error("every shipped agreement is illustrative in part (its geometry at least)")
			}
			// Times come out in RFC 3339, in UTC.
			var raw2 map[string]any
			if err := json.Unmarshal(js, &raw2); err != nil {
				t.Fatal(err)
			}
			eff, _ := raw2["effective"].(string)
			if _, err := time.Parse(time.RFC3339, eff); err != nil || !strings.HasSuffix(eff, "Z") {
				t.Errorf("effective %q is not RFC 3339 in UTC", eff)
			}
			// The JSON form is canonical: converting it again (JSON is
			// YAML) gives the same bytes.
			again, err := agreements.Convert(js)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, js) {
				t.Error("Convert(JSON(name)) differs from JSON(name)")
			}
			for _, s := range a.Signatories() {
				if !strings.HasPrefix(s, "party:") && !strings.HasPrefix(s, "guarantor:") {
					t.Errorf("signatory %q", s)
				}
			}
		})
	}
}

// TestShippedAgreementsCompile compiles each shipped agreement as the
// engine does.
func TestShippedAgreementsCompile(t *testing.T) {
	for _, name := range agreements.Names() {
		c := compiled(t, name)
		if len(c.Triggers) == 0 {
			t.Errorf("%s: no triggers", name)
		}
	}
}

// TestGeometry parses every zone and line as GeoJSON: the right types,
// closed counter-clockwise rings, coordinates in Ukraine's neighbourhood
// with at most four decimals, and no more vertices than a reader can
// review.
func TestGeometry(t *testing.T) {
	for _, name := range agreements.Names() {
		a := shipped(t, name)
		check := func(what, id string, illustrative bool, raw json.RawMessage, types ...string) orb.Geometry {
			t.Helper()
			g, err := geojson.UnmarshalGeometry(raw)
			if err != nil {
				t.Fatalf("%s %s %s: %v", name, what, id, err)
			}
			if !slices.Contains(types, g.Type) {
				t.Errorf("%s %s %s is a %s, want one of %v", name, what, id, g.Type, types)
			}
			if !illustrative {
				t.Errorf("%s %s %s: approximated geometry must be marked illustrative", name, what, id)
			}
			n := 0
			for _, p := range points(g.Geometry()) {
				n++
				if p[0] < 22 || p[0] > 41 || p[1] < 44 || p[1] > 53 {
					t.Errorf("%s %s %s: [%g, %g] is not near Ukraine", name, what, id, p[0], p[1])
				}
				for _, c := range p {
					if s := fmt.Sprint(c); strings.Contains(s, ".") && len(s)-strings.Index(s, ".")-1 > 4 {
						t.Errorf("%s %s %s: %s has more than 4 decimals", name, what, id, s)
					}
				}
			}
			if n > 120 {
				t.Errorf("%s %s %s has %d vertices; simplify it", name, what, id, n)
			}
			return g.Geometry()
		}
		for _, z := range a.Zones {
			g := check("zone", z.ID, z.Illustrative, z.Geometry, "Polygon", "MultiPolygon")
			var polys []orb.Polygon
			switch g := g.(type) {
			case orb.Polygon:
				polys = []orb.Polygon{g}
			case orb.MultiPolygon:
				polys = g
			}
			for _, p := range polys {
				for i, r := range p {
					if len(r) < 4 || r[0] != r[len(r)-1] {
						t.Errorf("%s zone %s: ring %d is not closed", name, z.ID, i)
					}
					if i == 0 && r.Orientation() != orb.CCW {
						t.Errorf("%s zone %s: the exterior ring is not counter-clockwise (RFC 7946)", name, z.ID)
					}
				}
			}
		}
		for _, l := range a.Lines {
			check("line", l.ID, l.Illustrative, l.Geometry, "LineString", "MultiLineString")
		}
	}
}

func points(g orb.Geometry) []orb.Point {
	var out []orb.Point
	switch g := g.(type) {
	case orb.LineString:
		out = g
	case orb.MultiLineString:
		for _, l := range g {
			out = append(out, l...)
		}
	case orb.Polygon:
		for _, r := range g {
			out = append(out, r...)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			for _, r := range p {
				out = append(out, r...)
			}
		}
	}
	return out
}

// TestGeometryIsGenerated checks that the coordinates in the YAML files
// are exactly what internal/geom draws (run go generate if not).
func TestGeometryIsGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: redrawing the zones takes a few seconds")
	}
	for _, name := range agreements.Names() {
		src, err := agreements.YAML(name)
		if err != nil {
			t.Fatal(err)
		}
		out, err := geom.Fill(name+".yaml", src)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, src) {
			t.Errorf("%s.yaml: the geometry is not what internal/geom draws; run go generate ./agreements/", name)
		}
	}
}

// TestLineOfContact checks the approximated line against the settlements
// it is drawn from: it passes within 10 km of the midpoint of every pair
// facing each other across it, and every settlement lies on its side of
// it (government-controlled settlements in "ua-held", the others in
// "occupied-areas").
func TestLineOfContact(t *testing.T) {
	for _, name := range agreements.Names() {
		c := compiled(t, name)
		for _, p := range scenario.Pairs() {
			lon, lat := (p.A.Lon+p.B.Lon)/2, (p.A.Lat+p.B.Lat)/2
			if d := c.DistanceKM(lon, lat, "contact-line"); d < 0 || d > 10 {
				t.Errorf("%s: the line is %.1f km from the midpoint of %s and %s; want at most 10", name, d, p.A.Name, p.B.Name)
			}
		}
	}
	c := compiled(t, "framework-2025")
	for _, s := range scenario.Settlements() {
		held, occupied := c.InZone(s.Lon, s.Lat, "ua-held"), c.InZone(s.Lon, s.Lat, "occupied-areas")
		switch s.Side {
		case scenario.GCA:
			if !held || occupied {
				t.Errorf("%s (government-controlled): in ua-held %v, in occupied-areas %v", s.Name, held, occupied)
			}
		case scenario.NGCA:
			if held || !occupied {
				t.Errorf("%s (not government-controlled): in ua-held %v, in occupied-areas %v", s.Name, held, occupied)
			}
		}
	}
	// A few places well away from the line, to check the hand-drawn
	// outlines.
	for _, p := range []struct {
		name     string
		lon, lat float64
		zone     string
	}{
		{"Kyiv", 30.52, 50.45, "ua-held"},
		{"Lviv", 24.03, 49.84, "ua-held"},
		{"Odesa", 30.73, 46.48, "ua-held"},
		{"Kharkiv", 36.23, 49.99, "ua-held"},
		{"Sumy", 34.80, 50.91, "ua-held"},
		{"Chernihiv", 31.29, 51.49, "ua-held"},
		{"Chernivtsi", 25.94, 48.29, "ua-held"},
		{"Zaporizhzhia", 35.14, 47.84, "ua-held"},
		{"Kherson", 32.62, 46.64, "ua-held"},
		{"Mariupol", 37.55, 47.10, "ua-held"},
		{"Luhansk", 39.31, 48.57, "occupied-areas"},
		{"Simferopol", 34.10, 44.95, "occupied-areas"},
		{"Kerch", 36.47, 45.36, "occupied-areas"},
		{"Belgorod", 36.59, 50.60, ""},
		{"Rostov-on-Don", 39.72, 47.23, ""},
		{"Chisinau", 28.86, 47.01, ""},
		{"Gomel", 30.98, 52.43, ""},
	} {
		held, occupied := c.InZone(p.lon, p.lat, "ua-held"), c.InZone(p.lon, p.lat, "occupied-areas")
		if held != (p.zone == "ua-held") || occupied != (p.zone == "occupied-areas") {
			t.Errorf("%s: in ua-held %v, in occupied-areas %v; want it in %q", p.name, held, occupied, p.zone)
		}
	}
}

// TestZonesAgreeWithDistances checks each zone drawn as "within N km of
// the line" against the engine's own distance on a grid over Donbas:
// inside where the distance is 1.5 km less than N, outside where it is
// 1.5 km more (the tracing and simplification move the edge by less).
// The zones stop at the outline of mainland Ukraine, so points near it
// are not judged.
func TestZonesAgreeWithDistances(t *testing.T) {
	land := geom.Mainland()
	for _, tc := range []struct {
		agreement, zone string
		km              float64
	}{
		{"minsk-ii", "security-zone-50km", 25},
		{"minsk-ii", "security-zone-70km", 35},
		{"minsk-ii", "security-zone-140km", 70},
		{"framework-2025", "security-zone", 15},
	} {
		c := compiled(t, tc.agreement)
		checked := 0
		for lat := 46.6; lat <= 50.0; lat += 0.02 {
			for lon := 36.0; lon <= 40.4; lon += 0.03 {
				p := orb.Point{lon, lat}
				if !planar.RingContains(land, p) || edgeKM(p, land) < 2 {
					continue
				}
				d := c.DistanceKM(lon, lat, "contact-line")
				in := c.InZone(lon, lat, tc.zone)
				switch {
				case d <= tc.km-1.5 && !in:
					t.Errorf("%s %s: [%.2f, %.2f] is %.1f km from the line but outside", tc.agreement, tc.zone, lon, lat, d)
				case d >= tc.km+1.5 && in:
					t.Errorf("%s %s: [%.2f, %.2f] is %.1f km from the line but inside", tc.agreement, tc.zone, lon, lat, d)
				}
				checked++
			}
		}
		if checked < 1000 {
			t.Errorf("%s: only %d points checked", tc.zone, checked)
		}
	}
	// The two sectors of each agreement share out its band along the line.
	for _, tc := range []struct {
		agreement, north, south string
		km                      float64
	}{
		{"minsk-ii", "sector-luhansk", "sector-donetsk", 25},
		{"framework-2025", "patrol-north", "patrol-south", 20},
	} {
		c := compiled(t, tc.agreement)
		for _, s := range scenario.Settlements() {
			n, so := c.InZone(s.Lon, s.Lat, tc.north), c.InZone(s.Lon, s.Lat, tc.south)
			if n == so {
				t.Errorf("%s: %s is in %s %v and in %s %v; want exactly one", tc.agreement, s.Name, tc.north, n, tc.south, so)
			}
			if want := s.Oblast == "Luhansk"; n != want && s.Name != "Vrubivka" {
				t.Errorf("%s: %s (%s oblast) in %s: %v", tc.agreement, s.Name, s.Oblast, tc.north, n)
			}
		}
	}
}

// edgeKM is the distance from p to the ring's boundary, roughly.
func edgeKM(p orb.Point, r orb.Ring) float64 {
	return geom.DistanceKM(p, orb.LineString(r))
}

// ucdpIncidents reads the real UCDP events of 2016–2021 as the reported
// incidents the engine would make of them (one source each).
func ucdpIncidents(t *testing.T) []agreement.Incident {
	t.Helper()
	f, err := os.Open(ucdpFile)
	if err != nil {
		t.Skipf("skipping: the real UCDP GED file is not at %s (it lives in shared/data beside the repository, never in it): %v", ucdpFile, err)
	}
	defer f.Close()
	events, skipped, err := ucdp.ReadAll(f)
	if err != nil || skipped > 0 {
		t.Fatalf("real data: %d rows skipped, %v", skipped, err)
	}
	var out []agreement.Incident
	for _, ev := range events {
		if ev.Year < 2016 || ev.Year > 2021 {
			continue
		}
		o := ev.Observation()
		count := int64(0)
		if o.Count != nil {
			count = int64(*o.Count)
		}
		out = append(out, agreement.Incident{
			ID: ev.ID, Revision: 1, Category: o.Category, Level: "reported",
			From: o.ObservedAt, To: o.ObservedAt,
			Lon: o.Location.Coordinates[0], Lat: o.Location.Coordinates[1],
			RadiusM: int64(*o.AccuracyM), Count: count, Members: 1, Monitors: 1,
			SourceTypes: []string{o.SourceType},
		})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].To.Before(out[j].To) })
	return out
}

// TestMinskZonesHoldTheRealEvents checks that Minsk II's zones hold most
// of the real UCDP events of 2016–2021, the Minsk years (UCDP places an
// event at its settlement, or at the centre of its district or oblast
// when the place is vague, so not all of them fall near the line).
func TestMinskZonesHoldTheRealEvents(t *testing.T) {
	incs := ucdpIncidents(t)
	c := compiled(t, "minsk-ii")
	in := map[string]int{}
	for _, i := range incs {
		for _, z := range c.Doc.Zones {
			if c.InZone(i.Lon, i.Lat, z.ID) {
				in[z.ID]++
			}
		}
	}
	share := func(zone string) float64 { return float64(in[zone]) / float64(len(incs)) }
	t.Logf("%d UCDP events 2016–2021; in the zones: %v", len(incs), in)
	for zone, min := range map[string]float64{"security-zone-50km": 0.8, "security-zone-70km": 0.8, "security-zone-140km": 0.95} {
		if s := share(zone); s < min {
			t.Errorf("%s holds %.1f%% of the real events; want at least %.0f%%", zone, 100*s, 100*min)
		}
	}
	if in["sector-luhansk"]+in["sector-donetsk"] != in["security-zone-50km"] {
		t.Errorf("the sectors hold %d+%d events, the zone they divide %d", in["sector-luhansk"], in["sector-donetsk"], in["security-zone-50km"])
	}
}

// counter answers count() over incidents as the engine does: those whose
// latest report falls in the window and that pass the filter.
func counter(c *agreement.Compiled, incs []agreement.Incident) agreement.Counter {
	return func(f agreement.Filter, from, to time.Time) int64 {
		lo := sort.Search(len(incs), func(i int) bool { return !incs[i].To.Before(from) })
		n := int64(0)
		for _, in := range incs[lo:] {
			if in.To.After(to) {
				break
			}
			if len(f.Categories) > 0 && !slices.Contains(f.Categories, in.Category) ||
				f.MinLevel != "" && !agreement.LevelAtLeast(in.Level, f.MinLevel) ||
				f.Zone != "" && !c.InZone(in.Lon, in.Lat, f.Zone) ||
				f.Party != "" && !slices.Contains(in.AttributedTo, f.Party) {
				continue
			}
			n++
		}
		return n
	}
}

// TestMinskTriggersOnTheRealEvents judges the real UCDP events of
// 2016–2021 under Minsk II, each as a reported incident, with each
// trigger's cooldown: the per-incident ceasefire triggers fire on
// reported incidents in both sectors, the weekly aggregate only in
// escalations, and nothing that needs a weapon, corroboration or an
// attribution (UCDP gives none).
func TestMinskTriggersOnTheRealEvents(t *testing.T) {
	incs := ucdpIncidents(t)
	c := compiled(t, "minsk-ii")
	count := counter(c, incs)
	fired := map[string]int{}
	last := map[string]time.Time{}
	for _, in := range incs {
		ts, errs := c.Eval(in, count)
		if len(errs) > 0 {
			t.Fatalf("incident %d: %v", in.ID, errs)
		}
		for _, tr := range ts {
			if l, ok := last[tr.ID]; ok && tr.Cooldown > 0 && in.To.Sub(l) < tr.Cooldown {
				continue
			}
			last[tr.ID] = in.To
			fired[tr.ID]++
		}
	}
	t.Logf("determinations on %d real events: %v", len(incs), fired)
	for id, bounds := range map[string][2]int{
		"ceasefire-violation-donetsk": {150, 400},
		"ceasefire-violation-luhansk": {20, 150},
		"sustained-violence":          {3, 30},
	} {
		if n := fired[id]; n < bounds[0] || n > bounds[1] {
			t.Errorf("%s fired %d times; want %d to %d", id, n, bounds[0], bounds[1])
		}
	}
	for _, id := range []string{"heavy-fire-corroborated", "heavy-weapon-reported", "heavy-weapon-ua", "heavy-weapon-dpr", "heavy-weapon-lpr", "foreign-forces"} {
		if fired[id] != 0 {
			t.Errorf("%s fired %d times on reported, unattributed events without weapons", id, fired[id])
		}
	}
}

// TestTriggers evaluates each shipped agreement's triggers on incidents
// made for them.
func TestTriggers(t *testing.T) {
	day := func(s string) time.Time {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			panic(err)
		}
		return t.Add(18 * time.Hour)
	}
	zolote := geom.Rectangle("Zolote", 2, 4)[0]
	zoloteLon, zoloteLat := (zolote[0][0]+zolote[2][0])/2, (zolote[0][1]+zolote[2][1])/2
	const (
		avdiivkaLon, avdiivkaLat       = 37.7450, 48.1453 // GCA, Donetsk oblast
		popasnaLon, popasnaLat         = 38.3800, 48.6333 // GCA, Luhansk oblast
		donetskLon, donetskLat         = 37.8053, 48.0000 // NGCA
		dniproLon, dniproLat           = 35.05, 48.46     // GCA, far from the line
		horlivkaLon, horlivkaLat       = 38.0500, 48.3000 // NGCA
		kharkivLon, kharkivLat         = 36.23, 49.99
		inlandLon, inlandLat           = 36.90, 48.60 // 80 km west of the line
		zolote2015, zolote2017, in2021 = "2015-06-01", "2017-06-01", "2021-02-01"
	)
	type inc = agreement.Incident
	for _, tc := range []struct {
		agreement string
		name      string
		in        inc
		count     int64 // what count() answers
		want      string
	}{
		{"minsk-ii", "reported shelling at Avdiivka", inc{Category: "shelling", Level: "reported", Lon: avdiivkaLon, Lat: avdiivkaLat, To: day(in2021)}, 0,
			"ceasefire-violation-donetsk"},
		{"minsk-ii", "corroborated shelling at Popasna", inc{Category: "shelling", Level: "corroborated", Lon: popasnaLon, Lat: popasnaLat, To: day(in2021)}, 0,
			"ceasefire-violation-luhansk,heavy-fire-corroborated"},
		{"minsk-ii", "a movement restriction is no violation", inc{Category: "movement_restriction", Level: "verified", Lon: avdiivkaLon, Lat: avdiivkaLat, To: day(in2021)}, 0,
			""},
		{"minsk-ii", "Grad reported 22 km from the line", inc{Category: "heavy_weapon_sighting", Level: "reported", Lon: 37.46, Lat: 48.2, To: day(in2021), Weapons: []string{"mlrs_grad"}}, 0,
			"heavy-weapon-reported"},
		{"minsk-ii", "122-mm artillery of the Donetsk formations, corroborated", inc{Category: "heavy_weapon_sighting", Level: "verified", Lon: horlivkaLon, Lat: horlivkaLat, To: day(in2021), Weapons: []string{"artillery_122mm"}, AttributedTo: []string{"party:DPR"}}, 0,
			"heavy-weapon-reported,heavy-weapon-dpr"},
		{"minsk-ii", "a tank 12 km from the line, attributed to Ukraine", inc{Category: "heavy_weapon_sighting", Level: "corroborated", Lon: avdiivkaLon - 0.12, Lat: avdiivkaLat, To: day(in2021), Weapons: []string{"tank"}, AttributedTo: []string{"party:UA"}}, 0,
			"heavy-weapon-reported,heavy-weapon-ua"},
		{"minsk-ii", "a tank 80 km from the line", inc{Category: "heavy_weapon_sighting", Level: "corroborated", Lon: inlandLon, Lat: inlandLat, To: day(in2021), Weapons: []string{"tank"}, AttributedTo: []string{"party:UA"}}, 0,
			""},
		{"minsk-ii", "Russian forces verified near Donetsk", inc{Category: "troop_movement", Level: "verified", Lon: donetskLon, Lat: donetskLat, To: day(in2021), AttributedTo: []string{"party:RU"}}, 0,
			"foreign-forces"},
		{"minsk-ii", "fire in the Zolote disengagement area after it was disengaged", inc{Category: "small_arms", Level: "reported", Lon: zoloteLon, Lat: zoloteLat, From: day(zolote2017), To: day(zolote2017)}, 0,
			"ceasefire-violation-luhansk,disengagement-breach"},
		{"minsk-ii", "fire in the Zolote area before the Framework Decision", inc{Category: "small_arms", Level: "reported", Lon: zoloteLon, Lat: zoloteLat, From: day(zolote2015), To: day(zolote2015)}, 0,
			"ceasefire-violation-luhansk"},
		{"minsk-ii", "the tenth incident of the week in the zone", inc{Category: "other", Level: "reported", Lon: avdiivkaLon, Lat: avdiivkaLat, To: day(in2021)}, 10,
			"sustained-violence"},

		{"framework-2025", "corroborated Russian missile strike on Dnipro", inc{Category: "missile_strike", Level: "corroborated", Lon: dniproLon, Lat: dniproLat, To: day("2026-03-01"), AttributedTo: []string{"party:RU"}}, 0,
			"attack-on-one"},
		{"framework-2025", "verified Russian drone strike on Kharkiv", inc{Category: "drone_strike", Level: "verified", Lon: kharkivLon, Lat: kharkivLat, To: day("2026-03-01"), AttributedTo: []string{"party:RU"}}, 0,
			"attack-on-one,sanctions-snapback"},
		{"framework-2025", "reported, unattributed drone strike", inc{Category: "drone_strike", Level: "reported", Lon: dniproLon, Lat: dniproLat, To: day("2026-03-01")}, 0,
			""},
		{"framework-2025", "strike attributed to Russia inside the occupied areas", inc{Category: "drone_strike", Level: "corroborated", Lon: donetskLon, Lat: donetskLat, To: day("2026-03-01"), AttributedTo: []string{"party:RU"}}, 0,
			""},
		{"framework-2025", "verified Russian troops across the line", inc{Category: "troop_movement", Level: "verified", Lon: avdiivkaLon, Lat: avdiivkaLat, To: day("2026-03-01"), AttributedTo: []string{"party:RU"}}, 0,
			"ground-incursion"},
		{"framework-2025", "third verified Russian violation in 30 days", inc{Category: "small_arms", Level: "verified", Lon: horlivkaLon, Lat: horlivkaLat, To: day("2026-03-01"), AttributedTo: []string{"party:RU"}}, 3,
			"sanctions-snapback"},
		{"framework-2025", "152-mm artillery reported near Horlivka", inc{Category: "heavy_weapon_sighting", Level: "reported", Lon: horlivkaLon, Lat: horlivkaLat, To: day("2026-03-01"), Weapons: []string{"artillery_152mm"}}, 0,
			"heavy-weapon-reported"},
		{"framework-2025", "152-mm artillery near Horlivka attributed to Russia", inc{Category: "heavy_weapon_sighting", Level: "corroborated", Lon: horlivkaLon, Lat: horlivkaLat, To: day("2026-03-01"), Weapons: []string{"artillery_152mm"}, AttributedTo: []string{"party:RU"}}, 0,
			"heavy-weapon-reported,heavy-weapon-ru"},
		{"framework-2025", "Ukrainian Grad 22 km from the line", inc{Category: "heavy_weapon_sighting", Level: "corroborated", Lon: avdiivkaLon - 0.4, Lat: avdiivkaLat, To: day("2026-03-01"), Weapons: []string{"mlrs_grad"}, AttributedTo: []string{"party:UA"}}, 0,
			"heavy-weapon-reported,heavy-weapon-ua"},
		{"framework-2025", "the fifteenth corroborated violation of the day", inc{Category: "shelling", Level: "corroborated", Lon: avdiivkaLon, Lat: avdiivkaLat, To: day("2026-03-01")}, 15,
			"persistent-violations"},
		{"framework-2025", "the mission stopped in Donetsk", inc{Category: "movement_restriction", Level: "reported", Lon: donetskLon, Lat: donetskLat, To: day("2026-03-01")}, 0,
			"mission-obstructed-occupied"},
		{"framework-2025", "the mission stopped at Avdiivka", inc{Category: "movement_restriction", Level: "reported", Lon: avdiivkaLon, Lat: avdiivkaLat, To: day("2026-03-01")}, 0,
			"mission-obstructed-ua-held"},
		{"framework-2025", "the mission stopped in Kyiv, far from its patrol areas", inc{Category: "movement_restriction", Level: "reported", Lon: 30.52, Lat: 50.45, To: day("2026-03-01")}, 0,
			""},
	} {
		t.Run(tc.agreement+"/"+tc.name, func(t *testing.T) {
			c := compiled(t, tc.agreement)
			if tc.in.From.IsZero() {
				tc.in.From = tc.in.To
			}
			fired, errs := c.Eval(tc.in, func(agreement.Filter, time.Time, time.Time) int64 { return tc.count })
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			var ids []string
			for _, f := range fired {
				ids = append(ids, f.ID)
			}
			if got := strings.Join(ids, ","); got != tc.want {
				t.Errorf("fired %q, want %q", got, tc.want)
			}
		})
	}
	if d := compiled(t, "minsk-ii").DistanceKM(inlandLon, inlandLat, "contact-line"); d < 50 || math.IsNaN(d) {
		t.Errorf("the inland point is %.1f km from the line; the table needs it beyond 50 km", d)
	}
}

// TestTriggersOnTheGeneratedScenario judges the demo's generated scenario
// (as single reports, the weakest case) under the 2025 framework: the
// reported-level triggers on weapons and on the mission's movement fire,
// and nothing that needs attribution does.
func TestTriggersOnTheGeneratedScenario(t *testing.T) {
	c := compiled(t, "framework-2025")
	cfg := scenario.Config{Seed: 1, Start: time.Date(2026, 11, 14, 0, 0, 0, 0, time.UTC), Days: 14, Monitors: 6}
	var incs []agreement.Incident
	for i, it := range scenario.Generate(cfg) {
		o := it.Observation
		in := agreement.Incident{ID: int64(i + 1), Revision: 1, Category: o.Category, Level: "reported",
			From: o.ObservedAt, To: o.ObservedAt, Lon: o.Location.Coordinates[0], Lat: o.Location.Coordinates[1]}
		if o.Weapon != "" {
			in.Weapons = []string{o.Weapon}
		}
		incs = append(incs, in)
	}
	fired := map[string]int{}
	for _, in := range incs {
		ts, errs := c.Eval(in, counter(c, incs))
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		for _, tr := range ts {
			fired[tr.ID]++
		}
	}
	t.Logf("determinations on %d generated reports (no cooldown): %v", len(incs), fired)
	for _, id := range []string{"heavy-weapon-reported", "mission-obstructed-occupied", "mission-obstructed-ua-held"} {
		if fired[id] == 0 {
			t.Errorf("%s never fired on the generated scenario", id)
		}
	}
	for _, id := range []string{"attack-on-one", "ground-incursion", "heavy-weapon-ru", "heavy-weapon-ua", "sanctions-snapback"} {
		if fired[id] != 0 {
			t.Errorf("%s fired %d times without any attribution", id, fired[id])
		}
	}
}

func TestConvert(t *testing.T) {
	const base = `id: t
version: 1
title: T
effective: 2015-02-15T00:00:00+02:00
parties: [{id: "NO", name: Norway}, {id: ON, name: On}]
triggers:
  - id: x
    title: X
    when: incident.level == "reported" && incident.count > 1
    obligations: [{who: "NO", action: report, within: 24h}]
`
	out, err := agreements.Convert([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"t","version":1,"title":"T","effective":"2015-02-14T22:00:00Z","parties":[{"id":"NO","name":"Norway"},{"id":"ON","name":"On"}],"triggers":[{"id":"x","title":"X","when":"incident.level == \"reported\" && incident.count > 1","obligations":[{"who":"NO","action":"report","within":"24h"}]}]}`
	if string(out) != want {
		t.Errorf("Convert:\n got %s\nwant %s", out, want)
	}
	for _, tc := range []struct {
		name, doc, field, msg string
	}{
		{"unknown field", base + "colour: red\n", "/colour", ""},
		{"duplicate key", base + "title: again\n", "", "twice"},
		{"two documents", base + "---\nid: u\n", "", "one YAML document"},
		{"bad duration", strings.Replace(base, "within: 24h", "within: 1w", 1), "/triggers/0/obligations/0/within", ""},
		{"unknown debtor", strings.Replace(base, `who: "NO"`, "who: UK", 1), "/triggers/0/obligations/0/who", ""},
		{"YAML 1.1 boolean", strings.Replace(base, "version: 1", "version: 1\nillustrative: yes", 1), "/illustrative", ""},
		{"not YAML", "id: [", "", "not YAML"},
		{"empty", "", "", "empty"},
		{"infinite", strings.Replace(base, "version: 1", "version: .inf", 1), "/version", "finite"},
		{"merge key", base + "extra: &a {k: 1}\nmore:\n  <<: *a\n", "/more", "merge"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := agreements.Convert([]byte(tc.doc))
			var ge *guarantor.Error
			if !errors.As(err, &ge) {
				t.Fatalf("got %v, want a *guarantor.Error", err)
			}
			if ge.Code != guarantor.EInvalid || ge.Field != tc.field || !strings.Contains(ge.Error(), tc.msg) {
				t.Errorf("got %s %q: %v; want field %q and %q", ge.Code, ge.Field, ge, tc.field, tc.msg)
			}
		})
	}
}

func ExampleNames() {
	for _, name := range agreements.Names() {
		fmt.Println(name)
	}
	// Output:
	// framework-2025
	// minsk-ii
}
