package names

import (
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// cyrKey is the internal Latin spelling of Cyrillic letters that Key
// starts from. It is chosen to be unambiguous for the tokenizer (г is "g",
// so сг never reads as ш), and every standard's spelling of a letter
// reduces to the same tokens as this one.
var cyrKey = map[rune]string{
	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'ґ': "g", 'д': "d",
	'е': "e", 'є': "ie", 'ж': "zh", 'з': "z", 'и': "i", 'і': "i",
	'ї': "i", 'й': "i", 'к': "k", 'л': "l", 'м': "m", 'н': "n",
	'о': "o", 'п': "p", 'р': "r", 'с': "s", 'т': "t", 'у': "u",
	'ф': "f", 'х': "kh", 'ц': "ts", 'ч': "ch", 'ш': "sh", 'щ': "shch",
	'ъ': "", 'ы': "i", 'ь': "", 'э': "e", 'ю': "iu", 'я': "ia",
	'ё': "io", 'ў': "u", 'ј': "i",
}

// latinSpecial spells out Latin letters whose diacritic carries sound
// (scholarly transliteration: č, š, ž) or that do not decompose.
var latinSpecial = map[rune]string{
	'č': "ch", 'ĉ': "ch", 'š': "sh", 'ž': "zh", 'ŝ': "shch",
	'ł': "l", 'ø': "o", 'đ': "d", 'æ': "ae", 'œ': "oe", 'ı': "i",
	'þ': "th", 'ħ': "h", 'ß': "ss",
}

// Token codes used inside Key. Single lower-case letters stand for
// themselves; 'g' is the г/ґ/х class, 'i' the и/і/ї/й/ы class, and the
// upper-case codes stand for the sounds that Latin spells with digraphs.
const (
	tokTS   = 'C' // ц: ts, tz, cz, c
	tokCH   = 'Q' // ч: ch
	tokSH   = 'W' // ш: sh
	tokSHCH = 'X' // щ: shch, shh, sch
	tokZH   = 'J' // ж: zh
)

// render spells a token in Key's output.
func render(t byte) string {
	switch t {
	case tokTS:
		return "ts"
	case tokCH:
		return "ch"
	case tokSH:
		return "sh"
	case tokSHCH:
		return "shch"
	case tokZH:
		return "zh"
	}
	return string(rune(t))
}

// Key returns the matching key of a name: a coarse phonetic skeleton in
// lower-case ASCII letters, with the words separated by single spaces.
// Spellings of one name in Ukrainian or Russian Cyrillic, or in Latin
// under any supported standard or the usual informal variants, share a
// key as often as possible; see the package documentation for the rules.
// Key(Key(s)) == Key(s) for every s.
func Key(s string) string {
	return string(keyBytes(s))
}

// keyBytes implements Key.
func keyBytes(s string) []byte {
	flat, ok := flatFast(s)
	if !ok {
		flat = flatFull(s)
	}

	out := make([]byte, 0, len(flat))
	var toks []byte
	for w := range strings.FieldsSeq(string(flat)) {
		toks = reduce(tokenize(toks[:0], w))
		if len(toks) == 0 {
			continue
		}
		if len(out) > 0 {
			out = append(out, ' ')
		}
		for _, t := range toks {
			out = append(out, render(t)...)
		}
	}
	return out
}

// flatFast reduces s to lower-case ASCII letters and single spaces when
// s holds nothing but ASCII, the Cyrillic letters of cyrKey (which are in
// NFC already and fold to lower case) and apostrophes; ok is false
// otherwise.
func flatFast(s string) (flat []byte, ok bool) {
	flat = make([]byte, 0, len(s)+len(s)/2)
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			flat = append(flat, byte(r))
		case r >= 'A' && r <= 'Z':
			flat = append(flat, byte(r-'A'+'a'))
		case isApostrophe(r):
		case r < 0x80:
			flat = separate(flat)
		default:
			lat, known := cyrKey[unicode.ToLower(r)]
			if !known {
				return nil, false
			}
			flat = append(flat, lat...)
		}
	}
	return flat, true
}

// flatFull is flatFast for any text: it case-folds and composes s,
// spells Cyrillic by way of cyrKey and the Latin letters whose diacritics
// matter, decomposes what is left, drops the combining marks and
// apostrophes, drops letters of other scripts and turns everything else
// into word breaks.
func flatFull(s string) []byte {
	s = cases.Fold().String(norm.NFC.String(s))
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if lat, ok := cyrKey[r]; ok {
			b.WriteString(lat)
		} else if sp, ok := latinSpecial[r]; ok {
			b.WriteString(sp)
		} else {
			b.WriteRune(r)
		}
	}
	s = norm.NFKD.String(b.String())

	flat := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			flat = append(flat, byte(r))
		case r >= 'A' && r <= 'Z':
			flat = append(flat, byte(r-'A'+'a'))
		case unicode.Is(unicode.Mn, r), isApostrophe(r):
		case unicode.IsLetter(r):
			if lat, ok := cyrKey[unicode.ToLower(r)]; ok {
				flat = append(flat, lat...) // decomposed from a compatibility form
			}
		default:
			flat = separate(flat)
		}
	}
	return flat
}

// separate ends the current word of flat, if any.
func separate(flat []byte) []byte {
	if len(flat) > 0 && flat[len(flat)-1] != ' ' {
		flat = append(flat, ' ')
	}
	return flat
}

// has reports whether w has prefix p at i.
func has(w string, i int, p string) bool {
	return strings.HasPrefix(w[i:], p)
}

// tokenize appends the tokens of the lower-case ASCII word w to dst,
// reading the longest digraph first.
func tokenize(dst []byte, w string) []byte {
	for i := 0; i < len(w); {
		c := w[i]
		t, n := c, 1
		switch c {
		case 's':
			switch {
			case has(w, i, "shch"):
				t, n = tokSHCH, 4
			case has(w, i, "shh"), has(w, i, "sch"):
				t, n = tokSHCH, 3
			case has(w, i, "sh"):
				t, n = tokSH, 2
			}
		case 'c':
			switch {
			case has(w, i, "ch"):
				t, n = tokCH, 2
			case has(w, i, "cz"):
				t, n = tokTS, 2
			default:
				t = tokTS
			}
		case 't':
			if has(w, i, "ts") || has(w, i, "tz") {
				t, n = tokTS, 2
			}
		case 'z':
			if has(w, i, "zh") {
				t, n = tokZH, 2
			}
		case 'k':
			if has(w, i, "kh") {
				t, n = 'g', 2
			}
		case 'g':
			if has(w, i, "gh") {
				n = 2
			}
		case 'h', 'x':
			t = 'g'
		case 'y', 'j':
			t = 'i'
		case 'w':
			t = 'v'
		case 'q':
			t = 'k'
		}
		dst = append(dst, t)
		i += n
	}
	return dst
}

// reduce applies the vowel rules to the tokens of one word until nothing
// changes, and returns the shortened slice:
//
//   - runs of the i class collapse (ий: yi, iy, y, yy, ij);
//   - the i class before o or e is dropped and o becomes e (є: ye, ie, je,
//     e; ё: yo, io, e; BGN's ye after a vowel);
//   - e before the i class and a or u is dropped (ICAO's ie for ъ:
//     Podieiachev, Pod”yachev);
//   - a word ending in skoe or tskoe drops the o (-ское, -ське; -цкое,
//     -цьке);
//   - runs of one token collapse (Ганна, Hanna, Hana).
func reduce(t []byte) []byte {
	for {
		n := len(t)
		t = collapseI(t)
		for i := 0; i+1 < len(t); i++ {
			if t[i] == 'i' && (t[i+1] == 'o' || t[i+1] == 'e') {
				t[i+1] = 'e'
				t = append(t[:i], t[i+1:]...)
			}
		}
		for i := 0; i+2 < len(t); i++ {
			if t[i] == 'e' && t[i+1] == 'i' && (t[i+2] == 'a' || t[i+2] == 'u') {
				t = append(t[:i], t[i+1:]...)
			}
		}
		if l := len(t); l >= 4 && (t[l-4] == 's' || t[l-4] == tokTS) && string(t[l-3:]) == "koe" {
			t = append(t[:l-2], 'e')
		}
		t = collapse(t)
		if len(t) == n {
			return t
		}
	}
}

// collapseI merges runs of the i class.
func collapseI(t []byte) []byte {
	j := 0
	for i := range t {
		if t[i] == 'i' && j > 0 && t[j-1] == 'i' {
			continue
		}
		t[j] = t[i]
		j++
	}
	return t[:j]
}

// collapse merges runs of equal tokens.
func collapse(t []byte) []byte {
	if len(t) == 0 {
		return t
	}
	j := 1
	for i := 1; i < len(t); i++ {
		if t[i] != t[j-1] {
			t[j] = t[i]
			j++
		}
	}
	return t[:j]
}
