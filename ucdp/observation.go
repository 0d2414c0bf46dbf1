package ucdp

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/eventcsv"
)

// accuracy is the radius in metres assumed for each UCDP where_prec code:
// 1 the exact place (a settlement: its extent), 2 within about 25 km,
// 3 a second-order administrative unit (a raion, up to ~50 km across),
// 4 a first-order unit (an oblast, ~150 km), 5 a linear feature such as a
// front line or river (~100 km), 6 the country, 7 international waters
// or airspace (500 km and 1,000 km: the point is only indicative). The
// radii are distinct so that WherePrec can read the code back.
var accuracy = [8]float64{0, 2000, 25000, 50000, 150000, 100000, 500000, 1000000}

// WherePrec returns the where_prec code whose radius is accuracyM, or 0.
func WherePrec(accuracyM float64) int {
	for code, r := range accuracy {
		if code > 0 && r == accuracyM {
			return code
		}
	}
	return 0
}

// categoryWords maps words in a source headline or place description to
// an observation category, in order of precedence. UCDP codes lethal
// events, not weapons; the wording of the sources is the only hint.
var categoryWords = []struct {
	category string
	words    []string
}{
	{"drone_strike", []string{"drone", "uav", "kamikaze", "shahed", "lancet"}},
	{"missile_strike", []string{"missile", "rocket strike", "iskander", "kalibr", "tochka"}},
	{"air_strike", []string{"airstrike", "air strike", "air raid", "bomb", "aviation", "jet"}},
	{"mine", []string{"mine", "ied", "explosive device", "tripwire", "booby"}},
	{"small_arms", []string{"sniper", "small arms", "gunfire", "shot dead", "machine gun", "firefight", "ambush"}},
	{"shelling", []string{"shell", "artillery", "mortar", "mlrs", "grad", "howitzer", "bombard", "uragan", "smerch"}},
}

// Category returns the observation category for the event: one-sided
// violence is a civilian casualty; otherwise the sources' wording decides,
// and state-based events with no telling word are "other".
func (e *Event) Category() string {
	if e.TypeOfViolence == 3 {
		return "civilian_casualty"
	}
	text := e.SourceHeadline + " " + e.WhereDescription
	for _, c := range categoryWords {
		if eventcsv.HasWord(text, c.words...) {
			return c.category
		}
	}
	return "other"
}

// Observation maps the event to an observation body: id "ucdp-<id>",
// observed at the event's first day, at its coordinates with an accuracy
// radius from where_prec, the category from Category, the best estimate of
// deaths as the count (left out when it is 0), and the UCDP id kept so the
// mapping is reversible.
func (e *Event) Observation() entry.Observation {
	acc := accuracy[max(1, min(7, e.WherePrec))]
	var count *int // best 0 (no confirmed death) leaves count out: it is at least 1
	if e.Best > 0 {
		count = &e.Best
	}
	text := fmt.Sprintf("UCDP GED event %d (%s): %s; %s. Deaths best %d (low %d, high %d).",
		e.ID, e.RelID, e.DyadName, e.WhereDescription, e.Best, e.Low, e.High)
	if h := firstHeadline(e.SourceHeadline); h != "" {
		text += " Source: " + h
	}
	return entry.Observation{
		ID:         "ucdp-" + strconv.FormatInt(e.ID, 10),
		ObservedAt: e.DateStart,
		Location:   entry.Point{Type: "Point", Coordinates: [2]float64{e.Longitude, e.Latitude}},
		Category:   e.Category(),
		AccuracyM:  &acc,
		Count:      count,
		SourceType: "open_source",
		Text:       entry.Truncate(text, 500),
		ExternalID: strconv.FormatInt(e.ID, 10),
		Source:     "ucdp-ged",
	}
}

func firstHeadline(s string) string {
	h, _, _ := strings.Cut(s, ";")
	return strings.TrimSpace(h)
}
