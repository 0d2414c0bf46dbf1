package ucdp

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/guarantor/guarantor/entry"
)

// accuracy is the radius in metres assumed for each UCDP where_prec code
// (index = code; 0 is unused):
//
//	code  UCDP meaning                                  radius
//	1     the exact place (a settlement: its extent)     2 km
//	2     within about 25 km of a named place           25 km
//	3     a second-order unit (raion, ~50 km across)    50 km
//	4     a first-order unit (oblast, ~150 km across)  150 km
//	5     a larger area, a line between two places,   100 km
//	      a vague or relative location
//	6     the country (indicative only)                500 km
//	7     international waters or airspace          1,000 km
//
// Code 5 is smaller than code 4 because UCDP uses it mostly for stretches
// of front line, which are narrower than an oblast. The radii are distinct
// so that WherePrec reads the code back from an exported observation.
var accuracy = [8]float64{0, 2000, 25000, 50000, 150000, 100000, 500000, 1000000}

// WherePrec returns the where_prec code whose radius is accuracyM, or 0 if
// no code has that radius.
func WherePrec(accuracyM float64) int {
	for code, r := range accuracy {
		if code > 0 && r == accuracyM {
			return code
		}
	}
	return 0
}

// categoryRules map the wording of an event's source headlines and place
// description to an observation category. The first rule with a match
// wins, so the order is the precedence: the most specific means of attack
// first, generic shelling and explosions last. A pattern is a word or a
// phrase of words matched against whole words of the text, ignoring case;
// a word ending in "*" matches any word it starts ("shell*" finds
// "shelling" and "shelled"; "grad" alone does not find "graduate", nor
// "mine" "miners").
var categoryRules = []struct {
	category string
	patterns []string
}{
	{"drone_strike", []string{"drone*", "uav", "uavs", "kamikaze", "shahed*", "lancet*", "fpv", "quadcopter*"}},
	{"missile_strike", []string{"missile*", "rocket strike*", "rocket attack*", "iskander*", "kalibr*", "tochka*", "ballistic", "s 300"}},
	{"air_strike", []string{"airstrike*", "air strike*", "air raid*", "aviation", "aircraft", "warplane*", "bomber*", "aerial bomb*", "air bomb*", "guided bomb*", "helicopter*", "sortie*"}},
	{"mine", []string{"mine", "mines", "landmine*", "tripwire*", "ied", "ieds", "explosive device*", "booby*", "car bomb*", "demining", "unexploded"}},
	{"small_arms", []string{"sniper*", "small arms", "gunfire", "gunshot*", "shot dead", "machine gun*", "firefight*", "ambush*", "rifle*", "shootout*"}},
	{"shelling", []string{"shell*", "artiller*", "mortar*", "mlrs", "grad", "grads", "gradov", "howitzer*", "bombard*", "uragan*", "smerch*", "multiple rocket*", "himars"}},
	{"explosion_heard", []string{"grenade*", "explosion*", "blast*"}},
}

// Category returns the observation category for the event. UCDP codes
// lethal events, not weapons, so the wording of its sources is the only
// hint of the means:
//
//  1. one-sided violence (type_of_violence 3) is civilian_casualty;
//  2. otherwise the first rule of categoryRules that matches the source
//     headlines or the place description decides (drone_strike,
//     missile_strike, air_strike, mine, small_arms, shelling, then
//     explosion_heard for a grenade or an explosion of no stated cause);
//  3. an event with no telling word but civilian deaths is
//     civilian_casualty;
//  4. anything else is "other".
func (e *Event) Category() string {
	if e.TypeOfViolence == 3 {
		return "civilian_casualty"
	}
	words := wordsOf(e.SourceHeadline + " " + e.WhereDescription)
	for _, r := range categoryRules {
		for _, p := range r.patterns {
			if mentions(words, p) {
				return r.category
			}
		}
	}
	if e.DeathsCivilians > 0 {
		return "civilian_casualty"
	}
	return "other"
}

// wordsOf splits text into lower-case words of letters and digits.
// "Anti-aircraft" becomes one word, so that it does not read as aircraft.
func wordsOf(text string) []string {
	text = strings.ReplaceAll(strings.ToLower(text), "anti-", "anti")
	return strings.FieldsFunc(text, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// mentions reports whether the words contain the pattern's words in a row.
func mentions(words []string, pattern string) bool {
	pat := strings.Fields(pattern)
	for i := 0; i+len(pat) <= len(words); i++ {
		if slices.EqualFunc(words[i:i+len(pat)], pat, wordMatches) {
			return true
		}
	}
	return false
}

func wordMatches(word, p string) bool {
	if prefix, ok := strings.CutSuffix(p, "*"); ok {
		return strings.HasPrefix(word, prefix)
	}
	return word == p
}

// MaxText is the longest observation text Observation writes, in bytes.
const MaxText = 500

// Observation maps the event to an observation body, deterministically:
//
//   - id "ucdp-<id>", external_id "<id>", source "ucdp-ged", source_type
//     "open_source", so the mapping is reversible and re-imports are
//     idempotent;
//   - observed_at the event's first day (date_start, UTC, as parsed);
//   - location the event's coordinates, accuracy_m from where_prec (see
//     the table at accuracy);
//   - category from Category;
//   - count the best estimate of deaths, left out when it is 0 (the
//     schema's count is at least 1, and a death that UCDP does not count
//     must not be invented; an export reads a missing count back as 0);
//   - text a one-line English summary of at most MaxText bytes, cut on a
//     rune boundary: the UCDP ids, dyad, place, the death estimates and
//     the first source headline.
func (e *Event) Observation() entry.Observation {
	acc := accuracy[max(1, min(7, e.WherePrec))]
	var count *int
	if e.Best > 0 {
		best := e.Best
		count = &best
	}
	text := fmt.Sprintf("UCDP GED event %d (%s): %s; %s. Deaths best %d (low %d, high %d).",
		e.ID, e.RelID, e.DyadName, e.WhereDescription, e.Best, e.Low, e.High)
	if h := firstHeadline(e.SourceHeadline); h != "" {
		text += " Source: " + h
	}
	return entry.Observation{
		ID:         "ucdp-" + strconv.FormatInt(e.ID, 10),
		ObservedAt: e.DateStart.UTC(),
		Location:   entry.Point{Type: "Point", Coordinates: [2]float64{e.Longitude, e.Latitude}},
		Category:   e.Category(),
		AccuracyM:  &acc,
		Count:      count,
		SourceType: "open_source",
		Text:       entry.Truncate(strings.Join(strings.Fields(text), " "), MaxText),
		ExternalID: strconv.FormatInt(e.ID, 10),
		Source:     "ucdp-ged",
	}
}

// firstHeadline returns the first of the ";"-separated headlines.
func firstHeadline(s string) string {
	h, _, _ := strings.Cut(s, ";")
	return strings.TrimSpace(h)
}
