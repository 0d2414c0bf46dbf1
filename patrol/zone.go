package patrol

import (
	"math"

	"github.com/paulmach/orb"
)

// Zone kinds.
const (
	KindLine = "line"
	KindArea = "area"
)

// zone is a zone replaced by its samples, with the sources that cover
// each sample.
type zone struct {
	id, kind string
	pts      []orb.Point // the samples

	// Lines: the parts, their cumulative lengths in km at each vertex,
	// and for each sample its part, the km along the part of its centre
	// and the km it stands for.
	lines   []orb.LineString
	cum     [][]float64
	part    []int32
	at, w   []float64
	totalKM float64

	// Areas: the grid and each cell's column and row.
	grid     grid
	col, row []int32

	// The sources covering sample i are src[off[i]:off[i+1]]: tracks in
	// increasing order, then footprints.
	off []int
	src []int32
}

// stretchOf is the kilometres [from, to] along its part that line sample
// i stands for.
func (z *zone) stretchOf(i int) (from, to float64) { return z.at[i] - z.w[i]/2, z.at[i] + z.w[i]/2 }

// countLineSamples is the number of samples sampleLine makes.
func countLineSamples(parts []orb.LineString, stepKM float64) float64 {
	n := 0.0
	for _, l := range parts {
		if L := lengthKM(l); L > 0 {
			n += pieces(L, stepKM)
		}
	}
	return n
}

// pieces is the number of pieces a part of L km is cut into: ceil(L/step),
// ignoring an excess of less than a millionth of a step, which is only
// rounding (a line of 10 km measures 10.000000001).
func pieces(L, stepKM float64) float64 { return max(1, math.Ceil(L/stepKM-1e-6)) }

// sampleLine cuts each part into ceil(L/step) equal pieces and samples
// their centres.
func (z *zone) sampleLine(parts []orb.LineString, stepKM float64) {
	z.kind, z.lines = KindLine, parts
	for pi, l := range parts {
		cum := make([]float64, len(l))
		for i := 1; i < len(l); i++ {
			cum[i] = cum[i-1] + segKM(l[i-1], l[i])
		}
		z.cum = append(z.cum, cum)
		if len(l) < 2 || cum[len(l)-1] <= 0 {
			continue
		}
		total := cum[len(l)-1]
		z.totalKM += total
		n := int(pieces(total, stepKM))
		piece := total / float64(n)
		seg := 1
		for k := range n {
			s := (float64(k) + 0.5) * piece
			for seg < len(l)-1 && cum[seg] < s {
				seg++
			}
			z.pts = append(z.pts, pointAt(l, cum, seg, s))
			z.part = append(z.part, int32(pi))
			z.at = append(z.at, s)
			z.w = append(z.w, piece)
		}
	}
}

// pointAt is the point s km along l, on its segment seg (ending at vertex
// seg), interpolated linearly in longitude and latitude.
func pointAt(l orb.LineString, cum []float64, seg int, s float64) orb.Point {
	a, b := l[seg-1], l[seg]
	f := 0.0
	if d := cum[seg] - cum[seg-1]; d > 0 {
		f = max(0, min(1, (s-cum[seg-1])/d))
	}
	return orb.Point{a[0] + float64((b[0]-a[0])*f), a[1] + float64((b[1]-a[1])*f)}
}

// segAt is the segment of l (by its end vertex) holding the point s km
// along it.
func segAt(l orb.LineString, cum []float64, s float64) int {
	i := 1
	for i < len(l)-1 && cum[i] < s {
		i++
	}
	return i
}

// along is the point s km along l.
func along(l orb.LineString, cum []float64, s float64) orb.Point {
	return pointAt(l, cum, segAt(l, cum, s), s)
}

// cut is the part of l from s0 to s1 km along it.
func cut(l orb.LineString, cum []float64, s0, s1 float64) orb.LineString {
	i0, i1 := segAt(l, cum, s0), segAt(l, cum, s1)
	out := orb.LineString{pointAt(l, cum, i0, s0)}
	for i := i0; i < i1; i++ {
		if cum[i] > s0 && cum[i] < s1 {
			out = append(out, l[i])
		}
	}
	return append(out, pointAt(l, cum, i1, s1))
}

// grid is a regular grid of cells cellM metres square on the projection
// at the middle latitude of a bounding box, from its south-west corner.
type grid struct {
	west, south, dLon, dLat float64
	cols, rows              int
	cellM                   float64
}

func newGrid(b orb.Bound, cellM float64) grid {
	g := grid{west: b.Min[0], south: b.Min[1], cellM: cellM}
	g.dLat = cellM / mPerDegree
	g.dLon = cellM / (mPerDegree * cosDeg((b.Min[1]+b.Max[1])/2))
	g.cols = max(1, int(math.Ceil((b.Max[0]-b.Min[0])/g.dLon)))
	g.rows = max(1, int(math.Ceil((b.Max[1]-b.Min[1])/g.dLat)))
	return g
}

// size is the number of cells in the grid, as a float so that it cannot
// overflow.
func (g grid) size() float64 { return float64(g.cols) * float64(g.rows) }

func (g grid) centre(i, j int) orb.Point {
	return orb.Point{g.west + float64((float64(i)+0.5)*g.dLon), g.south + float64((float64(j)+0.5)*g.dLat)}
}

// bbox is cell (i, j) as [west, south, east, north].
func (g grid) bbox(i, j int) [4]float64 {
	return [4]float64{
		g.west + float64(float64(i)*g.dLon), g.south + float64(float64(j)*g.dLat),
		g.west + float64(float64(i+1)*g.dLon), g.south + float64(float64(j+1)*g.dLat),
	}
}

// sampleArea keeps the grid cells whose centre lies in the area, row by
// row from the south, each row from the west; a polygon with no centre
// inside it is given the cell holding its bounding box's centre.
func (z *zone) sampleArea(rs []region, g grid) {
	z.kind, z.grid = KindArea, g
	got := make([]bool, len(rs))
	for j := range g.rows {
		for i := range g.cols {
			c := g.centre(i, j)
			in := false
			for k, r := range rs {
				if r.contains(c) {
					got[k], in = true, true
				}
			}
			if in {
				z.addCell(i, j)
			}
		}
	}
	for k, r := range rs {
		if got[k] {
			continue
		}
		c := r.bound.Center()
		i := min(g.cols-1, max(0, int(math.Floor((c[0]-g.west)/g.dLon))))
		j := min(g.rows-1, max(0, int(math.Floor((c[1]-g.south)/g.dLat))))
		dup := false
		for n := range z.col {
			if z.col[n] == int32(i) && z.row[n] == int32(j) {
				dup = true
			}
		}
		if !dup {
			z.addCell(i, j)
		}
	}
}

func (z *zone) addCell(i, j int) {
	z.pts = append(z.pts, z.grid.centre(i, j))
	z.col, z.row = append(z.col, int32(i)), append(z.row, int32(j))
}
