package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/guarantor/guarantor/engine"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
)

func TestCoverageAPI(t *testing.T) {
	eng := newKey(t, "engine")
	e := newEnvWithEngine(t, &node.EngineConfig{Rules: engine.DefaultConfig(), Signer: eng.S, TickEvery: -1})
	e.register(eng, "engine")
	keys := map[string]key{}
	for _, role := range []string{"party:UA", "party:RU", "guarantor:UK", "guarantor:FR"} {
		keys[role] = newKey(t, strings.ReplaceAll(role, ":", "."))
		e.register(keys[role], role)
	}
	doc := `{"id":"fw","version":1,"title":"F","effective":"2025-01-01T00:00:00Z","parties":[{"id":"UA","name":"Ukraine"},{"id":"RU","name":"Russia"}],` +
		`"guarantors":[{"id":"C","name":"Coalition","kind":"collective","members":["UK","FR"]}],"coalition":"C",` +
		`"zones":[{"id":"north","kind":"security_zone","geometry":{"type":"Polygon","coordinates":[[[37,48],[38,48],[38,49],[37,49],[37,48]]]}},` +
		`{"id":"south","kind":"security_zone","geometry":{"type":"Polygon","coordinates":[[[35,46],[36,46],[36,47],[35,47],[35,46]]]}}],` +
		`"requirements":[{"sector":"north","capability":"land_demining","quantity":4,"from":"2025-01-01T00:00:00Z","to":"2026-01-01T00:00:00Z"},` +
		`{"sector":"south","capability":"air_policing","quantity":2,"from":"2025-01-01T00:00:00Z","to":"2026-01-01T00:00:00Z"}],` +
		`"rates":[{"currency":"USD","to":"EUR","rate":0.9,"as_of":"2025-01-02T00:00:00Z","source":"ECB euro reference rate"}],` +
		`"triggers":[{"id":"t","title":"T","when":"incident.category == 'missile_strike'","obligations":[{"who":"C","action":"respond","within":"30d","capabilities":["land_demining"],"caveat_conflicts":["no_combat_troops"]}]}]}`
	raw := e.sign(entry.KindAgreement, doc, keys["party:UA"], keys["party:RU"], keys["guarantor:UK"], keys["guarantor:FR"])
	e.mustPost(raw)
	e.mustPost(e.sign(entry.KindPledge, `{"id":"uk-1","at":"2025-03-01T00:00:00Z","agreement":"fw","capability":"land_demining","quantity":3,"sector":"north","from":"2025-03-01T00:00:00Z","to":"2025-09-01T00:00:00Z","caveats":["no_combat_troops"]}`, keys["guarantor:UK"]))
	e.mustPost(e.sign(entry.KindPledge, `{"id":"uk-aid","at":"2025-03-01T00:00:00Z","agreement":"fw","capability":"budget_support","quantity":1200,"currency":"USD","sector":"north","from":"2025-03-01T00:00:00Z","to":"2026-01-01T00:00:00Z"}`, keys["guarantor:UK"]))
	e.mustPost(e.sign(entry.KindPledge, `{"id":"fr-1","at":"2025-03-01T00:00:00Z","agreement":"fw","capability":"air_policing","quantity":2,"sector":"south","from":"2025-03-01T00:00:00Z","to":"2025-09-01T00:00:00Z","caveats":["air_only"]}`, keys["guarantor:FR"]))
	e.mustPost(e.sign(entry.KindDeployment, `{"id":"d1","at":"2025-03-02T00:00:00Z","pledge":"uk-1","quantity":3,"status":"deployed"}`, keys["guarantor:UK"]))
	e.mustPost(e.sign(entry.KindDeployment, `{"id":"p1","at":"2025-03-03T00:00:00Z","pledge":"uk-aid","quantity":100,"status":"disbursed"}`, keys["guarantor:UK"]))
	if err := e.node.WaitDerived(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A monitor sees two of UK's three demining teams at work; then a
	// missile strike obliges the coalition to respond with demining,
	// which only UK holds, under a caveat the duty rules out.
	mon := newKey(t, "monitor.cov")
	e.register(mon, "monitor")
	e.mustPost(e.sign(entry.KindObservation, `{"id":"seen-1","observed_at":"2025-03-04T00:00:00Z","location":{"type":"Point","coordinates":[37.5,48.5]},"category":"deployment_sighting","confirms":{"contributor":"guarantor:UK","deployment":"d1","quantity":2}}`, mon))
	e.mustPost(e.sign(entry.KindObservation, `{"id":"strike-1","observed_at":"2025-03-05T00:00:00Z","location":{"type":"Point","coordinates":[37.5,48.5]},"category":"missile_strike","source_type":"patrol"}`, mon))
	if err := e.node.WaitDerived(context.Background()); err != nil {
		t.Fatal(err)
	}
	get := func(path string) (*http.Response, []byte) {
		resp, err := http.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	var v struct {
		Month string
		Cells []entry.CoverageCell
		Gaps  []struct {
			Sector, Capability  string
			Shortfall, Severity float64
		}
		Conflicts []entry.CoverageLink
		Uncovered []entry.CoverageLink
	}
	r, b := get("/v1/coalition/fw/coverage?month=2025-03")
	if r.StatusCode != 200 || json.Unmarshal(b, &v) != nil || v.Month != "2025-03" || len(v.Cells) != 3 {
		t.Fatalf("coverage: %s %s", r.Status, b)
	}
	// South: 2 pledged, none deployed: the worst gap. North: 3 of 4.
	if len(v.Gaps) != 2 || v.Gaps[0].Sector != "south" || v.Gaps[0].Severity != 1 || v.Gaps[1].Shortfall != 1 {
		t.Fatalf("gaps %+v", v.Gaps)
	}
	if len(v.Conflicts) != 2 || len(v.Uncovered) != 0 || v.Conflicts[0].Holders[0].Contributor != "guarantor:UK" || v.Conflicts[0].Holders[0].Conflicts[0] != "no_combat_troops" {
		t.Fatalf("caveat conflicts %+v, uncovered %+v", v.Conflicts, v.Uncovered)
	}
	r, b = get("/v1/coalition/fw/coverage.csv?month=2025-03")
	if r.StatusCode != 200 || !strings.HasPrefix(string(b), "agreement,month,sector,capability,required,pledged,deployed,confirmed,shortfall,index\n") || !strings.Contains(string(b), "fw,2025-03,north,land_demining,4,3,3,2,1,") {
		t.Fatalf("csv: %s %s", r.Status, b)
	}
	// UK's USD 1,200 for ten months, USD 100 paid: EUR 1,080 and 90 at
	// the declared 0.9.
	r, b = get("/v1/coalition/fw/support.csv?month=2025-03")
	if r.StatusCode != 200 || !strings.HasPrefix(string(b), "agreement,month,at,contributor,capability,unit,pledged,due,disbursed,ratio,index\n") || !strings.Contains(string(b), "fw,2025-03,2025-03-05T00:00:00Z,guarantor:UK,budget_support,EUR,1080,") || !strings.Contains(string(b), ",90,") {
		t.Fatalf("support csv: %s %s", r.Status, b)
	}
	var d struct {
		Holders []entry.CoverageLink `json:"capability_holders"`
	}
	r, b = get(fmt.Sprintf("/v1/obligations/%d", v.Conflicts[0].Obligation))
	if r.StatusCode != 200 || json.Unmarshal(b, &d) != nil || len(d.Holders) != 1 || !d.Holders[0].Conflict || d.Holders[0].Capability != "land_demining" {
		t.Fatalf("obligation: %s %s", r.Status, b)
	}
	for path, code := range map[string]int{"/v1/coalition/other/coverage": 404, "/v1/coalition/fw/coverage?month=2025-13": 400, "/v1/coalition/fw/coverage?month=1999-01": 404} {
		if r, b := get(path); r.StatusCode != code {
			t.Fatalf("%s: %s %s", path, r.Status, b)
		}
	}
}
