package fusion_test

import (
	"fmt"
	"math"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/guarantor/guarantor/engine/fusion"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/scenario"
	"github.com/guarantor/guarantor/ucdp"
	"pgregory.net/rapid"
)

// fromScenario converts generated items into fusion input, with the
// ground-truth event of each.
func fromScenario(items []scenario.Item) ([]fusion.Obs, map[uint64]int) {
	obs := make([]fusion.Obs, len(items))
	truth := map[uint64]int{}
	for i, it := range items {
		o := it.Observation
		count := int64(1)
		if o.Count != nil {
			count = int64(*o.Count)
		}
		obs[i] = fusion.Obs{
			Index: uint64(i), Signer: fmt.Sprintf("monitor-%d", it.Monitor), SourceType: o.SourceType,
			Category: o.Category, Weapon: o.Weapon, At: o.ObservedAt.Unix(),
			LatE6: int64(math.Round(o.Location.Coordinates[1] * 1e6)), LonE6: int64(math.Round(o.Location.Coordinates[0] * 1e6)),
			AccuracyM: int64(*o.AccuracyM), Count: count,
		}
		truth[uint64(i)] = it.Event
	}
	return obs, truth
}

// pairScores returns pairwise precision and recall: of the pairs fusion
// put together, how many report one event; of the pairs that report one
// event, how many fusion put together.
func pairScores(incidents []fusion.Incident, truth map[uint64]int) (precision, recall float64) {
	predicted := map[uint64]uint64{}
	for _, in := range incidents {
		for _, m := range in.Members {
			predicted[m] = in.ID
		}
	}
	var tp, fp, fn int
	keys := make([]uint64, 0, len(truth))
	for k := range truth {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, a := range keys {
		for _, b := range keys[i+1:] {
			same, fused := truth[a] == truth[b], predicted[a] == predicted[b]
			switch {
			case same && fused:
				tp++
			case fused:
				fp++
			case same:
				fn++
			}
		}
	}
	return float64(tp) / float64(max(1, tp+fp)), float64(tp) / float64(max(1, tp+fn))
}

// TestClusteringQuality measures the default rule on labelled synthetic
// scenarios (events reported by 1-3 monitors with position and time
// noise), averaged over six seeds since one seed alone swings by several
// points; the figures go to BENCHMARKS.md.
func TestClusteringQuality(t *testing.T) {
	for _, reports := range []int{3, 5} {
		t.Run(fmt.Sprintf("1-%d reports per event", reports), func(t *testing.T) { clusteringQuality(t, reports) })
	}
}

func clusteringQuality(t *testing.T, maxReports int) {
	var sumP, sumR float64
	const seeds = 6
	for seed := int64(1); seed <= seeds; seed++ {
		items := scenario.Generate(scenario.Config{Seed: seed, Start: time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC), Days: 14, Monitors: 8, MaxReports: maxReports})
		obs, truth := fromScenario(items)
		incidents := fusion.Group(fusion.DefaultRule, obs)
		p, r := pairScores(incidents, truth)
		events := map[int]bool{}
		for _, e := range truth {
			events[e] = true
		}
		t.Logf("seed %d: %d observations of %d events: %d incidents, pairwise precision %.3f, recall %.3f", seed, len(obs), len(events), len(incidents), p, r)
		sumP, sumR = sumP+p, sumR+r
	}
	p, r := sumP/seeds, sumR/seeds
	t.Logf("mean over %d seeds: precision %.3f, recall %.3f", seeds, p, r)
	if p < 0.95 || r < 0.95 {
		t.Errorf("mean precision %.3f, recall %.3f: below the 0.95 target", p, r)
	}
}

// TestOrderDoesNotMatter: the same set of observations in any order gives
// the same incidents.
func TestOrderDoesNotMatter(t *testing.T) {
	items := scenario.Generate(scenario.Config{Seed: 3, Days: 2, Monitors: 5})
	obs, _ := fromScenario(items)
	want := fusion.Group(fusion.DefaultRule, obs)
	rapid.Check(t, func(rt *rapid.T) {
		perm := rapid.Permutation(obs).Draw(rt, "order")
		got := fusion.Group(fusion.DefaultRule, perm)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			rt.Fatalf("another order gave other incidents")
		}
	})
}

// TestGrowingNeverLosesAMember: adding observations only merges incidents;
// every earlier incident's members stay together.
func TestGrowingNeverLosesAMember(t *testing.T) {
	items := scenario.Generate(scenario.Config{Seed: 5, Days: 3, Monitors: 6})
	obs, _ := fromScenario(items)
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, len(obs)).Draw(rt, "prefix")
		before := fusion.Group(fusion.DefaultRule, obs[:n])
		after := fusion.Group(fusion.DefaultRule, obs)
		home := map[uint64]uint64{}
		for _, in := range after {
			for _, m := range in.Members {
				home[m] = in.ID
			}
		}
		for _, in := range before {
			for _, m := range in.Members {
				if home[m] != home[in.Members[0]] {
					rt.Fatalf("incident %d split after more observations", in.ID)
				}
			}
			if home[in.Members[0]] > in.ID {
				rt.Fatalf("incident %d took a larger id", in.ID)
			}
		}
	})
}

func TestRuleAndLevels(t *testing.T) {
	base := fusion.Obs{Index: 1, Signer: "a", SourceType: "patrol", Category: "shelling", At: 1000, LatE6: 48_000_000, LonE6: 37_800_000, AccuracyM: 500, Count: 3}
	near := base
	near.Index, near.Signer, near.Category, near.LonE6 = 2, "b", "explosion_heard", 37_810_000 // ~745 m east
	far := base
	far.Index, far.Signer, far.LonE6 = 3, "c", 37_900_000 // ~7.4 km east
	late := near
	late.Index, late.At = 4, 1000+11*60
	rifle := near
	rifle.Index, rifle.Category = 5, "small_arms"
	r := fusion.DefaultRule
	for _, c := range []struct {
		name string
		b    fusion.Obs
		want bool
	}{{"near, compatible", near, true}, {"far", far, false}, {"11 minutes later", late, false}, {"incompatible category", rifle, false}} {
		if got := r.Links(base, c.b); got != c.want {
			t.Errorf("%s: links %v, want %v", c.name, got, c.want)
		}
	}
	in := fusion.Group(r, []fusion.Obs{near, base})
	if len(in) != 1 || in[0].ID != 1 || in[0].Level != fusion.Corroborated || in[0].Monitors != 2 || in[0].Count != 3 {
		t.Fatalf("incident %+v", in)
	}
	one := fusion.Group(r, []fusion.Obs{base})
	if one[0].Level != fusion.Reported {
		t.Fatalf("single report: %s", one[0].Level)
	}
	// Distances: 0.01° of longitude at 48°N is about 744 m.
	if d := fusion.DistanceSquaredM(base, near); d < 735*735 || d > 755*755 {
		t.Fatalf("distance %.0f m", math.Sqrt(float64(d)))
	}
}

// BenchmarkGroup fuses a 60-day scenario; compare observations/s with
// BenchmarkEd25519Open in package entry.
func BenchmarkGroup(b *testing.B) {
	items := scenario.Generate(scenario.Config{Seed: 11, Days: 60, Monitors: 8})
	obs, _ := fromScenario(items)
	for b.Loop() {
		fusion.Group(fusion.DefaultRule, obs)
	}
	b.ReportMetric(float64(len(obs))*float64(b.N)/b.Elapsed().Seconds(), "obs/s")
}

// TestClusteringQualityOnRealEvents measures the default rule on the
// real UCDP GED events of ../shared/data and SYNTHETIC reports of the same
// events by simulated monitors (scenario.Echoes): UCDP's own events are
// distinct by construction, so every merge of two of them is a false one.
// The figures are lower than on the generated scenario for reasons the
// data carries: 43% of the events are placed only to 50 km or worse,
// beyond MaxAccuracy, so nothing may corroborate them (recall), and
// dates are days, so same-day events placed to 25 km look simultaneous
// and co-located (precision). The bounds guard against regressions.
func TestClusteringQualityOnRealEvents(t *testing.T) {
	const file = "../../../shared/data/ucdp-ged-ukraine-2016-2023.csv"
	f, err := os.Open(file)
	if err != nil {
		t.Skipf("UCDP data not found at %s (it lives in ../shared/data beside the repository): %v", file, err)
	}
	defer f.Close()
	events, _, err := ucdp.ReadAll(f) // skipping the rows the importer skips too
	if err != nil {
		t.Fatal(err)
	}
	var real []entry.Observation
	for _, ev := range events {
		real = append(real, ev.Observation())
	}
	items := make([]scenario.Item, 0, 2*len(real))
	for i, o := range real {
		items = append(items, scenario.Item{Monitor: 1000, Event: i, Observation: o})
	}
	items = append(items, scenario.Echoes(1, real, 6)...)
	obs, truth := fromScenario(items)
	incidents := fusion.Group(fusion.DefaultRule, obs)
	p, rc := pairScores(incidents, truth)
	t.Logf("%d UCDP events and %d simulated reports of them: %d incidents, pairwise precision %.3f, recall %.3f", len(real), len(items)-len(real), len(incidents), p, rc)
	if p < 0.75 || rc < 0.6 {
		t.Errorf("precision %.3f, recall %.3f", p, rc)
	}
}
