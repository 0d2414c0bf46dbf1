package scenario_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/internal/testkeys"
	"github.com/guarantor/guarantor/scenario"
	"github.com/guarantor/guarantor/ucdp"
)

var cfg = scenario.Config{Seed: 42, Start: time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC), Days: 14, Monitors: 6}

func TestDeterministic(t *testing.T) {
	a, _ := json.Marshal(scenario.Generate(cfg))
	b, _ := json.Marshal(scenario.Generate(cfg))
	if !bytes.Equal(a, b) {
		t.Fatal("the same config generated different scenarios")
	}
	other := cfg
	other.Seed = 43
	c, _ := json.Marshal(scenario.Generate(other))
	if bytes.Equal(a, c) {
		t.Fatal("another seed generated the same scenario")
	}
}

func TestItemsAreValidLabelledAndOnTheLine(t *testing.T) {
	k := testkeys.New(t, "monitor")
	items := scenario.Generate(cfg)
	if len(items) < 14*20 {
		t.Fatalf("only %d items for 14 days", len(items))
	}
	ids := map[string]bool{}
	cats := map[string]int{}
	multi := 0
	for i, it := range items {
		o := it.Observation
		if !strings.HasPrefix(o.Text, "SYNTHETIC") || !strings.HasPrefix(o.ID, "syn-") {
			t.Fatalf("item %d not labelled synthetic: %q %q", i, o.ID, o.Text)
		}
		key := string(rune('0'+it.Monitor)) + o.ID
		if ids[key] {
			t.Fatalf("id %s repeated for monitor %d", o.ID, it.Monitor)
		}
		ids[key] = true
		lon, lat := o.Location.Coordinates[0], o.Location.Coordinates[1]
		if lat < 46.9 || lat > 49.0 || lon < 37.3 || lon > 39.9 {
			t.Fatalf("item %d at %v, outside the Donbas", i, o.Location.Coordinates)
		}
		if it.Monitor < 0 || it.Monitor >= cfg.Monitors {
			t.Fatalf("monitor index %d", it.Monitor)
		}
		if i > 0 && o.ObservedAt.Before(items[i-1].Observation.ObservedAt) {
			t.Fatal("items not in time order")
		}
		cats[o.Category]++
		if err := testkeys.Valid(t, entry.KindObservation, o, k); err != nil {
			t.Fatalf("item %d invalid: %v", i, err)
		}
		if i > 0 && items[i-1].Observation.Text[strings.LastIndex(items[i-1].Observation.Text, " of "):] == o.Text[strings.LastIndex(o.Text, " of "):] &&
			o.ObservedAt.Sub(items[i-1].Observation.ObservedAt) < 10*time.Minute && items[i-1].Monitor != it.Monitor {
			multi++
		}
	}
	n := float64(len(items))
	for cat, lo := range map[string]float64{"shelling": 0.2, "explosion_heard": 0.15, "small_arms": 0.12} {
		if f := float64(cats[cat]) / n; f < lo || f > 0.45 {
			t.Errorf("%s is %.0f%% of items", cat, 100*f)
		}
	}
	if cats["civilian_casualty"] > len(items)/20 {
		t.Errorf("civilian casualties are %d of %d items", cats["civilian_casualty"], len(items))
	}
	if multi == 0 {
		t.Error("no event was reported by more than one monitor")
	}
}

func TestSettlements(t *testing.T) {
	ss := scenario.Settlements()
	if len(ss) != 39 || ss[0].Name != "Stanytsia Luhanska" || ss[38].Name != "Shyrokyne" {
		t.Fatalf("settlements: %d, first %q", len(ss), ss[0].Name)
	}
}

func TestPartnerCSVReadsAsUCDP(t *testing.T) {
	var buf bytes.Buffer
	n, err := scenario.WritePartnerCSV(&buf, cfg)
	if err != nil || n < cfg.Days {
		t.Fatalf("wrote %d rows: %v", n, err)
	}
	r, err := ucdp.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			if i != n {
				t.Fatalf("read %d rows, wrote %d", i, n)
			}
			return
		}
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		if !strings.HasPrefix(ev.SourceHeadline, "SYNTHETIC") || ev.ID < 900000000 {
			t.Fatalf("row %d not labelled synthetic or in the real id range: %+v", i, ev)
		}
	}
}
