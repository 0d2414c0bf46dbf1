package patrol_test

import (
	"math"
	"reflect"
	"testing"

	"github.com/guarantor/guarantor/patrol"
	"github.com/paulmach/orb"
	"pgregory.net/rapid"
)

// plane projects onto the equirectangular plane Simplify documents: in
// metres, centred on the middle of the track's bounding box.
func plane(track orb.LineString) func(orb.Point) [2]float64 {
	b := track.Bound()
	lon0, lat0 := (b.Min[0]+b.Max[0])/2, (b.Min[1]+b.Max[1])/2
	k := math.Cos(lat0*math.Pi/180) * patrol.KMPerDegree * 1000
	return func(p orb.Point) [2]float64 {
		return [2]float64{(p[0] - lon0) * k, (p[1] - lat0) * patrol.KMPerDegree * 1000}
	}
}

// distToLine is the distance on a plane from p to the nearest segment of l.
func distToLine(p [2]float64, l [][2]float64) float64 {
	best := math.Inf(1)
	for i := 1; i < len(l); i++ {
		a, b := l[i-1], l[i]
		dx, dy := b[0]-a[0], b[1]-a[1]
		t := 0.0
		if l2 := dx*dx + dy*dy; l2 > 0 {
			t = math.Max(0, math.Min(1, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/l2))
		}
		best = math.Min(best, math.Hypot(a[0]+t*dx-p[0], a[1]+t*dy-p[1]))
	}
	if len(l) == 1 {
		best = math.Hypot(l[0][0]-p[0], l[0][1]-p[1])
	}
	return best
}

func TestSimplify(t *testing.T) {
	// A straight track with a 30 m kink in the middle.
	track := orb.LineString{at(0, 0), at(1, 0), at(2, 0.03), at(3, 0), at(4, 0)}
	for _, tc := range []struct {
		tol  float64
		want orb.LineString
	}{
		{50, orb.LineString{at(0, 0), at(4, 0)}},
		{20, orb.LineString{at(0, 0), at(2, 0.03), at(4, 0)}},
		{0, track},
	} {
		if got := patrol.Simplify(track, tc.tol); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Simplify(%v m) = %v, want %v", tc.tol, got, tc.want)
		}
	}
	in := append(orb.LineString(nil), track...)
	patrol.Simplify(track, 50)
	if !reflect.DeepEqual(in, track) {
		t.Error("Simplify changed its input")
	}
	if got := patrol.Simplify(orb.LineString{at(0, 0), at(1, 1)}, 10); len(got) != 2 {
		t.Errorf("two points: %v", got)
	}
}

// TestSimplifyProperty: the result keeps the endpoints, is a subsequence
// of the track, and every point of the track lies within the tolerance
// (plus 1 µm of rounding) of it on the documented plane.
func TestSimplifyProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		lon := rapid.Float64Range(22, 40).Draw(t, "lon")
		lat := rapid.Float64Range(44, 52).Draw(t, "lat")
		n := rapid.IntRange(1, 300).Draw(t, "n")
		stepM := rapid.Float64Range(0, 500).Draw(t, "step_m")
		tol := rapid.Float64Range(0.5, 200).Draw(t, "tolerance_m")
		track := orb.LineString{{lon, lat}}
		heading := rapid.Float64Range(0, 2*math.Pi).Draw(t, "heading")
		for i := 1; i < n; i++ {
			heading += rapid.Float64Range(-1.5, 1.5).Draw(t, "turn")
			d := stepM * rapid.Float64Range(0, 1).Draw(t, "stride")
			p := track[i-1]
			track = append(track, orb.Point{
				p[0] + d*math.Sin(heading)/(patrol.KMPerDegree*1000*math.Cos(p[1]*math.Pi/180)),
				p[1] + d*math.Cos(heading)/(patrol.KMPerDegree*1000),
			})
		}
		got := patrol.Simplify(track, tol)
		if got[0] != track[0] || got[len(got)-1] != track[len(track)-1] {
			t.Fatalf("endpoints not kept: %v → %v", track, got)
		}
		j := 0
		for _, p := range track {
			if j < len(got) && p == got[j] {
				j++
			}
		}
		if j != len(got) {
			t.Fatalf("the result is not a subsequence of the track")
		}
		proj := plane(track)
		var simple [][2]float64
		for _, p := range got {
			simple = append(simple, proj(p))
		}
		for i, p := range track {
			if d := distToLine(proj(p), simple); d > tol+1e-6 {
				t.Fatalf("point %d lies %v m from the simplified line, tolerance %v m", i, d, tol)
			}
		}
	})
}
