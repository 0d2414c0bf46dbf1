package scenario

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/guarantor/guarantor/entry"
)

// EchoMonitors returns n simulated monitor keys, of the repeating kinds
// patrol, camera, patrol, acoustic, UAV, patrol, that Echoes makes report
// real events. They have no stretch or home: an echo is placed by the
// event it reports.
func EchoMonitors(n int) []Monitor {
	out := make([]Monitor, n)
	for i := range out {
		kind := kinds[i%len(kinds)]
		out[i] = Monitor{Index: i, Name: fmt.Sprintf("monitor.sim-%s-%02d", kind, i+1), SourceType: kind, From: -1, To: -1}
	}
	return out
}

// Echoes makes simulated independent monitors report the events of
// reports (typically real ones, e.g. UCDP GED events): for each report,
// none (40%), one (40%) or two (20%) of the monitors EchoMonitors(n)
// returns, of kinds that can observe its category, file their own
// SYNTHETIC observation of the same event, displaced within half their
// accuracy radius and off in time within their timing error. Item.Event
// is the index of the report echoed: the ground truth for fusion. The
// same seed, reports and n give the same items.
func Echoes(seed int64, reports []entry.Observation, n int) []Item {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed0ec4035))
	monitors := EchoMonitors(n)
	seq := make([]int, n)
	var items []Item
	for i, r := range reports {
		reps := 0
		switch x := rng.IntN(10); {
		case x >= 8:
			reps = 2
		case x >= 4:
			reps = 1
		}
		var able []int
		for _, m := range monitors {
			if canObserve(m.SourceType, r.Category) {
				able = append(able, m.Index)
			}
		}
		reps = min(reps, len(able))
		ev := event{category: r.Category, at: r.ObservedAt, lat: r.Location.Coordinates[1], lon: r.Location.Coordinates[0], count: 1, anywhere: true}
		if r.Count != nil {
			ev.count = *r.Count
		}
		for _, k := range rng.Perm(len(able))[:reps] {
			m := monitors[able[k]]
			seq[m.Index]++
			o := ev.report(rng, m, seq[m.Index])
			o.ID = fmt.Sprintf("sim-m%02d-%s", m.Index+1, r.ID)
			o.BearingDeg = nil // no observer position for a real event
			o.Text = fmt.Sprintf("SYNTHETIC: simulated %s report of event %s: %s", m.SourceType, r.ID, describe(m.SourceType, o.Category, *o.Count, o.Weapon))
			items = append(items, Item{Monitor: m.Index, Event: i, Observation: o})
		}
	}
	slices.SortFunc(items, func(a, b Item) int {
		if c := a.Observation.ObservedAt.Compare(b.Observation.ObservedAt); c != 0 {
			return c
		}
		return a.Monitor - b.Monitor
	})
	return items
}

// canObserve reports whether a monitor of kind src can observe events of
// category (the same table event.observableBy applies).
func canObserve(src, category string) bool {
	ev := event{category: category}
	return ev.observableBy(Monitor{SourceType: src, ReachKM: 1e9})
}
