package agreement_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/engine/agreement"
	"github.com/guarantor/guarantor/entry"
)

// doc is a small agreement: a square zone around (37.8, 48.0), a
// north-south line through 37.8°E, a limit on MLRS within 20 km of it.
const doc = `{
 "id": "test", "version": 1, "title": "Test", "effective": "2021-01-01T00:00:00Z",
 "parties": [{"id": "UA", "name": "Ukraine"}, {"id": "RU", "name": "Russia"}],
 "guarantors": [{"id": "coalition", "name": "Coalition", "kind": "collective", "members": ["UK", "FR"]}],
 "zones": [{"id": "sz", "kind": "security_zone", "geometry": {"type": "Polygon", "coordinates": [[[37.7, 47.9], [37.9, 47.9], [37.9, 48.1], [37.7, 48.1], [37.7, 47.9]]]}}],
 "lines": [{"id": "contact", "geometry": {"type": "LineString", "coordinates": [[37.8, 47.0], [37.8, 49.0]]}}],
 "limits": [{"id": "mlrs-20", "weapons": ["mlrs"], "line": "contact", "min_km": 20}],
 "triggers": [
  {"id": "in-zone", "title": "Fire in the zone", "when": "incident.category == 'shelling' && in_zone(incident, 'sz')", "obligations": [{"who": "coalition", "action": "consult", "within": "24h"}]},
  {"id": "far", "title": "Far from the line", "when": "distance_km(incident, 'contact') > 5.0", "obligations": [{"who": "RU", "action": "report", "within": "72h"}]},
  {"id": "mlrs", "title": "MLRS too close", "when": "violates(incident, 'mlrs-20') && level_at_least(incident, 'corroborated')", "obligations": [{"who": "RU", "action": "withdraw", "within": "7d"}]},
  {"id": "many", "title": "Many", "when": "count({'category': ['shelling'], 'zone': 'sz'}, '24h') >= 3", "cooldown": "24h", "obligations": [{"who": "UK", "action": "consult", "within": "24h"}]}
 ]
}`

func parse(t testing.TB, s string) *entry.Agreement {
	t.Helper()
	var a entry.Agreement
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		t.Fatal(err)
	}
	return &a
}

func TestCompileAndEvaluate(t *testing.T) {
	c, err := agreement.Compile(parse(t, doc))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Triggers[3].Aggregate || c.Triggers[0].Aggregate || c.Triggers[3].Cooldown != 24*time.Hour {
		t.Fatalf("aggregate flags / cooldown: %+v", c.Triggers)
	}
	at := time.Date(2021, 3, 1, 18, 0, 0, 0, time.UTC)
	var asked []agreement.Filter
	counter := func(f agreement.Filter, from, to time.Time) int64 {
		if !to.Equal(at) || !from.Equal(at.Add(-24*time.Hour)) {
			t.Errorf("count window [%s, %s]", from, to)
		}
		asked = append(asked, f)
		return 3
	}
	in := agreement.Incident{ID: 7, Category: "shelling", Level: "corroborated", To: at, Lon: 37.85, Lat: 48.0, Weapons: []string{"mlrs"}}
	fired, errs := c.Eval(in, counter)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	var ids []string
	for _, f := range fired {
		ids = append(ids, f.ID)
	}
	// 0.05° east of the line at 48°N is 3.7 km: not "far", but MLRS within 20 km.
	if strings.Join(ids, ",") != "in-zone,mlrs,many" {
		t.Fatalf("fired %v", ids)
	}
	if len(asked) != 1 || strings.Join(asked[0].Categories, ",") != "shelling" || asked[0].Zone != "sz" {
		t.Fatalf("count asked %+v", asked)
	}
	if d := c.DistanceKM(37.85, 48.0, "contact"); d < 3.70 || d > 3.74 {
		t.Fatalf("distance %v km", d)
	}
	out := agreement.Incident{ID: 8, Category: "shelling", Level: "reported", To: at, Lon: 38.5, Lat: 48.0, Weapons: []string{"mlrs"}}
	fired, _ = c.Eval(out, func(agreement.Filter, time.Time, time.Time) int64 { return 0 })
	if len(fired) != 1 || fired[0].ID != "far" {
		t.Fatalf("outside the zone: %v", fired)
	}
}

func TestCompileRefusesBadAgreements(t *testing.T) {
	for _, c := range []struct {
		name, from, to, field, msg string
	}{
		{"syntax", `incident.category == 'shelling' && in_zone(incident, 'sz')`, `incident.category == && true`, "/triggers/0/when", "1:"},
		{"not bool", `incident.category == 'shelling' && in_zone(incident, 'sz')`, `incident.count + 1`, "/triggers/0/when", "must be a bool"},
		{"unknown field type", `incident.category == 'shelling' && in_zone(incident, 'sz')`, `in_zone(incident, 42)`, "/triggers/0/when", "no matching overload"},
		{"unknown zone", `in_zone(incident, 'sz')`, `in_zone(incident, 'nowhere')`, "/triggers/0/when", `unknown zone "nowhere": the agreement defines sz`},
		{"zone not literal", `in_zone(incident, 'sz')`, `in_zone(incident, incident.category)`, "/triggers/0/when", "must be a string literal"},
		{"unknown line", `distance_km(incident, 'contact')`, `distance_km(incident, 'border')`, "/triggers/1/when", `unknown line "border"`},
		{"unknown limit", `violates(incident, 'mlrs-20')`, `violates(incident, 'tanks')`, "/triggers/2/when", `unknown limit "tanks"`},
		{"bad window", `'24h') >= 3`, `'a day') >= 3`, "/triggers/3/when", "count window"},
		{"open ring", `[37.7, 48.1], [37.7, 47.9]]]`, `[37.7, 48.1], [37.7, 47.95]]]`, "/zones/0/geometry", "last equal to the first"},
		{"bad line", `[[37.8, 47.0], [37.8, 49.0]]`, `[[37.8, 47.0]]`, "/lines/0/geometry", "at least 2 positions"},
		{"not a geometry", `"type": "LineString", "coordinates": [[37.8, 47.0], [37.8, 49.0]]`, `"type": "LineString", "coordinates": 7`, "/lines/0/geometry", "not a GeoJSON geometry"},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad := strings.Replace(doc, c.from, c.to, 1)
			if bad == doc {
				t.Fatalf("replacement %q not found", c.from)
			}
			_, err := agreement.Compile(parse(t, bad))
			var ge *guarantor.Error
			if !errors.As(err, &ge) || ge.Field != c.field || !strings.Contains(ge.Message, c.msg) {
				t.Fatalf("got %v, want field %s containing %q", err, c.field, c.msg)
			}
		})
	}
}

// hundredTriggers returns the test agreement with 100 triggers of the
// kinds agreements use: category and level tests, zones, distances from a
// line, weapon limits, attributions, and one in ten an aggregate count.
func hundredTriggers(t testing.TB) *entry.Agreement {
	a := parse(t, doc)
	base := a.Triggers[0]
	a.Triggers = nil
	exprs := []string{
		"incident.category == 'shelling' && in_zone(incident, 'sz')",
		"incident.category in ['missile_strike', 'air_strike', 'drone_strike'] && level_at_least(incident, 'corroborated')",
		"distance_km(incident, 'contact') < 15.0 && incident.count >= 5",
		"violates(incident, 'mlrs-20')",
		"'party:RU' in incident.attributed_to && level_at_least(incident, 'verified')",
		"in_zone(incident, 'sz') && incident.monitors >= 2 && incident.category != 'other'",
		"incident.weapons.exists(w, w.startsWith('artillery')) && distance_km(incident, 'contact') < 50.0",
		"incident.source_types.size() >= 2 && in_zone(incident, 'sz')",
		"incident.to - incident.from > duration('10m') && in_zone(incident, 'sz')",
		"in_zone(incident, 'sz') && count({'category': ['shelling'], 'zone': 'sz'}, '24h') >= 10",
	}
	for i := range 100 {
		tr := base
		tr.ID = fmt.Sprintf("t%03d", i)
		tr.When = exprs[i%len(exprs)]
		a.Triggers = append(a.Triggers, tr)
	}
	return a
}

// BenchmarkEval100 evaluates an agreement of 100 triggers on one
// incident (count() answered in constant time here; the engine's own
// benchmark includes its scan): compare triggers/s with the Ed25519
// verify rate (BenchmarkEd25519Open in package entry).
func BenchmarkEval100(b *testing.B) {
	c, err := agreement.Compile(hundredTriggers(b))
	if err != nil {
		b.Fatal(err)
	}
	at := time.Date(2021, 3, 1, 18, 0, 0, 0, time.UTC)
	in := agreement.Incident{ID: 7, Category: "shelling", Level: "corroborated", From: at.Add(-15 * time.Minute), To: at, Lon: 37.85, Lat: 48.0,
		Weapons: []string{"mlrs", "artillery_122mm"}, SourceTypes: []string{"camera", "patrol"}, Monitors: 2, Count: 6}
	counter := func(agreement.Filter, time.Time, time.Time) int64 { return 12 }
	for b.Loop() {
		if _, errs := c.Eval(in, counter); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
	b.ReportMetric(100*float64(b.N)/b.Elapsed().Seconds(), "triggers/s")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "incidents/s")
}
