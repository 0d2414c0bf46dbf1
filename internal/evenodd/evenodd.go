// Package evenodd is the one point-in-polygon test the engine and the
// patrol coverage share: the even-odd rule on planar longitude and
// latitude, written so that every platform computes the same bits (the
// explicit conversions keep the compiler from fusing the multiply and
// add, as it may on arm64), since a replay must agree with the engine
// that logged the entries.
package evenodd

import "github.com/paulmach/orb"

// PolygonContains reports whether p lies inside the outer ring of poly
// and outside its holes.
func PolygonContains(poly orb.Polygon, p orb.Point) bool {
	if len(poly) == 0 || !RingContains(poly[0], p) {
		return false
	}
	for _, hole := range poly[1:] {
		if RingContains(hole, p) {
			return false
		}
	}
	return true
}

// RingContains counts the crossings of the ring by a ray from p towards
// increasing longitude; an odd count is inside. The ring need not be
// closed.
func RingContains(r orb.Ring, p orb.Point) bool {
	in := false
	for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
		a, b := r[i], r[j]
		if (a[1] > p[1]) != (b[1] > p[1]) {
			x := a[0] + float64((b[0]-a[0])*(p[1]-a[1]))/(b[1]-a[1])
			if p[0] < x {
				in = !in
			}
		}
	}
	return in
}
