package reconcile_test

import (
	"cmp"
	"slices"
	"testing"

	"github.com/guarantor/guarantor/exchange/names"
	"github.com/guarantor/guarantor/exchange/reconcile"
	"github.com/guarantor/guarantor/exchange/synth"
)

// benchData is about 5,000 entries per side.
func benchData(b *testing.B) synth.Dataset {
	b.Helper()
	return synth.Generate(synth.Config{Seed: 7, People: 5210})
}

// report records the list sizes with the timing.
func report(b *testing.B, ds synth.Dataset) {
	b.ReportMetric(float64(len(ds.Held)), "held")
	b.ReportMetric(float64(len(ds.Claimed)), "claimed")
}

// BenchmarkReconcile reconciles 5,000 × 5,000 entries.
func BenchmarkReconcile(b *testing.B) {
	ds := benchData(b)
	for b.Loop() {
		reconcile.Reconcile(ds.Held, ds.Claimed, reconcile.Options{})
	}
	report(b, ds)
}

// BenchmarkBaselineSort sorts copies of the same two lists by family,
// given name and ID: the cost of the naive exact-spelling join the
// reconciler replaces. Report BenchmarkReconcile as a ratio to it.
func BenchmarkBaselineSort(b *testing.B) {
	ds := benchData(b)
	byName := func(x, y reconcile.Person) int {
		return cmp.Or(cmp.Compare(x.Family, y.Family), cmp.Compare(x.Given, y.Given), cmp.Compare(x.ID, y.ID))
	}
	for b.Loop() {
		h, c := slices.Clone(ds.Held), slices.Clone(ds.Claimed)
		slices.SortFunc(h, byName)
		slices.SortFunc(c, byName)
	}
	report(b, ds)
}

// BenchmarkBaselineKeys computes the name keys of the same two lists
// (family, given and patronymic): the normalisation every reconciliation
// must do once per entry.
func BenchmarkBaselineKeys(b *testing.B) {
	ds := benchData(b)
	for b.Loop() {
		for _, ps := range [][]reconcile.Person{ds.Held, ds.Claimed} {
			for _, p := range ps {
				_ = names.Key(p.Family)
				_ = names.GivenKey(p.Given)
				_ = names.Key(p.Patronymic)
			}
		}
	}
	report(b, ds)
}
