// Package scenario generates a deterministic, clearly labelled SYNTHETIC
// monitoring scenario on real geography: observations along the 2015–2022
// Donbas line of contact, shaped like the OSCE Special Monitoring
// Mission's daily reports (tens to hundreds of ceasefire violations a day,
// heavier in the evening, with occasional spikes). Several monitors often
// report the same event, so that fusion has something to fuse. Every
// observation's id starts with "syn-" and its text with "SYNTHETIC".
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
type Config struct {
	// Seed drives every random choice. Optional. Default 0.
	Seed int64
	// Start is the first day (its date is used, in UTC). Optional.
	// Default 2021-02-01.
	Start time.Time
	// Days is how many days to generate. Optional. Default 7.
	Days int
	// Monitors is how many monitor keys report. Optional. Default 6.
	Monitors int
	// PerDay is the mean number of events a day. Optional. Default 40.
	PerDay int
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
	Monitor     int
	Event       int // which generated event it reports: ground truth for fusion
	Observation entry.Observation
}

// hotspots weight the settlements where the SMM recorded most violations.
var hotspots = map[string]int{
	"Avdiivka": 6, "Yasynuvata": 5, "Horlivka": 5, "Zaitseve": 5, "Donetsk": 4, "Marinka": 4,
	"Zolote": 4, "Popasna": 3, "Svitlodarsk": 3, "Shyrokyne": 3, "Pisky": 4, "Krasnohorivka": 3,
	"Stanytsia Luhanska": 2, "Hnutove": 2, "Novotoshkivske": 3,
}

type categoryShare struct {
	name  string
	share int // per thousand
}

// mix is the share of each category among events.
var mix = []categoryShare{
	{"shelling", 300}, {"explosion_heard", 250}, {"small_arms", 200}, {"heavy_weapon_sighting", 70},
	{"drone_strike", 40}, {"infrastructure_damage", 40}, {"movement_restriction", 40}, {"mine", 30},
	{"troop_movement", 20}, {"civilian_casualty", 10},
}

var (
	heavyWeapons = []string{"artillery_122mm", "artillery_152mm", "mlrs_grad", "mortar_120mm", "tank", "anti_tank_gun_100mm"}
	shellWeapons = []string{"mortar_82mm", "mortar_120mm", "artillery_122mm", "artillery_152mm", "grenade_launcher"}
	sources      = []string{"patrol", "patrol", "patrol", "camera", "uav", "acoustic"}
	compass      = []string{"north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west"}
)

// Generate returns the scenario's observations ordered by time, then
// monitor, then id.
func Generate(cfg Config) []Item {
	cfg.defaults()
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x9e3779b97f4a7c15))
	start := time.Date(cfg.Start.Year(), cfg.Start.Month(), cfg.Start.Day(), 0, 0, 0, 0, time.UTC)

	weights := make([]int, len(settlements))
	total := 0
	for i, s := range settlements {
		weights[i] = 1 + hotspots[s.Name]
		total += weights[i]
	}
	pickSettlement := func() int {
		x := rng.IntN(total)
		for i, w := range weights {
			if x < w {
				return i
			}
			x -= w
		}
		return len(weights) - 1
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
			ev := event{
				settlement: settlements[pickSettlement()],
				category:   pickCategory(),
				at:         date.Add(eveningTime(rng)),
				distKM:     0.5 + rng.Float64()*7.5,
				dir:        rng.IntN(8),
			}
			ev.lat, ev.lon = offset(ev.settlement.Lat, ev.settlement.Lon, ev.distKM, float64(ev.dir)*45+rng.Float64()*20-10)
			ev.count = eventCount(rng, ev.category)
			if ev.category == "heavy_weapon_sighting" {
				ev.weapon = heavyWeapons[rng.IntN(len(heavyWeapons))]
			} else if ev.category == "shelling" && rng.IntN(2) == 0 {
				ev.weapon = shellWeapons[rng.IntN(len(shellWeapons))]
			}
			// 70% one report, 22% two, 8% three, from distinct monitors.
			reports := 1
			if x := rng.IntN(100); x >= 92 {
				reports = 3
			} else if x >= 70 {
				reports = 2
			}
			reports = min(reports, cfg.Monitors)
			for _, m := range rng.Perm(cfg.Monitors)[:reports] {
				seq[m]++
				items = append(items, Item{Monitor: m, Event: eventNo, Observation: ev.report(rng, m, seq[m])})
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
	settlement Settlement
	category   string
	at         time.Time
	lat, lon   float64
	distKM     float64
	dir        int
	count      int
	weapon     string
}

func (ev event) report(rng *rand.Rand, monitor, seq int) entry.Observation {
	src := sources[rng.IntN(len(sources))]
	if ev.category == "movement_restriction" || ev.category == "mine" || ev.category == "civilian_casualty" {
		src = "patrol"
	}
	acc := map[string]float64{"patrol": 1500, "camera": 400, "uav": 60, "acoustic": 2500}[src]
	if ev.category == "explosion_heard" && src == "patrol" {
		acc = 3000
	}
	// The report is displaced within its accuracy and minutes from the event.
	lat, lon := offset(ev.lat, ev.lon, rng.Float64()*acc/2000, rng.Float64()*360)
	at := ev.at.Add(time.Duration(rng.IntN(600)-300) * time.Second).Truncate(time.Second)
	count := ev.count
	if count > 2 {
		count = max(1, count+rng.IntN(count/2+1)-count/4)
	}
	o := entry.Observation{
		ID:         fmt.Sprintf("syn-m%02d-%s-%04d", monitor+1, at.Format("20060102"), seq),
		ObservedAt: at,
		Location:   entry.Point{Type: "Point", Coordinates: [2]float64{round6(lon), round6(lat)}},
		Category:   ev.category,
		AccuracyM:  &acc,
		Count:      &count,
		Weapon:     ev.weapon,
		SourceType: src,
	}
	if (src == "patrol" || src == "acoustic") && (ev.category == "explosion_heard" || ev.category == "shelling" || ev.category == "small_arms") {
		b := float64(rng.IntN(360))
		o.BearingDeg = &b
	}
	o.Text = fmt.Sprintf("SYNTHETIC: %s %s %.0f km %s of %s", srcVerb(src, ev.category), countWords(count, ev), ev.distKM, compass[ev.dir], ev.settlement.Name)
	return o
}

func srcVerb(src, category string) string {
	switch {
	case category == "explosion_heard" || src == "acoustic":
		return src + " heard"
	case category == "movement_restriction":
		return "patrol was stopped:"
	default:
		return src + " saw"
	}
}

func countWords(n int, ev event) string {
	what := map[string]string{
		"shelling": "impacts of shelling", "explosion_heard": "undetermined explosions", "small_arms": "bursts of small-arms fire",
		"heavy_weapon_sighting": "heavy weapons", "drone_strike": "drone strikes", "infrastructure_damage": "damaged buildings",
		"movement_restriction": "access denied at a checkpoint", "mine": "anti-tank mines", "troop_movement": "military vehicles moving",
		"civilian_casualty": "civilians injured",
	}[ev.category]
	if ev.weapon != "" {
		what += " (" + strings.ReplaceAll(ev.weapon, "_", " ") + ")"
	}
	if ev.category == "movement_restriction" {
		return what
	}
	return fmt.Sprintf("%d %s", n, what)
}

// eveningTime returns a time of day (UTC) weighted to the evening in
// Kyiv (EET, UTC+2), when most violations were recorded.
func eveningTime(rng *rand.Rand) time.Duration {
	if rng.IntN(100) < 65 {
		return 16*time.Hour + time.Duration(rng.IntN(7*3600))*time.Second // 18:00–01:00 EET
	}
	return time.Duration(rng.IntN(24*3600)) * time.Second
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
