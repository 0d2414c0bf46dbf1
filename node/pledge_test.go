package node_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
)

// TestBadPledgesAreRefused: a pledge must name a logged agreement with a
// coalition, be signed by a member of it, name a known capability and one
// of the agreement's zones, lie within its period, and give a currency
// exactly when the capability is money. Each refusal names the field.
func TestBadPledgesAreRefused(t *testing.T) {
	f, _ := engineFixture(t)
	keys := map[string]key{}
	for _, role := range []string{"party:UA", "party:RU", "guarantor:UK", "guarantor:FR", "guarantor:US"} {
		keys[role] = newKey(t, strings.ReplaceAll(role, ":", "."))
		f.must(f.sign(entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":%q,"not_before":"2020-01-01T00:00:00Z","not_after":"2099-01-01T00:00:00Z"}`, keys[role].VKey, role), f.auth))
	}
	doc := `{"id":"fw","version":1,"title":"Framework","effective":"2026-01-01T00:00:00Z","expires":"2036-01-01T00:00:00Z",` +
		`"parties":[{"id":"UA","name":"Ukraine"},{"id":"RU","name":"Russia"}],` +
		`"guarantors":[{"id":"COALITION","name":"Coalition","kind":"collective","members":["UK","FR"]},{"id":"US","name":"United States","kind":"bilateral","beneficiary":"UA"}],` +
		`"coalition":"COALITION","capabilities":[{"id":"bridging","title":"Bridging","unit":"bridges"}],` +
		`"rates":[{"currency":"USD","to":"EUR","rate":0.92,"as_of":"2026-01-02T00:00:00Z","source":"ECB euro reference rate"}],` +
		`"zones":[{"id":"north","kind":"security_zone","geometry":{"type":"Polygon","coordinates":[[[37,48],[38,48],[38,49],[37,49],[37,48]]]}}],` +
		`"requirements":[{"sector":"north","capability":"land_demining","quantity":4,"from":"2026-01-01T00:00:00Z","to":"2027-01-01T00:00:00Z"}],` +
		`"triggers":[{"id":"t","title":"T","when":"false","obligations":[{"who":"US","action":"consult","within":"1d"}]}]}`
	raw := f.sign(entry.KindAgreement, doc, keys["party:UA"])
	for _, r := range []string{"party:RU", "guarantor:UK", "guarantor:FR", "guarantor:US"} {
		raw, _ = entry.Cosign(raw, keys[r].S)
	}
	f.must(raw)
	pledge := func(mod func(map[string]any)) string {
		p := map[string]any{"id": "uk-1", "at": "2026-02-01T00:00:00Z", "agreement": "fw", "capability": "land_demining", "quantity": 2,
			"sector": "north", "from": "2026-03-01T00:00:00Z", "to": "2026-09-01T00:00:00Z", "readiness": "high", "caveats": []string{"no_combat_troops"}}
		mod(p)
		b, _ := entry.MarshalBody(p)
		return string(b)
	}
	for _, c := range []struct {
		name   string
		mod    func(map[string]any)
		signer string
		field  string
		says   string
	}{
		{"unknown capability", func(p map[string]any) { p["capability"] = "space_lasers" }, "guarantor:UK", "/capability", `capability "space_lasers" is neither built in nor defined`},
		{"not a coalition member", func(map[string]any) {}, "guarantor:US", "signature", "not a member of fw's coalition COALITION (guarantor:UK, guarantor:FR)"},
		{"a party", func(map[string]any) {}, "party:UA", "signature", "signed by a contributing state's guarantor key"},
		{"before the agreement", func(p map[string]any) { p["from"] = "2025-06-01T00:00:00Z" }, "guarantor:UK", "/from", "outside agreement fw's"},
		{"after it expires", func(p map[string]any) { p["to"] = "2037-01-01T00:00:00Z" }, "guarantor:UK", "/from", "outside agreement fw's"},
		{"unknown sector", func(p map[string]any) { p["sector"] = "south" }, "guarantor:UK", "/sector", `sector "south" is not a zone of agreement fw (north)`},
		{"unknown agreement", func(p map[string]any) { p["agreement"] = "other" }, "guarantor:UK", "/agreement", `no agreement "other"`},
		{"money without currency", func(p map[string]any) { p["capability"] = "budget_support" }, "guarantor:UK", "/currency", "give the amount's currency"},
		{"money without a declared rate", func(p map[string]any) { p["capability"], p["currency"] = "budget_support", "GBP" }, "guarantor:UK", "/currency", "declares no rate from GBP to EUR"},
		{"currency for troops", func(p map[string]any) { p["currency"] = "EUR" }, "guarantor:UK", "/currency", "counted in teams"},
		{"period backwards", func(p map[string]any) { p["to"] = "2026-02-01T00:00:00Z" }, "guarantor:UK", "/to", "ends before it starts"},
		{"unknown caveat", func(p map[string]any) { p["caveats"] = []string{"fair_weather_only"} }, "guarantor:UK", "/caveats/0", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.submit(f.sign(entry.KindPledge, pledge(c.mod), keys[c.signer]))
			var ge *guarantor.Error
			if !errors.As(err, &ge) || ge.Field != c.field || !strings.Contains(ge.Message, c.says) {
				t.Fatalf("got %v, want field %s saying %q", err, c.field, c.says)
			}
		})
	}
	// Good ones: troops by a member, money with its currency, and a
	// capability the agreement defines.
	f.must(f.sign(entry.KindPledge, pledge(func(map[string]any) {}), keys["guarantor:UK"]))
	f.must(f.sign(entry.KindPledge, pledge(func(p map[string]any) {
		p["id"], p["capability"], p["quantity"], p["currency"] = "fr-1", "budget_support", 250_000_000, "EUR"
	}), keys["guarantor:FR"]))
	f.must(f.sign(entry.KindPledge, pledge(func(p map[string]any) { p["id"], p["capability"] = "fr-2", "bridging" }), keys["guarantor:FR"]))
	f.must(f.sign(entry.KindPledge, pledge(func(p map[string]any) {
		p["id"], p["capability"], p["quantity"], p["currency"] = "uk-usd", "military_aid", 100_000_000, "USD"
	}), keys["guarantor:UK"]))

	// Deployments: only of one's own pledges.
	deploy := func(pledge string) string {
		return fmt.Sprintf(`{"id":"d-%s","at":"2026-03-02T00:00:00Z","pledge":%q,"quantity":2,"status":"deployed"}`, pledge, pledge)
	}
	if _, err := f.submit(f.sign(entry.KindDeployment, deploy("uk-1"), keys["guarantor:FR"])); err == nil || !strings.Contains(err.Error(), `guarantor:FR has made no pledge "uk-1"`) {
		t.Fatalf("FR deploying UK's pledge: %v", err)
	}
	f.must(f.sign(entry.KindDeployment, deploy("uk-1"), keys["guarantor:UK"]))
	if err := f.n.WaitDerived(context.Background()); err != nil {
		t.Fatal(err)
	}
	if countKind(t, f, entry.KindCoverage) == 0 {
		t.Fatal("no coverage logged")
	}

	// Monitors' sightings: of a logged report in place, at or after it.
	mon := newKey(t, "monitor.sighting")
	f.must(f.sign(entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":"monitor","not_before":"2020-01-01T00:00:00Z","not_after":"2099-01-01T00:00:00Z"}`, mon.VKey), f.auth))
	f.must(f.sign(entry.KindDeployment, `{"id":"w-fr-2","at":"2026-03-03T00:00:00Z","pledge":"fr-2","quantity":0,"status":"withdrawn"}`, keys["guarantor:FR"]))
	if err := f.n.WaitDerived(context.Background()); err != nil {
		t.Fatal(err)
	}
	sighting := func(id, contributor, deployment, at string) string {
		return fmt.Sprintf(`{"id":%q,"observed_at":%q,"location":{"type":"Point","coordinates":[37.5,48.5]},"category":"deployment_sighting","source_type":"patrol",`+
			`"confirms":{"contributor":%q,"deployment":%q,"quantity":2}}`, id, at, contributor, deployment)
	}
	for _, c := range []struct{ name, body, says string }{
		{"unknown report", sighting("s1", "guarantor:UK", "d-nothing", "2026-03-05T00:00:00Z"), `guarantor:UK logged no deployment report "d-nothing"`},
		{"another's report", sighting("s2", "guarantor:FR", "d-uk-1", "2026-03-05T00:00:00Z"), `guarantor:FR logged no deployment report "d-uk-1"`},
		{"before the report", sighting("s3", "guarantor:UK", "d-uk-1", "2026-03-01T00:00:00Z"), "is before guarantor:UK's report"},
		{"a withdrawal", sighting("s4", "guarantor:FR", "w-fr-2", "2026-03-05T00:00:00Z"), "is a withdrawal"},
		{"no confirms", `{"id":"s5","observed_at":"2026-03-05T00:00:00Z","location":{"type":"Point","coordinates":[37.5,48.5]},"category":"deployment_sighting"}`, "exactly when its category is deployment_sighting"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.submit(f.sign(entry.KindObservation, c.body, mon))
			var ge *guarantor.Error
			if !errors.As(err, &ge) || ge.Field != "/confirms" || !strings.Contains(ge.Message, c.says) {
				t.Fatalf("got %v, want /confirms saying %q", err, c.says)
			}
		})
	}
	f.must(f.sign(entry.KindObservation, sighting("s6", "guarantor:UK", "d-uk-1", "2026-03-05T00:00:00Z"), mon))
	if err := f.n.WaitDerived(context.Background()); err != nil {
		t.Fatal(err)
	}
	row, ok, err := f.store.Coverage(context.Background(), "fw", "")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	confirmed := map[string]float64{}
	for _, c := range row.Coverage.Cells {
		confirmed[c.Capability] = c.Confirmed
	}
	if confirmed["land_demining"] != 2 || confirmed["bridging"] != 0 {
		t.Fatalf("confirmed %v after one sighting of UK's 2 teams", confirmed)
	}
	var usd float64
	for _, s := range row.Coverage.Support {
		if s.Contributor == "guarantor:UK" && s.Capability == "military_aid" {
			usd = s.Pledged
		}
	}
	if usd != 92_000_000 {
		t.Fatalf("UK's USD 100m converted to EUR %v, want 92,000,000 at the declared 0.92", usd)
	}
	replayStore(t, f)
}
