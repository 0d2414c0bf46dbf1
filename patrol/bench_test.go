package patrol_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/guarantor/guarantor/patrol"
	"github.com/paulmach/orb"
)

// The benchmark load: a 400 km line and a 5,000 km² area (a square of
// 70.7 km) covered by 200 tracks of 30 km, a fix every 100 m (60,000
// segments), half of them random walks in the area and half driving
// along the line, up to 1.5 km from it. D = 1 km, default step and
// cells: 4,030 line samples and 19,880 cells. BenchmarkTracksLength, the baseline, measures the
// tracks' total length, a pass over every segment; read the others as
// multiples of it.
type load struct {
	line   orb.LineString
	area   orb.Polygon
	tracks []patrol.Track
}

var benchLoad = sync.OnceValue(func() load {
	rng := rand.New(rand.NewPCG(400, 5000))
	var l orb.LineString
	for e := 0.0; e <= 380; e += 5 {
		l = append(l, at(e-150, 35+12*math.Sin(e/23)))
	}
	side := math.Sqrt(5000)
	area := square(0, 0, side, side)
	var tracks []patrol.Track
	for i := range 200 {
		var path orb.LineString
		if i%2 == 0 {
			path = walkKM(rng, side, 30)
		} else {
			path = alongKM(rng, l, 30)
		}
		start := day0.Add(time.Duration(i%30)*24*time.Hour + 8*time.Hour)
		tracks = append(tracks, patrol.Track{ID: fmt.Sprint("t", i), Start: start, End: start.Add(6 * time.Hour), Path: path})
	}
	return load{l, area, tracks}
})

// walkKM is a random walk of km kilometres in the square [0, side]², a
// fix every 100 m.
func walkKM(rng *rand.Rand, side, km float64) orb.LineString {
	x, y := rng.Float64()*side, rng.Float64()*side
	h := rng.Float64() * 2 * math.Pi
	path := orb.LineString{at(x, y)}
	for len(path) <= int(km*10) {
		h += (rng.Float64() - 0.5) * 0.4
		nx, ny := x+0.1*math.Sin(h), y+0.1*math.Cos(h)
		if nx < 0 || ny < 0 || nx > side || ny > side {
			h += math.Pi
			continue
		}
		x, y = nx, ny
		path = append(path, at(x, y))
	}
	return path
}

// alongKM drives km kilometres along l, a fix every 100 m, up to 1.5 km
// north or south of it.
func alongKM(rng *rand.Rand, l orb.LineString, km float64) orb.LineString {
	cum := cumKM(l)
	s0 := rng.Float64() * (cum[len(cum)-1] - km)
	offset := (rng.Float64()*3 - 1.5) / patrol.KMPerDegree
	var path orb.LineString
	for s := s0; s <= s0+km+1e-9; s += 0.1 {
		p := pointAlong(l, cum, s)
		offset += (rng.Float64() - 0.5) * 0.04 / patrol.KMPerDegree
		path = append(path, orb.Point{p[0], p[1] + offset})
	}
	return path
}

func benchPaths() []orb.LineString {
	tracks := benchLoad().tracks
	paths := make([]orb.LineString, len(tracks))
	for i, t := range tracks {
		paths[i] = t.Path
	}
	return paths
}

var sink float64

func BenchmarkTracksLength(b *testing.B) {
	paths := benchPaths()
	for b.Loop() {
		total := 0.0
		for _, p := range paths {
			total += lengthTest(p)
		}
		sink = total
	}
}

func BenchmarkLineCoverage(b *testing.B) {
	l := benchLoad().line
	paths := benchPaths()
	var c patrol.Coverage
	for b.Loop() {
		c = patrol.LineCoverage(l, paths, 1000, 0)
	}
	b.ReportMetric(c.LengthKM, "km")
	total := 0.0
	for _, p := range paths {
		total += lengthTest(p)
	}
	b.ReportMetric(total/float64(len(paths)), "km/track")
	b.ReportMetric(c.Share, "share")
}

func BenchmarkAreaCoverage(b *testing.B) {
	area := benchLoad().area
	paths := benchPaths()
	var c patrol.Coverage
	for b.Loop() {
		c = patrol.AreaCoverage(area, paths, nil, 1000, 0)
	}
	b.ReportMetric(c.AreaKM2, "km2")
	b.ReportMetric(c.Share, "share")
}

// BenchmarkSurvey30Days is the daily use: both zones, the 200 tracks
// spread over 30 days, coverage for each day and the gaps.
func BenchmarkSurvey30Days(b *testing.B) {
	ld := benchLoad()
	l, area, tracks := ld.line, ld.area, ld.tracks
	zones := []patrol.Zone{{ID: "line", Geometry: l}, {ID: "area", Geometry: area}}
	days := patrol.Days(day0, day0.AddDate(0, 0, 30))
	for b.Loop() {
		s, err := patrol.NewSurvey(zones, tracks, nil, patrol.Params{DistanceM: 1000})
		if err != nil {
			b.Fatal(err)
		}
		s.Coverage(days)
		s.Gaps(day0.AddDate(0, 0, 30), 5)
	}
}

func lengthTest(p orb.LineString) float64 {
	total := 0.0
	for i := 1; i < len(p); i++ {
		total += segKMTest(p[i-1], p[i])
	}
	return total
}
