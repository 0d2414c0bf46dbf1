package reconcile

import (
	"fmt"
	"math"
	"strings"

	"github.com/guarantor/guarantor/exchange/names"
)

// record is a Person prepared for comparison: its keys are computed once.
type record struct {
	id         string
	family     string // names.Key
	given      string // names.GivenKey
	patronymic string // names.Key
	place      string // names.Key
	unit       string // digits of the unit, else names.Key
	born       Date   // normalised
	civilian   bool
}

func prepare(p *Person) record {
	return record{
		id:         p.ID,
		family:     names.Key(p.Family),
		given:      names.GivenKey(p.Given),
		patronymic: names.Key(p.Patronymic),
		place:      names.Key(p.BirthPlace),
		unit:       unitKey(p.Unit),
		born:       p.Born.norm(),
		civilian:   p.Civilian,
	}
}

// unitKey reduces a unit designation to its digits ("в/ч А1234", "military
// unit A1234" → "1234"), or to its name key when it has none.
func unitKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	if b.Len() > 0 {
		return "#" + b.String()
	}
	return names.Key(s)
}

// The field weights; see the package documentation for the table. A
// weight is roughly the log2 of how much more often the observed
// agreement occurs between two records of one person than between
// records of two different people.
var (
	wFamily     = [...]float64{7, 5, 3, 1, -2, -6}
	wGiven      = [...]float64{4, 3, 2, 0, -2, -5}
	wPatronymic = [...]float64{3, 2, 1, 0, -1, -3}
)

const (
	wGivenInitial          = 1
	wPlaceSame, wPlaceNear = 1.5, 0.5
	wPlaceOther            = -1
	wUnitSame, wUnitOther  = 1.5, -0.5
	wCivilianOther         = -3
)

var dateWeight = [...]float64{
	dateUnknown:     0,
	dateConflict:    -10,
	dateYear:        4,
	dateMonth:       6,
	dateExact:       10,
	dateSwapped:     7,
	dateTypo:        6,
	datePartialTypo: 1.5,
}

var dateReason = [...]string{
	dateUnknown:     "unknown on one side",
	dateConflict:    "conflict",
	dateYear:        "same year",
	dateMonth:       "same year and month",
	dateExact:       "same date",
	dateSwapped:     "same date with day and month swapped",
	dateTypo:        "one typo apart",
	datePartialTypo: "one typo apart (partial)",
}

// simTiers are the key-similarity thresholds of the name weights.
var simTiers = [...]float64{1, 0.94, 0.90, 0.85, 0.80}

// graded maps a key similarity to the weight of its tier in w.
func graded(sim float64, w *[6]float64) float64 {
	for i, t := range simTiers {
		if sim >= t {
			return w[i]
		}
	}
	return w[len(w)-1]
}

// score returns the total weight of the evidence that h and c are one
// person and, if explain is set, the contribution of each field.
func score(h, c *record, explain bool) (float64, []string) {
	return scoreAbove(h, c, math.Inf(-1), explain)
}

// The fields, in the order their reasons are given.
const (
	fFamily = iota
	fGiven
	fPatronymic
	fBorn
	fPlace
	fStatus
	nFields
)

// scoreAbove is score, except that once the score is certain to fall
// below floor it stops and returns some value below floor. The cheap
// fields are weighed first.
func scoreAbove(h, c *record, floor float64, explain bool) (float64, []string) {
	var total float64
	var why [nFields]string
	add := func(field int, w float64, format string, args ...any) {
		total += w
		if explain {
			why[field] = fmt.Sprintf(fieldNames[field]+": "+format+" (%+g)", append(args, w)...)
		}
	}

	agr := compareDates(h.born, c.born)
	add(fBorn, dateWeight[agr], "%s %s / %s", dateReason[agr], h.born, c.born)

	if h.civilian != c.civilian {
		add(fStatus, wCivilianOther, "civilian on one side only")
	} else if h.unit != "" && c.unit != "" {
		if h.unit == c.unit || !strings.HasPrefix(h.unit, "#") && names.KeySimilarity(h.unit, c.unit) >= 0.9 {
			add(fStatus, wUnitSame, "same unit")
		} else {
			add(fStatus, wUnitOther, "different unit")
		}
	}

	// The most the remaining fields can add.
	hasPatr := h.patronymic != "" && c.patronymic != ""
	hasPlace := h.place != "" && c.place != ""
	rest := wFamily[0] + wGiven[0]
	if hasPatr {
		rest += wPatronymic[0]
	}
	if hasPlace {
		rest += wPlaceSame
	}
	if total+rest < floor {
		return total + rest, nil
	}

	sim := names.KeySimilarity(h.family, c.family)
	add(fFamily, graded(sim, &wFamily), "similarity %.2f", sim)
	rest -= wFamily[0]
	if total+rest < floor {
		return total + rest, nil
	}

	switch {
	case h.given == "" || c.given == "":
		add(fGiven, 0, "missing")
	case isInitial(h.given, c.given) || isInitial(c.given, h.given):
		add(fGiven, wGivenInitial, "initial")
	default:
		sim = names.KeySimilarity(h.given, c.given)
		add(fGiven, graded(sim, &wGiven), "similarity %.2f", sim)
	}
	rest -= wGiven[0]
	if total+rest < floor {
		return total + rest, nil
	}

	if hasPatr {
		sim = names.KeySimilarity(h.patronymic, c.patronymic)
		add(fPatronymic, graded(sim, &wPatronymic), "similarity %.2f", sim)
	} else {
		add(fPatronymic, 0, "missing")
	}

	if hasPlace {
		sim = names.KeySimilarity(h.place, c.place)
		var w float64 = wPlaceOther
		switch {
		case sim >= 0.9:
			w = wPlaceSame
		case sim >= 0.8:
			w = wPlaceNear
		}
		add(fPlace, w, "similarity %.2f", sim)
	}

	if !explain {
		return total, nil
	}
	var reasons []string
	for _, r := range why {
		if r != "" {
			reasons = append(reasons, r)
		}
	}
	return total, reasons
}

var fieldNames = [nFields]string{
	fFamily:     "family",
	fGiven:      "given",
	fPatronymic: "patronymic",
	fBorn:       "born",
	fPlace:      "birthplace",
	fStatus:     "status",
}

// isInitial reports whether a is the key of a single initial (one sound,
// as "i" for І. or "shch" for Щ.) with which the longer key b begins.
func isInitial(a, b string) bool {
	if len(b) <= len(a) || !strings.HasPrefix(b, a) {
		return false
	}
	switch a {
	case "ts", "ch", "sh", "zh", "shch":
		return true
	}
	return len(a) == 1
}
