package reconcile

import (
	"cmp"
	"slices"
)

// maxExact is the largest number of records on one side of a cluster
// that is resolved by exact assignment; larger clusters fall back to the
// greedy rule.
const maxExact = 64

// resolve turns the plausible pairs into a Result: it splits them into
// clusters (connected components), finds the firm pairs of each cluster
// and sorts everything else into Ambiguous, HeldOnly and ClaimedOnly.
func resolve(hs, cs []record, edges []edge, o Options) Result {
	slices.SortFunc(edges, func(a, b edge) int {
		return cmp.Or(cmp.Compare(a.h, b.h), cmp.Compare(a.c, b.c))
	})
	nh := len(hs)
	uf := newUnionFind(nh + len(cs))
	for _, e := range edges {
		uf.union(int(e.h), nh+int(e.c))
	}
	byRoot := make(map[int][]edge)
	for _, e := range edges {
		r := uf.find(int(e.h))
		byRoot[r] = append(byRoot[r], e)
	}

	firmH := make([]int32, nh) // claimed index + 1 of the firm partner
	firmC := make([]int32, len(cs))
	for _, es := range byRoot {
		for _, e := range firmPairs(es, o) {
			firmH[e.h], firmC[e.c] = e.c+1, e.h+1
		}
	}

	// Counterparts of the records left open: their plausible pairs with
	// other open records.
	openH := make([][]edge, nh)
	openC := make([][]edge, len(cs))
	for _, e := range edges {
		if firmH[e.h] == 0 && firmC[e.c] == 0 {
			openH[e.h] = append(openH[e.h], e)
			openC[e.c] = append(openC[e.c], e)
		}
	}

	var res Result
	for i := range hs {
		switch {
		case firmH[i] != 0:
			c := &cs[firmH[i]-1]
			s, why := score(&hs[i], c, true)
			res.Matched = append(res.Matched, Pair{Held: hs[i].id, Claimed: c.id, Score: s, Reasons: why})
		case len(openH[i]) > 0:
			res.Ambiguous = append(res.Ambiguous, candidate(Held, &hs[i], openH[i], hs, cs))
		default:
			res.HeldOnly = append(res.HeldOnly, hs[i].id)
		}
	}
	for j := range cs {
		switch {
		case firmC[j] != 0:
		case len(openC[j]) > 0:
			res.Ambiguous = append(res.Ambiguous, candidate(Claimed, &cs[j], openC[j], hs, cs))
		default:
			res.ClaimedOnly = append(res.ClaimedOnly, cs[j].id)
		}
	}
	return res
}

// candidate builds the Candidate for record r on side with its open
// plausible pairs es.
func candidate(side Side, r *record, es []edge, hs, cs []record) Candidate {
	cand := Candidate{Side: side, ID: r.id}
	for _, e := range es {
		h, c := &hs[e.h], &cs[e.c]
		s, why := score(h, c, true)
		other := c.id
		if side == Claimed {
			other = h.id
		}
		cand.Counterparts = append(cand.Counterparts, Counterpart{ID: other, Score: s, Reasons: why})
	}
	sortCounterparts(cand.Counterparts)
	return cand
}

func sortCounterparts(cs []Counterpart) {
	slices.SortFunc(cs, func(a, b Counterpart) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.ID, b.ID))
	})
}

// firmPairs returns the pairs of one cluster that are matched without
// review. A pair is firm when it scores at least Accept, belongs to the
// best assignment of the cluster, and every assignment without it is
// worse by at least Margin. The gain of a pair in an assignment is its
// score minus Review plus one, so that any plausible pair is worth more
// than none but a strong pair is worth more than two weak ones.
func firmPairs(es []edge, o Options) []edge {
	if len(es) == 1 {
		// The one alternative is to match nothing, of gain zero.
		if e := es[0]; e.score >= o.Accept && e.score-o.Review+1 >= o.Margin {
			return es
		}
		return nil
	}

	// Local indices, in ascending order of the global ones.
	var hl, cl []int32
	for _, e := range es {
		hl = append(hl, e.h)
		cl = append(cl, e.c)
	}
	slices.Sort(hl)
	hl = slices.Compact(hl)
	slices.Sort(cl)
	cl = slices.Compact(cl)
	if max(len(hl), len(cl)) > maxExact {
		return greedyFirm(es, o)
	}

	gain := make([][]float64, len(hl))
	for i := range gain {
		gain[i] = make([]float64, len(cl))
	}
	at := func(e edge) (int, int) {
		i, _ := slices.BinarySearch(hl, e.h)
		j, _ := slices.BinarySearch(cl, e.c)
		return i, j
	}
	for _, e := range es {
		i, j := at(e)
		gain[i][j] = e.score - o.Review + 1
	}

	best, match := assign(gain)
	var firm []edge
	for _, e := range es {
		i, j := at(e)
		if match[i] != j || e.score < o.Accept {
			continue
		}
		g := gain[i][j]
		gain[i][j] = 0
		without, _ := assign(gain)
		gain[i][j] = g
		if best-without >= o.Margin {
			firm = append(firm, e)
		}
	}
	return firm
}

// greedyFirm is the fallback for very large clusters: pairs are taken in
// descending order of score (ties by held, then claimed index) while both
// records are free, the score is at least Accept, and no other pair of
// either record with a free partner comes within Margin.
func greedyFirm(es []edge, o Options) []edge {
	sorted := slices.Clone(es)
	slices.SortFunc(sorted, func(a, b edge) int {
		return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(a.h, b.h), cmp.Compare(a.c, b.c))
	})
	byH := make(map[int32][]edge)
	byC := make(map[int32][]edge)
	for _, e := range es {
		byH[e.h] = append(byH[e.h], e)
		byC[e.c] = append(byC[e.c], e)
	}
	takenH := make(map[int32]bool)
	takenC := make(map[int32]bool)
	rivals := func(e edge) bool {
		for _, f := range byH[e.h] {
			if f.c != e.c && !takenC[f.c] && f.score > e.score-o.Margin {
				return true
			}
		}
		for _, f := range byC[e.c] {
			if f.h != e.h && !takenH[f.h] && f.score > e.score-o.Margin {
				return true
			}
		}
		return false
	}
	var firm []edge
	for _, e := range sorted {
		if e.score < o.Accept || takenH[e.h] || takenC[e.c] || rivals(e) {
			continue
		}
		takenH[e.h], takenC[e.c] = true, true
		firm = append(firm, e)
	}
	return firm
}

// unionFind is a disjoint-set forest with path halving and union by
// size.
type unionFind struct{ parent, size []int }

func newUnionFind(n int) *unionFind {
	u := &unionFind{parent: make([]int, n), size: make([]int, n)}
	for i := range u.parent {
		u.parent[i], u.size[i] = i, 1
	}
	return u
}

func (u *unionFind) find(x int) int {
	for u.parent[x] != x {
		u.parent[x] = u.parent[u.parent[x]]
		x = u.parent[x]
	}
	return x
}

func (u *unionFind) union(a, b int) {
	a, b = u.find(a), u.find(b)
	if a == b {
		return
	}
	if u.size[a] < u.size[b] {
		a, b = b, a
	}
	u.parent[b] = a
	u.size[a] += u.size[b]
}
