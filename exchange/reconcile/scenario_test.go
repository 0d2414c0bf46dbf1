package reconcile_test

import (
	"testing"
	"time"

	"github.com/guarantor/guarantor/exchange/reconcile"
	"github.com/guarantor/guarantor/exchange/synth"
)

// figures are the quality figures of one reconciliation against the
// ground truth.
type figures struct {
	matched, correct, wrong int // pairs in Matched; right and wrong ones
	truePairs               int // pairs in the ground truth
	ambiguousPairs          int // true pairs left open in Ambiguous, both entries listing each other
	missedPairs             int // true pairs with an entry in HeldOnly or ClaimedOnly, or not listing each other
	ambiguousEntries        int // entries in Ambiguous
	omissions               int // deliberate omissions
	omissionsMatched        int // omissions wrongly put in Matched
	omissionsOnly           int // omissions correctly in HeldOnly or ClaimedOnly
	omissionsAmbiguous      int // omissions left to a human
}

func (f figures) precision() float64 { return float64(f.correct) / float64(f.matched) }
func (f figures) recall() float64    { return float64(f.correct) / float64(f.truePairs) }

func measure(ds synth.Dataset, r reconcile.Result) figures {
	f := figures{matched: len(r.Matched), truePairs: len(ds.Pairs), ambiguousEntries: len(r.Ambiguous)}
	truth := make(map[string]string, len(ds.Pairs))
	for _, p := range ds.Pairs {
		truth[p.Held] = p.Claimed
	}
	inMatched := make(map[string]bool)
	for _, p := range r.Matched {
		inMatched[p.Held], inMatched[p.Claimed] = true, true
		if truth[p.Held] == p.Claimed {
			f.correct++
		} else {
			f.wrong++
		}
	}
	options := make(map[string]map[string]bool)
	for _, c := range r.Ambiguous {
		options[c.ID] = make(map[string]bool)
		for _, cp := range c.Counterparts {
			options[c.ID][cp.ID] = true
		}
	}
	for _, p := range ds.Pairs {
		switch {
		case inMatched[p.Held] && inMatched[p.Claimed]:
		case options[p.Held][p.Claimed] && options[p.Claimed][p.Held]:
			f.ambiguousPairs++
		default:
			f.missedPairs++
		}
	}
	only := make(map[string]bool)
	for _, id := range r.HeldOnly {
		only[id] = true
	}
	for _, id := range r.ClaimedOnly {
		only[id] = true
	}
	for _, ids := range [][]string{ds.HeldOnly, ds.ClaimedOnly} {
		for _, id := range ids {
			f.omissions++
			switch {
			case inMatched[id]:
				f.omissionsMatched++
			case only[id]:
				f.omissionsOnly++
			default:
				f.omissionsAmbiguous++
			}
		}
	}
	return f
}

func TestScenario(t *testing.T) {
	seeds := []uint64{1, 2, 3}
	if testing.Short() {
		seeds = seeds[:1]
	}
	for _, seed := range seeds {
		ds := synth.Generate(synth.Config{Seed: seed, People: 3300})
		if len(ds.Held) < 3000 || len(ds.Claimed) < 3000 {
			t.Fatalf("seed %d: %d held, %d claimed; want at least 3,000 per side", seed, len(ds.Held), len(ds.Claimed))
		}
		start := time.Now()
		r := reconcile.Reconcile(ds.Held, ds.Claimed, reconcile.Options{})
		elapsed := time.Since(start)
		checkPartition(t, ds.Held, ds.Claimed, r)
		f := measure(ds, r)

		t.Logf("seed %d: %d held × %d claimed, %d namesakes, reconciled in %v", seed, len(ds.Held), len(ds.Claimed), ds.Namesakes, elapsed.Round(time.Millisecond))
		t.Logf("  matched %d: %d correct, %d wrong; precision %.4f, recall %.4f (of %d true pairs)",
			f.matched, f.correct, f.wrong, f.precision(), f.recall(), f.truePairs)
		t.Logf("  left to a human: %d entries in Ambiguous, holding %d true pairs; missed pairs %d",
			f.ambiguousEntries, f.ambiguousPairs, f.missedPairs)
		t.Logf("  deliberate omissions %d: %d in HeldOnly/ClaimedOnly, %d in Ambiguous, %d matched",
			f.omissions, f.omissionsOnly, f.omissionsAmbiguous, f.omissionsMatched)

		if f.precision() < 0.98 {
			t.Errorf("seed %d: precision %.4f, want at least 0.98", seed, f.precision())
		}
		if f.recall() < 0.98 {
			t.Errorf("seed %d: recall %.4f, want at least 0.98", seed, f.recall())
		}
		if f.omissionsMatched != 0 {
			t.Errorf("seed %d: %d deliberate omissions were matched to someone", seed, f.omissionsMatched)
		}
	}
}

// TestScale reconciles 10,000 × 10,000 and logs the time; it asserts
// nothing about speed (see BENCHMARKS.md).
func TestScale(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	ds := synth.Generate(synth.Config{Seed: 10, People: 10450})
	start := time.Now()
	r := reconcile.Reconcile(ds.Held, ds.Claimed, reconcile.Options{})
	elapsed := time.Since(start)
	checkPartition(t, ds.Held, ds.Claimed, r)
	f := measure(ds, r)
	t.Logf("%d held × %d claimed in %v: precision %.4f, recall %.4f, %d ambiguous entries",
		len(ds.Held), len(ds.Claimed), elapsed.Round(time.Millisecond), f.precision(), f.recall(), f.ambiguousEntries)
}
