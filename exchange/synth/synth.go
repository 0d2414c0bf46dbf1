// Package synth generates SYNTHETIC, labelled lists of detainees for
// tests and benchmarks of package reconcile. Every person it produces is
// fictitious: names are drawn independently from lists of common
// Ukrainian and Russian names, and dates, places and units are random.
// IDs start with "SYN-" so that generated records cannot be mistaken for
// real ones.
//
// A Dataset is a population of persons rendered twice: once on the held
// list and once on the claimed list, each side writing the same person
// differently (Cyrillic on one side and Latin under a random
// transliteration standard on the other, the other language's form of
// the name, informal spellings, one-letter typos, partial or
// day/month-swapped dates, missing patronymics, old place names). Some
// persons are deliberately left off one list, and some are near-namesakes
// of others (same or similar names, different birth dates). The ground
// truth comes with the lists.
//
// Generation is deterministic: it uses only math/rand/v2's PCG seeded
// from Config.Seed, and the same Config always gives the same Dataset.
package synth

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/guarantor/guarantor/exchange/reconcile"
)

// Config selects a dataset. Fractions are of the population.
type Config struct {
	// Seed selects the dataset.
	Seed uint64
	// People is the size of the population, namesakes included.
	// Optional; default 1000.
	People int
	// Russian is the fraction of persons with Russian names; the rest
	// have Ukrainian names. Optional; default 0.5; negative for none.
	Russian float64
	// HeldOnly is the fraction of persons only on the held list.
	// Optional; default 0.04; negative for none.
	HeldOnly float64
	// ClaimedOnly is the fraction of persons only on the claimed list.
	// Optional; default 0.04; negative for none.
	ClaimedOnly float64
	// Namesakes is the fraction of persons who are near-namesakes of
	// another person. Optional; default 0.06; negative for none.
	Namesakes float64
	// Noise scales the probability of every kind of noise (typos, partial
	// and swapped dates, missing fields, informal spellings). Optional;
	// default 1; negative for clean lists.
	Noise float64
}

// fraction returns v, def if v is zero, or 0 if v is negative.
func fraction(v, def float64) float64 {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// Pair is a true pair: the held and claimed IDs of one person.
type Pair struct{ Held, Claimed string }

// Dataset is a generated pair of lists with its ground truth.
type Dataset struct {
	Held    []reconcile.Person // side A's list of the people it holds
	Claimed []reconcile.Person // side B's list of the people it says side A holds
	// Pairs are the true pairs, sorted by held ID.
	Pairs []Pair
	// HeldOnly are the held IDs deliberately left off the claimed list,
	// sorted.
	HeldOnly []string
	// ClaimedOnly are the claimed IDs deliberately left off the held
	// list, sorted.
	ClaimedOnly []string
	// Namesakes counts the persons generated as near-namesakes of
	// another.
	Namesakes int
}

// person is the truth about one synthetic person.
type person struct {
	russian  bool
	female   bool
	family   string // masculine form, in the person's language
	given    givenPair
	patr     patronymic
	born     reconcile.Date
	place    place
	civilian bool
	unit     string // digits of the unit number
	captured reconcile.Date
	capPlace string
	held     bool
	claimed  bool
}

// gen is the state of one generation.
type gen struct {
	rng   *rand.Rand
	noise float64
}

// chance reports true with probability p scaled by the noise level.
func (g *gen) chance(p float64) bool {
	return g.rng.Float64() < p*g.noise
}

func pick[T any](g *gen, xs []T) T {
	return xs[g.rng.IntN(len(xs))]
}

// Generate builds a Dataset from cfg.
func Generate(cfg Config) Dataset {
	n := cfg.People
	if n <= 0 {
		n = 1000
	}
	g := &gen{
		rng:   rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5bd1e9955bd1e995)),
		noise: fraction(cfg.Noise, 1),
	}
	russian := fraction(cfg.Russian, 0.5)
	heldOnly := fraction(cfg.HeldOnly, 0.04)
	claimedOnly := fraction(cfg.ClaimedOnly, 0.04)
	namesakes := fraction(cfg.Namesakes, 0.06)

	var ds Dataset
	people := make([]person, 0, n)
	for len(people) < n {
		if len(people) > 0 && g.rng.Float64() < namesakes {
			people = append(people, g.namesake(&people[g.rng.IntN(len(people))]))
			ds.Namesakes++
			continue
		}
		people = append(people, g.person(g.rng.Float64() < russian))
	}
	for i := range people {
		p := &people[i]
		switch r := g.rng.Float64(); {
		case r < heldOnly:
			p.held = true
		case r < heldOnly+claimedOnly:
			p.claimed = true
		default:
			p.held, p.claimed = true, true
		}
	}

	heldIDs := g.rng.Perm(n)
	claimedIDs := g.rng.Perm(n)
	for i := range people {
		p := &people[i]
		hid, cid := fmt.Sprintf("SYN-H-%06d", heldIDs[i]), fmt.Sprintf("SYN-C-%06d", claimedIDs[i])
		if p.held {
			ds.Held = append(ds.Held, g.render(p, hid, reconcile.Held))
		}
		if p.claimed {
			ds.Claimed = append(ds.Claimed, g.render(p, cid, reconcile.Claimed))
		}
		switch {
		case p.held && p.claimed:
			ds.Pairs = append(ds.Pairs, Pair{hid, cid})
		case p.held:
			ds.HeldOnly = append(ds.HeldOnly, hid)
		default:
			ds.ClaimedOnly = append(ds.ClaimedOnly, cid)
		}
	}
	g.rng.Shuffle(len(ds.Held), func(i, j int) { ds.Held[i], ds.Held[j] = ds.Held[j], ds.Held[i] })
	g.rng.Shuffle(len(ds.Claimed), func(i, j int) { ds.Claimed[i], ds.Claimed[j] = ds.Claimed[j], ds.Claimed[i] })
	slices.SortFunc(ds.Pairs, func(a, b Pair) int { return strings.Compare(a.Held, b.Held) })
	slices.Sort(ds.HeldOnly)
	slices.Sort(ds.ClaimedOnly)
	return ds
}

// person draws a new person.
func (g *gen) person(russian bool) person {
	p := person{russian: russian, female: g.rng.IntN(8) == 0}
	if russian {
		p.family = pick(g, ruFamily)
		p.place = pick(g, ruPlaces)
	} else {
		p.family = pick(g, uaFamily)
		p.place = pick(g, uaPlaces)
	}
	if p.female {
		p.given = pick(g, femaleGiven)
	} else {
		p.given = pick(g, maleGiven)
	}
	p.patr = pick(g, patronymics)
	p.born = g.date(1963, 2006)
	p.civilian = g.rng.IntN(5) == 0
	if !p.civilian {
		if russian {
			p.unit = fmt.Sprintf("%05d", 10000+g.rng.IntN(90000))
		} else {
			p.unit = fmt.Sprintf("%04d", g.rng.IntN(10000))
		}
	}
	p.captured = g.date(2022, 2026)
	p.capPlace = pick(g, capturePlaces)
	return p
}

// namesake draws a different person with the same or a similar name as
// p, born on a date that is neither p's nor one typo away from it.
func (g *gen) namesake(p *person) person {
	q := g.person(p.russian)
	q.female, q.family, q.given = p.female, p.family, p.given
	if g.rng.IntN(2) == 0 {
		q.patr = p.patr
	}
	if g.rng.IntN(3) == 0 {
		q.family = g.similar(p.family)
	}
	for {
		q.born = g.date(1963, 2006)
		if !yearsNear(p.born.Year, q.born.Year) && q.born.Month != p.born.Month && q.born.Day != p.born.Day {
			return q
		}
	}
}

// similar returns a family name one letter away from f (a different
// person's name, not a typo: the reconciler cannot tell them apart by
// name alone).
func (g *gen) similar(f string) string {
	rs := []rune(f)
	i := 1 + g.rng.IntN(len(rs)-1)
	for {
		r := pick(g, []rune("аоеиунлрвкмт"))
		if r != rs[i] {
			rs[i] = r
			return string(rs)
		}
	}
}

// yearsNear reports whether two years are equal, adjacent, or one digit
// or one swap of adjacent digits apart.
func yearsNear(a, b int) bool {
	if a-b <= 1 && b-a <= 1 {
		return true
	}
	x, y := fmt.Sprintf("%04d", a), fmt.Sprintf("%04d", b)
	var diff []int
	for i := range x {
		if x[i] != y[i] {
			diff = append(diff, i)
		}
	}
	return len(diff) == 1 || len(diff) == 2 && diff[1] == diff[0]+1 && x[diff[0]] == y[diff[1]] && x[diff[1]] == y[diff[0]]
}

// date draws a full date in [from, to).
func (g *gen) date(from, to int) reconcile.Date {
	y := from + g.rng.IntN(to-from)
	m := 1 + g.rng.IntN(12)
	return reconcile.Date{Year: y, Month: m, Day: 1 + g.rng.IntN(daysIn(y, m))}
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// feminine returns the feminine form of a masculine family name.
func feminine(f string, russian bool) string {
	for _, s := range [][2]string{
		{"ський", "ська"}, {"цький", "цька"}, {"ский", "ская"}, {"цкий", "цкая"},
		{"ой", "ая"}, {"ый", "ая"}, {"ий", "а"},
		{"ов", "ова"}, {"ев", "ева"}, {"ёв", "ёва"}, {"ин", "ина"}, {"ын", "ына"}, {"ін", "іна"},
	} {
		if strings.HasSuffix(f, s[0]) {
			if s[0] == "ий" && russian {
				break // Russian -ий (rare) is left alone
			}
			return strings.TrimSuffix(f, s[0]) + s[1]
		}
	}
	return f
}
