package geom

import "github.com/paulmach/orb"

// The outlines below are drawn by hand, [lon, lat], from general knowledge
// of where Ukraine's borders and coasts run (border crossings and border
// towns such as Milove, Kozacha Lopan, Ustyluh, Shehyni, Chop, Solotvyno,
// Mamalyha, Reni, Izmail and Vylkove; coastal towns from Odesa to
// Novoazovsk). They are not taken from any map or dataset. Expect errors
// of 10–15 km; along the Azov coast next to the line the coast is drawn a
// few kilometres out to sea, so that nothing on the shore falls outside.

// lineEast is where the approximated line of contact meets the Russian
// border: south-east of Stanytsia Luhanska, where the line followed the
// Siverskyi Donets downstream to the border.
var lineEast = orb.Point{39.80, 48.55}

// lineSouth is where the approximated line meets the Azov coast, east of
// Shyrokyne.
var lineSouth = orb.Point{37.86, 47.06}

// westAround runs from lineEast counter-clockwise around mainland Ukraine
// (north along the Russian border, west along the Belarusian, south along
// the Polish, Slovak, Hungarian, Romanian and Moldovan borders, east along
// the Black Sea coast, across the Perekop isthmus and along the Azov
// coast) to lineSouth; both ends excluded. Crimea lies outside it.
var westAround = []orb.Point{
	{40.00, 49.00}, {40.15, 49.35}, {40.05, 49.60}, {39.20, 49.85}, {38.60, 49.95}, {38.00, 49.95}, // Luhansk oblast
	{37.45, 50.40}, {36.95, 50.35}, {36.20, 50.40}, {35.45, 50.45}, // Kharkiv oblast
	{35.40, 50.80}, {35.10, 51.20}, {34.25, 51.25}, {34.20, 51.70}, {34.00, 52.25}, // Sumy oblast
	{33.70, 52.35}, {32.60, 52.25}, {32.40, 52.30}, {31.80, 52.10}, // Chernihiv oblast, to the Belarusian border
	{31.00, 52.05}, {30.55, 51.55}, {29.30, 51.55}, {27.75, 51.55}, {26.00, 51.92}, {24.70, 51.90}, // Belarus
	{23.60, 51.52}, {24.10, 50.85}, {23.55, 50.35}, {22.90, 49.80}, {22.65, 49.50}, // Poland
	{22.55, 49.08}, {22.15, 48.40}, // Slovakia
	{22.90, 47.95}, {23.85, 47.93}, {24.60, 47.90}, {25.20, 47.80}, {25.95, 48.00}, {26.60, 48.25}, // Hungary, Romania
	{27.60, 48.47}, {28.30, 48.22}, {29.20, 47.90}, {29.75, 47.15}, {29.95, 46.75}, {29.95, 46.45}, // Moldova
	{29.40, 46.45}, {28.95, 46.05}, {28.55, 45.55}, {28.20, 45.47}, // Moldova, to the Danube
	{28.85, 45.28}, {29.30, 45.40}, {29.75, 45.25}, // the Danube to the sea
	{30.30, 45.85}, {30.80, 46.45}, {31.55, 46.60}, {31.60, 46.45}, {32.20, 46.10}, {32.90, 46.05}, // Black Sea coast
	{33.55, 46.10}, {33.80, 46.15}, {34.40, 46.10}, {34.85, 46.15}, // Perekop isthmus, Sivash
	{35.35, 46.35}, {36.30, 46.65}, {36.80, 46.70}, {37.30, 46.95}, {37.60, 47.04}, // Azov coast to Mariupol
}

// eastAround runs from lineSouth east along the Azov coast and north
// along the Russian border to lineEast; both ends excluded. With the line
// of contact it encloses the 2015–2022 non-government-controlled areas.
var eastAround = []orb.Point{
	{38.10, 47.06}, {38.23, 47.08}, // Azov coast past Novoazovsk to the border
	{38.30, 47.55}, {38.75, 47.85}, {39.75, 47.90}, {39.90, 48.25}, {39.88, 48.45},
}

// crimea is a rough outline of the Crimean peninsula, counter-clockwise
// from the Perekop isthmus: Tarkhankut, Yevpatoria, Sevastopol, the south
// coast, Feodosia, the Kerch peninsula and the Sivash shore.
var crimea = orb.Ring{
	{33.80, 46.12}, {33.55, 46.07}, {32.50, 45.40}, {33.35, 45.20}, {33.50, 44.60}, {33.55, 44.45},
	{34.10, 44.40}, {34.40, 44.55}, {35.10, 44.80}, {35.40, 45.00}, {36.45, 45.05}, {36.65, 45.40},
	{35.90, 45.45}, {35.00, 45.70}, {34.50, 45.95}, {34.00, 46.05}, {33.80, 46.12},
}
