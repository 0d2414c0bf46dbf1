package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/store/sqlite"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"
)

// rule is a trigger written again in plain Go, without CEL: whether an
// incident revision satisfies it, given the agreement's zones.
type rule func(b *entry.Incident, zone func(id string, b *entry.Incident) bool) bool

// expectDeterminations reads a demo's log from its projection and
// computes, independently of the engine, which incident revisions must
// fire the given triggers: in log order, the first open revision of an
// incident (or of any incident merged into it) that satisfies the rule,
// under an agreement in force at the incident's start. It returns the
// determinations expected and those the log holds for these triggers, as
// "trigger incident/revision" strings.
func expectDeterminations(t *testing.T, dir, agreementID string, rules map[string]rule) (want, got []string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "projection.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	applied, err := st.Applied(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var doc *entry.Agreement
	zones := map[string]orb.Geometry{}
	fired := map[string]map[uint64]bool{} // trigger -> incident ids
	for id := range rules {
		fired[id] = map[uint64]bool{}
	}
	zone := func(id string, b *entry.Incident) bool {
		p := orb.Point{b.Location.Coordinates[0], b.Location.Coordinates[1]}
		switch g := zones[id].(type) {
		case orb.Polygon:
			return planar.PolygonContains(g, p)
		case orb.MultiPolygon:
			return planar.MultiPolygonContains(g, p)
		}
		t.Fatalf("no zone %s", id)
		return false
	}
	err = st.Records(ctx, 0, applied, func(rec node.Record) error {
		switch b := rec.Body.(type) {
		case *entry.Agreement:
			if b.ID != agreementID {
				return nil
			}
			doc = b
			for _, z := range b.Zones {
				g, err := geojson.UnmarshalGeometry(z.Geometry)
				if err != nil {
					return err
				}
				zones[z.ID] = g.Geometry()
			}
		case *entry.Determination:
			if rules[b.Trigger] != nil {
				got = append(got, fmt.Sprintf("%s %d/%d", b.Trigger, b.Incidents[0].ID, b.Incidents[0].Revision))
			}
		case *entry.Incident:
			if doc == nil || b.Status != entry.IncidentOpen {
				return nil
			}
			for id, r := range rules {
				for _, m := range b.Merged {
					if fired[id][m.ID] {
						fired[id][b.ID] = true
					}
				}
				inForce := !b.From.Before(doc.Effective) && (doc.Expires == nil || b.From.Before(*doc.Expires))
				if inForce && !fired[id][b.ID] && r(b, zone) {
					fired[id][b.ID] = true
					want = append(want, fmt.Sprintf("%s %d/%d", id, b.ID, b.Revision))
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if doc == nil {
		t.Fatalf("no agreement %s in the log", agreementID)
	}
	slices.Sort(want)
	slices.Sort(got)
	return want, got
}

func compareDeterminations(t *testing.T, want, got []string) {
	t.Helper()
	if len(want) == 0 {
		t.Fatal("no determination expected: the check checks nothing")
	}
	if !slices.Equal(want, got) {
		var missing, extra []string
		for _, w := range want {
			if !slices.Contains(got, w) {
				missing = append(missing, w)
			}
		}
		for _, g := range got {
			if !slices.Contains(want, g) {
				extra = append(extra, g)
			}
		}
		t.Fatalf("%d determinations expected, %d logged; missing %v; unexpected %v", len(want), len(got), first(missing), first(extra))
	}
	t.Logf("%d determinations, each computed independently of the engine", len(got))
}

func first(s []string) []string { return s[:min(len(s), 5)] }

// fire is the categories Minsk II's ceasefire triggers count.
var fire = []string{"shelling", "explosion_heard", "small_arms", "missile_strike", "air_strike", "drone_strike", "civilian_casualty"}

// TestMinskDeterminationsOnRealEvents: the determinations the engine logs
// under Minsk II for the real UCDP events (and simulated reports of them)
// are exactly those plain Go computes from the same incidents.
func TestMinskDeterminationsOnRealEvents(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo")
	}
	const file = "../../../shared/data/ucdp-ged-ukraine-2016-2023.csv"
	if _, err := os.Stat(file); err != nil {
		t.Skipf("UCDP data not found at %s (it lives in ../shared/data beside the repository): %v", file, err)
	}
	dir := filepath.Join(t.TempDir(), "demo")
	demoLog(t, dir, "--ucdp", file)
	want, got := expectDeterminations(t, dir, "minsk-ii", map[string]rule{
		"ceasefire-violation-donetsk": func(b *entry.Incident, zone func(string, *entry.Incident) bool) bool {
			return slices.Contains(fire, b.Category) && zone("sector-donetsk", b)
		},
		"ceasefire-violation-luhansk": func(b *entry.Incident, zone func(string, *entry.Incident) bool) bool {
			return slices.Contains(fire, b.Category) && zone("sector-luhansk", b)
		},
		"disengagement-breach": func(b *entry.Incident, zone func(string, *entry.Incident) bool) bool {
			cats := append(slices.Clone(fire[:6]), "heavy_weapon_sighting", "troop_movement")
			return slices.Contains(cats, b.Category) &&
				((zone("disengagement-zolote", b) && !b.From.Before(mustTime("2016-10-01T00:00:00Z"))) ||
					(zone("disengagement-stanytsia-luhanska", b) && !b.From.Before(mustTime("2019-06-30T00:00:00Z"))))
		},
	})
	compareDeterminations(t, want, got)
}

// TestFrameworkDeterminationsOnTheScenario: the same for the 2025
// framework's per-incident triggers on the generated scenario.
func TestFrameworkDeterminationsOnTheScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo")
	}
	dir := filepath.Join(t.TempDir(), "demo")
	demoLog(t, dir, "--days", "14")
	want, got := expectDeterminations(t, dir, "framework-2025", map[string]rule{
		"mission-obstructed-occupied": func(b *entry.Incident, zone func(string, *entry.Incident) bool) bool {
			return b.Category == "movement_restriction" && zone("occupied-areas", b)
		},
		"mission-obstructed-ua-held": func(b *entry.Incident, zone func(string, *entry.Incident) bool) bool {
			return b.Category == "movement_restriction" && zone("ua-held", b) && (zone("patrol-north", b) || zone("patrol-south", b))
		},
	})
	compareDeterminations(t, want, got)

	// The demo's analyst verified a Russian strike: the snap-back clause
	// fired, the EU answered its sanction obligation, and the suspended
	// measure is in force again.
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "projection.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, err := st.Sanctions(ctx)
	if err != nil || len(rows) != 1 {
		t.Fatalf("sanctions %+v %v", rows, err)
	}
	if r := rows[0]; r.Sanction.ID != demoSanctionID || r.Sanction.Status != entry.SanctionSuspended || r.Status != entry.SanctionActive || r.ReimposedBy == nil {
		t.Fatalf("the demo's measure: %+v", r)
	}

	// The coalition pledged against the framework's requirements; the
	// engine's latest coverage shows what is deployed and what is short.
	cov, ok, err := st.Coverage(ctx, "framework-2025", "")
	if err != nil || !ok || len(cov.Coverage.Cells) != 7 || len(cov.Coverage.Ratios) == 0 || len(cov.Coverage.Support) != 3 {
		t.Fatalf("coverage %+v %v %v", cov, ok, err)
	}
	deployed, confirmed, short := 0.0, 0.0, 0
	for _, c := range cov.Coverage.Cells {
		deployed += c.Deployed
		confirmed += c.Confirmed
		if c.Shortfall > 0 {
			short++
		}
	}
	if deployed == 0 || confirmed == 0 || confirmed >= deployed || short == 0 {
		t.Fatalf("coverage cells %+v", cov.Coverage.Cells)
	}
	// Budget support in three currencies, each converted at the rate the
	// framework declares, disbursed in part.
	rates := map[string]float64{"guarantor:UK": 1, "guarantor:FR": 0.86, "guarantor:DE": 1.14}
	for _, s := range cov.Coverage.Support {
		i := slices.Index([]string{"guarantor:UK", "guarantor:FR", "guarantor:DE"}, s.Contributor)
		if want := float64(1_200_000_000*(i+1)) * rates[s.Contributor]; i < 0 || s.Unit != "EUR" || math.Abs(s.Pledged-want) > 1e-3 || s.Disbursed <= 0 || s.Disbursed > s.Pledged {
			t.Fatalf("support %+v, want pledged EUR %.0f", s, want)
		}
	}
	t.Logf("coverage at %s: %d cells, %d short, %.0f deployed, %.0f confirmed; %d obligation links", cov.Coverage.At, len(cov.Coverage.Cells), short, deployed, confirmed, len(cov.Coverage.Obligations))
}

func mustTime(s string) (t time.Time) {
	if err := json.Unmarshal([]byte(`"`+s+`"`), &t); err != nil {
		panic(err)
	}
	return t
}
