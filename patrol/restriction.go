package patrol

import (
	"cmp"
	"encoding/json"
	"math"
	"slices"
	"time"
)

// Restriction is one denial of the mission's freedom of movement: where
// and when a patrol was stopped, by whom, and for how long.
type Restriction struct {
	// ID is the restriction's movement_restriction observation, if any.
	ID  string    `json:"id,omitempty"`
	At  time.Time `json:"at"`
	Lon float64   `json:"lon"`
	Lat float64   `json:"lat"`
	// By is who or what stopped the patrol: party (a party's forces, or
	// "party:XX"), checkpoint, armed_persons, mines, uav_jamming, other.
	By string `json:"by"`
	// Party is the party held responsible, if any (e.g. RU).
	Party string `json:"party,omitempty"`
	// Duration is how long the patrol was held or turned away for; in
	// JSON, duration_min in minutes.
	Duration time.Duration `json:"-"`
}

// restrictionJSON is a Restriction as JSON.
type restrictionJSON struct {
	ID          string    `json:"id,omitempty"`
	At          time.Time `json:"at"`
	Lon         float64   `json:"lon"`
	Lat         float64   `json:"lat"`
	By          string    `json:"by"`
	Party       string    `json:"party,omitempty"`
	DurationMin float64   `json:"duration_min"`
}

// MarshalJSON writes the duration as duration_min, in minutes.
func (r Restriction) MarshalJSON() ([]byte, error) {
	return json.Marshal(restrictionJSON{r.ID, r.At, r.Lon, r.Lat, r.By, r.Party, r.Duration.Minutes()})
}

// UnmarshalJSON reads duration_min, in minutes, rounded to the second.
func (r *Restriction) UnmarshalJSON(b []byte) error {
	var j restrictionJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*r = Restriction{j.ID, j.At, j.Lon, j.Lat, j.By, j.Party, time.Duration(math.Round(j.DurationMin*60)) * time.Second}
	return nil
}

// Count is the number of restrictions with one key (a party, a zone, or
// who restricted; empty for none), and their total duration in minutes.
type Count struct {
	Key         string  `json:"key"`
	Count       int     `json:"count"`
	DurationMin float64 `json:"duration_min"`
}

// PartyZoneCount is the number of restrictions attributed to a party
// (empty: none) in a zone (empty: in no zone).
type PartyZoneCount struct {
	Party       string  `json:"party"`
	Zone        string  `json:"zone"`
	Count       int     `json:"count"`
	DurationMin float64 `json:"duration_min"`
}

// RestrictionTally counts the restrictions of one period.
type RestrictionTally struct {
	Period      Period  `json:"period"`
	Total       int     `json:"total"`
	DurationMin float64 `json:"duration_min"`
	// ByParty and ByWhom are sorted by key, the empty key (no party, or
	// no one named) first.
	ByParty []Count `json:"by_party"`
	ByWhom  []Count `json:"by_whom"`
	// ByZone has every zone, in the order given, even with no
	// restriction, then the empty key for restrictions in no zone if
	// there are any. A restriction in overlapping zones counts in each.
	ByZone []Count `json:"by_zone"`
	// ByPartyZone has the pairs with a restriction, by party and then in
	// the order of ByZone.
	ByPartyZone []PartyZoneCount `json:"by_party_zone"`
}

// RestrictionCounts counts, for each period in order, the restrictions
// whose time lies in [From, To), in all, by party, by who restricted,
// by zone and by party and zone. inZone tells whether a point lies in a
// zone; pass the engine's agreement.Compiled.InZone so that the counts
// agree with the triggers'. With a nil inZone every restriction is in no
// zone.
func RestrictionCounts(rs []Restriction, zones []string, inZone func(lon, lat float64, zone string) bool, periods []Period) []RestrictionTally {
	// in[i] lists the indices in zones of the zones holding rs[i], or
	// len(zones) for none.
	in := make([][]int, len(rs))
	for i, r := range rs {
		for k, z := range zones {
			if inZone != nil && inZone(r.Lon, r.Lat, z) {
				in[i] = append(in[i], k)
			}
		}
		if len(in[i]) == 0 {
			in[i] = []int{len(zones)}
		}
	}
	zoneName := func(k int) string {
		if k == len(zones) {
			return ""
		}
		return zones[k]
	}
	out := make([]RestrictionTally, 0, len(periods))
	for _, per := range periods {
		t := RestrictionTally{Period: per, ByParty: []Count{}, ByWhom: []Count{}, ByPartyZone: []PartyZoneCount{}}
		byZone := make([]Count, len(zones)+1)
		for k := range byZone {
			byZone[k].Key = zoneName(k)
		}
		type pz struct {
			party string
			zone  int
		}
		pairs := map[pz]*PartyZoneCount{}
		for i, r := range rs {
			if r.At.Before(per.From) || !r.At.Before(per.To) {
				continue
			}
			m := r.Duration.Minutes()
			t.Total++
			t.DurationMin += m
			t.ByParty = add(t.ByParty, r.Party, m)
			t.ByWhom = add(t.ByWhom, r.By, m)
			for _, k := range in[i] {
				byZone[k].Count++
				byZone[k].DurationMin += m
				p := pairs[pz{r.Party, k}]
				if p == nil {
					p = &PartyZoneCount{Party: r.Party, Zone: zoneName(k)}
					pairs[pz{r.Party, k}] = p
				}
				p.Count++
				p.DurationMin += m
			}
		}
		t.ByZone = byZone[:len(zones)]
		if byZone[len(zones)].Count > 0 {
			t.ByZone = byZone
		}
		keys := make([]pz, 0, len(pairs))
		for k := range pairs {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b pz) int { return cmp.Or(cmp.Compare(a.party, b.party), cmp.Compare(a.zone, b.zone)) })
		for _, k := range keys {
			t.ByPartyZone = append(t.ByPartyZone, *pairs[k])
		}
		out = append(out, t)
	}
	return out
}

// add counts one restriction of m minutes under key in the sorted counts.
func add(cs []Count, key string, m float64) []Count {
	i, found := slices.BinarySearchFunc(cs, key, func(c Count, k string) int { return cmp.Compare(c.Key, k) })
	if !found {
		cs = slices.Insert(cs, i, Count{Key: key})
	}
	cs[i].Count++
	cs[i].DurationMin += m
	return cs
}
