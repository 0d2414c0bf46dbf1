package reconcile

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Person is one entry on a list of detainees. Names may be in any script
// and under any transliteration standard; empty fields are unknown.
type Person struct {
	// ID identifies the entry within its list; it is opaque here and
	// should be unique within the list.
	ID         string
	Family     string // family name (surname)
	Given      string // given name, or an initial
	Patronymic string // patronymic (по батькові, отчество), often missing
	Born       Date   // date of birth, possibly partial
	BirthPlace string
	Unit       string // military unit, if any ("в/ч А1234")
	Civilian   bool   // true for a civilian detainee
	Captured   Date   // date of capture; recorded, not scored
	// CapturePlace is where the person was captured; recorded, not scored.
	CapturePlace string
}

// Options are the decision thresholds, in score points (see the package
// documentation). The zero value selects the defaults.
type Options struct {
	// Accept is the lowest score at which a pair is matched without human
	// review, provided no competing assignment comes within Margin.
	// Optional; default 12.
	Accept float64
	// Review is the lowest score at which a pair is plausible: pairs
	// between Review and Accept, and contested pairs above Accept, go to
	// a human. Below Review a pair is not considered at all. Optional;
	// default 8.
	Review float64
	// Margin is how far, in score points, the best assignment of a
	// cluster of plausible pairs must lead the best assignment without a
	// given pair for that pair to be matched. Optional; default 4.
	Margin float64
}

// The default thresholds.
const (
	DefaultAccept = 12
	DefaultReview = 8
	DefaultMargin = 4
)

// ErrBadOptions is wrapped by Options.Validate.
var ErrBadOptions = errors.New("bad reconciliation options")

// withDefaults fills in the zero fields.
func (o Options) withDefaults() Options {
	if o.Accept == 0 {
		o.Accept = DefaultAccept
	}
	if o.Review == 0 {
		o.Review = DefaultReview
	}
	if o.Margin == 0 {
		o.Margin = DefaultMargin
	}
	return o
}

// Validate reports the first field of o, after defaults are filled in,
// that Reconcile would have to correct: a non-finite threshold, Review
// above Accept, or a negative Margin.
func (o Options) Validate() error {
	o = o.withDefaults()
	for _, f := range []struct {
		name string
		v    float64
	}{{"Accept", o.Accept}, {"Review", o.Review}, {"Margin", o.Margin}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return fmt.Errorf("%w: %s is %v", ErrBadOptions, f.name, f.v)
		}
	}
	if o.Review > o.Accept {
		return fmt.Errorf("%w: Review %g is above Accept %g", ErrBadOptions, o.Review, o.Accept)
	}
	if o.Margin < 0 {
		return fmt.Errorf("%w: Margin %g is negative", ErrBadOptions, o.Margin)
	}
	return nil
}

// normalised returns o with defaults filled in and invalid fields
// corrected as Reconcile documents.
func (o Options) normalised() Options {
	o = o.withDefaults()
	d := Options{Accept: DefaultAccept, Review: DefaultReview, Margin: DefaultMargin}
	if math.IsNaN(o.Accept) || math.IsInf(o.Accept, 0) {
		o.Accept = d.Accept
	}
	if math.IsNaN(o.Review) || math.IsInf(o.Review, 0) {
		o.Review = d.Review
	}
	if math.IsNaN(o.Margin) || math.IsInf(o.Margin, 0) || o.Margin < 0 {
		o.Margin = d.Margin
	}
	o.Review = min(o.Review, o.Accept)
	return o
}

// Pair is a held and a claimed entry taken to be the same person.
type Pair struct {
	Held    string   // ID on the held list
	Claimed string   // ID on the claimed list
	Score   float64  // total weight of the evidence; 0 for a human decision on an unscored pair
	Reasons []string // the contribution of each field, or the human decision
	Decided bool     // set by Decide: a human, not the reconciler, paired them
}

// Side names one of the two lists.
type Side int

// The two sides.
const (
	Held    Side = iota + 1 // the list of people side A says it holds
	Claimed                 // the list of people side B says side A holds
)

// String returns "held" or "claimed".
func (s Side) String() string {
	switch s {
	case Held:
		return "held"
	case Claimed:
		return "claimed"
	}
	return "Side(" + strconv.Itoa(int(s)) + ")"
}

// Counterpart is one plausible match, on the other list, for an entry
// that needs a human decision.
type Counterpart struct {
	ID      string   // ID on the other list
	Score   float64  // total weight of the evidence
	Reasons []string // the contribution of each field
}

// Candidate is an entry that needs a human decision: it has two or more
// plausible counterparts, or one scoring between Review and Accept, or a
// counterpart it shares with other entries without a clear winner.
type Candidate struct {
	Side         Side          // the list the entry is on
	ID           string        // its ID on that list
	Counterparts []Counterpart // best first; none of them is matched
}

// Result is the outcome of a reconciliation. Every input ID appears
// exactly once on its side: as a Pair in Matched, as a Candidate in
// Ambiguous, or in HeldOnly or ClaimedOnly. All slices are sorted by ID
// (Ambiguous by Side, then ID).
type Result struct {
	Matched   []Pair
	Ambiguous []Candidate
	// HeldOnly lists the held entries that nobody claims.
	HeldOnly []string
	// ClaimedOnly lists the claimed entries not on the held list: the
	// missing.
	ClaimedOnly []string
}

// edge is a plausible pair: indices into the sorted held and claimed
// records.
type edge struct {
	h, c  int32
	score float64
}

// Reconcile matches the held list against the claimed list. held is
// what side A says it holds of side B's nationals; claimed is what side B
// says side A holds.
//
// Each list is sorted by ID first, so the result does not depend on the
// order of the input. IDs should be unique within a list; of several
// entries sharing an ID only the first in field order is reconciled. opts
// is normalised: zero fields take their defaults, non-finite fields and a
// negative Margin are replaced by the defaults, and a Review above Accept
// is lowered to Accept (Options.Validate reports these).
//
// Reconcile is pure and safe for concurrent use.
func Reconcile(held, claimed []Person, opts Options) Result {
	o := opts.normalised()
	hs, cs := prepareAll(held), prepareAll(claimed)
	edges := candidates(hs, cs, o.Review)
	return resolve(hs, cs, edges, o)
}

// prepareAll sorts a list by ID, drops repeated IDs and prepares the
// records.
func prepareAll(ps []Person) []record {
	sorted := make([]*Person, len(ps))
	for i := range ps {
		sorted[i] = &ps[i]
	}
	slices.SortFunc(sorted, comparePersons)
	out := make([]record, 0, len(sorted))
	for i, p := range sorted {
		if i > 0 && p.ID == sorted[i-1].ID {
			continue
		}
		out = append(out, prepare(p))
	}
	return out
}

// comparePersons orders by ID, then by every other field.
func comparePersons(a, b *Person) int {
	if c := cmp.Compare(a.ID, b.ID); c != 0 {
		return c // the common case: the rest is for repeated IDs
	}
	return cmp.Or(
		cmp.Compare(a.Family, b.Family),
		cmp.Compare(a.Given, b.Given),
		cmp.Compare(a.Patronymic, b.Patronymic),
		compareDate(a.Born, b.Born),
		cmp.Compare(a.BirthPlace, b.BirthPlace),
		cmp.Compare(a.Unit, b.Unit),
		compareBool(a.Civilian, b.Civilian),
		compareDate(a.Captured, b.Captured),
		cmp.Compare(a.CapturePlace, b.CapturePlace),
	)
}

func compareDate(a, b Date) int {
	return cmp.Or(cmp.Compare(a.Year, b.Year), cmp.Compare(a.Month, b.Month), cmp.Compare(a.Day, b.Day))
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
