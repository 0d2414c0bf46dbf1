package node_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
)

// TestPatrols: a plan names registered team members and stays within the
// mission's area, and its window runs forwards; a report is signed by the
// team only, its track stays within the area, and it cites the
// observations its team logged, a restriction one of category
// movement_restriction. Each refusal names the field.
func TestPatrols(t *testing.T) {
	f, _ := engineFixture(t)
	keys := map[string]key{}
	for _, r := range []struct{ name, role string }{{"party.UA", "party:UA"}, {"party.RU", "party:RU"}, {"monitor.a", "monitor"}, {"monitor.b", "monitor"},
		{"monitor.c", "monitor"}, {"operator.1", "operator"}, {"analyst.1", "analyst"}} {
		keys[r.name] = newKey(t, r.name)
		f.must(f.sign(entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":%q,"not_before":"2020-01-01T00:00:00Z","not_after":"2099-01-01T00:00:00Z"}`, keys[r.name].VKey, r.role), f.auth))
	}
	doc := `{"id":"fw","version":1,"title":"F","effective":"2026-01-01T00:00:00Z","parties":[{"id":"UA","name":"Ukraine"},{"id":"RU","name":"Russia"}],` +
		`"zones":[{"id":"patrol-north","kind":"patrol_area","geometry":{"type":"Polygon","coordinates":[[[37,48],[38,48],[38,49],[37,49],[37,48]]]}}],` +
		`"triggers":[{"id":"t","title":"T","when":"false","obligations":[{"who":"UA","action":"report","within":"1d"}]}]}`
	raw := f.sign(entry.KindAgreement, doc, keys["party.UA"])
	raw, _ = entry.Cosign(raw, keys["party.RU"].S)
	f.must(raw)
	a, b := keys["monitor.a"].ID, keys["monitor.b"].ID
	plan := func(mod string) string {
		p := fmt.Sprintf(`{"id":"p1","at":"2026-03-01T06:00:00Z","agreement":"fw","team":"north-1","members":[%q,%q],"means":"vehicle",`+
			`"route":{"type":"LineString","coordinates":[[37.1,48.1],[37.9,48.9]]},"from":"2026-03-01T07:00:00Z","to":"2026-03-01T17:00:00Z","zones":["patrol-north"]}`, a, b)
		if mod != "" {
			old, repl, _ := strings.Cut(mod, "=>")
			p = strings.Replace(p, old, repl, 1)
		}
		return p
	}
	refuse := func(raw []byte, code, field, says string) {
		t.Helper()
		_, err := f.submit(raw)
		var ge *guarantor.Error
		if !errors.As(err, &ge) || ge.Code != code || ge.Field != field || !strings.Contains(ge.Message, says) {
			t.Fatalf("got %v, want %s at %s saying %q", err, code, field, says)
		}
	}
	refuse(f.sign(entry.KindPatrolPlan, plan(`"to":"2026-03-01T17:00:00Z"=>"to":"2026-03-01T06:00:00Z"`), keys["operator.1"]), guarantor.EInvalid, "/to", "ends (2026-03-01T06:00:00Z) before it starts")
	refuse(f.sign(entry.KindPatrolPlan, plan(`[37.9,48.9]=>[39.9,48.9]`), keys["operator.1"]), guarantor.EInvalid, "/route/coordinates/1", "outside the mission's area")
	refuse(f.sign(entry.KindPatrolPlan, plan(`"zones":["patrol-north"]=>"zones":["patrol-south"]`), keys["operator.1"]), guarantor.EInvalid, "/zones/0", `zone "patrol-south" is not a zone of agreement fw`)
	refuse(f.sign(entry.KindPatrolPlan, plan(a+`=>`+keys["analyst.1"].ID), keys["operator.1"]), guarantor.EInvalid, "/members/0", "is not a registered monitor or sensor key")
	refuse(f.sign(entry.KindPatrolPlan, plan(""), keys["monitor.c"]), guarantor.EForbidden, "signature", "is not in team north-1")
	refuse(f.sign(entry.KindPatrolPlan, plan(""), keys["analyst.1"]), guarantor.EForbidden, "signature", "signed by an operator or a monitor")
	f.must(f.sign(entry.KindPatrolPlan, plan(""), keys["operator.1"]))

	// The team logs a restriction as an observation, then its report.
	f.must(f.sign(entry.KindObservation, `{"id":"r1","observed_at":"2026-03-01T09:00:00Z","location":{"type":"Point","coordinates":[37.5,48.5]},"category":"movement_restriction","source_type":"patrol"}`, keys["monitor.a"]))
	f.must(f.sign(entry.KindObservation, `{"id":"s1","observed_at":"2026-03-01T10:00:00Z","location":{"type":"Point","coordinates":[37.5,48.5]},"category":"shelling","source_type":"patrol"}`, keys["monitor.b"]))
	report := func(mod string) string {
		r := `{"id":"rep1","at":"2026-03-01T18:00:00Z","plan":"p1","start":"2026-03-01T07:10:00Z","end":"2026-03-01T16:00:00Z","outcome":"restricted",` +
			`"track":{"type":"LineString","coordinates":[[37.1,48.1],[37.5,48.5]]},"simplified_m":25,"observations":["s1"],` +
			`"restrictions":[{"observation":"r1","at":"2026-03-01T09:00:00Z","location":{"type":"Point","coordinates":[37.5,48.5]},"by":"checkpoint","party":"RU","duration_min":90}]}`
		if mod != "" {
			old, repl, _ := strings.Cut(mod, "=>")
			r = strings.Replace(r, old, repl, 1)
		}
		return r
	}
	refuse(f.sign(entry.KindPatrolReport, report(""), keys["monitor.c"]), guarantor.EForbidden, "signature", "is not in team north-1 of plan p1")
	refuse(f.sign(entry.KindPatrolReport, report(`[37.5,48.5]]},"simplified_m"=>[41.5,48.5]]},"simplified_m"`), keys["monitor.a"]), guarantor.EInvalid, "/track/coordinates/1", "outside the mission's area")
	refuse(f.sign(entry.KindPatrolReport, report(`"plan":"p1"=>"plan":"p9"`), keys["monitor.a"]), guarantor.EInvalid, "/plan", `no patrol plan "p9"`)
	refuse(f.sign(entry.KindPatrolReport, report(`"observation":"r1"=>"observation":"s1"`), keys["monitor.a"]), guarantor.EInvalid, "/restrictions/0/observation", "is not of category movement_restriction")
	refuse(f.sign(entry.KindPatrolReport, report(`"observations":["s1"]=>"observations":["nope"]`), keys["monitor.a"]), guarantor.EInvalid, "/observations/0", `logged an observation "nope"`)
	refuse(f.sign(entry.KindPatrolReport, report(`"end":"2026-03-01T16:00:00Z"=>"end":"2026-03-01T06:00:00Z"`), keys["monitor.a"]), guarantor.EInvalid, "/end", "ends")
	raw = f.sign(entry.KindPatrolReport, report(""), keys["monitor.a"])
	raw, _ = entry.Cosign(raw, keys["monitor.b"].S)
	f.must(raw)

	n := 0
	if err := f.store.PatrolEntries(context.Background(), node.PatrolFilter{Plan: "p1"}, func(node.Record) error { n++; return nil }); err != nil || n != 2 {
		t.Fatalf("patrol entries of p1: %d, %v", n, err)
	}
	if err := f.n.WaitDerived(context.Background()); err != nil {
		t.Fatal(err)
	}
	replayStore(t, f)
}
