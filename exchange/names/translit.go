package names

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Standard is a Cyrillic-to-Latin transliteration standard.
type Standard int

// The supported standards. Their letter tables are in the package
// documentation.
const (
	// KMU2010 is the Ukrainian national system (Cabinet of Ministers
	// resolution 55 of 2010), used in Ukrainian passports.
	KMU2010 Standard = iota + 1
	// ICAO9303 is the machine-readable travel document system used in
	// Russian passports since 2013.
	ICAO9303
	// BGNPCGN is the 1947 BGN/PCGN romanization of Russian.
	BGNPCGN
	// GOST779B is GOST 7.79-2000 system B (ASCII only, digraphs and
	// backticks instead of diacritics).
	GOST779B
)

// Standards lists every supported standard, in declaration order.
func Standards() []Standard {
	return []Standard{KMU2010, ICAO9303, BGNPCGN, GOST779B}
}

// String returns the standard's conventional name.
func (s Standard) String() string {
	switch s {
	case KMU2010:
		return "KMU-2010"
	case ICAO9303:
		return "ICAO 9303"
	case BGNPCGN:
		return "BGN/PCGN"
	case GOST779B:
		return "GOST 7.79-B"
	}
	return "Standard(?)"
}

// common holds the letters every standard renders the same way.
var common = map[rune]string{
	'а': "a", 'б': "b", 'в': "v", 'д': "d", 'ж': "zh", 'з': "z",
	'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o", 'п': "p",
	'р': "r", 'с': "s", 'т': "t", 'у': "u", 'ф': "f", 'ч': "ch",
	'ш': "sh",
}

// isApostrophe reports whether r is one of the characters used for the
// Ukrainian apostrophe, or a transliteration mark for the soft and hard
// signs. They never split a word.
func isApostrophe(r rune) bool {
	switch r {
	case '\'', '`', '´', 'ʹ', 'ʺ', 'ʻ', 'ʼ', 'ʽ', '‘', '’', '‚', '‛', '“', '”', '"', '′', '″', 'ˮ':
		return true
	}
	return false
}

// isCyrVowel reports whether r (lower case) is a Cyrillic vowel letter.
func isCyrVowel(r rune) bool {
	return strings.ContainsRune("аеёиоуыэюяіїє", r)
}

// Transliterate renders the Cyrillic letters of s in Latin script under
// std. Other characters, including Latin letters, pass through unchanged.
// Capitalisation follows the source: an initial capital becomes a capital
// followed by lower case ("Щ" → "Shch"), and a word in capitals stays in
// capitals ("ЩУР" → "SHCHUR").
//
// KMU-2010 writes зг as zgh, also across a soft sign or apostrophe (which
// it drops), so that it never reads as ж.
//
// Letters a standard does not define (the Russian ё, ы, э, ъ in KMU-2010;
// the Ukrainian ґ, є, і, ї in BGN/PCGN) get a documented fallback, so any
// Ukrainian or Russian text can be rendered under any standard. The
// Ukrainian и is told from the Russian one by the rest of the text: s is
// taken as Ukrainian when it contains і, ї, є or ґ. An unknown standard
// returns s unchanged.
func Transliterate(s string, std Standard) string {
	if std < KMU2010 || std > GOST779B {
		return s
	}
	rs := []rune(norm.NFC.String(s))
	lower := make([]rune, len(rs))
	for i, r := range rs {
		lower[i] = unicode.ToLower(r)
	}
	ukrainian := strings.ContainsAny(string(lower), "іїєґ")

	var b strings.Builder
	b.Grow(len(s) + len(s)/2)
	for i, r := range rs {
		lr := lower[i]
		prev, next := neighbours(lower, i)
		wordStart := prev == 0
		if std == KMU2010 && lr == 'г' {
			prev = signless(lower, i) // зг is zgh across ь as well
		}
		out, ok := letter(std, lr, prev, next, wordStart, ukrainian)
		if !ok {
			b.WriteRune(r)
			continue
		}
		if out == "" || !unicode.IsUpper(r) {
			b.WriteString(out)
			continue
		}
		b.WriteString(capitalise(out, allCaps(rs, i)))
	}
	return b.String()
}

// neighbours returns the lower-case letters before and after position i
// within the same word, skipping apostrophes; 0 means none.
func neighbours(lower []rune, i int) (prev, next rune) {
	for j := i - 1; j >= 0; j-- {
		if isApostrophe(lower[j]) {
			continue
		}
		if unicode.IsLetter(lower[j]) {
			prev = lower[j]
		}
		break
	}
	for j := i + 1; j < len(lower); j++ {
		if isApostrophe(lower[j]) {
			continue
		}
		if unicode.IsLetter(lower[j]) {
			next = lower[j]
		}
		break
	}
	return prev, next
}

// signless returns the lower-case letter before position i in its word,
// skipping apostrophes and the soft and hard signs; 0 means none.
func signless(lower []rune, i int) rune {
	for j := i - 1; j >= 0; j-- {
		switch r := lower[j]; {
		case isApostrophe(r), r == 'ь', r == 'ъ':
		case unicode.IsLetter(r):
			return r
		default:
			return 0
		}
	}
	return 0
}

// allCaps reports whether the upper-case letter at i stands in a word
// written in capitals.
func allCaps(rs []rune, i int) bool {
	var prev, next rune
	for j := i - 1; j >= 0 && prev == 0; j-- {
		if !isApostrophe(rs[j]) {
			if unicode.IsLetter(rs[j]) {
				prev = rs[j]
			} else {
				break
			}
		}
	}
	for j := i + 1; j < len(rs) && next == 0; j++ {
		if !isApostrophe(rs[j]) {
			if unicode.IsLetter(rs[j]) {
				next = rs[j]
			} else {
				break
			}
		}
	}
	if next != 0 {
		return unicode.IsUpper(next)
	}
	return prev != 0 && unicode.IsUpper(prev)
}

// capitalise upper-cases the first letter of s, or all of it.
func capitalise(s string, all bool) string {
	if all {
		return strings.ToUpper(s)
	}
	rs := []rune(s)
	for i, r := range rs {
		if unicode.IsLetter(r) {
			rs[i] = unicode.ToUpper(r)
			break
		}
	}
	return string(rs)
}

// letter renders the lower-case rune r under std. prev and next are the
// neighbouring letters of the word, skipping apostrophes (0 at its
// edges). ok is false when r is not a letter the standards cover.
func letter(std Standard, r, prev, next rune, wordStart, ukrainian bool) (out string, ok bool) {
	if s, ok := common[r]; ok {
		return s, true
	}
	if isApostrophe(r) {
		if prev == 0 || next == 0 {
			return "", false // quotation mark, not an apostrophe
		}
		switch std {
		case BGNPCGN:
			return "’", true
		case GOST779B:
			return "'", true
		}
		return "", true
	}
	switch std {
	case KMU2010:
		return kmu(r, prev, wordStart)
	case ICAO9303:
		return icao(r, ukrainian)
	case BGNPCGN:
		return bgn(r, prev, wordStart)
	case GOST779B:
		return gost(r, next, ukrainian)
	}
	return "", false
}

// initial returns a at the start of a word and b elsewhere.
func initial(wordStart bool, a, b string) string {
	if wordStart {
		return a
	}
	return b
}

func kmu(r, prev rune, wordStart bool) (string, bool) {
	switch r {
	case 'г':
		if prev == 'з' {
			return "gh", true
		}
		return "h", true
	case 'ґ':
		return "g", true
	case 'е', 'э':
		return "e", true
	case 'є':
		return initial(wordStart, "ye", "ie"), true
	case 'ё':
		return initial(wordStart, "yo", "io"), true
	case 'и', 'ы':
		return "y", true
	case 'і':
		return "i", true
	case 'ї':
		return initial(wordStart, "yi", "i"), true
	case 'й':
		return initial(wordStart, "y", "i"), true
	case 'х':
		return "kh", true
	case 'ц':
		return "ts", true
	case 'щ':
		return "shch", true
	case 'ь', 'ъ':
		return "", true
	case 'ю':
		return initial(wordStart, "yu", "iu"), true
	case 'я':
		return initial(wordStart, "ya", "ia"), true
	}
	return "", false
}

func icao(r rune, ukrainian bool) (string, bool) {
	switch r {
	case 'г', 'ґ':
		return "g", true
	case 'е', 'ё', 'э':
		return "e", true
	case 'є':
		return "ie", true
	case 'и':
		if ukrainian {
			return "y", true
		}
		return "i", true
	case 'і', 'ї', 'й':
		return "i", true
	case 'х':
		return "kh", true
	case 'ц':
		return "ts", true
	case 'щ':
		return "shch", true
	case 'ы':
		return "y", true
	case 'ъ':
		return "ie", true
	case 'ь':
		return "", true
	case 'ю':
		return "iu", true
	case 'я':
		return "ia", true
	}
	return "", false
}

func bgn(r, prev rune, wordStart bool) (string, bool) {
	// ye and yë at the start of a word and after a vowel, й, ъ or ь.
	yot := wordStart || isCyrVowel(prev) || prev == 'й' || prev == 'ъ' || prev == 'ь'
	switch r {
	case 'г', 'ґ':
		return "g", true
	case 'е':
		if yot {
			return "ye", true
		}
		return "e", true
	case 'ё':
		if yot {
			return "yë", true
		}
		return "ë", true
	case 'є':
		return "ye", true
	case 'и', 'і':
		return "i", true
	case 'ї':
		return "yi", true
	case 'й', 'ы':
		return "y", true
	case 'х':
		return "kh", true
	case 'ц':
		return "ts", true
	case 'щ':
		return "shch", true
	case 'ъ':
		return "”", true
	case 'ь':
		return "’", true
	case 'э':
		return "e", true
	case 'ю':
		return "yu", true
	case 'я':
		return "ya", true
	}
	return "", false
}

func gost(r, next rune, ukrainian bool) (string, bool) {
	switch r {
	case 'г':
		return "g", true
	case 'ґ':
		return "g`", true
	case 'е':
		return "e", true
	case 'є':
		return "ye", true
	case 'ё':
		return "yo", true
	case 'и':
		if ukrainian {
			return "y`", true
		}
		return "i", true
	case 'і':
		return "i", true
	case 'ї':
		return "yi", true
	case 'й':
		return "j", true
	case 'х':
		return "x", true
	case 'ц':
		if next != 0 {
			if s, ok := gost(next, 0, ukrainian); ok && s != "" && strings.ContainsRune("iejy", rune(s[0])) {
				return "c", true
			}
		}
		return "cz", true
	case 'щ':
		return "shh", true
	case 'ы':
		return "y`", true
	case 'ъ':
		return "``", true
	case 'ь':
		return "`", true
	case 'э':
		return "e`", true
	case 'ю':
		return "yu", true
	case 'я':
		return "ya", true
	}
	return "", false
}
