package http_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	ghttp "github.com/guarantor/guarantor/http"
)

// incidentEnv is a node with observations, incidents written by hand and
// submitted through node.Submit as the engine would (HTTP refuses them),
// and analysts' verifications.
type incidentEnv struct {
	*env
	mon, eng, ana key
	seq           uint64
	leaves        map[uint64][]byte // leaf hash of each logged entry
	obs           []uint64          // log indexes of the observations, in order
}

func newIncidentEnv(t *testing.T) *incidentEnv {
	t.Helper()
	e := &incidentEnv{env: newEnv(t), mon: newKey(t, "monitor.a"), eng: newKey(t, "engine"), ana: newKey(t, "analyst.1"), leaves: map[uint64][]byte{}}
	e.register(e.mon, "monitor")
	e.register(e.eng, "engine")
	e.register(e.ana, "analyst")
	return e
}

func (e *incidentEnv) observe(id, at string, lon, lat float64, category string) uint64 {
	e.t.Helper()
	rc := e.mustPost(e.sign(entry.KindObservation, fmt.Sprintf(`{"id":%q,"observed_at":%q,"location":{"type":"Point","coordinates":[%g,%g]},"category":%q,"source_type":"patrol"}`, id, at, lon, lat, category), e.mon))
	e.leaves[rc.Index] = rc.LeafHash
	e.obs = append(e.obs, rc.Index)
	return rc.Index
}

// incident signs inc with the engine key and submits it through the Go
// API, filling in seq, rule, inputs and defaults.
func (e *incidentEnv) incident(inc entry.Incident) uint64 {
	e.t.Helper()
	e.seq++
	inc.Seq, inc.Rule, inc.Location.Type = e.seq, "fusion.v1", "Point"
	for _, m := range inc.Members {
		inc.Inputs = append(inc.Inputs, entry.Ref{Index: m, LeafHash: base64.StdEncoding.EncodeToString(e.leaves[m])})
	}
	if inc.Monitors == 0 {
		inc.Monitors = 1
	}
	if inc.SourceTypes == nil {
		inc.SourceTypes = []string{"patrol"}
	}
	body, err := json.Marshal(inc)
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := e.node.Submit(context.Background(), e.sign(entry.KindIncident, string(body), e.eng))
	if err != nil {
		e.t.Fatalf("submit incident %d revision %d: %v", inc.ID, inc.Revision, err)
	}
	return res.Receipt.Index
}

func (e *incidentEnv) verify(id string, incident uint64, revision int, verdict, party string) uint64 {
	e.t.Helper()
	return e.mustPost(e.sign(entry.KindVerification, fmt.Sprintf(`{"id":%q,"at":"2025-03-05T09:00:00Z","incident":%d,"revision":%d,"verdict":%q,"attributed_to":%q,"confidence":"high"}`,
		id, incident, revision, verdict, party), e.ana)).Index
}

func (e *incidentEnv) get(path string) (*http.Response, []byte) {
	e.t.Helper()
	r, err := http.Get(e.srv.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return r, b
}

func tm(t *testing.T, v string) time.Time {
	t.Helper()
	x, err := time.Parse(time.RFC3339, v)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func ptr(v uint64) *uint64 { return &v }

// scenario: A (shelling) absorbs C; B (mine, far east) is verified and
// attributed to party:RU; C was disputed before the merge.
type scenario struct {
	a, b, c          uint64 // incident ids
	aLast, bLast     uint64 // log indexes of their latest revisions
	cMerged          uint64 // log index of C's merged revision
	vB, vC           uint64 // log indexes of the verifications
	aMembers         []uint64
	bRevs, aRevCount int
}

func buildScenario(t *testing.T, e *incidentEnv) scenario {
	t.Helper()
	var s scenario
	o1 := e.observe("o1", "2025-03-01T12:00:00Z", 37.8, 48.0, "shelling")
	o2 := e.observe("o2", "2025-03-01T12:04:00Z", 37.81, 48.01, "shelling")
	o3 := e.observe("o3", "2025-03-02T08:00:00Z", 39.5, 48.6, "mine")
	o4 := e.observe("o4", "2025-03-03T12:00:00Z", 37.82, 48.02, "shelling")
	s.a, s.b, s.c = o1, o3, o4
	pt := func(lon, lat float64) entry.Point { return entry.Point{Coordinates: [2]float64{lon, lat}} }

	e.incident(entry.Incident{ID: s.a, Revision: 1, Status: "open", Category: "shelling", From: tm(t, "2025-03-01T12:00:00Z"), To: tm(t, "2025-03-01T12:04:00Z"),
		Location: pt(37.805, 48.005), RadiusM: 800, Count: 2, Members: []uint64{o1, o2}, Level: "reported"})
	e.incident(entry.Incident{ID: s.b, Revision: 1, Status: "open", Category: "mine", From: tm(t, "2025-03-02T08:00:00Z"), To: tm(t, "2025-03-02T08:00:00Z"),
		Location: pt(39.5, 48.6), Count: 1, Members: []uint64{o3}, Level: "reported"})
	s.vB = e.verify("v-b", s.b, 1, "verify", "party:RU")
	s.bLast = e.incident(entry.Incident{ID: s.b, Revision: 2, Status: "open", Category: "mine", From: tm(t, "2025-03-02T08:00:00Z"), To: tm(t, "2025-03-02T08:00:00Z"),
		Location: pt(39.5, 48.6), Count: 1, Members: []uint64{o3}, Level: "verified", Verdicts: &entry.Verdicts{Verify: 1}, Attributions: []entry.Attribution{{Party: "party:RU", Count: 1}}})
	s.bRevs = 2
	e.incident(entry.Incident{ID: s.c, Revision: 1, Status: "open", Category: "shelling", From: tm(t, "2025-03-03T12:00:00Z"), To: tm(t, "2025-03-03T12:00:00Z"),
		Location: pt(37.82, 48.02), Count: 1, Members: []uint64{o4}, Level: "reported"})
	s.vC = e.verify("v-c", s.c, 1, "dispute", "party:UA")
	s.cMerged = e.incident(entry.Incident{ID: s.c, Revision: 2, Status: "merged", MergedInto: ptr(s.a), Category: "shelling", From: tm(t, "2025-03-03T12:00:00Z"), To: tm(t, "2025-03-03T12:00:00Z"),
		Location: pt(37.82, 48.02), Count: 1, Members: []uint64{o4}, Level: "reported", Verdicts: &entry.Verdicts{Dispute: 1}})
	s.aMembers = []uint64{o1, o2, o4}
	s.aLast = e.incident(entry.Incident{ID: s.a, Revision: 2, Status: "open", Merged: []entry.RevisionRef{{ID: s.c, Revision: 2}}, Category: "shelling",
		From: tm(t, "2025-03-01T12:00:00Z"), To: tm(t, "2025-03-03T12:00:00Z"), Location: pt(37.81, 48.01), RadiusM: 1500, Count: 3, Members: s.aMembers,
		Level: "corroborated", Verdicts: &entry.Verdicts{Dispute: 1}})
	s.aRevCount = 2
	return s
}

type incidentList struct {
	Incidents []ghttp.IncidentView `json:"incidents"`
}

func TestIncidentList(t *testing.T) {
	e := newIncidentEnv(t)
	s := buildScenario(t, e)
	ids := func(q string) []uint64 {
		t.Helper()
		r, b := e.get("/v1/incidents" + q)
		if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("/v1/incidents%s: %s %s", q, r.Status, b)
		}
		var l incidentList
		if err := json.Unmarshal(b, &l); err != nil {
			t.Fatalf("/v1/incidents%s: %v in %s", q, err, b)
		}
		if l.Incidents == nil {
			t.Fatalf("/v1/incidents%s: no incidents array in %s", q, b)
		}
		out := []uint64{}
		for _, in := range l.Incidents {
			out = append(out, in.ID)
		}
		return out
	}
	for q, want := range map[string][]uint64{
		"":                               {s.a, s.b},
		"?status=open":                   {s.a, s.b},
		"?status=merged":                 {s.c},
		"?status=all":                    {s.a, s.b, s.c},
		"?category=mine":                 {s.b},
		"?level=verified":                {s.b},
		"?level=corroborated":            {s.a},
		"?party=party:RU":                {s.b},
		"?party=party:UA":                {},
		"?bbox=39,48,40,49":              {s.b},
		"?bbox=30,40,31,41":              {},
		"?from=2025-03-02T06:00:00Z":     {s.a, s.b},
		"?from=2025-03-03T12:00:01Z":     {},
		"?to=2025-03-01T13:00:00Z":       {s.a},
		"?from=2025-03-02&to=2025-03-03": {s.a, s.b},
		"?limit=1":                       {s.a},
		"?status=all&category=shelling":  {s.a, s.c},
	} {
		if got := ids(q); !slices.Equal(got, want) {
			t.Errorf("/v1/incidents%s = %v, want %v", q, got, want)
		}
	}

	// Each incident is its latest revision, as logged, with its index.
	_, b := e.get("/v1/incidents?category=mine")
	var l incidentList
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatal(err)
	}
	in := l.Incidents[0]
	if in.Index != s.bLast || in.Revision != 2 || in.Level != "verified" || len(in.Attributions) != 1 || in.Attributions[0].Party != "party:RU" {
		t.Fatalf("incident B = %+v", in)
	}
	var raw struct {
		Incidents []map[string]any `json:"incidents"`
	}
	_ = json.Unmarshal(b, &raw)
	if raw.Incidents[0]["index"] != float64(s.bLast) || raw.Incidents[0]["seq"] == nil || raw.Incidents[0]["location"] == nil {
		t.Fatalf("incident JSON is not the incident body with an index: %v", raw.Incidents[0])
	}
}

func TestIncidentListBadParameters(t *testing.T) {
	e := newIncidentEnv(t)
	for _, path := range []string{"/v1/incidents", "/v1/incidents.csv", "/v1/incidents.geojson"} {
		for q, field := range map[string]string{
			"?from=yesterday":    "from",
			"?to=soon":           "to",
			"?bbox=1,2,3":        "bbox",
			"?bbox=10,0,5,1":     "bbox",
			"?category=picnic":   "category",
			"?level=rumoured":    "level",
			"?party=RU":          "party",
			"?party=party:":      "party",
			"?status=closed":     "status",
			"?limit=0":           "limit",
			"?limit=ten":         "limit",
			"?status=all&limit=": "",
		} {
			r, b := e.get(path + q)
			if field == "" {
				if r.StatusCode != 200 {
					t.Errorf("%s%s: %s %s, want 200", path, q, r.Status, b)
				}
				continue
			}
			var p ghttp.Problem
			_ = json.Unmarshal(b, &p)
			if r.StatusCode != 400 || r.Header.Get("Content-Type") != "application/problem+json" || p.Field != field || p.Code != guarantor.EInvalid {
				t.Errorf("%s%s: %s %q field %q (%s); want 400 field %q", path, q, r.Status, r.Header.Get("Content-Type"), p.Field, p.Detail, field)
			}
		}
	}
	r, b := e.get("/v1/incidents?limit=10000")
	if r.StatusCode != 200 {
		t.Errorf("limit=10000: %s %s", r.Status, b)
	}
	// The list caps limit; the open-data exports stream everything.
	if r, b := e.get("/v1/incidents?limit=10001"); r.StatusCode != 400 {
		t.Errorf("list limit=10001: %s %s", r.Status, b)
	}
	for _, path := range []string{"/v1/incidents.csv?limit=10001", "/v1/incidents.geojson?limit=10001"} {
		if r, b := e.get(path); r.StatusCode != 200 {
			t.Errorf("%s: %s %s", path, r.Status, b)
		}
	}
}

func TestIncidentDetail(t *testing.T) {
	e := newIncidentEnv(t)
	s := buildScenario(t, e)
	detail := func(id uint64) ghttp.IncidentDetail {
		t.Helper()
		r, b := e.get(fmt.Sprintf("/v1/incidents/%d", id))
		if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("incident %d: %s %s", id, r.Status, b)
		}
		var d ghttp.IncidentDetail
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		return d
	}

	a := detail(s.a)
	if a.ID != s.a || len(a.Revisions) != s.aRevCount || a.Revisions[0].Incident.Revision != 1 || a.Revisions[1].Incident.Revision != 2 || a.Revisions[1].Index != s.aLast {
		t.Fatalf("incident A revisions = %+v", a.Revisions)
	}
	var members []uint64
	for _, m := range a.Members {
		members = append(members, m.Index)
		if m.Signer != e.mon.ID || m.Category != "shelling" || m.ID == "" {
			t.Errorf("member %+v", m)
		}
	}
	if !slices.Equal(members, s.aMembers) {
		t.Fatalf("incident A members = %v, want %v", members, s.aMembers)
	}
	// C was merged into A: its verification is A's too.
	if len(a.Verifications) != 1 || a.Verifications[0].Index != s.vC || a.Verifications[0].Verdict != "dispute" || a.Verifications[0].Signer != e.ana.ID || a.Verifications[0].AttributedTo != "party:UA" {
		t.Fatalf("incident A verifications = %+v", a.Verifications)
	}

	b := detail(s.b)
	if len(b.Revisions) != s.bRevs || len(b.Members) != 1 || b.Members[0].Index != s.b || len(b.Verifications) != 1 || b.Verifications[0].Index != s.vB {
		t.Fatalf("incident B = %+v", b)
	}

	c := detail(s.c)
	last := c.Revisions[len(c.Revisions)-1]
	if last.Index != s.cMerged || last.Incident.Status != "merged" || last.Incident.MergedInto == nil || *last.Incident.MergedInto != s.a {
		t.Fatalf("incident C's last revision = %+v", last)
	}
	if len(c.Verifications) != 1 || c.Verifications[0].Index != s.vC {
		t.Fatalf("incident C verifications = %+v", c.Verifications)
	}

	// The raw JSON has the documented shape.
	_, body := e.get(fmt.Sprintf("/v1/incidents/%d", s.b))
	var shape map[string]json.RawMessage
	_ = json.Unmarshal(body, &shape)
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range shape {
			if !yield(k) {
				return
			}
		}
	})
	if !reflect.DeepEqual(keys, []string{"id", "members", "revisions", "verifications"}) {
		t.Fatalf("detail keys = %v", keys)
	}
	if !bytes.Contains(shape["revisions"], []byte(`{"index":`)) || !bytes.Contains(shape["revisions"], []byte(`"incident":{"seq":`)) {
		t.Fatalf("revisions = %s", shape["revisions"])
	}

	for path, want := range map[string]struct {
		status int
		field  string
	}{
		"/v1/incidents/999":           {404, "id"},
		"/v1/incidents/abc":           {400, "id"},
		"/v1/incidents/-1":            {400, "id"},
		"/v1/incidents/incidents.csv": {400, "id"},
	} {
		r, b := e.get(path)
		var p ghttp.Problem
		_ = json.Unmarshal(b, &p)
		if r.StatusCode != want.status || r.Header.Get("Content-Type") != "application/problem+json" || p.Field != want.field {
			t.Errorf("%s: %s field %q (%s); want %d field %q", path, r.Status, p.Field, b, want.status, want.field)
		}
	}
}

func TestIncidentDetailWithoutVerifications(t *testing.T) {
	e := newIncidentEnv(t)
	o := e.observe("o1", "2025-03-01T12:00:00Z", 37.8, 48.0, "shelling")
	e.incident(entry.Incident{ID: o, Revision: 1, Status: "open", Category: "shelling", From: tm(t, "2025-03-01T12:00:00Z"), To: tm(t, "2025-03-01T12:00:00Z"),
		Location: entry.Point{Coordinates: [2]float64{37.8, 48.0}}, Count: 1, Members: []uint64{o}, Level: "reported"})
	r, b := e.get(fmt.Sprintf("/v1/incidents/%d", o))
	if r.StatusCode != 200 || !bytes.Contains(b, []byte(`"verifications":[]`)) {
		t.Fatalf("%s %s; want an empty verifications array", r.Status, b)
	}
}

func TestIncidentExports(t *testing.T) {
	e := newIncidentEnv(t)
	s := buildScenario(t, e)

	// The CSV route is not taken for an id, nor the reverse.
	r, body := e.get("/v1/incidents.csv")
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.Contains(r.Header.Get("Content-Disposition"), "incidents.csv") {
		t.Fatalf("csv: %s %q %s", r.Status, r.Header.Get("Content-Type"), body)
	}
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recs[0], ghttp.IncidentCSVColumns) || !slices.Equal(recs[0], []string{
		"id", "revision", "status", "level", "category", "from", "to", "lon", "lat", "radius_m", "count",
		"members", "monitors", "source_types", "verify", "dispute", "reject", "attributed_to", "index"}) {
		t.Fatalf("csv header = %q", recs[0])
	}
	if len(recs) != 3 {
		t.Fatalf("csv has %d rows, want a header and 2: %q", len(recs), recs)
	}
	want := []string{fmt.Sprint(s.b), "2", "open", "verified", "mine", "2025-03-02T08:00:00Z", "2025-03-02T08:00:00Z", "39.5", "48.6", "0", "1",
		"1", "1", "patrol", "1", "0", "0", "party:RU", fmt.Sprint(s.bLast)}
	if !slices.Equal(recs[2], want) {
		t.Fatalf("csv row for B =\n%q\nwant\n%q", recs[2], want)
	}
	if recs[1][0] != fmt.Sprint(s.a) || recs[1][11] != "3" || recs[1][15] != "1" {
		t.Fatalf("csv row for A = %q", recs[1])
	}
	for q, n := range map[string]int{"?status=all": 3, "?status=merged": 1, "?limit=1": 1, "?party=party:RU": 1, "?bbox=0,0,1,1": 0} {
		_, body := e.get("/v1/incidents.csv" + q)
		recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil || len(recs)-1 != n {
			t.Errorf("csv%s: %d rows (%v), want %d", q, len(recs)-1, err, n)
		}
	}

	r, body = e.get("/v1/incidents.geojson?status=all")
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/geo+json" {
		t.Fatalf("geojson: %s %q", r.Status, r.Header.Get("Content-Type"))
	}
	var fc struct {
		Type     string
		Features []struct {
			Type     string
			ID       uint64
			Geometry struct {
				Type        string
				Coordinates []float64
			}
			Properties map[string]any
		}
	}
	if err := json.Unmarshal(body, &fc); err != nil {
		t.Fatalf("geojson %s: %v", body, err)
	}
	if fc.Type != "FeatureCollection" || len(fc.Features) != 3 {
		t.Fatalf("geojson = %+v", fc)
	}
	fb := fc.Features[1]
	if fb.Type != "Feature" || fb.ID != s.b || fb.Geometry.Type != "Point" || !slices.Equal(fb.Geometry.Coordinates, []float64{39.5, 48.6}) {
		t.Fatalf("feature B = %+v", fb)
	}
	for k, v := range map[string]any{"id": float64(s.b), "revision": 2.0, "status": "open", "level": "verified", "category": "mine",
		"from": "2025-03-02T08:00:00Z", "members": 1.0, "verify": 1.0, "reject": 0.0, "index": float64(s.bLast),
		"source_types": []any{"patrol"}, "attributed_to": []any{"party:RU"}} {
		if !reflect.DeepEqual(fb.Properties[k], v) {
			t.Errorf("feature B property %s = %#v, want %#v", k, fb.Properties[k], v)
		}
	}
	if fc.Features[2].Properties["status"] != "merged" || !reflect.DeepEqual(fc.Features[2].Properties["attributed_to"], []any{}) {
		t.Errorf("feature C = %+v", fc.Features[2].Properties)
	}
	_, body = e.get("/v1/incidents.geojson?bbox=0,0,1,1")
	if strings.TrimSpace(string(body)) != `{"type":"FeatureCollection","features":[]}` {
		t.Errorf("empty geojson = %s", body)
	}
}

// TestEngineKindsRefused checks that incident and tick entries cannot be
// submitted over HTTP, even signed by a registered engine key, singly or
// in a batch, and that the log does not change.
func TestEngineKindsRefused(t *testing.T) {
	e := newIncidentEnv(t)
	o := e.observe("o1", "2025-03-01T12:00:00Z", 37.8, 48.0, "shelling")
	inc, err := json.Marshal(entry.Incident{Seq: 1, ID: o, Revision: 1, Status: "open", Rule: "fusion.v1",
		Inputs:   []entry.Ref{{Index: o, LeafHash: base64.StdEncoding.EncodeToString(e.leaves[o])}},
		Category: "shelling", From: tm(t, "2025-03-01T12:00:00Z"), To: tm(t, "2025-03-01T12:00:00Z"),
		Location: entry.Point{Type: "Point", Coordinates: [2]float64{37.8, 48.0}}, Members: []uint64{o}, Monitors: 1, SourceTypes: []string{}, Level: "reported"})
	if err != nil {
		t.Fatal(err)
	}
	incident := e.sign(entry.KindIncident, string(inc), e.eng)
	tick := e.sign(entry.KindTick, `{"at":"2025-03-01T12:01:00Z"}`, e.eng)
	size := e.node.Applied()
	for name, raw := range map[string][]byte{"incident": incident, "tick": tick} {
		resp, b := e.post(raw)
		var p ghttp.Problem
		_ = json.Unmarshal(b, &p)
		if resp.StatusCode != 403 || resp.Header.Get("Content-Type") != "application/problem+json" || p.Code != guarantor.EForbidden || p.Field != "kind" ||
			!strings.Contains(p.Detail, "written by the server's own engine") {
			t.Errorf("POST %s: %s %+v", name, resp.Status, p)
		}
	}
	good := e.sign(entry.KindObservation, obs("o2", "2025-03-01T12:00:00Z", ""), e.mon)
	resp, res, body := e.postBatch([]string{quote(incident), quote(good), quote(tick)})
	if resp.StatusCode != 200 || len(res) != 3 {
		t.Fatalf("batch: %s %s", resp.Status, body)
	}
	for _, i := range []int{0, 2} {
		if p := res[i].Problem; p == nil || p.Status != 403 || p.Code != guarantor.EForbidden || p.Field != "kind" {
			t.Errorf("batch note %d: %+v", i, res[i])
		}
	}
	if res[1].Receipt == nil || !res[1].Created {
		t.Fatalf("batch observation: %+v", res[1])
	}
	if got := e.node.Applied(); got != size+1 {
		t.Fatalf("log size %d, want %d (only the observation)", got, size+1)
	}
	// The same incident is accepted from the engine's own path.
	if _, err := e.node.Submit(context.Background(), incident); err != nil {
		t.Fatalf("node.Submit(incident) = %v", err)
	}
}

// TestIncidentZoneFilter: zone and agreement keep the incidents whose
// centroid lies in that zone of the agreement's latest version, in the
// list and both exports alike, with limit counting those incidents.
func TestIncidentZoneFilter(t *testing.T) {
	e := newAgreementEnv(t)
	s := buildScenario(t, e.incidentEnv)
	// Version 1's zone sz holds A and C (merged into A), not B.
	e.agree(fmt.Sprintf(testAgreement, 1, "Test"), e.ua, e.ru, e.uk, e.fr)

	// ids returns the incident ids of the list, the CSV and the GeoJSON
	// for q, failing unless the three agree.
	ids := func(q string) []uint64 {
		t.Helper()
		r, b := e.get("/v1/incidents" + q)
		var l incidentList
		if r.StatusCode != 200 || json.Unmarshal(b, &l) != nil {
			t.Fatalf("/v1/incidents%s: %s %s", q, r.Status, b)
		}
		list := []uint64{}
		for _, in := range l.Incidents {
			list = append(list, in.ID)
		}
		r, b = e.get("/v1/incidents.csv" + q)
		recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if r.StatusCode != 200 || err != nil || len(recs) == 0 {
			t.Fatalf("/v1/incidents.csv%s: %s %v %s", q, r.Status, err, b)
		}
		fromCSV := []uint64{}
		for _, rec := range recs[1:] {
			var id uint64
			fmt.Sscan(rec[0], &id)
			fromCSV = append(fromCSV, id)
		}
		r, b = e.get("/v1/incidents.geojson" + q)
		var fc struct{ Features []struct{ ID uint64 } }
		if r.StatusCode != 200 || json.Unmarshal(b, &fc) != nil {
			t.Fatalf("/v1/incidents.geojson%s: %s %s", q, r.Status, b)
		}
		fromGeo := []uint64{}
		for _, f := range fc.Features {
			fromGeo = append(fromGeo, f.ID)
		}
		if !slices.Equal(list, fromCSV) || !slices.Equal(list, fromGeo) {
			t.Errorf("%s: list %v, csv %v, geojson %v; want the same", q, list, fromCSV, fromGeo)
		}
		return list
	}
	for q, want := range map[string][]uint64{
		"?zone=sz&agreement=test":                               {s.a},
		"?agreement=test&zone=sz&status=all":                    {s.a, s.c},
		"?zone=sz&agreement=test&status=merged":                 {s.c},
		"?zone=sz&agreement=test&category=mine":                 {},
		"?zone=sz&agreement=test&party=party:RU":                {},
		"?zone=sz&agreement=test&status=all&limit=1":            {s.a},
		"?zone=sz&agreement=test&status=all&limit=2":            {s.a, s.c}, // not A and B, then filtered
		"?zone=sz&agreement=test&from=2025-03-02&to=2025-03-03": {s.a},
	} {
		if got := ids(q); !slices.Equal(got, want) {
			t.Errorf("/v1/incidents%s = %v, want %v", q, got, want)
		}
	}

	// Version 2 widens sz to take in B: the latest version counts.
	v2 := strings.Replace(fmt.Sprintf(testAgreement, 2, "Test, wider"), "[37.9, 47.9], [37.9, 48.1], [37.7, 48.1]", "[40, 47.9], [40, 49], [37.7, 49]", 1)
	e.agree(v2, e.ua, e.ru, e.uk, e.fr)
	if got, want := ids("?zone=sz&agreement=test"), []uint64{s.a, s.b}; !slices.Equal(got, want) {
		t.Errorf("after version 2: %v, want %v", got, want)
	}
	if got, want := ids("?zone=sz&agreement=test&party=party:RU"), []uint64{s.b}; !slices.Equal(got, want) {
		t.Errorf("after version 2, party:RU: %v, want %v", got, want)
	}

	for _, path := range []string{"/v1/incidents", "/v1/incidents.csv", "/v1/incidents.geojson"} {
		for q, field := range map[string]string{
			"?zone=sz":                        "agreement",
			"?agreement=test":                 "zone",
			"?zone=sz&agreement=nope":         "agreement",
			"?zone=north&agreement=test":      "zone",
			"?zone=%3Cb%3E&agreement=test":    "zone",
			"?zone=sz&agreement=test&level=x": "level",
		} {
			r, b := e.get(path + q)
			var p ghttp.Problem
			_ = json.Unmarshal(b, &p)
			if r.StatusCode != 400 || r.Header.Get("Content-Type") != "application/problem+json" || p.Field != field || p.Code != guarantor.EInvalid {
				t.Errorf("%s%s: %s field %q (%s); want 400 field %q", path, q, r.Status, p.Field, p.Detail, field)
			}
		}
	}
}
