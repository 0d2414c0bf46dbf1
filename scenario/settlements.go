package scenario

import (
	"cmp"
	"math"
	"slices"
)

// Side says which side of the 2015–2022 line of contact a settlement lay on.
type Side string

// Sides of the line.
const (
	GCA     Side = "GCA"     // government-controlled area
	NGCA    Side = "NGCA"    // non-government-controlled area
	Divided Side = "divided" // the line ran through it
)

// Settlement is a place along the 2015–2022 Donbas line of contact.
type Settlement struct {
	Name string
	Lat  float64 // WGS84 degrees
	Lon  float64 // WGS84 degrees
	Side Side
	// SideConfirmed is true when an OSCE SMM report (or a news report
	// citing one) confirms the side; other sides are general knowledge,
	// not checked against a source (shared/DOMAIN.md §4, "S").
	SideConfirmed bool
	// Oblast is the first-order unit, "Donetsk" or "Luhansk" (UCDP adm_1
	// where the place is in the UCDP file).
	Oblast string
}

// settlements run along the line from its north-east end near the Russian
// border, west along the Siverskyi Donets, then south to the Azov coast.
// Coordinates are UCDP GED place coordinates (shared/DOMAIN.md §4, taken
// from shared/data/ucdp-ged-ukraine-2016-2023.csv).
var settlements = []Settlement{
	{"Stanytsia Luhanska", 48.6547, 39.4828, GCA, true, "Luhansk"},
	{"Shchastia", 48.7219, 39.2515, GCA, false, "Luhansk"},
	{"Raivka", 48.6815, 39.1903, NGCA, true, "Luhansk"},
	{"Slovianoserbsk", 48.6964, 38.9818, NGCA, true, "Luhansk"},
	{"Trokhizbenka", 48.7533, 38.9725, GCA, true, "Luhansk"},
	{"Krymske", 48.7500, 38.8000, GCA, false, "Luhansk"},
	{"Novotoshkivske", 48.7248, 38.6323, GCA, false, "Luhansk"},
	{"Kirovsk (Holubivka)", 48.6356, 38.6437, NGCA, false, "Luhansk"},
	{"Zolote", 48.6833, 38.5167, GCA, true, "Luhansk"},
	{"Pervomaisk", 48.6333, 38.5167, NGCA, false, "Luhansk"},
	{"Popasna", 48.6333, 38.3800, GCA, true, "Luhansk"},
	{"Vrubivka", 48.7431, 38.3752, GCA, true, "Luhansk"},
	{"Luhanske", 48.4525, 38.2458, GCA, false, "Donetsk"},
	{"Svitlodarsk", 48.4353, 38.2205, GCA, true, "Donetsk"},
	{"Debaltseve", 48.3333, 38.4000, NGCA, false, "Donetsk"},
	{"Novoluhanske", 48.4263, 38.1711, GCA, false, "Donetsk"},
	{"Zaitseve", 48.4196, 38.0324, Divided, false, "Donetsk"},
	{"Maiorsk", 48.3956, 37.9726, GCA, false, "Donetsk"},
	{"Horlivka", 48.3000, 38.0500, NGCA, true, "Donetsk"},
	{"Shumy", 48.3807, 37.9331, GCA, false, "Donetsk"},
	{"Zalizne", 48.3713, 37.8924, GCA, true, "Donetsk"},
	{"Avdiivka", 48.1453, 37.7450, GCA, false, "Donetsk"},
	{"Yasynuvata", 48.1278, 37.8625, NGCA, false, "Donetsk"},
	{"Opytne", 48.0964, 37.7223, GCA, false, "Donetsk"},
	{"Pisky", 48.0669, 37.6664, GCA, false, "Donetsk"},
	{"Donetsk", 48.0000, 37.8053, NGCA, true, "Donetsk"},
	{"Krasnohorivka", 48.0067, 37.5128, GCA, false, "Donetsk"},
	{"Staromykhailivka", 48.0003, 37.5884, NGCA, false, "Donetsk"},
	{"Marinka", 47.9417, 37.5042, GCA, true, "Donetsk"},
	{"Olenivka", 47.8366, 37.6511, NGCA, false, "Donetsk"},
	{"Novotroitske", 47.7171, 37.5738, GCA, false, "Donetsk"},
	{"Dokuchaievsk", 47.7505, 37.6794, NGCA, false, "Donetsk"},
	{"Starohnativka", 47.5398, 37.7788, GCA, false, "Donetsk"},
	{"Starolaspa", 47.5611, 37.9828, NGCA, true, "Donetsk"},
	{"Chermalyk", 47.3131, 37.8005, GCA, true, "Donetsk"},
	{"Pavlopil", 47.2616, 37.7842, GCA, true, "Donetsk"},
	{"Hnutove", 47.2103, 37.7527, GCA, true, "Donetsk"},
	{"Kominternove (Pikuzy)", 47.1741, 37.8148, NGCA, false, "Donetsk"},
	{"Shyrokyne", 47.0946, 37.8156, GCA, true, "Donetsk"},
}

// Settlements returns the settlements along the line, north-east to south.
// The slice is a copy.
func Settlements() []Settlement {
	return append([]Settlement(nil), settlements...)
}

// Pair is two settlements facing each other across the line: the
// positions between which the generated scenario places fire.
type Pair struct{ A, B Settlement }

// Pairs returns the pairs of facing settlements: each settlement with the
// nearest one on the other side of the line (a divided settlement faces
// any), each pair once, ordered along the line. Drawn between each pair,
// they trace the line of contact.
func Pairs() []Pair {
	out := make([]Pair, len(pairs))
	for i, p := range pairs {
		out[i] = Pair{settlements[p[0]], settlements[p[1]]}
	}
	return out
}

// pairs are index pairs into settlements, lower index first, sorted.
var pairs = func() [][2]int {
	var out [][2]int
	for i, a := range settlements {
		best, bestKM := -1, math.Inf(1)
		for j, b := range settlements {
			if j == i || (a.Side == b.Side && a.Side != Divided) {
				continue
			}
			if d := distanceKM(a.Lat, a.Lon, b.Lat, b.Lon); d < bestKM {
				best, bestKM = j, d
			}
		}
		if p := [2]int{min(i, best), max(i, best)}; !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(p, q [2]int) int { return cmp.Or(p[0]-q[0], p[1]-q[1]) })
	return out
}()

// distanceKM is the great-circle distance (spherical Earth).
func distanceKM(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371.0
	φ1, φ2 := lat1*math.Pi/180, lat2*math.Pi/180
	dφ, dλ := φ2-φ1, (lon2-lon1)*math.Pi/180
	h := math.Sin(dφ/2)*math.Sin(dφ/2) + math.Cos(φ1)*math.Cos(φ2)*math.Sin(dλ/2)*math.Sin(dλ/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(h)))
}

// bearingDeg is the initial great-circle bearing from point 1 to point 2,
// degrees clockwise from true north, in [0, 360).
func bearingDeg(lat1, lon1, lat2, lon2 float64) float64 {
	φ1, φ2 := lat1*math.Pi/180, lat2*math.Pi/180
	dλ := (lon2 - lon1) * math.Pi / 180
	y := math.Sin(dλ) * math.Cos(φ2)
	x := math.Cos(φ1)*math.Sin(φ2) - math.Sin(φ1)*math.Cos(φ2)*math.Cos(dλ)
	b := math.Mod(math.Atan2(y, x)*180/math.Pi+360, 360)
	if b >= 360 { // -0.0…01 + 360 rounds to 360
		b = 0
	}
	return b
}
