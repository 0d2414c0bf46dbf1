package reconcile

import (
	"strconv"
)

// Blocking: a held and a claimed record are compared only if they share
// a blocking key. The keys are chosen so that a true pair shares at
// least one of them unless it has typos in two places at once:
//
//   - "f" + the first three letters of the family key (every record with
//     a family name), where pairs whose birth years are both known and
//     neither equal nor one typo apart are skipped without scoring;
//   - "g" + the first three letters of the given key + the birth year
//     (catches typos at the start of the family name);
//   - "d" + the full birth date with day and month in ascending order
//     (catches the rest, and swapped day and month).

// blockKeys appends the blocking keys of r to dst.
func blockKeys(dst []string, r *record) []string {
	if r.family != "" {
		dst = append(dst, "f"+prefix(r.family, 3))
	}
	if r.born.Year == 0 {
		return dst
	}
	year := strconv.Itoa(r.born.Year)
	if r.given != "" {
		dst = append(dst, "g"+prefix(r.given, 3)+year)
	}
	if r.born.Day != 0 {
		lo, hi := min(r.born.Month, r.born.Day), max(r.born.Month, r.born.Day)
		dst = append(dst, "d"+year+"-"+strconv.Itoa(lo)+"-"+strconv.Itoa(hi))
	}
	return dst
}

func prefix(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// yearsNear reports whether two birth years could belong to one person:
// either is unknown, or they are equal or one typo apart.
func yearsNear(a, b Date) bool {
	return a.Year == 0 || b.Year == 0 || a.Year == b.Year || typo(a.Year, b.Year, 4)
}

// candidates returns the plausible pairs (score at least review) among
// the pairs that share a blocking key, sorted by held then claimed index.
func candidates(hs, cs []record, review float64) []edge {
	index := make(map[string][]int32)
	var keys []string
	for i := range cs {
		keys = blockKeys(keys[:0], &cs[i])
		for _, k := range keys {
			index[k] = append(index[k], int32(i))
		}
	}

	seen := make([]int32, len(cs)) // held index + 1 that last looked at the claimed record
	var edges []edge
	for i := range hs {
		h := &hs[i]
		stamp := int32(i + 1)
		keys = blockKeys(keys[:0], h)
		for _, k := range keys {
			family := k[0] == 'f'
			for _, j := range index[k] {
				if seen[j] == stamp {
					continue
				}
				c := &cs[j]
				if family && !yearsNear(h.born, c.born) {
					continue // another block may still bring them together
				}
				seen[j] = stamp
				if s, _ := scoreAbove(h, c, review, false); s >= review {
					edges = append(edges, edge{int32(i), j, s})
				}
			}
		}
	}
	return edges
}
