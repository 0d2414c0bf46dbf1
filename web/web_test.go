package web_test

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/web"
)

const (
	hostileText    = `<script>alert("obs")</script>`
	hostileSigner  = `monitor.<b>x</b>+0badc0de`
	hostileTitle   = `<img src=x onerror=alert(1)> & "framework"`
	hostileZone    = `East <b>x</b> zone`
	hostileTrigger = `Drone strike <script>alert("t")</script>`
	checkpoint     = "test.log/origin\n42\nq1w2e3r4t5y6u7i8o9p0q1w2e3r4t5y6u7i8o9p0abc=\n\n— test.log abcdEFGH\n"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func ptr[T any](v T) *T { return &v }

func pt(lon, lat float64) entry.Point {
	return entry.Point{Type: "Point", Coordinates: [2]float64{lon, lat}}
}

// fixture: incident 10 (corroborated, absorbed 12), 14 (verified and
// attributed), 16 (reported mine); member observations of 10 at entries
// 10, 11 and 13, one with hostile text and signer; one agreement with a
// hostile title binding UA, RU and UK; two open obligations of three.
func fixture() *memSource {
	ob := func(idx uint64, id, when, text string) node.Record {
		acc := 150.0
		n := 3
		return node.Record{Index: idx, Kind: entry.KindObservation, Signers: []string{hostileSigner},
			Body: &entry.Observation{ID: id, ObservedAt: at(when), Location: pt(37.8, 48.0), Category: "shelling", AccuracyM: &acc, Count: &n, SourceType: "patrol", Text: text}}
	}
	merged := uint64(10)
	return &memSource{
		entries: map[uint64]node.Record{
			10: ob(10, "o1", "2026-01-05T12:00:00Z", hostileText),
			11: ob(11, "o2", "2026-01-05T12:04:00Z", "second"),
			13: ob(13, "o4", "2026-01-06T12:00:00Z", "third"),
		},
		revisions: []node.IncidentRow{
			{Index: 20, Incident: entry.Incident{ID: 10, Revision: 1, Status: "open", Rule: "fusion.v1", Category: "shelling", From: at("2026-01-05T12:00:00Z"), To: at("2026-01-05T12:04:00Z"),
				Location: pt(37.805, 48.005), RadiusM: 800, Count: 2, Members: []uint64{10, 11}, Monitors: 1, SourceTypes: []string{"patrol"}, Level: "reported"}},
			{Index: 22, Incident: entry.Incident{ID: 12, Revision: 1, Status: "open", Rule: "fusion.v1", Category: "shelling", From: at("2026-01-06T12:00:00Z"), To: at("2026-01-06T12:00:00Z"),
				Location: pt(37.82, 48.02), Count: 1, Members: []uint64{13}, Monitors: 1, Level: "reported"}},
			{Index: 25, Incident: entry.Incident{ID: 14, Revision: 1, Status: "open", Rule: "fusion.v1", Category: "drone_strike", From: at("2026-01-07T08:00:00Z"), To: at("2026-01-07T08:00:00Z"),
				Location: pt(38.5, 48.6), Count: 1, Members: []uint64{14}, Monitors: 2, Level: "verified", Verdicts: &entry.Verdicts{Verify: 1},
				Attributions: []entry.Attribution{{Party: "party:RU", Count: 1}}}},
			{Index: 28, Incident: entry.Incident{ID: 12, Revision: 2, Status: "merged", MergedInto: &merged, Rule: "fusion.v1", Category: "shelling", From: at("2026-01-06T12:00:00Z"), To: at("2026-01-06T12:00:00Z"),
				Location: pt(37.82, 48.02), Count: 1, Members: []uint64{13}, Monitors: 1, Level: "reported"}},
			{Index: 30, Incident: entry.Incident{ID: 10, Revision: 2, Status: "open", Rule: "fusion.v1", Merged: []entry.RevisionRef{{ID: 12, Revision: 2}}, Category: "shelling",
				From: at("2026-01-05T12:00:00Z"), To: at("2026-01-06T12:00:00Z"), Location: pt(37.81, 48.01), RadiusM: 1500, Count: 3, Members: []uint64{10, 11, 13},
				Monitors: 2, SourceTypes: []string{"patrol", "camera"}, Level: "corroborated"}},
			{Index: 31, Incident: entry.Incident{ID: 16, Revision: 1, Status: "open", Rule: "fusion.v1", Category: "mine", From: at("2026-01-09T08:00:00Z"), To: at("2026-01-09T08:00:00Z"),
				Location: pt(39.5, 48.6), Count: 1, Members: []uint64{16}, Monitors: 1, Level: "reported"}},
		},
		verifications: []node.VerificationRow{
			{Index: 26, Signer: "analyst.1+12345678", Verification: entry.Verification{ID: "v1", At: at("2026-01-07T09:00:00Z"), Incident: 12, Revision: 1, Verdict: "dispute", AttributedTo: "party:UA", Text: hostileText}},
			{Index: 27, Signer: "analyst.1+12345678", Verification: entry.Verification{ID: "v2", At: at("2026-01-07T09:00:00Z"), Incident: 14, Revision: 1, Verdict: "verify", AttributedTo: "party:RU"}},
		},
		agreements: []node.AgreementRow{{Index: 5, Agreement: entry.Agreement{ID: "fw", Version: 1, Title: hostileTitle, Effective: at("2025-12-01T00:00:00Z"), Illustrative: true,
			Parties: []entry.Party{{ID: "UA", Name: "Ukraine"}, {ID: "RU", Name: "Russia"}},
			Guarantors: []entry.Guarantor{{ID: "UK", Name: "United Kingdom", Kind: "bilateral", Beneficiary: "UA"},
				{ID: "coalition", Name: "Coalition", Kind: "collective", Members: []string{"FR", "DE"}}},
			Coalition: "coalition",
			Zones: []entry.Zone{{ID: "east", Kind: "security", Title: hostileZone,
				Geometry: json.RawMessage(`{"type":"Polygon","coordinates":[[[37,47.5],[39,47.5],[39,49],[37,49],[37,47.5]]]}`)}},
			Lines:  []entry.Line{{ID: "contact", Geometry: json.RawMessage(`{"type":"LineString","coordinates":[[37.9,47.5],[37.9,49]]}`)}},
			Limits: []entry.Limit{{ID: "hw", Weapons: []string{"mlrs"}, Line: "contact", MinKM: 15}},
			Triggers: []entry.Trigger{
				{ID: "t", Title: "Heavy weapons near the line", When: `violates(incident, "hw")`},
				{ID: "u", Title: hostileTrigger, When: `incident.category == "drone_strike"`},
			}}}},
		determinations: []node.DeterminationRow{
			{Index: 32, Determination: entry.Determination{Seq: 1, Agreement: "fw", Version: 1, Trigger: "t", At: at("2026-01-07T09:00:00Z")}},
			{Index: 36, Determination: entry.Determination{Seq: 5, Agreement: "fw", Version: 1, Trigger: "u", At: at("2026-01-07T10:00:00Z")}},
		},
		obligations: []node.ObligationRow{
			{Index: 33, Obligation: entry.Obligation{ID: 1, Who: "guarantor:UK", Action: "consult", Agreement: "fw", Version: 1, Trigger: "t", Opened: at("2026-01-07T09:00:00Z"), Deadline: at("2026-01-09T09:00:00Z"), Status: "open"}},
			{Index: 34, Obligation: entry.Obligation{ID: 2, Who: "party:RU", Action: "report", Agreement: "fw", Version: 1, Trigger: "t", Opened: at("2026-01-07T09:00:00Z"), Deadline: at("2026-01-08T09:00:00Z"), Status: "open", Text: hostileText}},
			{Index: 35, Obligation: entry.Obligation{ID: 3, Who: "party:UA", Action: "report", Agreement: "fw", Version: 1, Trigger: "t", Opened: at("2026-01-07T09:00:00Z"), Deadline: at("2026-01-08T09:00:00Z"), Status: "fulfilled",
				Settled: ptr(at("2026-01-08T07:00:00Z"))}},
		},
	}
}

// newUI is web.New with a logger that drops what the pages log.
func newUI(src web.Source, opts ...web.Option) http.Handler {
	return web.New(src, append([]web.Option{web.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
}

// get serves path from h and returns the answer and its body.
func get(t *testing.T, h http.Handler, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	res := rec.Result()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

// mustContain fails unless body contains every one of want.
func mustContain(t *testing.T, what, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("%s: no %q in the page", what, w)
		}
	}
}

// noRawHostile fails when a hostile string reached the page unescaped.
func noRawHostile(t *testing.T, what, body string) {
	t.Helper()
	for _, s := range []string{`<script>alert`, `<b>x</b>`, `<img src=x`} {
		if strings.Contains(body, s) {
			t.Errorf("%s: %q is not escaped", what, s)
		}
	}
}

func TestHome(t *testing.T) {
	h := newUI(fixture(), web.WithLog(fakeLog{cp: checkpoint}))
	res, body := get(t, h, "/")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /: %s %s", res.Status, res.Header.Get("Content-Type"))
	}
	mustContain(t, "home", body,
		`<html lang="en">`,
		`<dd id="log-size">42</dd>`, "test.log/origin", "q1w2e3r4t5y6u7i8o9p0q1w2e3r4t5y6u7i8o9p0abc=",
		`data-count="3">Open incidents: 3</p>`, // 10, 14, 16; 12 is merged
		`data-level="reported"><a href="/map?level=reported"`, `>2</a>`,
		`data-level="corroborated"`, `data-level="verified"`,
		`data-count="2">Open obligations: 2.</span>`, "Triggers fired: 2.",
		`<a href="/v1/obligations/2">2</a>`,
		`&lt;img src=x onerror=alert(1)&gt; &amp; &#34;framework&#34;`,
		`href="/v1/agreements/fw"`,
		`href="/v1/guarantors/UK/feed.atom"`, `href="/v1/parties/RU/feed.atom"`, `href="/v1/parties/UA/feed.atom"`,
		`href="/v1/incidents.csv"`, `href="/v1/incidents.geojson"`, `href="/map"`,
		`<li><a href="/reports">Daily reports</a>: `, `<li><a href="/board">Guarantor board</a>: `, `<li><a href="/explorer">Log explorer</a>: `,
		`<li><a href="/reports">Daily reports</a></li>`, `<li><a href="/board">Guarantor board</a></li>`, `<li><a href="/explorer">Log explorer</a></li>`)
	noRawHostile(t, "home", body)
	// The obligation due soonest comes first.
	if i, j := strings.Index(body, `/v1/obligations/2"`), strings.Index(body, `/v1/obligations/1"`); i < 0 || j < 0 || i > j {
		t.Errorf("obligations not by deadline: %d %d", i, j)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
}

func TestHomeWithoutLog(t *testing.T) {
	for name, opts := range map[string][]web.Option{
		"no log":         nil,
		"log fails":      {web.WithLog(fakeLog{err: errors.New("disk on fire")})},
		"bad checkpoint": {web.WithLog(fakeLog{cp: "nonsense"})},
	} {
		t.Run(name, func(t *testing.T) {
			res, body := get(t, newUI(fixture(), opts...), "/")
			if res.StatusCode != 200 {
				t.Fatalf("status %s", res.Status)
			}
			mustContain(t, "home", body, "The log&#39;s state is not available here.", "Open incidents: 3")
			if strings.Contains(body, "disk on fire") {
				t.Error("the error reached the page")
			}
		})
	}
}

func TestMap(t *testing.T) {
	h := newUI(fixture())
	for _, tc := range []struct {
		query string
		count int
		rows  []string // incident links in table order
		url   string   // the GeoJSON the map reads
	}{
		{"", 3, []string{"16", "14", "10"}, "/v1/incidents.geojson"},
		{"?level=reported", 1, []string{"16"}, "/v1/incidents.geojson?level=reported"},
		{"?category=shelling&from=2026-01-06", 1, []string{"10"}, "/v1/incidents.geojson?category=shelling&amp;from=2026-01-06"},
		{"?to=2026-01-05", 0, nil, "/v1/incidents.geojson?to=2026-01-05"},
		{"?from=2026-01-07T00:00:00Z&to=2026-01-08", 1, []string{"14"}, "/v1/incidents.geojson?from=2026-01-07T00%3A00%3A00Z&amp;to=2026-01-08"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			res, body := get(t, h, "/map"+tc.query)
			if res.StatusCode != 200 {
				t.Fatalf("status %s", res.Status)
			}
			mustContain(t, "map", body, fmt.Sprintf(`data-count="%d">Incidents: %d</strong>`, tc.count, tc.count), `data-incidents="`+tc.url+`"`,
				`<label for="f-from">`, `<label for="f-to">`, `<label for="f-category">`, `<label for="f-level">`, `aria-current="page">Map of incidents`)
			got := regexp.MustCompile(`<tr data-id="(\d+)">`).FindAllStringSubmatch(body, -1)
			var ids []string
			for _, m := range got {
				ids = append(ids, m[1])
			}
			if fmt.Sprint(ids) != fmt.Sprint(tc.rows) {
				t.Errorf("rows %v, want %v", ids, tc.rows)
			}
			if tc.count == 0 {
				mustContain(t, "map", body, "No open incident matches the filter.")
			}
		})
	}
	// The filter's values stay selected.
	_, body := get(t, h, "/map?category=mine&level=reported")
	mustContain(t, "map", body, `<option value="mine" selected>Mine</option>`, `<option value="reported" selected>Reported</option>`)
}

func TestMapRefusesBadFilters(t *testing.T) {
	h := newUI(fixture())
	for query, want := range map[string]string{
		"?from=yesterday":                  "from: &#34;yesterday&#34; is not a date",
		"?category=%3Cscript%3Ex":          "There is no category &#34;&lt;script&gt;x&#34;.",
		"?level=certain":                   "There is no corroboration level &#34;certain&#34;.",
		"?to=2026-13-01":                   "to: &#34;2026-13-01&#34; is not a date",
		"?from=%22%3E%3Cscript%3Ealert(1)": `from: &#34;\&#34;&gt;&lt;script&gt;alert(1)&#34; is not a date`,
		"?party=RU":                        "&#34;RU&#34; is not a party like party:RU.",
		"?party=%3Cb%3Ex%3C/b%3E":          "&#34;&lt;b&gt;x&lt;/b&gt;&#34; is not a party like party:RU.",
		"?zone=east":                       "&#34;east&#34; is not a zone like agreement/zone.",
		"?zone=fw/":                        "&#34;fw/&#34; is not a zone like agreement/zone.",
		"?zone=nope/east":                  "No agreement &#34;nope&#34; is logged.",
		"?zone=fw/%3Cscript%3Ealert(1)":    "There is no zone &#34;&lt;script&gt;alert(1)&#34; in the latest version of agreement &#34;fw&#34;.",
		"?zone=%3Cb%3Ex%3C/b%3E/east":      "No agreement &#34;&lt;b&gt;x&lt;&#34; is logged.",
	} {
		res, body := get(t, h, "/map"+query)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %s", query, res.Status)
		}
		mustContain(t, query, body, `role="alert"`, want)
		noRawHostile(t, query, body)
		if strings.Contains(body, "<script>") || strings.Contains(body, "map.js") {
			t.Errorf("%s: the page has a script", query)
		}
	}
}

func TestIncidentPage(t *testing.T) {
	h := newUI(fixture())
	res, body := get(t, h, "/incidents/10")
	if res.StatusCode != 200 {
		t.Fatalf("status %s", res.Status)
	}
	mustContain(t, "incident 10", body,
		"<h1>Incident 10</h1>", `id="incident-level">Corroborated</span>`, "Shelling",
		"Revisions: 2, each a log entry signed by the engine",
		`<a href="/v1/entries/20" class="proof">entry 20</a>`, `<a href="/v1/entries/30" class="proof">entry 30</a>`,
		"Observations of the latest revision: 3",
		`<a href="/v1/entries/10" class="proof">entry 10</a>`, `<a href="/v1/entries/13" class="proof">entry 13</a>`,
		"&lt;script&gt;alert(&#34;obs&#34;)&lt;/script&gt;", "monitor.&lt;b&gt;x&lt;/b&gt;",
		"48.0000, 37.8000 ± 150 m",                // an observation's place and accuracy
		`<td class="num">3</td>`,                  // and its count
		`<a href="/incidents/12">Incident 12</a>`, // absorbed
		"Verifications by analysts: 1", `<a href="/v1/entries/26" class="proof">entry 26</a>`, "dispute", "party:UA",
		`href="/v1/incidents/10"`, "patrol, camera",
		`<a href="/explorer/entries/30">Entry 30 in the log explorer, with its inclusion proof</a>`)
	noRawHostile(t, "incident 10", body)

	_, body = get(t, h, "/incidents/12")
	mustContain(t, "incident 12", body, "This incident was merged into", `<a href="/incidents/10">Incident 10</a>`)
	_, body = get(t, h, "/incidents/14")
	mustContain(t, "incident 14", body, "party:RU (1)", "verify 1, dispute 0, reject 0", `id="incident-level">Verified</span>`)
	// Incident 16's member entry is missing: the page says so and still renders.
	res, body = get(t, h, "/incidents/16")
	if res.StatusCode != 200 {
		t.Fatalf("incident 16: %s", res.Status)
	}
	mustContain(t, "incident 16", body, "No observation could be read.", "No analyst has verified this incident.")
}

func TestNotFound(t *testing.T) {
	h := newUI(fixture())
	for path, want := range map[string]string{
		"/incidents/999":           "There is no incident 999.",
		"/incidents/abc":           "There is no incident abc.",
		"/incidents/%3Cscript%3Ex": "There is no incident &lt;script&gt;x.",
		"/nowhere":                 "There is no page at /nowhere.",
		"/static/abc/nothing.js":   "",
	} {
		res, body := get(t, h, path)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %s", path, res.Status)
			continue
		}
		if want == "" {
			continue
		}
		if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", path, ct)
		}
		mustContain(t, path, body, "<h1>", want, `<a href="/">Go to the overview</a>`)
		noRawHostile(t, path, body)
	}
}

func TestStoreErrorIsA500Page(t *testing.T) {
	src := fixture()
	src.err = errors.New("database is locked: secret detail")
	var logged strings.Builder
	h := web.New(src, web.WithLogger(slog.New(slog.NewTextHandler(&logged, nil))))
	for _, path := range []string{"/", "/map", "/incidents/10"} {
		res, body := get(t, h, path)
		if res.StatusCode != http.StatusInternalServerError {
			t.Errorf("%s: status %s", path, res.Status)
		}
		mustContain(t, path, body, "Something went wrong")
		if strings.Contains(body, "secret detail") {
			t.Errorf("%s: the error reached the page", path)
		}
	}
	if n := strings.Count(logged.String(), "secret detail"); n != 3 {
		t.Errorf("%d of 3 errors logged:\n%s", n, logged.String())
	}
}

func TestStaticAssets(t *testing.T) {
	h := newUI(fixture())
	_, body := get(t, h, "/map")
	urls := regexp.MustCompile(`(?:src|href|data-atlas)="(/static/[^"]+)"`).FindAllStringSubmatch(body, -1)
	if len(urls) < 5 {
		t.Fatalf("static URLs %v", urls)
	}
	for _, m := range urls {
		res, b := get(t, h, m[1])
		if res.StatusCode != 200 || len(b) == 0 {
			t.Errorf("%s: %s", m[1], res.Status)
		}
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("%s: Cache-Control %q", m[1], cc)
		}
	}
	var atlas string
	for _, m := range urls {
		if strings.HasSuffix(m[1], "countries-50m.json") {
			atlas = m[1]
		}
	}
	// Gzip for those who accept it, and the same bytes after decoding.
	req := httptest.NewRequest(http.MethodGet, atlas, nil)
	req.Header.Set("Accept-Encoding", "gzip, deflate")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Header().Get("Content-Encoding") != "gzip" || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("atlas: %v", rec.Header())
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("static/vendor/world-atlas@2.0.2/countries-50m.json")
	if err != nil {
		t.Fatal(err)
	}
	if string(plain) != string(want) {
		t.Error("gzipped atlas differs")
	}
	// Revalidation, and an old hash served but not cached forever.
	req = httptest.NewRequest(http.MethodGet, atlas, nil)
	req.Header.Set("If-None-Match", rec.Header().Get("ETag"))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", rec.Code)
	}
	res, _ := get(t, h, "/static/0123456789ab/app.css")
	if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("old hash: %s %q", res.Status, res.Header.Get("Cache-Control"))
	}
}

// TestOwnAssetsStayLocal: the pages, styles and script reference no other
// host (the vendored files are checked in a real browser).
func TestOwnAssetsStayLocal(t *testing.T) {
	external := regexp.MustCompile(`(?i)(src|href|url)\s*[=(]\s*["']?(https?:)?//`)
	for _, dir := range []string{"templates", "static"} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			b, err := os.ReadFile(dir + "/" + e.Name())
			if err != nil {
				t.Fatal(err)
			}
			if m := external.Find(b); m != nil {
				t.Errorf("%s/%s refers to another host: %s", dir, e.Name(), m)
			}
		}
	}
}

// TestMapZoneAndParty: the attribution and zone filters narrow the table
// as GET /v1/incidents would, reach the GeoJSON the map reads, stay
// selected, and offer the agreements' parties and zones, escaped.
func TestMapZoneAndParty(t *testing.T) {
	h := newUI(fixture())
	for _, tc := range []struct {
		query string
		rows  []string // incident links in table order
		url   string   // the GeoJSON the map reads
	}{
		{"?zone=fw/east", []string{"14", "10"}, "/v1/incidents.geojson?agreement=fw&amp;zone=east"},
		{"?party=party:RU", []string{"14"}, "/v1/incidents.geojson?party=party%3ARU"},
		{"?party=party:UA", nil, "/v1/incidents.geojson?party=party%3AUA"}, // 12's dispute named UA, but 12 is merged
		{"?party=party:XX", nil, "/v1/incidents.geojson?party=party%3AXX"}, // no agreement names it: nothing, as in the API
		{"?zone=fw/east&party=party:RU&level=verified", []string{"14"}, "/v1/incidents.geojson?agreement=fw&amp;level=verified&amp;party=party%3ARU&amp;zone=east"},
		{"?zone=fw/east&category=mine", nil, "/v1/incidents.geojson?agreement=fw&amp;category=mine&amp;zone=east"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			res, body := get(t, h, "/map"+tc.query)
			if res.StatusCode != 200 {
				t.Fatalf("status %s", res.Status)
			}
			n := len(tc.rows)
			mustContain(t, "map", body, fmt.Sprintf(`data-count="%d">Incidents: %d</strong>`, n, n), `data-incidents="`+tc.url+`"`,
				`<label for="f-party">Attributed to</label>`, `<label for="f-zone">Zone</label>`,
				`<select id="f-party" name="party" aria-describedby="f-party-help">`, `<select id="f-zone" name="zone" aria-describedby="f-zone-help">`,
				`<option value="party:RU"`, `<option value="party:UA"`,
				`<optgroup label="&lt;img src=x onerror=alert(1)&gt; &amp; &#34;framework&#34; (version 1)">`,
				`>East &lt;b&gt;x&lt;/b&gt; zone</option>`)
			noRawHostile(t, "map", body)
			got := regexp.MustCompile(`<tr data-id="(\d+)">`).FindAllStringSubmatch(body, -1)
			var ids []string
			for _, m := range got {
				ids = append(ids, m[1])
			}
			if fmt.Sprint(ids) != fmt.Sprint(tc.rows) {
				t.Errorf("rows %v, want %v", ids, tc.rows)
			}
			// The downloads are the same selection.
			mustContain(t, "map", body, `href="`+strings.Replace(tc.url, ".geojson", ".csv", 1)+`"`)
		})
	}
	_, body := get(t, h, "/map?zone=fw/east&party=party:RU")
	mustContain(t, "map", body, `<option value="fw/east" selected>`, `<option value="party:RU" selected>party:RU</option>`)
	_, body = get(t, h, "/map?party=party:XX")
	mustContain(t, "map", body, `<option value="party:XX" selected>party:XX</option>`)

	// The zone is the agreement's latest version's: version 2 narrows
	// east to leave 14 out.
	src := fixture()
	v2 := src.agreements[0]
	v2.Index = 40
	v2.Agreement.Version = 2
	v2.Agreement.Zones = []entry.Zone{{ID: "east", Kind: "security", Title: "East, narrower",
		Geometry: json.RawMessage(`{"type":"Polygon","coordinates":[[[37,47.5],[38,47.5],[38,49],[37,49],[37,47.5]]]}`)}}
	src.agreements = append(src.agreements, v2)
	res, body := get(t, newUI(src), "/map?zone=fw/east")
	if res.StatusCode != 200 {
		t.Fatalf("status %s", res.Status)
	}
	mustContain(t, "map, version 2", body, `data-count="1">Incidents: 1</strong>`, `<tr data-id="10">`, `>East, narrower</option>`, `(version 2)">`)
}
