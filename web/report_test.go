package web_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/web"
)

// clock returns a WithClock option that reads the time s.
func clock(s string) web.Option {
	t := at(s)
	return web.WithClock(func() time.Time { return t })
}

// report reads path, a report's JSON, from h.
func report(t *testing.T, h http.Handler, path string) web.Report {
	t.Helper()
	res, body := get(t, h, path)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s: %s %s", path, res.Status, res.Header.Get("Content-Type"))
	}
	var rep web.Report
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return rep
}

func TestReportJSON(t *testing.T) {
	h := newUI(fixture(), web.WithLog(fakeLog{cp: checkpoint}), clock("2026-01-20T12:00:00Z"))
	for _, tc := range []struct {
		day                                 string
		incidents, explosions, restrictions int
		categories                          string
		zones                               string // zone: incidents
		outside                             int
		determinations, breaches            int
		obligations                         []uint64
		last3                               string // the trend's last three days
	}{
		// Incident 10 spans 5–6 January; 12 was merged into it and counts
		// through it; 14 is a drone strike on the 7th; 16 a mine on the 9th,
		// outside the zone.
		{"2026-01-05", 1, 3, 0, "[{shelling 1}]", "east:1", 0, 0, 0, nil, "[0 0 1]"},
		{"2026-01-06", 1, 3, 0, "[{shelling 1}]", "east:1", 0, 0, 0, nil, "[0 1 1]"},
		{"2026-01-07", 1, 1, 0, "[{drone_strike 1}]", "east:1", 0, 2, 1, []uint64{1, 2, 3}, "[1 1 1]"},
		{"2026-01-08", 0, 0, 0, "[]", "east:0", 0, 0, 0, nil, "[1 1 0]"},
		{"2026-01-09", 1, 0, 0, "[{mine 1}]", "east:0", 1, 0, 0, nil, "[1 0 1]"},
	} {
		t.Run(tc.day, func(t *testing.T) {
			rep := report(t, h, "/reports/"+tc.day+".json")
			if rep.Day != tc.day || !rep.Complete || rep.From.Format(time.DateOnly) != tc.day || rep.To.Sub(rep.From) != 24*time.Hour {
				t.Errorf("day %q complete %v from %v to %v", rep.Day, rep.Complete, rep.From, rep.To)
			}
			if rep.Incidents != tc.incidents || int(rep.Explosions.Count) != tc.explosions || rep.MovementRestrictions != tc.restrictions {
				t.Errorf("incidents %d explosions %d restrictions %d, want %d %d %d", rep.Incidents, rep.Explosions.Count, rep.MovementRestrictions, tc.incidents, tc.explosions, tc.restrictions)
			}
			if got := fmt.Sprint(rep.ByCategory); got != tc.categories {
				t.Errorf("by category %s, want %s", got, tc.categories)
			}
			var zones []string
			for _, z := range rep.Zones {
				zones = append(zones, fmt.Sprintf("%s:%d", z.Zone, z.Incidents))
			}
			if got := strings.Join(zones, " "); got != tc.zones || rep.OutsideZones != tc.outside {
				t.Errorf("zones %s outside %d, want %s %d", got, rep.OutsideZones, tc.zones, tc.outside)
			}
			if rep.NewDeterminations != tc.determinations || rep.LimitBreaches != tc.breaches {
				t.Errorf("determinations %d breaches %d, want %d %d", rep.NewDeterminations, rep.LimitBreaches, tc.determinations, tc.breaches)
			}
			var ids []uint64
			for _, o := range rep.NewObligations {
				ids = append(ids, o.ID)
			}
			if !slices.Equal(ids, tc.obligations) {
				t.Errorf("obligations opened %v, want %v", ids, tc.obligations)
			}
			if len(rep.Trend) != web.TrendDays || rep.Trend[len(rep.Trend)-1].Day != tc.day {
				t.Fatalf("trend of %d days ending %v", len(rep.Trend), rep.Trend[len(rep.Trend)-1])
			}
			var last3 []int
			for _, d := range rep.Trend[web.TrendDays-3:] {
				last3 = append(last3, d.Incidents)
			}
			if got := fmt.Sprint(last3); got != tc.last3 {
				t.Errorf("trend ends %s, want %s", got, tc.last3)
			}
			var sum int
			for _, c := range rep.ByCategory {
				sum += c.Incidents
			}
			for _, l := range rep.ByLevel {
				sum -= l.Incidents
			}
			if sum != 0 {
				t.Errorf("categories and levels disagree by %d", sum)
			}
		})
	}

	rep := report(t, h, "/reports/2026-01-07.json")
	if got := fmt.Sprint(rep.Determinations); got != `[{fw t Heavy weapons near the line true 1} {fw u `+hostileTrigger+` false 1}]` {
		t.Errorf("determinations %s", got)
	}
	if got := fmt.Sprint(rep.ByLevel); got != "[{reported 0} {corroborated 0} {verified 1}]" {
		t.Errorf("by level %s", got)
	}
	p := rep.Proof
	if p.Entries != 14 || p.Checkpoint == nil || p.Checkpoint.Size != 42 || p.Checkpoint.Origin != "test.log/origin" || !p.Covered ||
		p.Checkpoint.RootHash != "q1w2e3r4t5y6u7i8o9p0q1w2e3r4t5y6u7i8o9p0abc=" || p.Checkpoint.Note != checkpoint {
		t.Errorf("proof %+v", p)
	}
	if p.Replay != "guarantor replay --server http://example.com" {
		t.Errorf("replay command %q", p.Replay)
	}
	if want := []string{"http://example.com/v1/incidents?from=2026-01-07&to=2026-01-08&limit=10000",
		"http://example.com/v1/incidents?category=drone_strike&from=2026-01-07&to=2026-01-08&limit=10000",
		"http://example.com/v1/patrols?from=2026-01-07&to=2026-01-08",
		"http://example.com/v1/patrols/coverage?agreement=fw&from=2026-01-07&to=2026-01-08"}; !slices.Equal(p.Queries, want) {
		t.Errorf("queries %q", p.Queries)
	}
}

// TestReportProofBundle: the bundle says when the checkpoint does not
// cover what was read, and when there is no log at all.
func TestReportProofBundle(t *testing.T) {
	src := fixture()
	src.applied = 50 // the checkpoint covers 42
	h := newUI(src, web.WithLog(fakeLog{cp: checkpoint}), clock("2026-01-20T12:00:00Z"))
	rep := report(t, h, "/reports/2026-01-07.json")
	if rep.Proof.Entries != 50 || rep.Proof.Covered {
		t.Errorf("proof %+v", rep.Proof)
	}
	_, body := get(t, h, "/reports/2026-01-07")
	mustContain(t, "uncovered", body, "The projection held 8 entries more than the latest published checkpoint covers")

	h = newUI(fixture(), clock("2026-01-20T12:00:00Z"))
	rep = report(t, h, "/reports/2026-01-07.json")
	if rep.Proof.Checkpoint != nil || rep.Proof.Covered || rep.Proof.Entries != 14 {
		t.Errorf("without a log: proof %+v", rep.Proof)
	}
	_, body = get(t, h, "/reports/2026-01-07")
	mustContain(t, "no log", body, "The log&#39;s state is not available here.", "The report was computed from the first 14 entries of the log.")
}

func TestReportPage(t *testing.T) {
	h := newUI(fixture(), web.WithLog(fakeLog{cp: checkpoint}), clock("2026-01-20T12:00:00Z"))
	res, body := get(t, h, "/reports/2026-01-07")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("status %s %s", res.Status, res.Header.Get("Content-Type"))
	}
	mustContain(t, "report", body,
		"<h1>Daily report, 2026-01-07 (UTC)</h1>",
		`aria-current="page">Daily reports</a>`,
		`<dd id="report-incidents" data-count="1">1</dd>`,
		`<dd id="report-explosions" data-count="1">1 `,
		`<dd id="report-breaches" data-count="1">1</dd>`,
		`<dd id="report-determinations" data-count="2">2</dd>`,
		`<dd id="report-obligations" data-count="3">3</dd>`,
		`<td class="num" data-category="drone_strike">1</td>`,
		`<td class="num" data-level="verified">1</td>`,
		`<th scope="row">East &lt;b&gt;x&lt;/b&gt; zone</th>`, `data-zone="east">1</td>`,
		"Drone strike &lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;", `<strong class="breach">breach</strong>`,
		`<a href="/v1/obligations/2">2</a>`,
		`href="/reports/2026-01-06" rel="prev"`, `href="/reports/2026-01-08" rel="next"`,
		`href="/v1/incidents.csv?from=2026-01-07&amp;to=2026-01-08"`, `href="/v1/incidents.geojson?from=2026-01-07&amp;to=2026-01-08"`,
		`href="/map?from=2026-01-07&amp;to=2026-01-08"`,
		`<link rel="alternate" type="application/json" href="/reports/2026-01-07.json"`, `href="/reports/2026-01-07.csv"`,
		`<dd id="proof-size">42</dd>`, `<code class="hash" id="proof-root">q1w2e3r4t5y6u7i8o9p0q1w2e3r4t5y6u7i8o9p0abc=</code>`,
		`<dd id="proof-entries">14</dd>`, "holds every entry this report was computed from",
		`<code id="proof-replay">guarantor replay --server http://example.com</code>`,
		`<title id="chart-30-title">Incidents per day, 2025-12-09 to 2026-01-07</title>`,
		`<title id="chart-90-title">Incidents per day, 2025-10-10 to 2026-01-07</title>`,
		`aria-labelledby="chart-30-title chart-30-desc"`,
		"at most 1, on 2026-01-05; 87 days without any.",
		`<rect class="bar" data-day="2026-01-07" data-count="1"`,
	)
	noRawHostile(t, "report", body)
	if strings.Contains(body, "<script") {
		t.Error("the report page has a script")
	}
	for id, n := range map[string]int{"chart-30": 30, "chart-90": 90} {
		svg := regexp.MustCompile(`(?s)<svg class="chart" id="` + id + `".*?</svg>`).FindString(body)
		if got := strings.Count(svg, `<rect class="bar"`); got != n {
			t.Errorf("%s has %d bars, want %d", id, got, n)
		}
	}
	// A day that has not ended says so, and has no next day.
	h = newUI(fixture(), clock("2026-01-08T08:00:00Z"))
	_, body = get(t, h, "/reports/2026-01-08")
	mustContain(t, "today", body, `id="report-partial"`, "This day has not ended")
	if strings.Contains(body, `rel="next"`) {
		t.Error("today's report links to tomorrow")
	}
	if rep := report(t, h, "/reports/2026-01-08.json"); rep.Complete {
		t.Error("today's report is complete")
	}
}

// TestReportZonesOfTheVersionInForce: a later version's zones count from
// its effective date, and an expired agreement's zones not at all.
func TestReportZonesOfTheVersionInForce(t *testing.T) {
	src := fixture()
	v2 := src.agreements[0]
	v2.Index, v2.Agreement.Version, v2.Agreement.Effective = 37, 2, at("2026-01-07T00:00:00Z")
	v2.Agreement.Zones = []entry.Zone{{ID: "west", Kind: "security", Title: "West",
		Geometry: json.RawMessage(`{"type":"Polygon","coordinates":[[[30,47],[37.7,47],[37.7,49],[30,49],[30,47]]]}`)}}
	expires := at("2026-01-09T00:00:00Z")
	v2.Agreement.Expires = &expires
	src.agreements = append(src.agreements, v2)
	h := newUI(src, clock("2026-01-20T12:00:00Z"))
	for day, want := range map[string]string{"2026-01-06": "east", "2026-01-07": "west", "2026-01-08": "west", "2026-01-09": ""} {
		var zones []string
		for _, z := range report(t, h, "/reports/"+day+".json").Zones {
			zones = append(zones, z.Zone)
		}
		if got := strings.Join(zones, " "); got != want {
			t.Errorf("%s: zones %q, want %q", day, got, want)
		}
	}
	_, body := get(t, h, "/reports/2026-01-09")
	mustContain(t, "no zones", body, "No agreement with zones was in force on this day.")
}

func TestReportCSV(t *testing.T) {
	h := newUI(fixture(), web.WithLog(fakeLog{cp: checkpoint}), clock("2026-01-20T12:00:00Z"))
	res, body := get(t, h, "/reports/2026-01-07.csv")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		res.Header.Get("Content-Disposition") != `attachment; filename="report-2026-01-07.csv"` {
		t.Fatalf("%s %v", res.Status, res.Header)
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], web.ReportCSVColumns) {
		t.Fatalf("header %v", rows[0])
	}
	// The key is the measure and the columns that narrow it, up to value.
	value := slices.Index(web.ReportCSVColumns, "value")
	got := map[string]string{}
	for _, r := range rows[1:] {
		if len(r) != len(web.ReportCSVColumns) || r[0] != "2026-01-07" || r[value+1] != "14" || r[value+2] != "42" || r[value+3] != "q1w2e3r4t5y6u7i8o9p0q1w2e3r4t5y6u7i8o9p0abc=" {
			t.Errorf("row %v", r)
		}
		key := strings.Join(r[1:value], "|")
		if _, dup := got[key]; dup {
			t.Errorf("two rows for %s", key)
		}
		got[key] = r[value]
	}
	for key, want := range map[string]string{
		"incidents|||||||":                   "1",
		"incidents|||drone_strike||||":       "1",
		"incidents||||verified|||":           "1",
		"incidents|fw|east|||||":             "1",
		"incidents|fw|east|drone_strike||||": "1",
		"outside_zones|||||||":               "0",
		"explosions|||||||":                  "1",
		"movement_restrictions|||||||":       "0",
		"determinations|||||||":              "2",
		"limit_breaches|||||||":              "1",
		"obligations_opened|||||||":          "3",
	} {
		if got[key] != want {
			t.Errorf("%s = %q, want %q", key, got[key], want)
		}
	}
	var triggers []string
	for _, r := range rows[1:] {
		if r[1] == "determinations" && r[6] != "" {
			triggers = append(triggers, r[6]+"="+r[value])
		}
	}
	if fmt.Sprint(triggers) != "[t=1 u=1]" {
		t.Errorf("per trigger %v", triggers)
	}
}

func TestReportNotFound(t *testing.T) {
	h := newUI(fixture(), clock("2026-01-20T12:00:00Z"))
	for path, want := range map[string]string{
		"/reports/2026-13-01":      "There is no report at /reports/2026-13-01",
		"/reports/2026-02-30":      "There is no report at /reports/2026-02-30",
		"/reports/2026-13-01.json": "There is no report at /reports/2026-13-01.json",
		"/reports/2026-01-07.xml":  "There is no report at /reports/2026-01-07.xml",
		"/reports/yesterday":       "There is no report at /reports/yesterday",
		"/reports/26-01-07":        "There is no report at /reports/26-01-07",
		"/reports/%3Cscript%3E":    "There is no report at /reports/&lt;script&gt;",
		"/reports/2026-01-21":      "2026-01-21 has not begun yet (UTC)",
		"/reports/2026-02-01.csv":  "2026-02-01 has not begun yet (UTC)",
	} {
		res, body := get(t, h, path)
		if res.StatusCode != http.StatusNotFound || res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("%s: %s %s", path, res.Status, res.Header.Get("Content-Type"))
		}
		mustContain(t, path, body, "<h1>Report not found</h1>", want)
		noRawHostile(t, path, body)
	}
}

func TestReportsList(t *testing.T) {
	h := newUI(fixture(), clock("2026-01-08T12:00:00Z"))
	res, body := get(t, h, "/reports")
	if res.StatusCode != 200 {
		t.Fatalf("status %s", res.Status)
	}
	days := regexp.MustCompile(`<tr data-day="([0-9-]+)"><th scope="row"><a href="/reports/([0-9-]+)">Report of ([0-9-]+)</a></th><td class="num">(\d+)</td>`).FindAllStringSubmatch(body, -1)
	var got []string
	for _, m := range days {
		if m[1] != m[2] || m[2] != m[3] {
			t.Errorf("row %q", m[0])
		}
		got = append(got, m[1]+"="+m[4])
	}
	// The 9th is after today: it has no report yet.
	if fmt.Sprint(got) != "[2026-01-07=1 2026-01-06=1 2026-01-05=1]" {
		t.Errorf("days %v", got)
	}
	mustContain(t, "reports", body, `aria-current="page">Daily reports</a>`, `<label for="r-day">Day</label>`, `max="2026-01-08"`,
		`<a href="/reports/2026-01-08">Today (2026-01-08)</a>`, `href="/reports/2026-01-07.json"`, `href="/reports/2026-01-07.csv"`,
		`<svg class="chart" id="chart-recent"`, "up to 2026-01-07, the latest day with incidents")

	// The form opens a day's report, or says what is wrong.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/reports?day=2026-01-05", nil))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/reports/2026-01-05" {
		t.Errorf("?day=2026-01-05: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	for _, bad := range []string{"2026-13-01", "2026-01-09", "%3Cb%3Ex"} {
		res, body := get(t, h, "/reports?day="+bad)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("?day=%s: %s", bad, res.Status)
		}
		mustContain(t, bad, body, `role="alert"`, "is not a day up to today like 2026-01-05 (today is 2026-01-08, UTC).")
		noRawHostile(t, bad, body)
	}

	_, body = get(t, newUI(&memSource{}, clock("2026-01-08T12:00:00Z")), "/reports")
	mustContain(t, "empty", body, `<p id="reports-none">No incident is logged yet.</p>`)
}
