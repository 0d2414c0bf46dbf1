package reconcile

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// Decision is a human ruling on entries left open by Reconcile (in
// Ambiguous, HeldOnly or ClaimedOnly):
//
//   - Held and Claimed set, Same true: they are the same person;
//   - Held and Claimed set, Same false: they are not the same person;
//   - only one of them set, Same false: that entry has no counterpart on
//     the other list.
type Decision struct {
	Held    string
	Claimed string
	Same    bool
	Note    string // who decided and why; kept in the Pair's Reasons
}

// Errors returned by Decide.
var (
	// ErrNotOpen means a decision names an entry that is already matched
	// or is not in the result at all.
	ErrNotOpen = errors.New("entry is not open for decision")
	// ErrBadDecision means a decision names no entry, or asserts a match
	// with only one entry.
	ErrBadDecision = errors.New("malformed decision")
)

type entryKey struct {
	side Side
	id   string
}

// Decide applies human decisions, in order, to a Result and returns the
// updated Result; r itself is not modified. A pair ruled the same person
// moves to Matched (Decided set, with its score if it was a plausible
// pair); pairs ruled apart, and entries ruled to have no counterpart,
// lose those counterparts; an ambiguous entry left without counterparts
// moves to HeldOnly or ClaimedOnly. If any decision fails, Decide returns
// the error, naming the decision, and r unchanged.
func Decide(r Result, ds []Decision) (Result, error) {
	open := make(map[entryKey][]Counterpart)
	for _, c := range r.Ambiguous {
		open[entryKey{c.Side, c.ID}] = slices.Clone(c.Counterparts)
	}
	for _, id := range r.HeldOnly {
		open[entryKey{Held, id}] = nil
	}
	for _, id := range r.ClaimedOnly {
		open[entryKey{Claimed, id}] = nil
	}
	matched := slices.Clone(r.Matched)

	// drop removes the counterpart other from the entry k.
	drop := func(k entryKey, other string) {
		open[k] = slices.DeleteFunc(open[k], func(c Counterpart) bool { return c.ID == other })
	}
	// close removes k from the open entries and from the counterparts of
	// the entries that list it.
	closeEntry := func(k entryKey) {
		otherSide := Claimed
		if k.side == Claimed {
			otherSide = Held
		}
		for _, c := range open[k] {
			drop(entryKey{otherSide, c.ID}, k.id)
		}
		delete(open, k)
	}

	for i, d := range ds {
		hk, ck := entryKey{Held, d.Held}, entryKey{Claimed, d.Claimed}
		fail := func(err error, k entryKey) (Result, error) {
			return r, fmt.Errorf("decision %d (held %q, claimed %q): %s %q: %w", i, d.Held, d.Claimed, k.side, k.id, err)
		}
		hasH, hasC := d.Held != "", d.Claimed != ""
		if !hasH && !hasC || d.Same && !(hasH && hasC) {
			return r, fmt.Errorf("decision %d (held %q, claimed %q): %w", i, d.Held, d.Claimed, ErrBadDecision)
		}
		if _, ok := open[hk]; hasH && !ok {
			return fail(ErrNotOpen, hk)
		}
		if _, ok := open[ck]; hasC && !ok {
			return fail(ErrNotOpen, ck)
		}
		switch {
		case d.Same:
			p := Pair{Held: d.Held, Claimed: d.Claimed, Decided: true}
			for _, c := range open[hk] {
				if c.ID == d.Claimed {
					p.Score, p.Reasons = c.Score, slices.Clone(c.Reasons)
				}
			}
			p.Reasons = append(p.Reasons, "decided: same person: "+d.Note)
			matched = append(matched, p)
			closeEntry(hk)
			closeEntry(ck)
		case hasH && hasC:
			drop(hk, d.Claimed)
			drop(ck, d.Held)
		case hasH:
			closeEntry(hk)
			open[hk] = nil
		default:
			closeEntry(ck)
			open[ck] = nil
		}
	}

	out := Result{Matched: matched}
	slices.SortFunc(out.Matched, func(a, b Pair) int { return cmp.Compare(a.Held, b.Held) })
	for k, cs := range open {
		switch {
		case len(cs) > 0:
			out.Ambiguous = append(out.Ambiguous, Candidate{Side: k.side, ID: k.id, Counterparts: cs})
		case k.side == Held:
			out.HeldOnly = append(out.HeldOnly, k.id)
		default:
			out.ClaimedOnly = append(out.ClaimedOnly, k.id)
		}
	}
	slices.SortFunc(out.Ambiguous, func(a, b Candidate) int {
		return cmp.Or(cmp.Compare(a.Side, b.Side), cmp.Compare(a.ID, b.ID))
	})
	slices.Sort(out.HeldOnly)
	slices.Sort(out.ClaimedOnly)
	return out, nil
}
