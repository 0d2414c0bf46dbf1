// Package agreement compiles an agreement document into what the engine
// executes: its zones and lines as geometry, its limits, and its
// triggers as checked CEL programs over incidents.
//
// Everything a trigger may call is deterministic: geometry tests and
// distances are computed in float64 and rounded to whole metres before
// any comparison, counts come from the engine's own state, and there is
// no clock. A bad expression, geometry or reference is refused by
// Compile, with the CEL error and its position, when the agreement is
// submitted; it never fails at evaluation time.
package agreement

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/internal/evenodd"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// Incident is what a trigger sees of an incident revision.
type Incident struct {
	ID, Revision            int64
	Category, Level         string
	From, To                time.Time
	Lat, Lon                float64
	RadiusM, Count          int64
	Members, Monitors       int64
	SourceTypes, Weapons    []string
	AttributedTo            []string // "party:RU"
	Verify, Dispute, Reject int64
}

// FromEntry describes an incident entry body for triggers.
func FromEntry(b *entry.Incident) Incident {
	in := Incident{
		ID: int64(b.ID), Revision: int64(b.Revision), Category: b.Category, Level: b.Level,
		From: b.From, To: b.To, Lon: b.Location.Coordinates[0], Lat: b.Location.Coordinates[1],
		RadiusM: b.RadiusM, Count: b.Count, Members: int64(len(b.Members)), Monitors: int64(b.Monitors),
		SourceTypes: b.SourceTypes, Weapons: b.Weapons,
	}
	for _, a := range b.Attributions {
		in.AttributedTo = append(in.AttributedTo, a.Party)
	}
	if v := b.Verdicts; v != nil {
		in.Verify, in.Dispute, in.Reject = int64(v.Verify), int64(v.Dispute), int64(v.Reject)
	}
	return in
}

// Levels orders the corroboration levels.
var Levels = []string{"reported", "corroborated", "verified"}

// LevelAtLeast reports whether level is min or above.
func LevelAtLeast(level, min string) bool {
	return slices.Index(Levels, level) >= slices.Index(Levels, min) && slices.Contains(Levels, min)
}

// Filter selects incidents for count(): every field optional.
type Filter struct {
	Categories []string
	MinLevel   string
	Zone       string
	Party      string
}

// Counter counts the incidents a filter selects whose latest report lies
// in [from, to]; the engine provides it.
type Counter func(f Filter, from, to time.Time) int64

// Compiled is an agreement ready to execute.
type Compiled struct {
	Doc      *entry.Agreement
	Triggers []Trigger
	zones    map[string]orb.Geometry
	areas    map[string][]area // the zones' polygons with their bounds, for InZone
	lines    map[string]orb.Geometry
	limits   map[string]entry.Limit
	counter  Counter   // set by Eval for the duration of a call
	at       time.Time // the end of count()'s window: the judged incident's to
}

// Trigger is a compiled trigger.
type Trigger struct {
	entry.Trigger
	Cooldown  time.Duration
	Aggregate bool // it calls count(): an aggregate, rate-limited by Cooldown
	program   cel.Program
}

// Compile checks and compiles an agreement. Errors are *guarantor.Error
// naming the field (a JSON pointer) and, for expressions, the CEL error
// with its line and column.
func Compile(doc *entry.Agreement) (*Compiled, error) {
	c := &Compiled{Doc: doc, zones: map[string]orb.Geometry{}, areas: map[string][]area{}, lines: map[string]orb.Geometry{}, limits: map[string]entry.Limit{}}
	for i, z := range doc.Zones {
		g, err := geometry(z.Geometry, fmt.Sprintf("/zones/%d/geometry", i))
		if err != nil {
			return nil, err
		}
		c.zones[z.ID] = g
		c.areas[z.ID] = areasOf(g)
	}
	for i, l := range doc.Lines {
		g, err := geometry(l.Geometry, fmt.Sprintf("/lines/%d/geometry", i))
		if err != nil {
			return nil, err
		}
		c.lines[l.ID] = g
	}
	for _, l := range doc.Limits {
		c.limits[l.ID] = l
	}
	env, err := c.env()
	if err != nil {
		return nil, fmt.Errorf("agreement: CEL environment: %w", err)
	}
	for i, t := range doc.Triggers {
		ptr := fmt.Sprintf("/triggers/%d/when", i)
		a, iss := env.Compile(t.When)
		if iss != nil && iss.Err() != nil {
			return nil, guarantor.Errorf(guarantor.EInvalid, ptr, "trigger %s: %s", t.ID, oneLine(iss.Err().Error()))
		}
		if a.OutputType() != cel.BoolType {
			return nil, guarantor.Errorf(guarantor.EInvalid, ptr, "trigger %s: the expression is of type %s; it must be a bool", t.ID, a.OutputType())
		}
		aggregate, err := c.checkReferences(t.ID, ptr, a)
		if err != nil {
			return nil, err
		}
		prg, err := env.Program(a, cel.CostLimit(1_000_000))
		if err != nil {
			return nil, guarantor.Errorf(guarantor.EInvalid, ptr, "trigger %s: %v", t.ID, err)
		}
		var cooldown time.Duration
		if t.Cooldown != "" {
			cooldown, _ = entry.ParseDuration(t.Cooldown) // checked by entry.Validate
		}
		c.Triggers = append(c.Triggers, Trigger{Trigger: t, Cooldown: cooldown, Aggregate: aggregate, program: prg})
	}
	return c, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// geometry parses a zone's or line's GeoJSON geometry.
func geometry(raw json.RawMessage, ptr string) (orb.Geometry, error) {
	g, err := geojson.UnmarshalGeometry(raw)
	if err != nil {
		return nil, guarantor.Errorf(guarantor.EInvalid, ptr, "not a GeoJSON geometry: %v", err)
	}
	check := func(p orb.Point) error {
		if p[0] < -180 || p[0] > 180 || p[1] < -90 || p[1] > 90 || math.IsNaN(p[0]) || math.IsNaN(p[1]) {
			return guarantor.Errorf(guarantor.EInvalid, ptr, "coordinate [%g, %g] is not a longitude and latitude", p[0], p[1])
		}
		return nil
	}
	ring := func(r orb.Ring) error {
		if len(r) < 4 || r[0] != r[len(r)-1] {
			return guarantor.Errorf(guarantor.EInvalid, ptr, "a polygon ring needs at least 4 positions, the last equal to the first")
		}
		for _, p := range r {
			if err := check(p); err != nil {
				return err
			}
		}
		return nil
	}
	line := func(l orb.LineString) error {
		if len(l) < 2 {
			return guarantor.Errorf(guarantor.EInvalid, ptr, "a line needs at least 2 positions")
		}
		for _, p := range l {
			if err := check(p); err != nil {
				return err
			}
		}
		return nil
	}
	switch g := g.Geometry().(type) {
	case orb.Polygon:
		for _, r := range g {
			if err := ring(r); err != nil {
				return nil, err
			}
		}
	case orb.MultiPolygon:
		for _, p := range g {
			for _, r := range p {
				if err := ring(r); err != nil {
					return nil, err
				}
			}
		}
	case orb.LineString:
		if err := line(g); err != nil {
			return nil, err
		}
	case orb.MultiLineString:
		for _, l := range g {
			if err := line(l); err != nil {
				return nil, err
			}
		}
	default:
		return nil, guarantor.Errorf(guarantor.EInvalid, ptr, "geometry type %s is not allowed here", g.GeoJSONType())
	}
	return g.Geometry(), nil
}

// checkReferences makes sure every zone, line and limit a trigger names
// is a string literal the agreement defines, and reports whether the
// trigger calls count().
func (c *Compiled) checkReferences(trigger, ptr string, a *cel.Ast) (aggregate bool, err error) {
	native := a.NativeRep()
	root := ast.NavigateAST(native)
	for fn, names := range map[string]func(string) bool{
		"in_zone":     func(s string) bool { return c.zones[s] != nil },
		"distance_km": func(s string) bool { return c.lines[s] != nil },
		"violates":    func(s string) bool { _, ok := c.limits[s]; return ok },
	} {
		for _, call := range ast.MatchDescendants(root, ast.FunctionMatcher(fn)) {
			args := call.AsCall().Args()
			loc := native.SourceInfo().GetStartLocation(call.ID())
			what := map[string]string{"in_zone": "zone", "distance_km": "line", "violates": "limit"}[fn]
			if len(args) != 2 || args[1].Kind() != ast.LiteralKind {
				return false, guarantor.Errorf(guarantor.EInvalid, ptr, "trigger %s: %d:%d: the %s of %s() must be a string literal", trigger, loc.Line(), loc.Column()+1, what, fn)
			}
			name, _ := args[1].AsLiteral().Value().(string)
			if !names(name) {
				return false, guarantor.Errorf(guarantor.EInvalid, ptr, "trigger %s: %d:%d: unknown %s %q: the agreement defines %s", trigger, loc.Line(), loc.Column()+1, what, name, c.defined(what))
			}
		}
	}
	for _, call := range ast.MatchDescendants(root, ast.FunctionMatcher("count")) {
		aggregate = true
		args := call.AsCall().Args()
		loc := native.SourceInfo().GetStartLocation(call.ID())
		if len(args) == 2 && args[1].Kind() == ast.LiteralKind {
			if s, _ := args[1].AsLiteral().Value().(string); s != "" {
				if _, err := entry.ParseDuration(s); err != nil {
					return false, guarantor.Errorf(guarantor.EInvalid, ptr, "trigger %s: %d:%d: count window: %v", trigger, loc.Line(), loc.Column()+1, err)
				}
			}
		} else {
			return false, guarantor.Errorf(guarantor.EInvalid, ptr, "trigger %s: %d:%d: the window of count() must be a string literal such as \"24h\"", trigger, loc.Line(), loc.Column()+1)
		}
	}
	return aggregate, nil
}

func (c *Compiled) defined(what string) string {
	var names []string
	switch what {
	case "zone":
		for n := range c.zones {
			names = append(names, n)
		}
	case "line":
		for n := range c.lines {
			names = append(names, n)
		}
	case "limit":
		for n := range c.limits {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// Eval runs every trigger on in and returns those whose expression is
// true, in document order. count() is answered by counter. An evaluation
// error (a cost limit, a type surprise at run time) counts as false and
// is returned alongside, so the caller can log it; it never stops the
// engine.
func (c *Compiled) Eval(in Incident, counter Counter) (fired []*Trigger, errs []error) {
	c.counter, c.at = counter, in.To
	defer func() { c.counter = nil }()
	act := map[string]any{"incident": in.value()}
	for i := range c.Triggers {
		t := &c.Triggers[i]
		out, _, err := t.program.Eval(act)
		if err != nil {
			errs = append(errs, fmt.Errorf("agreement %s trigger %s on incident %d: %w", c.Doc.ID, t.ID, in.ID, err))
			continue
		}
		if b, ok := out.Value().(bool); ok && b {
			fired = append(fired, t)
		}
	}
	return fired, errs
}

// value is the incident as the CEL variable `incident`.
func (in Incident) value() map[string]any {
	attributed := in.AttributedTo
	if attributed == nil {
		attributed = []string{}
	}
	st, w := in.SourceTypes, in.Weapons
	if st == nil {
		st = []string{}
	}
	if w == nil {
		w = []string{}
	}
	return map[string]any{
		"id": in.ID, "revision": in.Revision, "category": in.Category, "level": in.Level,
		"from": in.From, "to": in.To, "lat": in.Lat, "lon": in.Lon,
		"radius_m": in.RadiusM, "count": in.Count, "members": in.Members, "monitors": in.Monitors,
		"source_types": st, "weapons": w, "attributed_to": attributed,
		"verify": in.Verify, "dispute": in.Dispute, "reject": in.Reject,
	}
}

// InZone reports whether the point lies in the zone (false for an
// unknown zone).
func (c *Compiled) InZone(lon, lat float64, zone string) bool {
	p := orb.Point{lon, lat}
	for _, a := range c.areas[zone] {
		if a.bound.Contains(p) && evenodd.PolygonContains(a.poly, p) {
			return true
		}
	}
	return false
}

// ZoneKM returns the distance in kilometres from the point to the zone: 0
// inside it, else to its nearest edge; -1 for an unknown zone.
func (c *Compiled) ZoneKM(lon, lat float64, zone string) float64 {
	areas, ok := c.areas[zone]
	if !ok {
		return -1
	}
	if c.InZone(lon, lat, zone) {
		return 0
	}
	p := orb.Point{lon, lat}
	best := math.Inf(1)
	for _, a := range areas {
		for _, r := range a.poly {
			best = min(best, LineKM(p, orb.LineString(r)))
		}
	}
	return best
}

// area is one polygon of a zone and its bounding box, computed once:
// most points fall outside the box, which is far cheaper to test.
type area struct {
	poly  orb.Polygon
	bound orb.Bound
}

func areasOf(g orb.Geometry) []area {
	switch g := g.(type) {
	case orb.Polygon:
		return []area{{g, g.Bound()}}
	case orb.MultiPolygon:
		out := make([]area, len(g))
		for i, p := range g {
			out[i] = area{p, p.Bound()}
		}
		return out
	}
	return nil
}

// DistanceKM returns the distance from the point to the line, in
// kilometres rounded to whole metres, or -1 for an unknown line.
func (c *Compiled) DistanceKM(lon, lat float64, line string) float64 {
	var lines []orb.LineString
	switch g := c.lines[line].(type) {
	case orb.LineString:
		lines = []orb.LineString{g}
	case orb.MultiLineString:
		lines = g
	default:
		return -1
	}
	return math.Round(LineKM(orb.Point{lon, lat}, lines...)*1000) / 1000
}

// KMPerDegree is the length of a degree of latitude, in kilometres, for a
// mean Earth radius of 6,371 km.
const KMPerDegree = 111.195

// LineKM is the distance in kilometres from p to the nearest segment of
// the lines, on a local equirectangular projection centred on p: within
// the few hundred kilometres agreements measure, its error is far below a
// kilometre. It is the one distance the engine and the tools that draw
// zones share.
func LineKM(p orb.Point, lines ...orb.LineString) float64 {
	k := math.Cos(p[1] * math.Pi / 180)
	best := math.Inf(1)
	for _, l := range lines {
		for i := 1; i < len(l); i++ {
			best = min(best, segmentKM(p, k, l[i-1], l[i]))
		}
	}
	return best
}

// SegmentKM is LineKM for one segment ab.
func SegmentKM(p, a, b orb.Point) float64 { return segmentKM(p, math.Cos(p[1]*math.Pi/180), a, b) }

// segmentKM is SegmentKM with k, the cosine of p's latitude, given.
func segmentKM(p orb.Point, k float64, a, b orb.Point) float64 {
	ax, ay := (a[0]-p[0])*KMPerDegree*k, (a[1]-p[1])*KMPerDegree
	bx, by := (b[0]-p[0])*KMPerDegree*k, (b[1]-p[1])*KMPerDegree
	dx, dy := bx-ax, by-ay
	t := 0.0
	if l2 := dx*dx + dy*dy; l2 > 0 {
		t = max(0, min(1, -(ax*dx+ay*dy)/l2))
	}
	x, y := ax+t*dx, ay+t*dy
	return math.Sqrt(x*x + y*y)
}

// Violates reports whether the incident reports a weapon the limit lists
// within the limit's distance of its line.
func (c *Compiled) Violates(in Incident, limit string) bool {
	l, ok := c.limits[limit]
	if !ok {
		return false
	}
	hit := false
	for _, w := range in.Weapons {
		if slices.Contains(l.Weapons, w) {
			hit = true
		}
	}
	if !hit {
		return false
	}
	d := c.DistanceKM(in.Lon, in.Lat, l.Line)
	return d >= 0 && d < l.MinKM
}

// env declares `incident` and the functions triggers may call.
func (c *Compiled) env() (*cel.Env, error) {
	incType := cel.MapType(cel.StringType, cel.DynType)
	point := func(v ref.Val) (lon, lat float64, ok bool) {
		m, ok := v.(traits.Mapper)
		if !ok {
			return 0, 0, false
		}
		lo, ok1 := m.Get(types.String("lon")).Value().(float64)
		la, ok2 := m.Get(types.String("lat")).Value().(float64)
		return lo, la, ok1 && ok2
	}
	incident := func(v ref.Val) (Incident, bool) {
		m, ok := v.(traits.Mapper)
		if !ok {
			return Incident{}, false
		}
		var in Incident
		in.Lon, _ = m.Get(types.String("lon")).Value().(float64)
		in.Lat, _ = m.Get(types.String("lat")).Value().(float64)
		if l, ok := m.Get(types.String("weapons")).(traits.Lister); ok {
			for it := l.Iterator(); it.HasNext() == types.True; {
				if s, ok := it.Next().Value().(string); ok {
					in.Weapons = append(in.Weapons, s)
				}
			}
		}
		return in, true
	}
	return cel.NewEnv(
		cel.Variable("incident", incType),
		cel.Function("in_zone", cel.Overload("in_zone_incident_string", []*cel.Type{incType, cel.StringType}, cel.BoolType,
			cel.BinaryBinding(func(i, z ref.Val) ref.Val {
				lon, lat, ok := point(i)
				if !ok {
					return types.NewErr("in_zone: not an incident")
				}
				return types.Bool(c.InZone(lon, lat, string(z.(types.String))))
			}))),
		cel.Function("distance_km", cel.Overload("distance_km_incident_string", []*cel.Type{incType, cel.StringType}, cel.DoubleType,
			cel.BinaryBinding(func(i, l ref.Val) ref.Val {
				lon, lat, ok := point(i)
				if !ok {
					return types.NewErr("distance_km: not an incident")
				}
				return types.Double(c.DistanceKM(lon, lat, string(l.(types.String))))
			}))),
		cel.Function("violates", cel.Overload("violates_incident_string", []*cel.Type{incType, cel.StringType}, cel.BoolType,
			cel.BinaryBinding(func(i, l ref.Val) ref.Val {
				in, ok := incident(i)
				if !ok {
					return types.NewErr("violates: not an incident")
				}
				return types.Bool(c.Violates(in, string(l.(types.String))))
			}))),
		cel.Function("level_at_least", cel.Overload("level_at_least_incident_string", []*cel.Type{incType, cel.StringType}, cel.BoolType,
			cel.BinaryBinding(func(i, l ref.Val) ref.Val {
				m, ok := i.(traits.Mapper)
				if !ok {
					return types.NewErr("level_at_least: not an incident")
				}
				level, _ := m.Get(types.String("level")).Value().(string)
				return types.Bool(LevelAtLeast(level, string(l.(types.String))))
			}))),
		cel.Function("count", cel.Overload("count_map_string", []*cel.Type{cel.MapType(cel.StringType, cel.DynType), cel.StringType}, cel.IntType,
			cel.BinaryBinding(func(f, w ref.Val) ref.Val {
				return c.count(f, string(w.(types.String)))
			}))),
	)
}

// count answers count(filter, window) for the incident being judged: the
// window ends at its `to`.
func (c *Compiled) count(f ref.Val, window string) ref.Val {
	if c.counter == nil {
		return types.NewErr("count: no incidents to count here")
	}
	d, err := entry.ParseDuration(window)
	if err != nil {
		return types.NewErr("count: %v", err)
	}
	m, ok := f.(traits.Mapper)
	if !ok {
		return types.NewErr("count: the filter must be a map")
	}
	var flt Filter
	for it := m.Iterator(); it.HasNext() == types.True; {
		k := it.Next()
		key, _ := k.Value().(string)
		v := m.Get(k)
		switch key {
		case "category":
			switch x := v.(type) {
			case types.String:
				flt.Categories = []string{string(x)}
			case traits.Lister:
				for li := x.Iterator(); li.HasNext() == types.True; {
					if s, ok := li.Next().Value().(string); ok {
						flt.Categories = append(flt.Categories, s)
					}
				}
			}
		case "level":
			flt.MinLevel, _ = v.Value().(string)
		case "zone":
			flt.Zone, _ = v.Value().(string)
		case "party":
			flt.Party, _ = v.Value().(string)
		default:
			return types.NewErr("count: unknown filter key %q (category, level, zone, party)", key)
		}
	}
	slices.SortFunc(flt.Categories, cmp.Compare[string])
	return types.Int(c.counter(flt, c.at.Add(-d), c.at))
}
