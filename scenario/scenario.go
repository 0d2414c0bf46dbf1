// Package scenario generates a deterministic, clearly labelled SYNTHETIC
// monitoring scenario on real geography: observations along the 2015–2022
// Donbas line of contact, shaped like the OSCE Special Monitoring
// Mission's daily reports (tens to hundreds of ceasefire violations a day,
// heavier in the evening, with occasional spikes).
//
// The events are invented; the places are real (see Settlements). Fire is
// placed between pairs of settlements facing each other across the line
// (see Pairs). Each monitor key has one kind (patrol, camera, UAV or
// acoustic sensor) and covers a stretch of the line or, for a fixed
// sensor, the area within its reach; an event is reported by one to three
// monitors that could have observed it, each with its own error in time,
// place and count, so that fusion has something to fuse. Every
// observation's id starts with "syn-" and its text with "SYNTHETIC".
//
// Generation uses math/rand/v2's PCG seeded from Config.Seed alone and
// never depends on map iteration order: the same Config gives the same
// items, byte for byte.
package scenario

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/guarantor/guarantor/entry"
)

// Config shapes a scenario. The same Config always gives the same items.
// Zero fields take the defaults below.
type Config struct {
	// Seed drives every random choice. Default 0.
	Seed int64
	// Start is the first day; only its date, in UTC, is used. Default
	// 2021-02-01.
	Start time.Time
	// Days is how many days to generate. Default 7.
	Days int
	// Monitors is how many monitor keys report (see Monitors). Default 6.
	Monitors int
	// PerDay is the mean number of events on an ordinary day; one day in
	// ten on average is an escalation with three times as many. Each
	// event is reported 1.4 times on average. Default 40, which with
	// the counts per event gives a few hundred ceasefire violations (SMM
	// counting: each explosion, burst or shot is one) on an ordinary day.
	PerDay int
	// MaxReports is the most monitors that report one event: 3 (the
	// default: 70% of events are reported once, 22% twice, 8% three
	// times) or up to 5 (40%, 25%, 15%, 12%, 8% for one to five).
	MaxReports int
}

func (c *Config) defaults() {
	if c.Start.IsZero() {
		c.Start = time.Date(2021, 2, 1, 0, 0, 0, 0, time.UTC)
	}
	if c.Days <= 0 {
		c.Days = 7
	}
	if c.Monitors <= 0 {
		c.Monitors = 6
	}
	if c.PerDay <= 0 {
		c.PerDay = 40
	}
}

// Item is one observation and the index of the monitor (0..Monitors-1)
// whose key signs it.
type Item struct {
	Monitor int
	// Event is which generated event the item reports, numbered from 0 in
	// the order generated: the ground truth for fusion. Items with the
	// same Event describe one event.
	Event       int
	Observation entry.Observation
}

// Monitor is one monitor key of a scenario.
type Monitor struct {
	Index int
	// Name is a suggested key name, e.g. "monitor.patrol-01".
	Name string
	// SourceType is the source_type of every observation the monitor
	// makes: "patrol", "camera", "uav" or "acoustic".
	SourceType string
	// From and To bound, inclusive, the stretch of Settlements (indices)
	// a patrol or UAV covers; an event between a pair of settlements is
	// covered when either is in the stretch.
	From, To int
	// Home is where a camera or acoustic sensor stands, or the middle of
	// a patrol's or UAV's stretch.
	Home Settlement
	// ReachKM is how far from Home a camera sees or an acoustic sensor
	// hears; 0 for patrols and UAVs.
	ReachKM float64
}

// kinds is the repeating pattern of monitor kinds by index: half the keys
// are patrol teams, the rest fixed cameras, acoustic sensors and UAVs.
var kinds = []string{"patrol", "camera", "patrol", "acoustic", "uav", "patrol"}

// sensorSites are where fixed sensors stand, in the order they are
// placed: hotspots of the SMM years. (Which of these places had SMM
// cameras is not taken from a source.)
var sensorSites = []string{
	"Avdiivka", "Shyrokyne", "Zolote", "Marinka", "Stanytsia Luhanska", "Svitlodarsk",
	"Krasnohorivka", "Popasna", "Hnutove", "Zaitseve", "Pisky", "Novotoshkivske",
}

// Monitors returns the monitor keys of the scenario cfg describes. The
// patrols' stretches tile the whole line with some overlap, so every
// event can be reported.
func Monitors(cfg Config) []Monitor {
	cfg.defaults()
	n := len(settlements)
	count := map[string]int{}
	for i := range cfg.Monitors {
		count[kinds[i%len(kinds)]]++
	}
	seen := map[string]int{}
	sensors := 0
	out := make([]Monitor, cfg.Monitors)
	for i := range out {
		kind := kinds[i%len(kinds)]
		k := seen[kind]
		seen[kind]++
		m := Monitor{Index: i, Name: fmt.Sprintf("monitor.%s-%02d", kind, i+1), SourceType: kind}
		switch kind {
		case "patrol", "uav":
			overlap := 2
			if kind == "uav" {
				overlap = 4
			}
			m.From = max(0, k*n/count[kind]-overlap)
			m.To = min(n-1, (k+1)*n/count[kind]-1+overlap)
			m.Home = settlements[(m.From+m.To)/2]
		default:
			m.Home = settlements[settlementIndex(sensorSites[sensors%len(sensorSites)])]
			sensors++
			m.From, m.To = -1, -1
			m.ReachKM = 8
			if kind == "acoustic" {
				m.ReachKM = 15
			}
		}
		out[i] = m
	}
	return out
}

func settlementIndex(name string) int {
	for i, s := range settlements {
		if s.Name == name {
			return i
		}
	}
	panic("scenario: no settlement " + name)
}

// hotspots weight the settlements where the SMM recorded most violations
// (looked up by name, never iterated).
var hotspots = map[string]int{
	"Avdiivka": 6, "Yasynuvata": 5, "Horlivka": 5, "Zaitseve": 5, "Donetsk": 4, "Marinka": 4,
	"Zolote": 4, "Popasna": 3, "Svitlodarsk": 3, "Shyrokyne": 3, "Pisky": 4, "Krasnohorivka": 3,
	"Stanytsia Luhanska": 2, "Hnutove": 2, "Novotoshkivske": 3,
}

// mix is the share of each category among events, per thousand. The share
// among observations differs a little, because acoustic sensors report
// shelling as explosions heard and some categories are reported by fewer
// monitors; the tests hold observations to these ranges:
//
//	shelling 20–40%, explosion_heard 15–40%, small_arms 12–30%,
//	heavy_weapon_sighting 3–12%, drone_strike, infrastructure_damage and
//	movement_restriction 1–8% each, mine 1–6%, troop_movement 0.5–5%,
//	civilian_casualty at most 3%, other none.
var mix = []struct {
	name  string
	share int
}{
	{"shelling", 300}, {"explosion_heard", 250}, {"small_arms", 200}, {"heavy_weapon_sighting", 70},
	{"drone_strike", 40}, {"infrastructure_damage", 40}, {"movement_restriction", 40}, {"mine", 30},
	{"troop_movement", 20}, {"civilian_casualty", 10},
}

var (
	heavyWeapons = []string{"artillery_122mm", "artillery_152mm", "mlrs_grad", "mortar_120mm", "tank", "anti_tank_gun_100mm"}
	shellWeapons = []string{"mortar_82mm", "mortar_120mm", "artillery_122mm", "artillery_152mm", "grenade_launcher"}
	compass      = []string{"north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west"}
)

// Generate returns the scenario's observations ordered by time, then
// monitor, then id. Ids are "syn-m<monitor>-<yyyymmdd>-<seq>", unique per
// monitor.
func Generate(cfg Config) []Item {
	cfg.defaults()
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x9e3779b97f4a7c15))
	start := time.Date(cfg.Start.Year(), cfg.Start.Month(), cfg.Start.Day(), 0, 0, 0, 0, time.UTC)
	monitors := Monitors(cfg)

	// A settlement by its weight, then one of the pairs it is in.
	weights := make([]int, len(settlements))
	pairsOf := make([][][2]int, len(settlements))
	total := 0
	for i, s := range settlements {
		weights[i] = 1 + hotspots[s.Name]
		total += weights[i]
	}
	for _, p := range pairs {
		pairsOf[p[0]] = append(pairsOf[p[0]], p)
		pairsOf[p[1]] = append(pairsOf[p[1]], p)
	}
	pickPair := func() (int, [2]int) {
		x, i := rng.IntN(total), 0
		for ; i < len(weights)-1 && x >= weights[i]; i++ {
			x -= weights[i]
		}
		return i, pairsOf[i][rng.IntN(len(pairsOf[i]))]
	}
	pickCategory := func() string {
		x := rng.IntN(1000)
		for _, c := range mix {
			if x < c.share {
				return c.name
			}
			x -= c.share
		}
		return "other"
	}

	seq := make([]int, cfg.Monitors)
	var items []Item
	eventNo := 0
	for day := range cfg.Days {
		date := start.AddDate(0, 0, day)
		n := cfg.PerDay/2 + rng.IntN(cfg.PerDay+1)
		if rng.IntN(10) == 0 { // an escalation day
			n *= 3
		}
		for range n {
			near, pair := pickPair()
			ev := event{near: near, pair: pair, category: pickCategory()}
			ev.at = date.Add(timeOfDay(rng, date))
			ev.place(rng)
			ev.count = eventCount(rng, ev.category)
			switch {
			case ev.category == "heavy_weapon_sighting":
				ev.weapon = heavyWeapons[rng.IntN(len(heavyWeapons))]
			case ev.category == "shelling" && rng.IntN(2) == 0:
				ev.weapon = shellWeapons[rng.IntN(len(shellWeapons))]
			}
			var able []int
			for _, m := range monitors {
				if ev.observableBy(m) {
					able = append(able, m.Index)
				}
			}
			// 70% one report, 22% two, 8% three, from distinct monitors
			// that could have observed the event.
			reports := 1
			if cfg.MaxReports > 3 {
				x := rng.IntN(100)
				for _, edge := range []int{40, 65, 80, 92} {
					if x >= edge {
						reports++
					}
				}
				reports = min(reports, cfg.MaxReports)
			} else if x := rng.IntN(100); x >= 92 {
				reports = 3
			} else if x >= 70 {
				reports = 2
			}
			reports = min(reports, len(able))
			for _, k := range rng.Perm(len(able))[:reports] {
				m := monitors[able[k]]
				seq[m.Index]++
				o := ev.report(rng, m, seq[m.Index])
				if o.ObservedAt.Before(start) {
					o.ObservedAt = start
				}
				items = append(items, Item{Monitor: m.Index, Event: eventNo, Observation: o})
			}
			eventNo++
		}
	}
	slices.SortFunc(items, func(a, b Item) int {
		if c := a.Observation.ObservedAt.Compare(b.Observation.ObservedAt); c != 0 {
			return c
		}
		if a.Monitor != b.Monitor {
			return a.Monitor - b.Monitor
		}
		return strings.Compare(a.Observation.ID, b.Observation.ID)
	})
	return items
}

// event is what happened; each monitor's report of it differs a little.
type event struct {
	near     int    // the settlement the event is nearest or in (index)
	pair     [2]int // indices into settlements; near is one of them
	category string
	at       time.Time
	lat, lon float64
	count    int
	weapon   string
	anywhere bool // a real event: not kept north of the Azov coast
}

// coastLat approximates the Azov coast at the south end of the line
// (Shyrokyne lies on it): nothing is placed south of it.
const coastLat = 47.09

// place puts the event where such events happen, near its settlement a
// (b is the settlement facing a across the line): fire in and around a,
// small arms and mines between a and b, damage, casualties and
// checkpoints in a, weapons and troops behind a.
func (ev *event) place(rng *rand.Rand) {
	a, b := settlements[ev.pair[0]], settlements[ev.pair[1]]
	if ev.near == ev.pair[1] {
		a, b = b, a
	}
	between := func(lo, hi, radiusKM float64) {
		t := lo + rng.Float64()*(hi-lo)
		lat, lon := a.Lat+t*(b.Lat-a.Lat), a.Lon+t*(b.Lon-a.Lon)
		ev.lat, ev.lon = offset(lat, lon, rng.Float64()*radiusKM, rng.Float64()*360)
	}
	switch ev.category {
	case "small_arms": // across the contact line between the positions
		between(0.2, 0.7, 2)
	case "mine": // in the grey zone between the positions
		between(0.2, 0.7, 1)
	case "infrastructure_damage", "civilian_casualty", "movement_restriction":
		ev.lat, ev.lon = offset(a.Lat, a.Lon, rng.Float64()*1.5, rng.Float64()*360)
	case "heavy_weapon_sighting", "troop_movement":
		// Behind a's position: away from b, within 60 degrees.
		away := bearingDeg(b.Lat, b.Lon, a.Lat, a.Lon) + rng.Float64()*120 - 60
		km := 2 + rng.Float64()*6
		ev.lat, ev.lon = offset(a.Lat, a.Lon, km, away)
		if ev.lat < coastLat { // not into the sea: along the coast instead
			ev.lat, ev.lon = offset(a.Lat, a.Lon, km, 270)
		}
	default: // shelling, explosions, drone strikes: in and around a, from
		// its rear to half-way to the position facing it
		between(-0.4, 0.5, 3)
	}
	ev.lat = max(ev.lat, coastLat)
}

// observableBy reports whether monitor m could have observed the event:
// its kind can observe the category, and the event is in its stretch or
// within its reach.
func (ev *event) observableBy(m Monitor) bool {
	switch m.SourceType {
	case "camera":
		if !slices.Contains([]string{"shelling", "explosion_heard", "small_arms", "drone_strike", "heavy_weapon_sighting", "troop_movement", "infrastructure_damage"}, ev.category) {
			return false
		}
	case "acoustic":
		if !slices.Contains([]string{"shelling", "explosion_heard", "small_arms", "drone_strike"}, ev.category) {
			return false
		}
	case "uav":
		if !slices.Contains([]string{"shelling", "heavy_weapon_sighting", "troop_movement", "infrastructure_damage", "mine"}, ev.category) {
			return false
		}
	}
	if m.ReachKM > 0 {
		return distanceKM(m.Home.Lat, m.Home.Lon, ev.lat, ev.lon) <= m.ReachKM
	}
	in := func(i int) bool { return m.From <= i && i <= m.To }
	return in(ev.pair[0]) || in(ev.pair[1])
}

// accuracyM is the radius each kind of monitor reports.
func accuracyM(src, category string) float64 {
	switch src {
	case "camera":
		return 400
	case "uav":
		return 60
	case "acoustic":
		return 2500
	}
	if category == "explosion_heard" {
		return 3000 // heard, not seen
	}
	return 1500
}

// timeError is the most a monitor's reported time is off, either way.
func timeError(src string) time.Duration {
	switch src {
	case "camera":
		return time.Minute
	case "acoustic":
		return 30 * time.Second
	case "uav":
		return 3 * time.Minute
	}
	return 5 * time.Minute
}

// report is monitor m's observation of the event, its seq-th report.
func (ev *event) report(rng *rand.Rand, m Monitor, seq int) entry.Observation {
	src := m.SourceType
	category := ev.category
	if src == "acoustic" && category == "shelling" {
		category = "explosion_heard" // a sensor hears explosions, not who fired
	}
	acc := accuracyM(src, category)
	// The report is displaced within half its accuracy and minutes off.
	lat, lon := offset(ev.lat, ev.lon, rng.Float64()*acc/2000, rng.Float64()*360)
	if !ev.anywhere {
		lat = max(lat, coastLat)
	}
	e := timeError(src)
	at := ev.at.Add(time.Duration(rng.Int64N(int64(2*e+time.Second))) - e).Truncate(time.Second)
	count := ev.count
	if count > 2 {
		count = max(1, count+rng.IntN(count/2+1)-count/4)
	}
	o := entry.Observation{
		ID:         fmt.Sprintf("syn-m%02d-%s-%04d", m.Index+1, at.Format("20060102"), seq),
		ObservedAt: at,
		Location:   entry.Point{Type: "Point", Coordinates: [2]float64{round6(lon), round6(lat)}},
		Category:   category,
		AccuracyM:  &acc,
		Count:      &count,
		SourceType: src,
	}
	if src != "acoustic" {
		o.Weapon = ev.weapon
	}
	// Fire seen or heard from a distance carries the bearing from the
	// observer (a fixed sensor's site, or the patrol at the nearer of the
	// paired settlements) to the event, a few degrees off.
	if src != "uav" && (category == "shelling" || category == "explosion_heard" || category == "small_arms") {
		obs := m.Home
		if src == "patrol" {
			a, b := settlements[ev.pair[0]], settlements[ev.pair[1]]
			obs = a
			if distanceKM(b.Lat, b.Lon, ev.lat, ev.lon) < distanceKM(a.Lat, a.Lon, ev.lat, ev.lon) {
				obs = b
			}
		}
		if distanceKM(obs.Lat, obs.Lon, ev.lat, ev.lon) > 0.5 && (src != "patrol" || rng.IntN(10) < 7) {
			bd := math.Mod(bearingDeg(obs.Lat, obs.Lon, ev.lat, ev.lon)+rng.Float64()*10-5+360, 360)
			bd = math.Round(bd)
			if bd >= 360 {
				bd = 0
			}
			o.BearingDeg = &bd
		}
	}
	o.Text = "SYNTHETIC: " + describe(src, category, count, o.Weapon) + " " + where(lat, lon)
	return o
}

// describe says who observed what.
func describe(src, category string, n int, weapon string) string {
	who := map[string]string{"patrol": "patrol", "camera": "camera", "uav": "UAV", "acoustic": "acoustic sensor"}[src]
	what := map[string]string{
		"shelling": "impacts of shelling", "explosion_heard": "undetermined explosions", "small_arms": "bursts of small-arms fire",
		"heavy_weapon_sighting": "heavy weapons", "drone_strike": "drone strikes", "infrastructure_damage": "damaged buildings",
		"mine": "anti-tank mines", "troop_movement": "military vehicles moving", "civilian_casualty": "civilians injured",
	}[category]
	if weapon != "" {
		what += " (" + strings.ReplaceAll(weapon, "_", " ") + ")"
	}
	verb := "saw"
	switch {
	case category == "movement_restriction":
		return "patrol was stopped: access denied at a checkpoint"
	case src == "camera":
		verb = "recorded"
	case src == "acoustic" || category == "explosion_heard":
		verb = "heard"
	}
	return fmt.Sprintf("%s %s %d %s", who, verb, n, what)
}

// where names the nearest settlement and the distance and direction from
// it, in whole kilometres.
func where(lat, lon float64) string {
	near, best := settlements[0], math.Inf(1)
	for _, s := range settlements {
		if d := distanceKM(s.Lat, s.Lon, lat, lon); d < best {
			near, best = s, d
		}
	}
	if best < 1 {
		return "in " + near.Name
	}
	dir := compass[int(math.Round(bearingDeg(near.Lat, near.Lon, lat, lon)/45))%8]
	return fmt.Sprintf("%.0f km %s of %s", best, dir, near.Name)
}

// timeOfDay returns the event's offset from UTC midnight: 65% fall between
// 18:00 and 01:00 Kyiv time, when the SMM recorded most violations, the
// rest at any hour.
func timeOfDay(rng *rand.Rand, date time.Time) time.Duration {
	if rng.IntN(100) < 65 {
		evening := time.Duration(18-kyivOffsetHours(date)) * time.Hour
		return evening + time.Duration(rng.IntN(7*3600))*time.Second
	}
	return time.Duration(rng.IntN(24*3600)) * time.Second
}

// kyivOffsetHours is Kyiv's offset from UTC on the date: 3 (EEST) from the
// last Sunday of March to the last Sunday of October, else 2 (EET), by the
// EU rule Ukraine followed. Computed, so no time zone database is needed.
func kyivOffsetHours(date time.Time) int {
	lastSunday := func(m time.Month) time.Time {
		d := time.Date(date.Year(), m+1, 0, 0, 0, 0, 0, time.UTC) // the month's last day
		return d.AddDate(0, 0, -int(d.Weekday()))
	}
	if !date.Before(lastSunday(time.March)) && date.Before(lastSunday(time.October)) {
		return 3
	}
	return 2
}

func eventCount(rng *rand.Rand, category string) int {
	switch category {
	case "shelling", "explosion_heard", "small_arms":
		return 1 + int(rng.ExpFloat64()*8)
	case "heavy_weapon_sighting", "troop_movement":
		return 1 + rng.IntN(6)
	case "civilian_casualty", "movement_restriction", "drone_strike":
		return 1 + rng.IntN(2)
	default:
		return 1 + rng.IntN(4)
	}
}

// offset moves (lat, lon) by km along bearing degrees (spherical Earth).
func offset(lat, lon, km, bearing float64) (float64, float64) {
	const r = 6371.0
	d := km / r
	b := bearing * math.Pi / 180
	φ1, λ1 := lat*math.Pi/180, lon*math.Pi/180
	φ2 := math.Asin(math.Sin(φ1)*math.Cos(d) + math.Cos(φ1)*math.Sin(d)*math.Cos(b))
	λ2 := λ1 + math.Atan2(math.Sin(b)*math.Sin(d)*math.Cos(φ1), math.Cos(d)-math.Sin(φ1)*math.Sin(φ2))
	return φ2 * 180 / math.Pi, λ2 * 180 / math.Pi
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }
