package patrol

import (
	"github.com/paulmach/orb"
)

// Simplify reduces a track by the Douglas–Peucker algorithm with a
// tolerance in metres, and returns a new LineString whose points are
// points of the track, in order, always including its first and last.
//
// The track is projected onto a local equirectangular plane centred on
// the middle of its bounding box (lon0, lat0): x = (lon−lon0)·cos(lat0)·
// KMPerDegree·1000, y = (lat−lat0)·KMPerDegree·1000, in metres. Between
// two kept points, the point farthest from the segment joining them on
// that plane is kept if it lies more than toleranceM from it, and the
// two halves are treated the same way; so every dropped point lies
// within toleranceM, on that plane, of the segment of the result that
// spans it. A track of fewer than three points, or a tolerance that is
// not positive, is returned as a copy.
func Simplify(track orb.LineString, toleranceM float64) orb.LineString {
	if len(track) < 3 || !(toleranceM > 0) {
		return append(orb.LineString(nil), track...)
	}
	b := track.Bound()
	lon0, lat0 := (b.Min[0]+b.Max[0])/2, (b.Min[1]+b.Max[1])/2
	kx := mPerDegree * cosDeg(lat0)
	xy := make([][2]float64, len(track))
	for i, p := range track {
		xy[i] = [2]float64{float64((p[0] - lon0) * kx), float64((p[1] - lat0) * mPerDegree)}
	}
	keep := make([]bool, len(track))
	keep[0], keep[len(track)-1] = true, true
	tol2 := toleranceM * toleranceM
	stack := [][2]int{{0, len(track) - 1}}
	for len(stack) > 0 {
		s, e := stack[len(stack)-1][0], stack[len(stack)-1][1]
		stack = stack[:len(stack)-1]
		far, farD := -1, tol2
		for i := s + 1; i < e; i++ {
			if d := planeDist2(xy[i], xy[s], xy[e]); d > farD {
				far, farD = i, d
			}
		}
		if far >= 0 {
			keep[far] = true
			stack = append(stack, [2]int{s, far}, [2]int{far, e})
		}
	}
	var out orb.LineString
	for i, k := range keep {
		if k {
			out = append(out, track[i])
		}
	}
	return out
}

// planeDist2 is the squared distance from p to the segment ab on a plane.
func planeDist2(p, a, b [2]float64) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	t := 0.0
	if l2 := float64(dx*dx) + float64(dy*dy); l2 > 0 {
		t = max(0, min(1, (float64((p[0]-a[0])*dx)+float64((p[1]-a[1])*dy))/l2))
	}
	x, y := a[0]+float64(t*dx)-p[0], a[1]+float64(t*dy)-p[1]
	return float64(x*x) + float64(y*y)
}
