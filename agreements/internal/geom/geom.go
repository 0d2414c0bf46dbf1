// Package geom draws the approximate geometry of the shipped agreements:
// the 2015–2022 Donbas line of contact through the midpoints of the
// settlements of package scenario that face each other across it, zones
// within a distance of that line, and hand-drawn outlines of mainland
// Ukraine and Crimea (see outline.go). Every shape is an illustration,
// not a surveyed line; agreements/README.md says how each is made.
//
// Everything is computed in float64 by deterministic loops and rounded to
// 4 decimal places (about 10 m), so the same code always gives the same
// coordinates. Fill writes them into the agreement YAML files.
package geom

import (
	"cmp"
	"math"
	"slices"

	"github.com/guarantor/guarantor/engine/agreement"
	"github.com/guarantor/guarantor/scenario"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// kmPerDegree is the length of a degree of latitude (and of longitude at
// the equator) on a sphere of radius 6371 km, as engine/agreement uses.
const kmPerDegree = agreement.KMPerDegree

// decimals is the precision of every coordinate written.
const decimals = 4

// Vertex is a point of the line of contact and the oblast of the pair of
// settlements it was drawn from ("" when the two lie in different
// oblasts, or for the ends drawn by hand).
type Vertex struct {
	P      orb.Point
	Oblast string
}

// anchors returns the points the line is drawn through: for each pair of
// facing settlements its midpoint, except that a pair with a divided
// settlement (the line ran through it) gives the settlement itself, once.
func anchors() []Vertex {
	var out []Vertex
	for _, p := range scenario.Pairs() {
		v := Vertex{P: orb.Point{(p.A.Lon + p.B.Lon) / 2, (p.A.Lat + p.B.Lat) / 2}}
		switch {
		case p.A.Side == scenario.Divided:
			v.P = orb.Point{p.A.Lon, p.A.Lat}
		case p.B.Side == scenario.Divided:
			v.P = orb.Point{p.B.Lon, p.B.Lat}
		}
		if p.A.Oblast == p.B.Oblast {
			v.Oblast = p.A.Oblast
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// LineVertices returns the vertices of the approximated line of contact,
// from the Russian border south-east of Stanytsia Luhanska to the Azov
// coast east of Shyrokyne:
//
//  1. the anchors: the midpoint of each pair of facing settlements
//     (scenario.Pairs), or the settlement itself when the line ran
//     through it (Zaitseve);
//  2. chained from the easternmost anchor (Stanytsia Luhanska–Raivka) by
//     always going on to the nearest anchor not yet used;
//  3. an anchor where the chain turns back on itself (a turn sharper than
//     150°) is dropped, the sharpest first: it lies behind the line,
//     facing a settlement that also faces another (Vrubivka behind
//     Popasna);
//  4. the two ends drawn by hand (lineEast, lineSouth) are added.
//
// Coordinates are rounded to 4 decimal places.
func LineVertices() []Vertex {
	mids := anchors()
	start := 0
	for i, m := range mids {
		if m.P[0] > mids[start].P[0] {
			start = i
		}
	}
	used := make([]bool, len(mids))
	chain := []Vertex{mids[start]}
	used[start] = true
	for len(chain) < len(mids) {
		last := chain[len(chain)-1].P
		next := -1
		for i, m := range mids {
			if !used[i] && (next < 0 || distKM(last, m.P) < distKM(last, mids[next].P)) {
				next = i
			}
		}
		used[next] = true
		chain = append(chain, mids[next])
	}
	for {
		worst, worstTurn := -1, 150.0
		for i := 1; i+1 < len(chain); i++ {
			if t := turnDeg(chain[i-1].P, chain[i].P, chain[i+1].P); t > worstTurn {
				worst, worstTurn = i, t
			}
		}
		if worst < 0 {
			break
		}
		chain = slices.Delete(chain, worst, worst+1)
	}
	out := append([]Vertex{{P: lineEast}}, chain...)
	out = append(out, Vertex{P: lineSouth})
	for i := range out {
		out[i].P = round(out[i].P)
	}
	return out
}

// ContactLine returns the approximated 2015–2022 line of contact (see
// LineVertices).
func ContactLine() orb.LineString {
	var l orb.LineString
	for _, v := range LineVertices() {
		l = append(l, v.P)
	}
	return l
}

// Mainland returns the hand-drawn outline of mainland Ukraine (without
// Crimea), counter-clockwise, through both ends of the line of contact.
func Mainland() orb.Ring {
	r := orb.Ring{lineEast}
	r = append(r, westAround...)
	r = append(r, lineSouth)
	r = append(r, eastAround...)
	r = append(r, lineEast)
	return r
}

// GovernmentControlled returns mainland Ukraine west of the line of
// contact: the area the government held from 2015 to February 2022.
func GovernmentControlled() orb.Polygon {
	line := ContactLine()
	r := orb.Ring{line[0]}
	r = append(r, westAround...)
	for i := len(line) - 1; i >= 0; i-- {
		r = append(r, line[i])
	}
	return orb.Polygon{r}
}

// NonGovernmentControlled returns mainland Ukraine east of the line of
// contact up to the Russian border: the "certain areas" of Donetsk and
// Luhansk oblasts of 2015–2022.
func NonGovernmentControlled() orb.Polygon {
	line := ContactLine()
	r := orb.Ring{line[len(line)-1]}
	r = append(r, eastAround...)
	r = append(r, line...)
	return orb.Polygon{r}
}

// Crimea returns the hand-drawn outline of the Crimean peninsula.
func Crimea() orb.Polygon {
	return orb.Polygon{slices.Clone(crimea)}
}

// Buffer returns the part of mainland Ukraine within km kilometres of
// line (on either side and around its ends, as engine/agreement measures
// distance), traced on a 0.5 km grid and simplified so that no point moves
// more than tolKM.
func Buffer(line orb.LineString, km, tolKM float64) orb.Polygon {
	land := Mainland()
	return trace(func(p orb.Point) float64 {
		return max(DistanceKM(p, line)-km, signedKM(p, land))
	}, line.Bound(), km, tolKM)
}

// Sectors splits the part of mainland Ukraine within km kilometres of the
// line of contact into a northern (Luhansk oblast) and a southern
// (Donetsk oblast) sector. The line is cut in the middle of its segment
// from the last pair of Luhansk settlements to the first pair of Donetsk
// ones; a point belongs to the sector of the part of the line nearer to
// it.
func Sectors(km, tolKM float64) (north, south orb.Polygon) {
	vs := LineVertices()
	cut := -1
	for i := 0; i+1 < len(vs); i++ {
		if vs[i].Oblast == "Luhansk" && vs[i+1].Oblast == "Donetsk" {
			cut = i
			break
		}
	}
	if cut < 0 {
		panic("geom: the line has no Luhansk vertex followed by a Donetsk one")
	}
	line := ContactLine()
	mid := round(orb.Point{(line[cut][0] + line[cut+1][0]) / 2, (line[cut][1] + line[cut+1][1]) / 2})
	a := append(slices.Clone(line[:cut+1]), mid)
	b := append(orb.LineString{mid}, line[cut+1:]...)
	land := Mainland()
	sector := func(own, other orb.LineString) orb.Polygon {
		return trace(func(p orb.Point) float64 {
			d := DistanceKM(p, own)
			return max(d-km, d-DistanceKM(p, other), signedKM(p, land))
		}, own.Bound(), km, tolKM)
	}
	return sector(a, b), sector(b, a)
}

// Rectangle returns a rectangle on the line of contact at the point of
// the line nearest to settlement: alongKM long in the direction of the
// line there and acrossKM/2 deep on each side of it.
func Rectangle(settlement string, alongKM, acrossKM float64) orb.Polygon {
	var at orb.Point
	found := false
	for _, s := range scenario.Settlements() {
		if s.Name == settlement {
			at, found = orb.Point{s.Lon, s.Lat}, true
		}
	}
	if !found {
		panic("geom: no settlement " + settlement)
	}
	line := ContactLine()
	best, bestD := 0, math.Inf(1)
	for i := 1; i < len(line); i++ {
		if d := segmentKM(at, line[i-1], line[i]); d < bestD {
			best, bestD = i, d
		}
	}
	a, b := line[best-1], line[best]
	// Work in kilometres on a plane centred on the settlement.
	k := math.Cos(at[1] * math.Pi / 180)
	toKM := func(p orb.Point) (x, y float64) {
		return (p[0] - at[0]) * kmPerDegree * k, (p[1] - at[1]) * kmPerDegree
	}
	fromKM := func(x, y float64) orb.Point {
		return round(orb.Point{at[0] + x/(kmPerDegree*k), at[1] + y/kmPerDegree})
	}
	ax, ay := toKM(a)
	bx, by := toKM(b)
	dx, dy := bx-ax, by-ay
	l := math.Hypot(dx, dy)
	ux, uy := dx/l, dy/l // along the line
	nx, ny := -uy, ux    // across it
	t := max(0, min(l, -(ax*ux+ay*uy)))
	cx, cy := ax+t*ux, ay+t*uy
	corner := func(s, n float64) orb.Point {
		return fromKM(cx+s*alongKM/2*ux+n*acrossKM/2*nx, cy+s*alongKM/2*uy+n*acrossKM/2*ny)
	}
	return orb.Polygon{ccw(orb.Ring{corner(-1, -1), corner(1, -1), corner(1, 1), corner(-1, 1), corner(-1, -1)})}
}

// DistanceKM is the distance from p to the line in kilometres, measured
// exactly as the engine measures it (agreement.LineKM).
func DistanceKM(p orb.Point, line orb.LineString) float64 { return agreement.LineKM(p, line) }

// segmentKM is the distance from p to the segment ab, as the engine
// measures it.
func segmentKM(p, a, b orb.Point) float64 { return agreement.SegmentKM(p, a, b) }

// signedKM is the distance from p to the ring's boundary, negative inside.
func signedKM(p orb.Point, r orb.Ring) float64 {
	d := agreement.LineKM(p, orb.LineString(r))
	if planar.RingContains(r, p) {
		return -d
	}
	return d
}

func distKM(a, b orb.Point) float64 { return segmentKM(a, b, b) }

// turnDeg is how far the direction of travel turns at b, in degrees.
func turnDeg(a, b, c orb.Point) float64 {
	k := math.Cos(b[1] * math.Pi / 180)
	x1, y1 := (b[0]-a[0])*k, b[1]-a[1]
	x2, y2 := (c[0]-b[0])*k, c[1]-b[1]
	return math.Abs(math.Atan2(x1*y2-y1*x2, x1*x2+y1*y2)) * 180 / math.Pi
}

func round(p orb.Point) orb.Point {
	f := math.Pow10(decimals)
	return orb.Point{math.Round(p[0]*f) / f, math.Round(p[1]*f) / f}
}

// ccw returns r counter-clockwise (the orientation RFC 7946 asks of an
// exterior ring).
func ccw(r orb.Ring) orb.Ring {
	if ringArea(r) < 0 {
		slices.Reverse(r)
	}
	return r
}

// ringArea is the signed planar area of r in square degrees, positive
// when counter-clockwise.
func ringArea(r orb.Ring) float64 {
	a := 0.0
	for i := 1; i < len(r); i++ {
		a += r[i-1][0]*r[i][1] - r[i][0]*r[i-1][1]
	}
	return a / 2
}

// trace returns the region where f < 0 as one polygon: f is sampled on a
// 0.5 km grid covering bound widened by marginKM plus 3 km, the boundary
// is traced with marching squares and linear interpolation, the largest
// ring is kept (f must be positive on the edge of the grid), simplified
// with Douglas–Peucker to tolKM, rounded and made counter-clockwise.
func trace(f func(orb.Point) float64, bound orb.Bound, marginKM, tolKM float64) orb.Polygon {
	const stepKM = 0.5
	lat0 := (bound.Min[1] + bound.Max[1]) / 2
	dLat := stepKM / kmPerDegree
	dLon := stepKM / (kmPerDegree * math.Cos(lat0*math.Pi/180))
	m := marginKM + 3
	minLon := bound.Min[0] - m/(kmPerDegree*math.Cos(bound.Max[1]*math.Pi/180))
	maxLon := bound.Max[0] + m/(kmPerDegree*math.Cos(bound.Max[1]*math.Pi/180))
	minLat, maxLat := bound.Min[1]-m/kmPerDegree, bound.Max[1]+m/kmPerDegree
	nx := int(math.Ceil((maxLon-minLon)/dLon)) + 1
	ny := int(math.Ceil((maxLat-minLat)/dLat)) + 1
	at := func(i, j int) orb.Point { return orb.Point{minLon + float64(i)*dLon, minLat + float64(j)*dLat} }
	v := make([]float64, nx*ny)
	for j := range ny {
		for i := range nx {
			v[j*nx+i] = f(at(i, j))
			if (i == 0 || j == 0 || i == nx-1 || j == ny-1) && v[j*nx+i] < 0 {
				panic("geom: the region reaches the edge of the grid")
			}
		}
	}
	val := func(i, j int) float64 { return v[j*nx+i] }

	// An edge of the grid is named by its lower-left node and direction:
	// horizontal (to i+1) or vertical (to j+1).
	type edge struct {
		i, j     int
		vertical bool
	}
	cross := func(e edge) orb.Point {
		i2, j2 := e.i+1, e.j
		if e.vertical {
			i2, j2 = e.i, e.j+1
		}
		a, b := val(e.i, e.j), val(i2, j2)
		t := a / (a - b)
		pa, pb := at(e.i, e.j), at(i2, j2)
		return orb.Point{pa[0] + t*(pb[0]-pa[0]), pa[1] + t*(pb[1]-pa[1])}
	}
	links := map[edge][]edge{}
	link := func(a, b edge) {
		links[a] = append(links[a], b)
		links[b] = append(links[b], a)
	}
	for j := 0; j+1 < ny; j++ {
		for i := 0; i+1 < nx; i++ {
			in := func(i, j int) bool { return val(i, j) < 0 }
			bl, br, tr, tl := in(i, j), in(i+1, j), in(i+1, j+1), in(i, j+1)
			bottom, right, top, left := edge{i, j, false}, edge{i + 1, j, true}, edge{i, j + 1, false}, edge{i, j, true}
			var crossed []edge
			if bl != br {
				crossed = append(crossed, bottom)
			}
			if br != tr {
				crossed = append(crossed, right)
			}
			if tr != tl {
				crossed = append(crossed, top)
			}
			if tl != bl {
				crossed = append(crossed, left)
			}
			switch len(crossed) {
			case 2:
				link(crossed[0], crossed[1])
			case 4: // a saddle: the centre decides which corners connect
				centre := (val(i, j)+val(i+1, j)+val(i+1, j+1)+val(i, j+1))/4 < 0
				if centre == bl { // bl and tr connect through the centre
					link(bottom, right)
					link(top, left)
				} else {
					link(left, bottom)
					link(right, top)
				}
			}
		}
	}
	// Walk the links into rings, in a fixed order.
	starts := make([]edge, 0, len(links))
	for e := range links {
		starts = append(starts, e)
	}
	slices.SortFunc(starts, func(a, b edge) int {
		return cmp.Or(cmp.Compare(a.j, b.j), cmp.Compare(a.i, b.i), cmp.Compare(boolInt(a.vertical), boolInt(b.vertical)))
	})
	seen := map[edge]bool{}
	var rings []orb.Ring
	for _, s := range starts {
		if seen[s] {
			continue
		}
		var r orb.Ring
		prev, cur := s, s
		for {
			seen[cur] = true
			r = append(r, cross(cur))
			nexts := links[cur]
			if len(nexts) != 2 {
				panic("geom: an open contour")
			}
			next := nexts[0]
			if cur != s && next == prev {
				next = nexts[1]
			}
			if next == s {
				break
			}
			prev, cur = cur, next
		}
		r = append(r, r[0])
		rings = append(rings, r)
	}
	best := -1
	for i, r := range rings {
		if best < 0 || math.Abs(ringArea(r)) > math.Abs(ringArea(rings[best])) {
			best = i
		}
	}
	r := simplifyRing(rings[best], tolKM)
	for i := range r {
		r[i] = round(r[i])
	}
	r = slices.CompactFunc(r, func(a, b orb.Point) bool { return a == b })
	return orb.Polygon{ccw(r)}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// simplifyRing applies Douglas–Peucker with tolerance tolKM to a closed
// ring, split at its first point and the point farthest from it.
func simplifyRing(r orb.Ring, tolKM float64) orb.Ring {
	far := 0
	for i := range r {
		if distKM(r[0], r[i]) > distKM(r[0], r[far]) {
			far = i
		}
	}
	a := simplify(r[:far+1], tolKM)
	b := simplify(r[far:], tolKM)
	return append(a, b[1:]...)
}

// simplify is Douglas–Peucker on an open polyline, distances in km.
func simplify(l []orb.Point, tolKM float64) []orb.Point {
	if len(l) < 3 {
		return slices.Clone(l)
	}
	worst, worstD := 0, -1.0
	for i := 1; i+1 < len(l); i++ {
		if d := segmentKM(l[i], l[0], l[len(l)-1]); d > worstD {
			worst, worstD = i, d
		}
	}
	if worstD <= tolKM {
		return []orb.Point{l[0], l[len(l)-1]}
	}
	a := simplify(l[:worst+1], tolKM)
	b := simplify(l[worst:], tolKM)
	return append(a, b[1:]...)
}
