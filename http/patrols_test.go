package http_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/guarantor/guarantor/entry"
	ghttp "github.com/guarantor/guarantor/http"
	"github.com/guarantor/guarantor/patrol"
	"github.com/paulmach/orb"
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

	// Coverage: the served figures equal package patrol's on the same
	// track, zone and distance; the restriction is counted against RU.
	var cov ghttp.PatrolCoverageView
	code, body = get("/v1/patrols/coverage?agreement=fw&from=2025-03-01&to=2025-03-03&distance_m=2000&days=1")
	if code != 200 || json.Unmarshal([]byte(body), &cov) != nil || len(cov.Coverage) != 2 || len(cov.Gaps) != 1 || len(cov.Restrictions) != 2 {
		t.Fatalf("coverage: %d %.400s", code, body)
	}
	zone := orb.Polygon{{{37, 48}, {38, 48}, {38, 49}, {37, 49}, {37, 48}}}
	want := patrol.AreaCoverage(zone, []orb.LineString{{{37.1, 48.1}, {37.5, 48.5}}}, nil, 2000, patrol.DefaultCellM)
	if day1 := cov.Coverage[0]; day1.Zone != "patrol-north" || day1.Covered != want.Covered || day1.Samples != want.Samples || day1.Covered == 0 || cov.Coverage[1].Covered != 0 {
		t.Fatalf("coverage %+v, want %d of %d cells on day 1 and none on day 2", cov.Coverage, want.Covered, want.Samples)
	}
	if r := cov.Restrictions[0]; r.Total != 1 || len(r.ByParty) == 0 || r.ByParty[0].Key != "RU" {
		t.Fatalf("restrictions %+v", cov.Restrictions)
	}
	if code, body := get("/v1/patrols/coverage.csv?agreement=fw&from=2025-03-01&to=2025-03-02"); code != 200 || !strings.HasPrefix(body, "zone,kind,period,from,to,share,") || !strings.Contains(body, "patrol-north,area,2025-03-01,") {
		t.Fatalf("coverage csv: %d %s", code, body)
	}
	for path, field := range map[string]string{"/v1/patrols/coverage?agreement=fw&from=2025-03-01": "to", "/v1/patrols/coverage?agreement=nope&from=2025-03-01&to=2025-03-02": "/agreement",
		"/v1/patrols/coverage?agreement=fw&from=2025-03-01&to=2025-03-02&zones=south": "zones", "/v1/patrols/coverage?agreement=fw&from=2025-03-01&to=2025-03-02&period=month": "period",
		"/v1/patrols/coverage?agreement=fw&from=2025-01-01&to=2025-12-31": "to"} {
		if code, body := get(path); code != 400 || !strings.Contains(body, `"field":"`+field+`"`) {
			t.Fatalf("%s: %d %s", path, code, body)
		}
	}
}
