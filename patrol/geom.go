package patrol

import (
	"math"
	"slices"

	"github.com/guarantor/guarantor/internal/evenodd"
	"github.com/paulmach/orb"
)

// KMPerDegree is the length of a degree of latitude, in kilometres, for a
// mean Earth radius of 6,371 km: the engine's agreement.KMPerDegree.
const KMPerDegree = 111.195

// mPerDegree is KMPerDegree in metres.
const mPerDegree = KMPerDegree * 1000

// cosDeg is the cosine of an angle in degrees.
func cosDeg(deg float64) float64 { return math.Cos(deg * math.Pi / 180) }

// segDist2 is the squared distance in metres from p to the segment ab on
// the equirectangular projection centred on p, kx being the length of a
// degree of longitude there, in metres (mPerDegree·cos(lat_p)). The
// float64 conversions keep the compiler from fusing multiply-adds, so the
// result is the same on every platform.
func segDist2(p orb.Point, kx float64, a, b orb.Point) float64 {
	ax, ay := float64((a[0]-p[0])*kx), float64((a[1]-p[1])*mPerDegree)
	bx, by := float64((b[0]-p[0])*kx), float64((b[1]-p[1])*mPerDegree)
	dx, dy := bx-ax, by-ay
	t := 0.0
	if l2 := float64(dx*dx) + float64(dy*dy); l2 > 0 {
		t = max(0, min(1, -(float64(ax*dx)+float64(ay*dy))/l2))
	}
	x, y := ax+float64(t*dx), ay+float64(t*dy)
	return float64(x*x) + float64(y*y)
}

// segKM is the length of ab in kilometres on the projection at the
// segment's mean latitude.
func segKM(a, b orb.Point) float64 {
	dx := float64((b[0] - a[0]) * cosDeg((a[1]+b[1])/2))
	dy := b[1] - a[1]
	return math.Sqrt(float64(dx*dx)+float64(dy*dy)) * KMPerDegree
}

// lengthKM is the length of a line in kilometres: the sum of segKM.
func lengthKM(l orb.LineString) float64 {
	s := 0.0
	for i := 1; i < len(l); i++ {
		s += segKM(l[i-1], l[i])
	}
	return s
}

// region is a polygon with its bounding box, computed once.
type region struct {
	poly  orb.Polygon
	bound orb.Bound
}

func (r region) contains(p orb.Point) bool {
	return r.bound.Contains(p) && evenodd.PolygonContains(r.poly, p)
}

func regionsOf(mp orb.MultiPolygon) []region {
	out := make([]region, 0, len(mp))
	for _, p := range mp {
		if len(p) == 0 || len(p[0]) == 0 {
			continue
		}
		out = append(out, region{p, p.Bound()})
	}
	return out
}

// validPoint reports whether p is a finite longitude and latitude, away
// from the poles where the projection breaks down.
func validPoint(p orb.Point) bool {
	return p[0] >= -180 && p[0] <= 180 && p[1] >= -89 && p[1] <= 89
}

// segIndex finds the track segments that may lie within d metres of a
// point: a grid of buckets in degrees over the tracks' bounding box, each
// listing the pieces of segment whose bounding box, widened by d,
// overlaps it. Pieces are the segments cut into equal parts no longer than
// a bucket, so that a long segment is listed in a few buckets along it
// rather than in its whole bounding box. The lists are stored end to end
// (bucket k's are ids[start[k]:start[k+1]]), built in two passes.
type segIndex struct {
	d2          float64 // d squared
	eLat        float64 // d in degrees of latitude, rounded up
	eLon        float64 // d in degrees of longitude at the highest latitude
	west, south float64 // the grid's origin
	bLon, bLat  float64 // bucket size in degrees
	cols, rows  int
	start, ids  []int32
	a, b        []orb.Point // the pieces
	src         []int32     // the track of each piece
}

// maxBuckets bounds the grid; beyond it buckets grow.
const maxBuckets = 1 << 22

// newIndex indexes the paths for queries at distance d metres; the source
// of path i is i.
func newIndex(paths []orb.LineString, d float64) *segIndex {
	ix := &segIndex{d2: d * d, eLat: d/mPerDegree*(1+1e-9) + 1e-12}
	bound, have := orb.Bound{}, false
	for _, p := range paths {
		if len(p) == 0 {
			continue
		}
		if !have {
			bound, have = p.Bound(), true
		} else {
			bound = bound.Union(p.Bound())
		}
	}
	if !have {
		ix.start = []int32{0}
		return ix
	}
	// A point within d of a piece (on the projection centred on that
	// point) lies within eLat degrees of latitude and d/(mPerDegree·cos φ)
	// degrees of longitude of it, φ being the largest latitude it can
	// have: eLon takes the largest of all.
	ix.eLon = ix.eLat / cosDeg(min(89.9, max(math.Abs(bound.Min[1]), math.Abs(bound.Max[1]))+ix.eLat)) * (1 + 1e-9)
	ix.west, ix.south = bound.Min[0]-ix.eLon, bound.Min[1]-ix.eLat
	width, height := bound.Max[0]+ix.eLon-ix.west, bound.Max[1]+ix.eLat-ix.south
	size := max(2*d, 500)
	ix.bLat = size / mPerDegree
	ix.bLon = size / (mPerDegree * cosDeg(bound.Center()[1]))
	for {
		ix.cols, ix.rows = int(width/ix.bLon)+1, int(height/ix.bLat)+1
		if n := float64(ix.cols) * float64(ix.rows); n > maxBuckets {
			f := math.Sqrt(n/maxBuckets) * 1.01
			ix.bLon, ix.bLat = ix.bLon*f, ix.bLat*f
			continue
		}
		break
	}
	n := 0
	for _, p := range paths {
		n += max(1, len(p)-1)
	}
	ix.a, ix.b, ix.src = make([]orb.Point, 0, n), make([]orb.Point, 0, n), make([]int32, 0, n)
	for src, p := range paths {
		if len(p) == 1 {
			ix.piece(p[0], p[0], int32(src))
		}
		for i := 1; i < len(p); i++ {
			a, b := p[i-1], p[i]
			n := max(1, int(math.Ceil(max(math.Abs(b[0]-a[0])/ix.bLon, math.Abs(b[1]-a[1])/ix.bLat))))
			prev := a
			for k := 1; k <= n; k++ {
				next := b
				if k < n {
					f := float64(k) / float64(n)
					next = orb.Point{a[0] + float64((b[0]-a[0])*f), a[1] + float64((b[1]-a[1])*f)}
				}
				ix.piece(prev, next, int32(src))
				prev = next
			}
		}
	}
	// Count the pieces of each bucket, then place them.
	ix.start = make([]int32, ix.cols*ix.rows+1)
	for id := range ix.a {
		x0, x1, y0, y1 := ix.span(id)
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				ix.start[y*ix.cols+x+1]++
			}
		}
	}
	for k := 1; k < len(ix.start); k++ {
		ix.start[k] += ix.start[k-1]
	}
	ix.ids = make([]int32, ix.start[len(ix.start)-1])
	next := slices.Clone(ix.start[:len(ix.start)-1])
	for id := range ix.a {
		x0, x1, y0, y1 := ix.span(id)
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				k := y*ix.cols + x
				ix.ids[next[k]] = int32(id)
				next[k]++
			}
		}
	}
	return ix
}

func (ix *segIndex) piece(a, b orb.Point, src int32) {
	ix.a, ix.b, ix.src = append(ix.a, a), append(ix.b, b), append(ix.src, src)
}

// span is the range of buckets that piece id's bounding box, widened by
// eLon and eLat, overlaps.
func (ix *segIndex) span(id int) (x0, x1, y0, y1 int) {
	a, b := ix.a[id], ix.b[id]
	x0, y0 = ix.bucket(min(a[0], b[0])-ix.eLon, min(a[1], b[1])-ix.eLat)
	x1, y1 = ix.bucket(max(a[0], b[0])+ix.eLon, max(a[1], b[1])+ix.eLat)
	return x0, x1, y0, y1
}

// bucket is the column and row of the bucket holding (lon, lat), clamped
// to the grid.
func (ix *segIndex) bucket(lon, lat float64) (x, y int) {
	x = min(ix.cols-1, max(0, int(math.Floor((lon-ix.west)/ix.bLon))))
	y = min(ix.rows-1, max(0, int(math.Floor((lat-ix.south)/ix.bLat))))
	return x, y
}

// near calls found once for each source having a segment within d of p;
// seen is scratch space of one entry per source, and stamp a value not
// yet stored in it.
func (ix *segIndex) near(p orb.Point, seen []int32, stamp int32, found func(src int32)) {
	if len(ix.a) == 0 {
		return
	}
	fx, fy := math.Floor((p[0]-ix.west)/ix.bLon), math.Floor((p[1]-ix.south)/ix.bLat)
	if !(fx >= 0 && fy >= 0 && fx < float64(ix.cols) && fy < float64(ix.rows)) {
		return // outside the grid, farther than d from every track
	}
	k := int(fy)*ix.cols + int(fx)
	kx := mPerDegree * cosDeg(p[1])
	for _, id := range ix.ids[ix.start[k]:ix.start[k+1]] {
		s := ix.src[id]
		if seen[s] == stamp {
			continue
		}
		if segDist2(p, kx, ix.a[id], ix.b[id]) <= ix.d2 {
			seen[s] = stamp
			found(s)
		}
	}
}
