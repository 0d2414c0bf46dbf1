package synth

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/guarantor/guarantor/exchange/names"
	"github.com/guarantor/guarantor/exchange/reconcile"
)

// How one list writes a person.
type mode int

const (
	native   mode = iota // Cyrillic, in the person's language
	crossed              // Cyrillic, in the other language
	latin                // Latin under a standard
	informal             // Latin under a standard, then informal variants
)

// render writes p as side writes it, with noise.
func (g *gen) render(p *person, id string, side reconcile.Side) reconcile.Person {
	m := native
	r := g.rng.Float64()
	if side == reconcile.Held {
		switch {
		case r < 0.25:
			m = crossed
		case r < 0.50:
			m = latin
		case r < 0.65:
			m = informal
		}
	} else {
		switch {
		case r < 0.10:
			m = crossed
		case r < 0.35:
			m = latin
		case r < 0.50:
			m = informal
		}
	}

	russian := p.russian
	if m == crossed {
		russian = !russian
	}
	family, given, patr := p.family, p.given.ua, p.patr.uaM
	switch {
	case russian && p.female:
		given, patr = p.given.ru, p.patr.ruF
	case russian:
		given, patr = p.given.ru, p.patr.ruM
	case p.female:
		patr = p.patr.uaF
	}
	if m == crossed {
		family = crossFamily(family, russian)
	}
	if p.female {
		family = feminine(family, p.russian)
	}

	birthPlace := p.place.name
	if p.place.old != "" && g.chance(0.3) {
		birthPlace = p.place.old
	}
	if g.chance(0.15) {
		birthPlace = ""
	}

	var std names.Standard
	if m == latin || m == informal {
		std = g.standard(russian)
		family = names.Transliterate(family, std)
		given = names.Transliterate(given, std)
		patr = names.Transliterate(patr, std)
		birthPlace = names.Transliterate(birthPlace, std)
		if m == informal {
			family, given, patr = g.informal(family), g.informal(given), g.informal(patr)
		}
	}

	// At most one typo per record.
	if g.chance(0.15) {
		switch r := g.rng.Float64(); {
		case r < 0.6:
			family = g.typo(family)
		case r < 0.85:
			given = g.typo(given)
		default:
			patr = g.typo(patr)
		}
	}
	if g.chance(0.15) || (m == latin || m == informal) && g.chance(0.15) {
		patr = ""
	}
	if g.chance(0.02) {
		given = string([]rune(given)[:1]) + "."
	}

	out := reconcile.Person{
		ID:           id,
		Family:       family,
		Given:        given,
		Patronymic:   patr,
		Born:         g.blur(p.born),
		BirthPlace:   birthPlace,
		Civilian:     p.civilian,
		Captured:     p.captured,
		CapturePlace: p.capPlace,
	}
	if !p.civilian && !g.chance(0.15) {
		out.Unit = g.unit(p, side, std != 0)
	}
	return out
}

// standard picks a transliteration standard in use for the language.
func (g *gen) standard(russian bool) names.Standard {
	r := g.rng.Float64()
	if russian {
		switch {
		case r < 0.45:
			return names.ICAO9303
		case r < 0.75:
			return names.BGNPCGN
		}
		return names.GOST779B
	}
	switch {
	case r < 0.6:
		return names.KMU2010
	case r < 0.85:
		return names.ICAO9303
	}
	return names.GOST779B
}

// informalRules are the informal Latin spellings of DOMAIN.md §6.
var informalRules = [][2]string{
	{"kh", "h"}, {"shch", "sch"}, {"ts", "tz"}, {"ts", "c"}, {"ya", "ja"}, {"yu", "ju"},
	{"ye", "je"}, {"yi", "ji"}, {"iy", "y"}, {"yy", "y"}, {"ii", "iy"}, {"y", "i"},
	{"ia", "ya"}, {"iu", "yu"}, {"ie", "ye"}, {"zgh", "zg"}, {"’", ""}, {"`", ""},
}

// informal rewrites a Latin name with one to three informal variants.
func (g *gen) informal(s string) string {
	if s == "" {
		return s
	}
	n := 1 + g.rng.IntN(3)
	lower := strings.ToLower(s)
	for range n {
		r := pick(g, informalRules)
		lower = strings.ReplaceAll(lower, r[0], r[1])
	}
	rs := []rune(lower)
	if len(rs) > 0 {
		rs[0] = unicode.ToUpper(rs[0])
	}
	return string(rs)
}

// typo makes one insertion, deletion, substitution or transposition of
// adjacent letters in s, in s's own script.
func (g *gen) typo(s string) string {
	rs := []rune(s)
	if len(rs) < 4 {
		return s
	}
	alphabet := []rune("abcdefghijklmnoprstuvyz")
	for _, r := range rs {
		if unicode.Is(unicode.Cyrillic, r) {
			alphabet = []rune("абвгдежзиклмнопрстуфхцчшщыьюяіїє")
			break
		}
	}
	i := g.rng.IntN(len(rs))
	switch g.rng.IntN(4) {
	case 0: // insertion
		rs = append(rs[:i], append([]rune{pick(g, alphabet)}, rs[i:]...)...)
	case 1: // deletion
		rs = append(rs[:i], rs[i+1:]...)
	case 2: // substitution
		rs[i] = pick(g, alphabet)
	default: // transposition
		if i == len(rs)-1 {
			i--
		}
		rs[i], rs[i+1] = rs[i+1], rs[i]
	}
	if unicode.IsUpper([]rune(s)[0]) {
		rs[0] = unicode.ToUpper(rs[0])
		for j := 1; j < len(rs); j++ {
			rs[j] = unicode.ToLower(rs[j])
		}
	}
	return string(rs)
}

// blur returns d as one list records it: sometimes unknown, partial, with
// day and month swapped, or with one typo.
func (g *gen) blur(d reconcile.Date) reconcile.Date {
	switch {
	case g.chance(0.01):
		return reconcile.Date{}
	case g.chance(0.07):
		return reconcile.Date{Year: d.Year}
	case g.chance(0.04):
		return reconcile.Date{Year: d.Year, Month: d.Month}
	case g.chance(0.04) && d.Day <= 12 && d.Day != d.Month:
		return reconcile.Date{Year: d.Year, Month: d.Day, Day: d.Month}
	case g.chance(0.02):
		switch g.rng.IntN(3) {
		case 0:
			d.Year += []int{-1, 1, 10, -10}[g.rng.IntN(4)]
		case 1:
			if d.Day > 1 {
				d.Day--
			} else {
				d.Day++
			}
		default:
			if d.Month < 12 {
				d.Month++
			} else {
				d.Month--
			}
			d.Day = min(d.Day, daysIn(d.Year, d.Month))
		}
	}
	return d
}

// unit formats the military unit as side writes it.
func (g *gen) unit(p *person, side reconcile.Side, latin bool) string {
	prefix := "в/ч "
	if latin {
		prefix = pick(g, []string{"military unit ", "v/ch ", "MU "})
	}
	if p.russian {
		return prefix + p.unit
	}
	letter := "А"
	if latin {
		letter = "A"
	}
	if side == reconcile.Claimed && g.rng.IntN(2) == 0 {
		return fmt.Sprintf("%s%s-%s", prefix, letter, p.unit)
	}
	return prefix + letter + p.unit
}

// crossFamily writes a family name the way the other language does:
// toRussian converts a Ukrainian name, otherwise a Russian one.
func crossFamily(f string, toRussian bool) string {
	if toRussian {
		return strings.NewReplacer("ський", "ский", "цький", "цкий", "і", "и", "ї", "и", "є", "е", "ґ", "г", "'", "ь").Replace(f)
	}
	return strings.NewReplacer("ский", "ський", "цкий", "цький", "ы", "и", "и", "і", "э", "е", "ъ", "'", "ьё", "йо", "ё", "ьо").Replace(f)
}
