package patrol

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/paulmach/orb"
)

// Defaults and limits of the coverage parameters.
const (
	// DefaultStepM is the sampling step along lines, in metres.
	DefaultStepM = 100.0
	// DefaultCellM is the side of an area's grid cells, in metres.
	DefaultCellM = 500.0
	// MaxSamples bounds the line samples and grid cells of a Survey, so
	// that a tiny step or cell over a large zone is refused rather than
	// exhausting memory.
	MaxSamples = 5_000_000
)

// Params are the settings of a coverage computation.
type Params struct {
	// DistanceM is D: a track covers what lies within D metres of it.
	// Required; greater than zero.
	DistanceM float64 `json:"distance_m"`
	// StepM is the sampling step along lines, in metres. Optional;
	// DefaultStepM when zero.
	StepM float64 `json:"step_m,omitempty"`
	// CellM is the side of an area's grid cells, in metres. Optional;
	// DefaultCellM when zero.
	CellM float64 `json:"cell_m,omitempty"`
}

// withDefaults fills in the optional settings.
func (p Params) withDefaults() Params {
	if p.StepM == 0 {
		p.StepM = DefaultStepM
	}
	if p.CellM == 0 {
		p.CellM = DefaultCellM
	}
	return p
}

// Zone is an area (Polygon or MultiPolygon) or a line (LineString or
// MultiLineString) whose coverage is measured, in WGS84 longitude and
// latitude: normally an agreement's zone or line.
type Zone struct {
	ID       string       `json:"id"`
	Geometry orb.Geometry `json:"-"`
}

// Track is the path a patrol actually took, during [Start, End].
type Track struct {
	ID    string         `json:"id"`
	Team  string         `json:"team,omitempty"`
	Start time.Time      `json:"start"`
	End   time.Time      `json:"end"`
	Path  orb.LineString `json:"path"`
}

// Footprint is an area seen by a technical means, a fixed camera's field
// of view or a UAV flight's swath, which covers the samples inside it
// during its up intervals. A camera's up intervals come from Uptime; a
// UAV flight's is its flight time.
type Footprint struct {
	ID   string      `json:"id"`
	Kind string      `json:"kind,omitempty"` // camera, uav
	Area orb.Polygon `json:"area"`
	Up   []Interval  `json:"up"`
}

// Coverage is how much of a zone lies within reach of the sources.
type Coverage struct {
	Kind      string  `json:"kind"` // KindLine or KindArea
	DistanceM float64 `json:"distance_m"`
	// ResolutionM is the sampling step of a line or the cell size of an
	// area, in metres.
	ResolutionM float64 `json:"resolution_m"`
	// Share is CoveredKM/LengthKM for a line and Covered/Samples for an
	// area, from 0 to 1 (0 for a zone with no samples), rounded to 6
	// decimals.
	Share float64 `json:"share"`
	// Samples are the line samples or grid cells; Covered those covered.
	Samples int `json:"samples"`
	Covered int `json:"covered"`
	// LengthKM and CoveredKM are a line's length and the length its
	// covered samples stand for, rounded to metres; 0 for areas.
	LengthKM  float64 `json:"length_km"`
	CoveredKM float64 `json:"covered_km"`
	// AreaKM2 and CoveredKM2 are an area's cells and covered cells times
	// the nominal cell area; 0 for lines.
	AreaKM2    float64 `json:"area_km2"`
	CoveredKM2 float64 `json:"covered_km2"`
}

// ZoneCoverage is the coverage of one zone in one period.
type ZoneCoverage struct {
	Zone   string `json:"zone"`
	Period Period `json:"period"`
	Coverage
	// Tracks are the ids of the tracks active in the period that covered
	// some sample of the zone, in input order.
	Tracks []string `json:"tracks"`
	// Footprints are the footprints covering some sample of the zone,
	// with their coverage-hours in the period, in input order.
	Footprints []FootprintHours `json:"footprints,omitempty"`
}

// FootprintHours is a footprint's coverage-hours in a period: the length
// of the union of its up intervals within the period.
type FootprintHours struct {
	ID      string  `json:"id"`
	Kind    string  `json:"kind,omitempty"`
	UpHours float64 `json:"up_hours"`
}

// Survey holds zones replaced by their samples and, for each sample, the
// tracks and footprints that cover it. It is immutable once made, and
// safe for concurrent use.
type Survey struct {
	params Params
	zones  []*zone
	tracks []Track // without their paths
	foots  []foot
}

// foot is a footprint with its up intervals merged.
type foot struct {
	id, kind string
	up       []Interval
}

// NewSurvey validates the inputs and finds which tracks and footprints
// cover each sample of each zone. Errors are *guarantor.Error with code
// invalid naming the zone, track or footprint at fault.
func NewSurvey(zones []Zone, tracks []Track, footprints []Footprint, p Params) (*Survey, error) {
	p = p.withDefaults()
	if !(p.DistanceM > 0) || math.IsInf(p.DistanceM, 0) {
		return nil, guarantor.Errorf(guarantor.EInvalid, "distance_m", "the coverage distance must be a positive number of metres, not %v", p.DistanceM)
	}
	if !(p.StepM >= 1) || math.IsInf(p.StepM, 0) {
		return nil, guarantor.Errorf(guarantor.EInvalid, "step_m", "the sampling step must be at least 1 metre, not %v", p.StepM)
	}
	if !(p.CellM >= 1) || math.IsInf(p.CellM, 0) {
		return nil, guarantor.Errorf(guarantor.EInvalid, "cell_m", "the cell size must be at least 1 metre, not %v", p.CellM)
	}
	s := &Survey{params: p}
	ids := map[string]bool{}
	total := 0.0
	type pending struct {
		z     *zone
		lines []orb.LineString
		rs    []region
	}
	var todo []pending
	for i, zn := range zones {
		if zn.ID == "" || ids[zn.ID] {
			return nil, guarantor.Errorf(guarantor.EInvalid, "zones", "zone %d: the id %q is empty or used twice", i, zn.ID)
		}
		ids[zn.ID] = true
		lines, polys, err := split(zn.Geometry)
		if err != nil {
			return nil, guarantor.Errorf(guarantor.EInvalid, "zones", "zone %q: %v", zn.ID, err)
		}
		z := &zone{id: zn.ID}
		if lines != nil {
			total += countLineSamples(lines, p.StepM/1000)
			todo = append(todo, pending{z: z, lines: lines})
		} else {
			rs := regionsOf(polys)
			g := grid{cellM: p.CellM}
			if len(rs) > 0 {
				g = newGrid(polys.Bound(), p.CellM)
			}
			total += g.size()
			todo = append(todo, pending{z: z, rs: rs})
			z.grid = g
		}
		if total > MaxSamples {
			return nil, guarantor.Errorf(guarantor.EInvalid, "zones", "zone %q: more than %d samples in all: use a longer step or larger cells", zn.ID, MaxSamples)
		}
		s.zones = append(s.zones, z)
	}
	paths := make([]orb.LineString, len(tracks))
	for i, t := range tracks {
		if t.End.Before(t.Start) {
			return nil, guarantor.Errorf(guarantor.EInvalid, "tracks", "track %q ends (%s) before it starts (%s)", t.ID, t.End.Format(time.RFC3339), t.Start.Format(time.RFC3339))
		}
		for _, pt := range t.Path {
			if !validPoint(pt) {
				return nil, guarantor.Errorf(guarantor.EInvalid, "tracks", "track %q: %v is not a longitude and latitude", t.ID, pt)
			}
		}
		paths[i] = t.Path
		t.Path = nil
		s.tracks = append(s.tracks, t)
	}
	var rs []region
	for _, f := range footprints {
		for _, r := range f.Area {
			for _, pt := range r {
				if !validPoint(pt) {
					return nil, guarantor.Errorf(guarantor.EInvalid, "footprints", "footprint %q: %v is not a longitude and latitude", f.ID, pt)
				}
			}
		}
		for _, u := range f.Up {
			if u.To.Before(u.From) {
				return nil, guarantor.Errorf(guarantor.EInvalid, "footprints", "footprint %q: an up interval ends (%s) before it starts (%s)", f.ID, u.To.Format(time.RFC3339), u.From.Format(time.RFC3339))
			}
		}
		var r region
		if len(f.Area) > 0 && len(f.Area[0]) > 0 {
			r = region{f.Area, f.Area.Bound()}
		}
		rs = append(rs, r)
		s.foots = append(s.foots, foot{id: f.ID, kind: f.Kind, up: union(f.Up)})
	}
	ix := newIndex(paths, p.DistanceM)
	v := newVisitor(ix, len(tracks), rs)
	for _, t := range todo {
		if t.lines != nil {
			t.z.sampleLine(t.lines, p.StepM/1000)
		} else if len(t.rs) > 0 {
			t.z.sampleArea(t.rs, t.z.grid)
		} else {
			t.z.kind = KindArea
		}
		v.visit(t.z)
	}
	return s, nil
}

// split returns a zone geometry's lines, or else its polygons.
func split(g orb.Geometry) ([]orb.LineString, orb.MultiPolygon, error) {
	var lines []orb.LineString
	var polys orb.MultiPolygon
	switch g := g.(type) {
	case orb.LineString:
		lines = []orb.LineString{g.Clone()}
	case orb.MultiLineString:
		lines = []orb.LineString(g.Clone())
		if lines == nil {
			lines = []orb.LineString{}
		}
	case orb.Polygon:
		polys = orb.MultiPolygon{g}
	case orb.MultiPolygon:
		polys = g
	case nil:
		return nil, nil, errors.New("no geometry")
	default:
		return nil, nil, fmt.Errorf("a %s is neither a line nor an area", g.GeoJSONType())
	}
	for _, l := range lines {
		for _, pt := range l {
			if !validPoint(pt) {
				return nil, nil, fmt.Errorf("%v is not a longitude and latitude", pt)
			}
		}
	}
	for _, p := range polys {
		for _, r := range p {
			for _, pt := range r {
				if !validPoint(pt) {
					return nil, nil, fmt.Errorf("%v is not a longitude and latitude", pt)
				}
			}
		}
	}
	return lines, polys, nil
}

// visitor finds the sources covering each sample: tracks 0..nTracks-1
// through the index, then footprints nTracks+k by their polygons.
type visitor struct {
	ix      *segIndex
	nTracks int
	foot    []region
	seen    []int32
	stamp   int32
}

func newVisitor(ix *segIndex, nTracks int, foot []region) *visitor {
	return &visitor{ix: ix, nTracks: nTracks, foot: foot, seen: make([]int32, nTracks)}
}

// visit fills z.off and z.src.
func (v *visitor) visit(z *zone) {
	z.off = make([]int, 1, len(z.pts)+1)
	for _, p := range z.pts {
		v.stamp++
		from := len(z.src)
		v.ix.near(p, v.seen, v.stamp, func(s int32) { z.src = append(z.src, s) })
		slices.Sort(z.src[from:])
		for k, r := range v.foot {
			if len(r.poly) > 0 && r.contains(p) {
				z.src = append(z.src, int32(v.nTracks+k))
			}
		}
		z.off = append(z.off, len(z.src))
	}
}

// coverage sums the samples covered by the active sources.
func (z *zone) coverage(activeSrc []bool, p Params) Coverage {
	c := Coverage{Kind: z.kind, DistanceM: p.DistanceM, Samples: len(z.pts)}
	coveredKM := 0.0
	for i := range z.pts {
		for _, s := range z.src[z.off[i]:z.off[i+1]] {
			if activeSrc[s] {
				c.Covered++
				if z.kind == KindLine {
					coveredKM += z.w[i]
				}
				break
			}
		}
	}
	if z.kind == KindLine {
		c.ResolutionM = p.StepM
		c.LengthKM, c.CoveredKM = round(z.totalKM, 3), round(coveredKM, 3)
		if z.totalKM > 0 {
			c.Share = round(coveredKM/z.totalKM, 6)
		}
	} else {
		c.ResolutionM = z.grid.cellM
		cell := float64(z.grid.cellM/1000) * (z.grid.cellM / 1000)
		c.AreaKM2, c.CoveredKM2 = round(float64(c.Samples)*cell, 6), round(float64(c.Covered)*cell, 6)
		if c.Samples > 0 {
			c.Share = round(float64(c.Covered)/float64(c.Samples), 6)
		}
	}
	return c
}

// round rounds x to d decimals.
func round(x float64, d int) float64 {
	f := math.Pow10(d)
	return math.Round(x*f) / f
}

// Coverage returns the coverage of every zone in every period, zone by
// zone in input order and, for each zone, period by period: each counts
// the samples covered by the tracks and footprints active in the period
// (see the package documentation). Pass Days or Weeks for daily or weekly
// figures, or a single Period for any span.
func (s *Survey) Coverage(periods []Period) []ZoneCoverage {
	nt := len(s.tracks)
	act := make([][]bool, len(periods))
	for k, per := range periods {
		a := make([]bool, nt+len(s.foots))
		for i, t := range s.tracks {
			a[i] = active(t.Start, t.End, per.From, per.To)
		}
		for j, f := range s.foots {
			for _, u := range f.up {
				if active(u.From, u.To, per.From, per.To) {
					a[nt+j] = true
					break
				}
			}
		}
		act[k] = a
	}
	var out []ZoneCoverage
	for _, z := range s.zones {
		touches := make([]bool, nt+len(s.foots))
		for _, src := range z.src {
			touches[src] = true
		}
		for k, per := range periods {
			zc := ZoneCoverage{Zone: z.id, Period: per, Coverage: z.coverage(act[k], s.params), Tracks: []string{}}
			for i, t := range s.tracks {
				if touches[i] && act[k][i] {
					zc.Tracks = append(zc.Tracks, t.ID)
				}
			}
			for j, f := range s.foots {
				if touches[nt+j] {
					zc.Footprints = append(zc.Footprints, FootprintHours{ID: f.id, Kind: f.kind, UpHours: round(hoursIn(f.up, per.From, per.To), 4)})
				}
			}
			out = append(out, zc)
		}
	}
	return out
}

// LineCoverage is the coverage of a line (a LineString or
// MultiLineString) by tracks, all taken as active: the line is sampled
// every stepM metres (DefaultStepM when stepM <= 0) and a sample is
// covered when it lies within dM metres of a track. The geometry is not
// validated: NewSurvey does that.
func LineCoverage[L orb.LineString | orb.MultiLineString](line L, tracks []orb.LineString, dM, stepM float64) Coverage {
	var parts []orb.LineString
	switch l := any(line).(type) {
	case orb.LineString:
		parts = []orb.LineString{l}
	case orb.MultiLineString:
		parts = l
	}
	if !(stepM > 0) {
		stepM = DefaultStepM
	}
	z := &zone{}
	z.sampleLine(parts, stepM/1000)
	return staticCoverage(z, tracks, nil, Params{DistanceM: dM, StepM: stepM})
}

// AreaCoverage is the coverage of an area (a Polygon or MultiPolygon) by
// tracks and footprints, all taken as active: the area is replaced by
// the grid cells of cellM metres (DefaultCellM when cellM <= 0) whose
// centre lies in it, and a cell is covered when its centre lies within dM
// metres of a track or inside a footprint. The geometry is not validated:
// NewSurvey does that.
func AreaCoverage[A orb.Polygon | orb.MultiPolygon](area A, tracks []orb.LineString, footprints []orb.Polygon, dM, cellM float64) Coverage {
	var mp orb.MultiPolygon
	switch a := any(area).(type) {
	case orb.Polygon:
		mp = orb.MultiPolygon{a}
	case orb.MultiPolygon:
		mp = a
	}
	if !(cellM > 0) {
		cellM = DefaultCellM
	}
	z := &zone{kind: KindArea, grid: grid{cellM: cellM}}
	if rs := regionsOf(mp); len(rs) > 0 {
		z.sampleArea(rs, newGrid(mp.Bound(), cellM))
	}
	return staticCoverage(z, tracks, footprints, Params{DistanceM: dM, CellM: cellM})
}

// staticCoverage is the coverage of z with every source active.
func staticCoverage(z *zone, tracks []orb.LineString, footprints []orb.Polygon, p Params) Coverage {
	var rs []region
	for _, f := range footprints {
		var r region
		if len(f) > 0 && len(f[0]) > 0 {
			r = region{f, f.Bound()}
		}
		rs = append(rs, r)
	}
	newVisitor(newIndex(tracks, max(p.DistanceM, 0)), len(tracks), rs).visit(z)
	all := make([]bool, len(tracks)+len(footprints))
	for i := range all {
		all[i] = true
	}
	return z.coverage(all, p)
}
