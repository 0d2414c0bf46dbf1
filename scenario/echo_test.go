package scenario

import (
	"reflect"
	"strings"
	"testing"

	"github.com/guarantor/guarantor/entry"
)

func TestEchoes(t *testing.T) {
	var reports []entry.Observation
	for i, it := range Generate(Config{Seed: 4, Days: 3}) {
		if i%3 == 0 {
			reports = append(reports, it.Observation)
		}
	}
	a, b := Echoes(7, reports, 6), Echoes(7, reports, 6)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different echoes")
	}
	if len(a) < len(reports)/2 || len(a) > 2*len(reports) {
		t.Fatalf("%d echoes of %d reports", len(a), len(reports))
	}
	per := map[int]map[int]bool{}
	for _, e := range a {
		o, r := e.Observation, reports[e.Event]
		if !strings.HasPrefix(o.Text, "SYNTHETIC") || !strings.HasPrefix(o.ID, "sim-") {
			t.Fatalf("echo not labelled synthetic: %+v", o)
		}
		if d := o.ObservedAt.Sub(r.ObservedAt).Abs(); d > timeError(o.SourceType) {
			t.Fatalf("echo %s is %s off", o.ID, d)
		}
		if km := distanceKM(o.Location.Coordinates[1], o.Location.Coordinates[0], r.Location.Coordinates[1], r.Location.Coordinates[0]); km*1000 > *o.AccuracyM/2+1 {
			t.Fatalf("echo %s is %.2f km off with accuracy %.0f m", o.ID, km, *o.AccuracyM)
		}
		if per[e.Event] == nil {
			per[e.Event] = map[int]bool{}
		}
		if per[e.Event][e.Monitor] {
			t.Fatalf("monitor %d echoed event %d twice", e.Monitor, e.Event)
		}
		per[e.Event][e.Monitor] = true
		if !canObserve(o.SourceType, r.Category) {
			t.Fatalf("a %s cannot observe %s", o.SourceType, r.Category)
		}
	}
}
