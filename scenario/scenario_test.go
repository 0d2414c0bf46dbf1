package scenario_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/internal/testkeys"
	"github.com/guarantor/guarantor/scenario"
	"github.com/guarantor/guarantor/ucdp"
)

var cfg = scenario.Config{Seed: 42, Start: time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC), Days: 14, Monitors: 6}

// TestDeterministic: the same config gives the same items, byte for byte;
// another seed gives others.
func TestDeterministic(t *testing.T) {
	a, _ := json.Marshal(scenario.Generate(cfg))
	b, _ := json.Marshal(scenario.Generate(cfg))
	if !bytes.Equal(a, b) {
		t.Fatal("the same config generated different scenarios")
	}
	// Only Start's UTC date counts.
	late := cfg
	late.Start = cfg.Start.Add(13 * time.Hour)
	if c, _ := json.Marshal(scenario.Generate(late)); !bytes.Equal(a, c) {
		t.Fatal("the time of day of Start changed the scenario")
	}
	other := cfg
	other.Seed = 43
	if c, _ := json.Marshal(scenario.Generate(other)); bytes.Equal(a, c) {
		t.Fatal("another seed generated the same scenario")
	}
	if d, _ := json.Marshal(scenario.Generate(scenario.Config{})); len(d) < 1000 {
		t.Fatal("the zero config generated next to nothing")
	}
}

// TestItemsAreValidLabelledAndOnTheLine checks every item: the log accepts
// it, it is labelled synthetic, it lies in the Donbas, its id is unique
// for its monitor, its source type is its monitor's, its time is in the
// scenario's days, and its text names the settlement nearest to it.
func TestItemsAreValidLabelledAndOnTheLine(t *testing.T) {
	k := testkeys.New(t, "monitor")
	items := scenario.Generate(cfg)
	if len(items) < 14*20 {
		t.Fatalf("only %d items for 14 days", len(items))
	}
	monitors := scenario.Monitors(cfg)
	settlements := scenario.Settlements()
	end := cfg.Start.AddDate(0, 0, cfg.Days+1)
	accuracies := map[string][]float64{"patrol": {1500, 3000}, "camera": {400}, "uav": {60}, "acoustic": {2500}}
	heavy := []string{"artillery_122mm", "artillery_152mm", "mlrs_grad", "mortar_120mm", "tank", "anti_tank_gun_100mm"}
	type key struct {
		monitor int
		id      string
	}
	ids := map[key]bool{}
	for i, it := range items {
		o := it.Observation
		if !strings.HasPrefix(o.Text, "SYNTHETIC") || !strings.HasPrefix(o.ID, "syn-") {
			t.Fatalf("item %d not labelled synthetic: %q %q", i, o.ID, o.Text)
		}
		if ids[key{it.Monitor, o.ID}] {
			t.Fatalf("id %s repeated for monitor %d", o.ID, it.Monitor)
		}
		ids[key{it.Monitor, o.ID}] = true
		lon, lat := o.Location.Coordinates[0], o.Location.Coordinates[1]
		if lat < 46.9 || lat > 49.0 || lon < 37.3 || lon > 39.9 {
			t.Fatalf("item %d at %v, outside the Donbas", i, o.Location.Coordinates)
		}
		if it.Monitor < 0 || it.Monitor >= cfg.Monitors {
			t.Fatalf("monitor index %d", it.Monitor)
		}
		if o.SourceType != monitors[it.Monitor].SourceType || !slices.Contains(accuracies[o.SourceType], *o.AccuracyM) {
			t.Fatalf("item %d: %s with accuracy %v from monitor %+v", i, o.SourceType, *o.AccuracyM, monitors[it.Monitor])
		}
		if i > 0 && o.ObservedAt.Before(items[i-1].Observation.ObservedAt) {
			t.Fatal("items not in time order")
		}
		if o.ObservedAt.Before(cfg.Start) || !o.ObservedAt.Before(end) || o.ObservedAt.Location() != time.UTC {
			t.Fatalf("item %d observed at %v", i, o.ObservedAt)
		}
		if o.Category == "heavy_weapon_sighting" && !slices.Contains(heavy, o.Weapon) {
			t.Fatalf("item %d: heavy weapon %q", i, o.Weapon)
		}
		if o.BearingDeg != nil && (*o.BearingDeg < 0 || *o.BearingDeg >= 360) {
			t.Fatalf("item %d: bearing %v", i, *o.BearingDeg)
		}
		checkWhere(t, o, settlements)
		if err := testkeys.Valid(t, entry.KindObservation, o, k); err != nil {
			t.Fatalf("item %d invalid: %v", i, err)
		}
	}
}

// checkWhere: the text ends "in <settlement>" or "<n> km <direction> of
// <settlement>", and that settlement is the nearest, about that far.
func checkWhere(t *testing.T, o entry.Observation, settlements []scenario.Settlement) {
	t.Helper()
	lon, lat := o.Location.Coordinates[0], o.Location.Coordinates[1]
	nearest, best := "", math.Inf(1)
	for _, s := range settlements {
		if d := km(lat, lon, s.Lat, s.Lon); d < best {
			nearest, best = s.Name, d
		}
	}
	if strings.HasSuffix(o.Text, " in "+nearest) && best < 1 {
		return
	}
	i := strings.LastIndex(o.Text, " of ")
	if i < 0 {
		t.Fatalf("text %q names no place", o.Text)
	}
	name, fields := o.Text[i+len(" of "):], strings.Fields(o.Text[:i])
	if name != nearest || len(fields) < 3 || fields[len(fields)-2] != "km" {
		t.Fatalf("text %q does not name the nearest settlement, %s (%.1f km)", o.Text, nearest, best)
	}
	if n, err := strconv.Atoi(fields[len(fields)-3]); err != nil || math.Abs(float64(n)-best) > 0.51 {
		t.Fatalf("text %q: %s is %.1f km away", o.Text, nearest, best)
	}
}

// km is the distance between two points (equirectangular; fine at 10 km).
func km(lat1, lon1, lat2, lon2 float64) float64 {
	dy := (lat2 - lat1) * 111.195
	dx := (lon2 - lon1) * 111.195 * math.Cos((lat1+lat2)/2*math.Pi/180)
	return math.Hypot(dx, dy)
}

// TestCategoryMix holds the observations of long scenarios to the ranges
// documented at scenario.mix.
func TestCategoryMix(t *testing.T) {
	ranges := map[string][2]float64{
		"shelling": {0.20, 0.40}, "explosion_heard": {0.15, 0.40}, "small_arms": {0.12, 0.30},
		"heavy_weapon_sighting": {0.03, 0.12}, "drone_strike": {0.01, 0.08}, "infrastructure_damage": {0.01, 0.08},
		"movement_restriction": {0.01, 0.08}, "mine": {0.01, 0.06}, "troop_movement": {0.005, 0.05},
		"civilian_casualty": {0, 0.03},
	}
	for _, seed := range []int64{1, 2, 3} {
		items := scenario.Generate(scenario.Config{Seed: seed, Days: 60, Monitors: 8})
		cats := map[string]int{}
		for _, it := range items {
			cats[it.Observation.Category]++
		}
		for c, n := range cats {
			r, ok := ranges[c]
			if f := float64(n) / float64(len(items)); !ok || f < r[0] || f > r[1] {
				t.Errorf("seed %d: %s is %.1f%% of %d observations, want %.1f–%.1f%%", seed, c, 100*f, len(items), 100*r[0], 100*r[1])
			}
		}
		t.Logf("seed %d: %d observations: %v", seed, len(items), cats)
		if cats["civilian_casualty"] == 0 || len(cats) != len(ranges) {
			t.Errorf("seed %d: categories %v", seed, cats)
		}
	}
}

// TestShapedLikeSMMReports: ceasefire violations (each explosion, burst or
// shot: the greatest count among an event's reports) number tens to
// hundreds on an ordinary day, with occasional spikes, and are heavier in
// the Kyiv evening.
func TestShapedLikeSMMReports(t *testing.T) {
	c := scenario.Config{Seed: 9, Start: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), Days: 90}
	items := scenario.Generate(c)
	cfvs := map[int]int{} // by event
	day := map[int]int{}
	evening, events := 0, map[int]bool{}
	for _, it := range items {
		o := it.Observation
		if !events[it.Event] {
			events[it.Event] = true
			kyiv := o.ObservedAt.Add(2 * time.Hour) // EET; in EEST an hour is misjudged
			if kyiv.Month() >= 4 && kyiv.Month() <= 10 {
				kyiv = kyiv.Add(time.Hour)
			}
			if h := kyiv.Hour(); h >= 18 || h < 1 {
				evening++
			}
			day[it.Event] = int(o.ObservedAt.Sub(c.Start).Hours() / 24)
		}
		switch o.Category {
		case "shelling", "explosion_heard", "small_arms":
			cfvs[it.Event] = max(cfvs[it.Event], *o.Count)
		}
	}
	perDay := make([]int, c.Days+1)
	for e, n := range cfvs {
		perDay[day[e]] += n
	}
	perDay = perDay[:c.Days]
	sorted := slices.Sorted(slices.Values(perDay))
	median := sorted[len(sorted)/2]
	t.Logf("ceasefire violations a day: least %d, median %d, most %d; %d of %d events in the evening", sorted[0], median, sorted[len(sorted)-1], evening, len(events))
	if median < 100 || median > 600 || sorted[0] < 20 {
		t.Errorf("ceasefire violations a day: median %d, least %d; want tens to hundreds", median, sorted[0])
	}
	if sorted[len(sorted)-1] < 2*median || sorted[len(sorted)-1] > 5000 {
		t.Errorf("no plausible spike: most %d, median %d", sorted[len(sorted)-1], median)
	}
	if f := float64(evening) / float64(len(events)); f < 0.55 || f > 0.85 {
		t.Errorf("%.0f%% of events in the Kyiv evening (18:00–01:00), want most", 100*f)
	}
}

// TestSeveralMonitorsReportOneEvent: a good share of events is reported by
// two or three distinct monitors, close in time and place, so fusion has
// something to fuse.
func TestSeveralMonitorsReportOneEvent(t *testing.T) {
	items := scenario.Generate(scenario.Config{Seed: 5, Days: 30, Monitors: 8})
	byEvent := map[int][]entry.Observation{}
	monitorsOf := map[int][]int{}
	for _, it := range items {
		byEvent[it.Event] = append(byEvent[it.Event], it.Observation)
		monitorsOf[it.Event] = append(monitorsOf[it.Event], it.Monitor)
	}
	multi := 0
	for e, obs := range byEvent {
		if len(obs) > 3 {
			t.Fatalf("event %d reported %d times", e, len(obs))
		}
		if len(obs) > 1 {
			multi++
		}
		ms := slices.Clone(monitorsOf[e])
		slices.Sort(ms)
		if len(slices.Compact(ms)) != len(obs) {
			t.Fatalf("event %d reported twice by one monitor: %v", e, monitorsOf[e])
		}
		for i, a := range obs {
			for _, b := range obs[i+1:] {
				if dt := a.ObservedAt.Sub(b.ObservedAt).Abs(); dt > 10*time.Minute {
					t.Fatalf("event %d: reports %v apart", e, dt)
				}
				lim := (*a.AccuracyM + *b.AccuracyM) / 1000
				if d := km(a.Location.Coordinates[1], a.Location.Coordinates[0], b.Location.Coordinates[1], b.Location.Coordinates[0]); d > lim {
					t.Fatalf("event %d: reports %.1f km apart, beyond their accuracy (%.1f km)", e, d, lim)
				}
				if a.Category != b.Category && !(slices.Contains([]string{"shelling", "explosion_heard"}, a.Category) && slices.Contains([]string{"shelling", "explosion_heard"}, b.Category)) {
					t.Fatalf("event %d reported as %s and %s", e, a.Category, b.Category)
				}
			}
		}
	}
	t.Logf("%d of %d events reported by more than one monitor", multi, len(byEvent))
	if f := float64(multi) / float64(len(byEvent)); f < 0.12 || f > 0.40 {
		t.Errorf("%.0f%% of events reported by more than one monitor", 100*f)
	}
}

func TestMonitors(t *testing.T) {
	ms := scenario.Monitors(scenario.Config{Monitors: 8})
	want := []string{"patrol", "camera", "patrol", "acoustic", "uav", "patrol", "patrol", "camera"}
	covered := make([]bool, len(scenario.Settlements()))
	for i, m := range ms {
		if m.Index != i || m.SourceType != want[i] || !strings.Contains(m.Name, m.SourceType) {
			t.Fatalf("monitor %d: %+v", i, m)
		}
		switch m.SourceType {
		case "patrol":
			for j := m.From; j <= m.To; j++ {
				covered[j] = true
			}
		case "camera", "acoustic":
			if m.ReachKM <= 0 || m.Home.Name == "" {
				t.Fatalf("fixed sensor %+v", m)
			}
		}
	}
	if slices.Contains(covered, false) {
		t.Fatalf("patrols leave settlements uncovered: %v", covered)
	}
	if d := scenario.Monitors(scenario.Config{}); len(d) != 6 {
		t.Fatalf("default: %d monitors", len(d))
	}
	// One monitor, a patrol, reports everything.
	one := scenario.Generate(scenario.Config{Seed: 1, Days: 3, Monitors: 1})
	for _, it := range one {
		if it.Monitor != 0 || it.Observation.SourceType != "patrol" {
			t.Fatalf("one monitor: %+v", it)
		}
	}
	if len(one) < 3*20 {
		t.Fatalf("one monitor: %d items", len(one))
	}
}

func TestSettlements(t *testing.T) {
	ss := scenario.Settlements()
	if len(ss) != 39 || ss[0].Name != "Stanytsia Luhanska" || ss[38].Name != "Shyrokyne" {
		t.Fatalf("settlements: %d, first %q", len(ss), ss[0].Name)
	}
	ss[0].Name = "changed"
	if scenario.Settlements()[0].Name != "Stanytsia Luhanska" {
		t.Fatal("Settlements returns the table itself")
	}
	sides := map[scenario.Side]int{}
	for _, s := range scenario.Settlements() {
		sides[s.Side]++
		if s.Lat < 46.9 || s.Lat > 49.0 || s.Lon < 37.3 || s.Lon > 39.9 || (s.Oblast != "Donetsk" && s.Oblast != "Luhansk") {
			t.Errorf("settlement %+v", s)
		}
	}
	if sides[scenario.GCA] != 25 || sides[scenario.NGCA] != 13 || sides[scenario.Divided] != 1 {
		t.Errorf("sides %v", sides)
	}
	inPair := map[string]bool{}
	for _, p := range scenario.Pairs() {
		if p.A.Side == p.B.Side && p.A.Side != scenario.Divided {
			t.Errorf("pair on one side: %s, %s", p.A.Name, p.B.Name)
		}
		if d := km(p.A.Lat, p.A.Lon, p.B.Lat, p.B.Lon); d > 25 {
			t.Errorf("pair %s–%s is %.0f km apart", p.A.Name, p.B.Name, d)
		}
		inPair[p.A.Name], inPair[p.B.Name] = true, true
	}
	if len(inPair) != 39 {
		t.Errorf("%d settlements in pairs, want all 39", len(inPair))
	}
}

func TestPartnerCSVReadsAsUCDP(t *testing.T) {
	var buf bytes.Buffer
	n, err := scenario.WritePartnerCSV(&buf, cfg)
	if err != nil || n < cfg.Days {
		t.Fatalf("wrote %d rows: %v", n, err)
	}
	r, err := ucdp.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	oblast := map[string]string{}
	for _, s := range scenario.Settlements() {
		oblast[s.Name] = s.Oblast + " oblast"
	}
	for i := 0; ; i++ {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			if i != n {
				t.Fatalf("read %d rows, wrote %d", i, n)
			}
			return
		}
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		if !strings.HasPrefix(ev.SourceHeadline, "SYNTHETIC") || ev.ID < 900000000 {
			t.Fatalf("row %d not labelled synthetic or in the real id range: %+v", i, ev)
		}
		if ev.Adm1 != oblast[ev.WhereCoordinates] {
			t.Fatalf("row %d: %s in %q", i, ev.WhereCoordinates, ev.Adm1)
		}
	}
}

// FuzzGenerate: any small config generates items that are labelled, on
// the line, unique per monitor and valid as the log checks them.
func FuzzGenerate(f *testing.F) {
	f.Add(int64(0), uint16(0), uint8(0), uint8(0), uint8(0))
	f.Add(int64(-7), uint16(4000), uint8(3), uint8(1), uint8(200))
	k := testkeys.New(f, "monitor")
	f.Fuzz(func(t *testing.T, seed int64, day uint16, days, monitors, perDay uint8) {
		c := scenario.Config{
			Seed: seed, Start: time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(day)*10),
			Days: int(days % 4), Monitors: int(monitors % 20), PerDay: int(perDay),
		}
		ids := map[string]bool{}
		for _, it := range scenario.Generate(c) {
			o := it.Observation
			lon, lat := o.Location.Coordinates[0], o.Location.Coordinates[1]
			key := strconv.Itoa(it.Monitor) + " " + o.ID
			if ids[key] || !strings.HasPrefix(o.ID, "syn-") || !strings.HasPrefix(o.Text, "SYNTHETIC") ||
				lat < 46.9 || lat > 49.0 || lon < 37.3 || lon > 39.9 {
				t.Fatalf("config %+v: item %+v", c, it)
			}
			ids[key] = true
			if err := testkeys.Valid(t, entry.KindObservation, o, k); err != nil {
				t.Fatalf("config %+v: %v", c, err)
			}
		}
	})
}
