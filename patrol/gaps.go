package patrol

import (
	"cmp"
	"slices"
	"time"

	"github.com/paulmach/orb"
)

// ZoneGaps lists the parts of a zone not visited for more than Days days
// as of AsOf, the stalest first.
type ZoneGaps struct {
	Zone string    `json:"zone"`
	Kind string    `json:"kind"`
	AsOf time.Time `json:"as_of"`
	Days int       `json:"days"`
	// Share is the stale share of the zone: of its length for a line, of
	// its cells for an area, rounded to 6 decimals.
	Share float64 `json:"share"`
	// Stretches are a line's stale stretches; Cells an area's stale cells.
	Stretches []Stretch `json:"stretches,omitempty"`
	Cells     []Cell    `json:"cells,omitempty"`
}

// Visit is when a stretch or cell was last visited as of a time.
type Visit struct {
	// Never is true, and LastVisited null, when no track or footprint
	// ever covered it.
	Never       bool       `json:"never"`
	LastVisited *time.Time `json:"last_visited"`
	// DaysSince is the time from LastVisited to the as-of time, in days
	// rounded to 3 decimals; 0 when never visited.
	DaysSince float64 `json:"days_since"`
}

// Stretch is a run of consecutive stale samples of one part of a line:
// from FromKM to ToKM along the part (counted from its first vertex).
// LastVisited is the latest visit of any of its samples, so that the
// whole stretch has gone unvisited at least since then.
type Stretch struct {
	Part     int     `json:"part"`
	FromKM   float64 `json:"from_km"`
	ToKM     float64 `json:"to_km"`
	LengthKM float64 `json:"length_km"`
	// Lon and Lat are the point halfway along the stretch, rounded to
	// 10⁻⁷ degrees (about 1 cm); Path is the stretch of the line itself,
	// for a map.
	Lon  float64        `json:"lon"`
	Lat  float64        `json:"lat"`
	Path orb.LineString `json:"path"`
	Visit
}

// Cell is a stale grid cell of an area: column Col and row Row of the
// zone's grid, centre (Lon, Lat), and BBox [west, south, east, north],
// rounded to 10⁻⁷ degrees (about 1 cm).
type Cell struct {
	Col  int        `json:"col"`
	Row  int        `json:"row"`
	Lon  float64    `json:"lon"`
	Lat  float64    `json:"lat"`
	BBox [4]float64 `json:"bbox"`
	Visit
}

// Gaps returns, for every zone in input order, its samples not visited
// for more than days days (days·24 h) as of asOf, sorted by staleness:
// the never visited first, in position order, then by last visit, oldest
// first, ties in position order (part and distance along it for lines,
// row and column for areas).
func (s *Survey) Gaps(asOf time.Time, days int) []ZoneGaps {
	nt := len(s.tracks)
	last := make([]time.Time, nt+len(s.foots)) // zero: never
	for i, t := range s.tracks {
		if !t.Start.After(asOf) {
			last[i] = minTime(t.End, asOf)
		}
	}
	for j, f := range s.foots {
		for _, u := range f.up {
			if !u.From.After(asOf) {
				last[nt+j] = maxTime(last[nt+j], minTime(u.To, asOf))
			}
		}
	}
	limit := time.Duration(days) * 24 * time.Hour
	out := make([]ZoneGaps, 0, len(s.zones))
	for _, z := range s.zones {
		g := ZoneGaps{Zone: z.id, Kind: z.kind, AsOf: asOf, Days: days}
		seen := make([]time.Time, len(z.pts))
		stale := make([]bool, len(z.pts))
		for i := range z.pts {
			for _, src := range z.src[z.off[i]:z.off[i+1]] {
				if last[src].After(seen[i]) {
					seen[i] = last[src]
				}
			}
			stale[i] = seen[i].IsZero() || asOf.Sub(seen[i]) > limit
		}
		if z.kind == KindLine {
			g.Stretches, g.Share = z.staleStretches(stale, seen, asOf)
		} else {
			g.Cells, g.Share = z.staleCells(stale, seen, asOf)
		}
		out = append(out, g)
	}
	return out
}

// visit describes a last visit t (zero: never) as of asOf.
func visit(t, asOf time.Time) Visit {
	if t.IsZero() {
		return Visit{Never: true}
	}
	return Visit{LastVisited: &t, DaysSince: round(asOf.Sub(t).Hours()/24, 3)}
}

// byStaleness orders visits: never first, then the oldest last visit.
func byStaleness(a, b Visit) int {
	switch {
	case a.Never && b.Never:
		return 0
	case a.Never:
		return -1
	case b.Never:
		return 1
	}
	return a.LastVisited.Compare(*b.LastVisited)
}

func (z *zone) staleStretches(stale []bool, seen []time.Time, asOf time.Time) ([]Stretch, float64) {
	var out []Stretch
	staleKM := 0.0
	for i := 0; i < len(z.pts); {
		if !stale[i] {
			i++
			continue
		}
		never := seen[i].IsZero()
		j, latest := i, seen[i]
		for j+1 < len(z.pts) && stale[j+1] && z.part[j+1] == z.part[i] && seen[j+1].IsZero() == never {
			j++
			latest = maxTime(latest, seen[j])
		}
		part := int(z.part[i])
		from, _ := z.stretchOf(i)
		_, to := z.stretchOf(j)
		for k := i; k <= j; k++ {
			staleKM += z.w[k]
		}
		l, cum := z.lines[part], z.cum[part]
		path := cut(l, cum, from, to)
		mid := along(l, cum, (from+to)/2)
		out = append(out, Stretch{
			Part: part, FromKM: round(from, 3), ToKM: round(to, 3), LengthKM: round(to-from, 3),
			Lon: round(mid[0], 7), Lat: round(mid[1], 7), Path: path, Visit: visit(latest, asOf),
		})
		i = j + 1
	}
	slices.SortStableFunc(out, func(a, b Stretch) int { return byStaleness(a.Visit, b.Visit) })
	share := 0.0
	if z.totalKM > 0 {
		share = round(staleKM/z.totalKM, 6)
	}
	return out, share
}

func (z *zone) staleCells(stale []bool, seen []time.Time, asOf time.Time) ([]Cell, float64) {
	var out []Cell
	for i, p := range z.pts {
		if !stale[i] {
			continue
		}
		c, r := int(z.col[i]), int(z.row[i])
		bb := z.grid.bbox(c, r)
		for k := range bb {
			bb[k] = round(bb[k], 7)
		}
		out = append(out, Cell{Col: c, Row: r, Lon: round(p[0], 7), Lat: round(p[1], 7), BBox: bb, Visit: visit(seen[i], asOf)})
	}
	slices.SortStableFunc(out, func(a, b Cell) int {
		return cmp.Or(byStaleness(a.Visit, b.Visit), cmp.Compare(a.Row, b.Row), cmp.Compare(a.Col, b.Col))
	})
	share := 0.0
	if len(z.pts) > 0 {
		share = round(float64(len(out))/float64(len(z.pts)), 6)
	}
	return out, share
}
