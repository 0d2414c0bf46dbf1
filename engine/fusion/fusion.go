// Package fusion groups observations that describe one event into
// incidents. It is pure and deterministic: integer arithmetic only (no
// floating point whose last bits could differ between platforms), no
// clock, no map-order dependence, and the grouping of a set of
// observations does not depend on the order they arrive in.
//
// The rule (Rule) links two observations when they are of compatible
// categories, from different monitors, name no different weapons, are no
// further apart in time than the sum of their sources' timing errors, and
// no further apart in space than their combined accuracy radius plus
// Slack. Accuracy radii are read as independent errors at one confidence
// level, so two reports of one point are expected within
// sqrt(a² + b²) of each other; timing errors are hard bounds (a watch
// read to the nearest five minutes), so they add. An incident is
// a connected group of linked observations (single linkage), so adding an
// observation can only merge incidents, never split them, and no incident
// ever loses a member.
//
// This is the first part of the engine (issue 5): the log-driven state
// machine, derived entries and replay build on it.
package fusion

import (
	"cmp"
	"slices"
)

// Obs is an observation as fusion sees it, in integer units.
type Obs struct {
	Index      uint64 // log index: the observation's identity
	Signer     string // name+hash of the monitor key
	SourceType string
	Category   string
	Weapon     string // weapon class, "" when not reported
	At         int64  // seconds since the Unix epoch
	LatE6      int64  // latitude, micro-degrees
	LonE6      int64  // longitude, micro-degrees
	AccuracyM  int64  // radius, metres
	Count      int64
}

// Rule is the fusion rule. The zero value is not useful; start from
// DefaultRule.
type Rule struct {
	// MaxGap is the most seconds between two linked observations, whatever
	// their sources.
	MaxGap int64
	// TimeError is, per source type, how many seconds a report's time may
	// be off either way; two reports link only when their times are no
	// further apart than the sum of their errors (capped by MaxGap). A
	// source type not listed has DefaultTimeError.
	TimeError map[string]int64
	// DefaultTimeError applies to source types TimeError does not list.
	DefaultTimeError int64
	// Slack is added, in metres, to the combined accuracy radius: the
	// extent of a target (a village block, a position) that reports of
	// one event may legitimately straddle.
	Slack int64
	// MaxAccuracy is the largest accuracy radius, in metres, that may link
	// at all: a report located only to a region corroborates nothing.
	MaxAccuracy int64
	// Groups maps a category to its compatibility group: categories of one
	// group may describe the same event.
	Groups map[string]string
}

// DefaultRule links reports whose times agree within their sources'
// timing errors (a patrol's watch ±5 min, a camera ±1 min, an acoustic
// sensor ±30 s, a UAV ±3 min, so at most 10 minutes apart) and whose
// combined uncertainty (see the package comment) leaves at most 250 m
// unexplained, when they are not from the same monitor and do not name
// different weapons. Explosions heard, shelling,
// strikes and the damage and casualties they cause are one group; small
// arms, sightings of forces, mines, restrictions of movement and other
// reports each fuse only among themselves.
var DefaultRule = Rule{
	MaxGap:           10 * 60,
	TimeError:        map[string]int64{"patrol": 5 * 60, "camera": 60, "acoustic": 30, "uav": 3 * 60, "satellite": 10 * 60, "media": 10 * 60},
	DefaultTimeError: 5 * 60,
	Slack:            250,
	MaxAccuracy:      25000,
	Groups: map[string]string{
		"shelling": "explosive", "explosion_heard": "explosive", "missile_strike": "explosive",
		"air_strike": "explosive", "drone_strike": "explosive", "infrastructure_damage": "explosive",
		"civilian_casualty":     "explosive",
		"small_arms":            "small_arms",
		"heavy_weapon_sighting": "forces", "troop_movement": "forces",
		"mine":                 "mine",
		"movement_restriction": "restriction",
		"other":                "other",
	},
}

// Links reports whether the rule links a and b.
func (r Rule) Links(a, b Obs) bool {
	ga, oka := r.Groups[a.Category]
	gb, okb := r.Groups[b.Category]
	if !oka || !okb || ga != gb {
		return false
	}
	if a.AccuracyM > r.MaxAccuracy || b.AccuracyM > r.MaxAccuracy {
		return false
	}
	if a.Signer == b.Signer && a.Signer != "" {
		return false // one monitor told its two reports apart itself
	}
	if a.Weapon != "" && b.Weapon != "" && a.Weapon != b.Weapon {
		return false
	}
	ea, eb := r.timeError(a.SourceType), r.timeError(b.SourceType)
	gap := min(r.MaxGap, ea+eb)
	if d := a.At - b.At; d > gap || d < -gap {
		return false
	}
	reach := isqrt(a.AccuracyM*a.AccuracyM+b.AccuracyM*b.AccuracyM) + r.Slack
	return DistanceSquaredM(a, b) <= reach*reach
}

func (r Rule) timeError(sourceType string) int64 {
	if e, ok := r.TimeError[sourceType]; ok {
		return e
	}
	return r.DefaultTimeError
}

// metresPerDegree is the length of one degree of latitude for a mean
// Earth radius of 6,371 km.
const metresPerDegree = 111195

// DistanceSquaredM returns the squared distance in metres between a and b
// on an equirectangular projection at their mean latitude, in integer
// arithmetic. Within the tens of kilometres fusion cares about, its error
// is far below any accuracy radius.
func DistanceSquaredM(a, b Obs) int64 {
	dy := (a.LatE6 - b.LatE6) * metresPerDegree / 1_000_000
	cos := cosE6((a.LatE6 + b.LatE6) / 2)
	dx := (a.LonE6 - b.LonE6) * metresPerDegree / 1_000_000 * cos / 1_000_000
	return dx*dx + dy*dy
}

// cosE6 returns cos(latitude) scaled by 10^6 for a latitude in
// micro-degrees, by Bhaskara I's approximation (error below 0.2%):
// cos θ ≈ (180² − 4θ²) / (180² + θ²), θ in degrees; here in millidegrees.
func cosE6(latE6 int64) int64 {
	m := latE6 / 1000 // millidegrees
	if m < 0 {
		m = -m
	}
	if m > 90000 {
		m = 90000
	}
	const h = 180000 * 180000
	return (h - 4*m*m) * 1_000_000 / (h + m*m)
}

// Incident is a group of linked observations.
type Incident struct {
	// ID is the log index of its earliest-logged member: stable as the
	// incident grows, since a merge keeps the smallest.
	ID       uint64
	Members  []uint64 // log indexes, ascending
	Category string   // the most reported category; ties to the first in name order
	From, To int64    // time span, seconds
	LatE6    int64    // centroid, weighted by 1/accuracy²
	LonE6    int64
	RadiusM  int64 // uncertainty: the smallest member accuracy radius
	Count    int64 // the largest count reported by one member
	Monitors int   // distinct signers
	Sources  int   // distinct source types
	Level    string
}

// Corroboration levels.
const (
	Reported     = "reported"     // one source
	Corroborated = "corroborated" // two or more independent sources
)

// Group returns the incidents the rule makes of obs, ordered by ID. The
// result depends only on the set of observations, not on their order.
func Group(r Rule, obs []Obs) []Incident {
	s := slices.Clone(obs)
	slices.SortFunc(s, func(a, b Obs) int {
		return cmp.Or(cmp.Compare(a.At, b.At), cmp.Compare(a.Index, b.Index))
	})
	parent := make([]int, len(s))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	// Sorted by time, each observation need only be compared with those
	// within MaxGap after it.
	for i := range s {
		for j := i + 1; j < len(s) && s[j].At-s[i].At <= r.MaxGap; j++ {
			if r.Links(s[i], s[j]) {
				a, b := find(i), find(j)
				if a != b {
					parent[max(a, b)] = min(a, b)
				}
			}
		}
	}
	groups := map[int][]Obs{}
	for i := range s {
		root := find(i)
		groups[root] = append(groups[root], s[i])
	}
	out := make([]Incident, 0, len(groups))
	for _, members := range groups {
		out = append(out, Summarise(members))
	}
	slices.SortFunc(out, func(a, b Incident) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Summarise describes a group of observations as one incident. It sorts
// members by index in place.
func Summarise(members []Obs) Incident {
	slices.SortFunc(members, func(a, b Obs) int { return cmp.Compare(a.Index, b.Index) })
	in := Incident{ID: members[0].Index, From: members[0].At, To: members[0].At, RadiusM: members[0].AccuracyM}
	cats := map[string]int{}
	signers := map[string]bool{}
	sources := map[string]bool{}
	var wsum, wlat, wlon int64
	for _, m := range members {
		in.Members = append(in.Members, m.Index)
		in.From, in.To = min(in.From, m.At), max(in.To, m.At)
		in.RadiusM = min(in.RadiusM, m.AccuracyM)
		in.Count = max(in.Count, m.Count)
		cats[m.Category]++
		signers[m.Signer] = true
		sources[m.SourceType] = true
		// Weight 10^12 / accuracy², so precise reports pull the centroid.
		acc := max(m.AccuracyM, 10)
		w := 1_000_000_000_000 / (acc * acc)
		wsum += w
		wlat += w * (m.LatE6 / 1000) // millidegrees keep the products in range
		wlon += w * (m.LonE6 / 1000)
	}
	in.LatE6, in.LonE6 = wlat/wsum*1000, wlon/wsum*1000
	names := make([]string, 0, len(cats))
	for c := range cats {
		names = append(names, c)
	}
	slices.Sort(names)
	for _, c := range names {
		if in.Category == "" || cats[c] > cats[in.Category] {
			in.Category = c
		}
	}
	in.Monitors, in.Sources = len(signers), len(sources)
	in.Level = Reported
	if in.Monitors >= 2 {
		in.Level = Corroborated
	}
	return in
}

// isqrt returns the integer square root of x ≥ 0, exactly (Newton's
// method on integers, no floating point).
func isqrt(x int64) int64 {
	if x < 2 {
		return max(x, 0)
	}
	r := x
	for y := (r + 1) / 2; y < r; y = (r + x/r) / 2 {
		r = y
	}
	return r
}
