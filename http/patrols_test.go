package http_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/guarantor/guarantor/entry"
)

// TestPatrolsAPI: a plan and its restricted report are served as JSON,
// as GeoJSON (route, track and restriction) and the restriction as CSV.
func TestPatrolsAPI(t *testing.T) {
	e := newEnv(t)
	keys := map[string]key{}
	for _, r := range []struct{ name, role string }{{"party.UA", "party:UA"}, {"party.RU", "party:RU"}, {"monitor.a", "monitor"}, {"operator.1", "operator"}} {
		keys[r.name] = newKey(t, r.name)
		e.register(keys[r.name], r.role)
	}
	doc := `{"id":"fw","version":1,"title":"F","effective":"2025-01-01T00:00:00Z","parties":[{"id":"UA","name":"Ukraine"},{"id":"RU","name":"Russia"}],` +
		`"zones":[{"id":"patrol-north","kind":"patrol_area","geometry":{"type":"Polygon","coordinates":[[[37,48],[38,48],[38,49],[37,49],[37,48]]]}}],` +
		`"triggers":[{"id":"t","title":"T","when":"false","obligations":[{"who":"UA","action":"report","within":"1d"}]}]}`
	e.mustPost(e.sign(entry.KindAgreement, doc, keys["party.UA"], keys["party.RU"]))
	e.mustPost(e.sign(entry.KindPatrolPlan, fmt.Sprintf(`{"id":"p1","at":"2025-03-01T06:00:00Z","agreement":"fw","team":"north-1","members":[%q],"means":"vehicle",`+
		`"route":{"type":"LineString","coordinates":[[37.1,48.1],[37.9,48.9]]},"from":"2025-03-01T07:00:00Z","to":"2025-03-01T17:00:00Z"}`, keys["monitor.a"].ID), keys["operator.1"]))
	e.mustPost(e.sign(entry.KindObservation, `{"id":"r1","observed_at":"2025-03-01T09:00:00Z","location":{"type":"Point","coordinates":[37.5,48.5]},"category":"movement_restriction"}`, keys["monitor.a"]))
	e.mustPost(e.sign(entry.KindPatrolReport, `{"id":"rep1","at":"2025-03-01T18:00:00Z","plan":"p1","start":"2025-03-01T07:10:00Z","end":"2025-03-01T16:00:00Z","outcome":"restricted",`+
		`"track":{"type":"LineString","coordinates":[[37.1,48.1],[37.5,48.5]]},"simplified_m":25,`+
		`"restrictions":[{"observation":"r1","at":"2025-03-01T09:00:00Z","location":{"type":"Point","coordinates":[37.5,48.5]},"by":"checkpoint","party":"RU","duration_min":90}]}`, keys["monitor.a"]))
	get := func(path string) (int, string) {
		resp, err := http.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	var v struct {
		Patrols []struct {
			Plan    entry.PatrolPlan
			Reports []entry.PatrolReport
		}
	}
	code, body := get("/v1/patrols?from=2025-03-01&to=2025-03-02")
	if code != 200 || json.Unmarshal([]byte(body), &v) != nil || len(v.Patrols) != 1 || len(v.Patrols[0].Reports) != 1 || v.Patrols[0].Reports[0].Outcome != "restricted" {
		t.Fatalf("patrols: %d %s", code, body)
	}
	if code, body := get("/v1/patrols?from=2025-04-01"); code != 200 || !strings.Contains(body, `"patrols":[]`) {
		t.Fatalf("patrols after April: %d %s", code, body)
	}
	var fc struct {
		Features []struct {
			Geometry   struct{ Type string }
			Properties map[string]any
		}
	}
	code, body = get("/v1/patrols.geojson")
	if code != 200 || json.Unmarshal([]byte(body), &fc) != nil || len(fc.Features) != 3 {
		t.Fatalf("geojson: %d %s", code, body)
	}
	kinds := ""
	for _, f := range fc.Features {
		kinds += fmt.Sprintf("%s:%s ", f.Properties["kind"], f.Geometry.Type)
	}
	if kinds != "plan:LineString track:LineString restriction:Point " {
		t.Fatalf("features %s", kinds)
	}
	code, body = get("/v1/patrols/restrictions.csv")
	if code != 200 || !strings.HasPrefix(body, "at,lon,lat,by,party,duration_min,plan,team,report,observation,index\n2025-03-01T09:00:00Z,37.5,48.5,checkpoint,RU,90,p1,north-1,rep1,r1,") {
		t.Fatalf("csv: %d %s", code, body)
	}
	if code, body := get("/v1/patrols?from=yesterday"); code != 400 || !strings.Contains(body, `"field":"from"`) {
		t.Fatalf("bad from: %d %s", code, body)
	}
}
