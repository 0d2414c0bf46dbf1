package scenario

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
	Lat  float64
	Lon  float64
	Side Side
}

// settlements run along the line from its north-east end near the Russian
// border, west along the Siverskyi Donets, then south to the Azov coast.
// Coordinates are UCDP GED place coordinates (shared/DOMAIN.md §4).
var settlements = []Settlement{
	{"Stanytsia Luhanska", 48.6547, 39.4828, GCA},
	{"Shchastia", 48.7219, 39.2515, GCA},
	{"Raivka", 48.6815, 39.1903, NGCA},
	{"Slovianoserbsk", 48.6964, 38.9818, NGCA},
	{"Trokhizbenka", 48.7533, 38.9725, GCA},
	{"Krymske", 48.7500, 38.8000, GCA},
	{"Novotoshkivske", 48.7248, 38.6323, GCA},
	{"Kirovsk (Holubivka)", 48.6356, 38.6437, NGCA},
	{"Zolote", 48.6833, 38.5167, GCA},
	{"Pervomaisk", 48.6333, 38.5167, NGCA},
	{"Popasna", 48.6333, 38.3800, GCA},
	{"Vrubivka", 48.7431, 38.3752, GCA},
	{"Luhanske", 48.4525, 38.2458, GCA},
	{"Svitlodarsk", 48.4353, 38.2205, GCA},
	{"Debaltseve", 48.3333, 38.4000, NGCA},
	{"Novoluhanske", 48.4263, 38.1711, GCA},
	{"Zaitseve", 48.4196, 38.0324, Divided},
	{"Maiorsk", 48.3956, 37.9726, GCA},
	{"Horlivka", 48.3000, 38.0500, NGCA},
	{"Shumy", 48.3807, 37.9331, GCA},
	{"Zalizne", 48.3713, 37.8924, GCA},
	{"Avdiivka", 48.1453, 37.7450, GCA},
	{"Yasynuvata", 48.1278, 37.8625, NGCA},
	{"Opytne", 48.0964, 37.7223, GCA},
	{"Pisky", 48.0669, 37.6664, GCA},
	{"Donetsk", 48.0000, 37.8053, NGCA},
	{"Krasnohorivka", 48.0067, 37.5128, GCA},
	{"Staromykhailivka", 48.0003, 37.5884, NGCA},
	{"Marinka", 47.9417, 37.5042, GCA},
	{"Olenivka", 47.8366, 37.6511, NGCA},
	{"Novotroitske", 47.7171, 37.5738, GCA},
	{"Dokuchaievsk", 47.7505, 37.6794, NGCA},
	{"Starohnativka", 47.5398, 37.7788, GCA},
	{"Starolaspa", 47.5611, 37.9828, NGCA},
	{"Chermalyk", 47.3131, 37.8005, GCA},
	{"Pavlopil", 47.2616, 37.7842, GCA},
	{"Hnutove", 47.2103, 37.7527, GCA},
	{"Kominternove (Pikuzy)", 47.1741, 37.8148, NGCA},
	{"Shyrokyne", 47.0946, 37.8156, GCA},
}

// Settlements returns the settlements along the line, north-east to south.
func Settlements() []Settlement {
	return append([]Settlement(nil), settlements...)
}
