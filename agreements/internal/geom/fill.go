package geom

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// Spec maps the id of a zone or line in an agreement file to the function
// that draws its geometry.
type Spec map[string]func() orb.Geometry

// Specs are the generated geometries of each shipped agreement file.
var Specs = map[string]Spec{
	"minsk-ii.yaml": {
		"contact-line":                     func() orb.Geometry { return ContactLine() },
		"security-zone-50km":               func() orb.Geometry { return Buffer(ContactLine(), 25, 0.5) },
		"security-zone-70km":               func() orb.Geometry { return Buffer(ContactLine(), 35, 0.6) },
		"security-zone-140km":              func() orb.Geometry { return Buffer(ContactLine(), 70, 1) },
		"sector-luhansk":                   func() orb.Geometry { n, _ := sectors(25, 0.5); return n },
		"sector-donetsk":                   func() orb.Geometry { _, s := sectors(25, 0.5); return s },
		"disengagement-zolote":             func() orb.Geometry { return Rectangle("Zolote", 2, 4) },
		"disengagement-stanytsia-luhanska": func() orb.Geometry { return Rectangle("Stanytsia Luhanska", 2, 4) },
	},
	"framework-2025.yaml": {
		"contact-line":  func() orb.Geometry { return ContactLine() },
		"security-zone": func() orb.Geometry { return Buffer(ContactLine(), 15, 0.4) },
		"ua-held":       func() orb.Geometry { return GovernmentControlled() },
		"occupied-areas": func() orb.Geometry {
			return orb.MultiPolygon{NonGovernmentControlled(), Crimea()}
		},
		"patrol-north": func() orb.Geometry { n, _ := sectors(20, 0.5); return n },
		"patrol-south": func() orb.Geometry { _, s := sectors(20, 0.5); return s },
	},
}

// sectors is Sectors, computed once per width and tolerance.
func sectors(km, tolKM float64) (north, south orb.Polygon) {
	sectorMu.Lock()
	defer sectorMu.Unlock()
	key := [2]float64{km, tolKM}
	if p, ok := sectorCache[key]; ok {
		return p[0], p[1]
	}
	north, south = Sectors(km, tolKM)
	sectorCache[key] = [2]orb.Polygon{north, south}
	return north, south
}

var (
	sectorMu    sync.Mutex
	sectorCache = map[[2]float64][2]orb.Polygon{}
)

var (
	idLine       = regexp.MustCompile(`^\s*(?:-\s+)?id:\s*"?([a-z0-9][a-z0-9._-]*)"?\s*$`)
	geometryLine = regexp.MustCompile(`^(\s*)geometry:`)
)

// Fill rewrites, in the YAML text of the agreement file name, the
// geometry of every zone and line that Specs draws: the line
// "geometry: ..." that follows "id: <id>" is replaced by "geometry: "
// and the geometry's GeoJSON on one line (JSON is YAML). Everything else
// is kept byte for byte. It fails if an id of the spec has no geometry
// line in the file.
func Fill(name string, yaml []byte) ([]byte, error) {
	spec, ok := Specs[name]
	if !ok {
		return nil, fmt.Errorf("geom: no geometry is drawn for %s", name)
	}
	lines := strings.SplitAfter(string(yaml), "\n")
	done := map[string]bool{}
	id := ""
	for i, l := range lines {
		if m := idLine.FindStringSubmatch(l); m != nil {
			id = m[1]
			continue
		}
		m := geometryLine.FindStringSubmatch(l)
		if m == nil || spec[id] == nil {
			continue
		}
		if done[id] {
			return nil, fmt.Errorf("geom: %s: %q has two geometries (or the id is used by a zone and a line)", name, id)
		}
		js, err := geojson.NewGeometry(spec[id]()).MarshalJSON()
		if err != nil {
			return nil, err
		}
		lines[i] = m[1] + "geometry: " + string(js) + "\n"
		done[id] = true
	}
	var missing []string
	for id := range spec {
		if !done[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("geom: %s has no geometry line for %s", name, strings.Join(missing, ", "))
	}
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(l)
	}
	return b.Bytes(), nil
}
