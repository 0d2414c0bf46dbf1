package http_test

import (
	"context"
	"encoding/json"
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
		`"triggers":[{"id":"t","title":"T","when":"false","obligations":[{"who":"C","action":"consult","within":"1d"}]}]}`
	raw := e.sign(entry.KindAgreement, doc, keys["party:UA"], keys["party:RU"], keys["guarantor:UK"], keys["guarantor:FR"])
	e.mustPost(raw)
	e.mustPost(e.sign(entry.KindPledge, `{"id":"uk-1","at":"2025-03-01T00:00:00Z","agreement":"fw","capability":"land_demining","quantity":3,"sector":"north","from":"2025-03-01T00:00:00Z","to":"2025-09-01T00:00:00Z"}`, keys["guarantor:UK"]))
	e.mustPost(e.sign(entry.KindPledge, `{"id":"fr-1","at":"2025-03-01T00:00:00Z","agreement":"fw","capability":"air_policing","quantity":2,"sector":"south","from":"2025-03-01T00:00:00Z","to":"2025-09-01T00:00:00Z","caveats":["air_only"]}`, keys["guarantor:FR"]))
	e.mustPost(e.sign(entry.KindDeployment, `{"id":"d1","at":"2025-03-02T00:00:00Z","pledge":"uk-1","quantity":3,"status":"deployed"}`, keys["guarantor:UK"]))
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
	}
	r, b := get("/v1/coalition/fw/coverage?month=2025-03")
	if r.StatusCode != 200 || json.Unmarshal(b, &v) != nil || v.Month != "2025-03" || len(v.Cells) != 2 {
		t.Fatalf("coverage: %s %s", r.Status, b)
	}
	// South: 2 pledged, none deployed: the worst gap. North: 3 of 4.
	if len(v.Gaps) != 2 || v.Gaps[0].Sector != "south" || v.Gaps[0].Severity != 1 || v.Gaps[1].Shortfall != 1 {
		t.Fatalf("gaps %+v", v.Gaps)
	}
	r, b = get("/v1/coalition/fw/coverage.csv?month=2025-03")
	if r.StatusCode != 200 || !strings.HasPrefix(string(b), "agreement,month,sector,capability,required,pledged,deployed,shortfall,index\n") || !strings.Contains(string(b), "fw,2025-03,north,land_demining,4,3,3,1,") {
		t.Fatalf("csv: %s %s", r.Status, b)
	}
	for path, code := range map[string]int{"/v1/coalition/other/coverage": 404, "/v1/coalition/fw/coverage?month=2025-13": 400, "/v1/coalition/fw/coverage?month=1999-01": 404} {
		if r, b := get(path); r.StatusCode != code {
			t.Fatalf("%s: %s %s", path, r.Status, b)
		}
	}
}
