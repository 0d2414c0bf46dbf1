package web_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/patrol"
	"github.com/guarantor/guarantor/web"
	"github.com/paulmach/orb"
)

// hostileTeam is a team name that a foreign log (or the fake) could hold:
// the schema refuses it, the pages must escape it all the same.
const hostileTeam = `<script>alert("team")</script>`

// patrolFixture is fixture with a patrol area "north" added to agreement
// fw and the patrols of 5 and 7 January 2026: on the 5th a completed
// patrol stopped once by UA's forces for an hour; on the 7th five plans —
// a patrol of the hostile team restricted twice (a checkpoint held by RU
// for 90 minutes, mines for 30), a completed one, a cancelled one, a
// camera (of the hostile team too) down from 12:00 to 15:00, and one not
// reported.
func patrolFixture() *memSource {
	src := fixture()
	a := &src.agreements[0].Agreement
	a.Zones = append(a.Zones, entry.Zone{ID: "north", Kind: "patrol_area", Title: "North <b>x</b> area",
		Geometry: json.RawMessage(`{"type":"Polygon","coordinates":[[[37.8,48.0],[38.0,48.0],[38.0,48.2],[37.8,48.2],[37.8,48.0]]]}`)})
	line := func(coords string) json.RawMessage {
		return json.RawMessage(`{"type":"LineString","coordinates":` + coords + `}`)
	}
	plan := func(i uint64, id, team, means, from, to string, geom json.RawMessage) node.Record {
		p := &entry.PatrolPlan{ID: id, At: at(from).Add(-time.Hour), Agreement: "fw", Team: team, Members: []string{"monitor.a+01020304"}, Means: means, From: at(from), To: at(to)}
		if means == "camera" {
			p.Area = geom
		} else {
			p.Route = geom
		}
		return node.Record{Index: i, Kind: entry.KindPatrolPlan, Signers: []string{"monitor.a+01020304"}, Body: p}
	}
	report := func(i uint64, r *entry.PatrolReport) node.Record {
		return node.Record{Index: i, Kind: entry.KindPatrolReport, Signers: []string{"monitor.a+01020304"}, Body: r}
	}
	restriction := func(obs, when string, lon, lat float64, by, party string, minutes int) entry.Restriction {
		return entry.Restriction{Observation: obs, At: at(when), Location: pt(lon, lat), By: by, Party: party, DurationM: minutes}
	}
	src.patrols = []node.Record{
		plan(40, "p0", "north-0", "vehicle", "2026-01-05T07:00:00Z", "2026-01-05T17:00:00Z", line(`[[37.9,48.0],[37.9,48.2]]`)),
		report(41, &entry.PatrolReport{ID: "r0", Plan: "p0", Start: at("2026-01-05T07:10:00Z"), End: at("2026-01-05T16:00:00Z"), Outcome: "completed",
			Track: line(`[[37.9,48.0],[37.9,48.2]]`), Restrictions: []entry.Restriction{restriction("x0", "2026-01-05T10:00:00Z", 37.9, 48.15, "party", "UA", 60)}}),
		plan(42, "p1", hostileTeam, "vehicle", "2026-01-07T07:00:00Z", "2026-01-07T17:00:00Z", line(`[[37.9,48.0],[37.9,48.2]]`)),
		plan(43, "p2", "north-2", "vehicle", "2026-01-07T08:00:00Z", "2026-01-07T17:00:00Z", line(`[[37.95,48.0],[37.95,48.1]]`)),
		plan(44, "p3", "north-3", "foot", "2026-01-07T07:00:00Z", "2026-01-07T12:00:00Z", line(`[[37.85,48.0],[37.85,48.1]]`)),
		plan(45, "cam", hostileTeam, "camera", "2026-01-07T00:00:00Z", "2026-01-08T00:00:00Z",
			json.RawMessage(`{"type":"Polygon","coordinates":[[[37.88,48.3],[37.92,48.3],[37.92,48.35],[37.88,48.35],[37.88,48.3]]]}`)),
		plan(46, "p4", "north-4", "uav", "2026-01-07T12:00:00Z", "2026-01-07T14:00:00Z", line(`[[37.9,48.0],[37.95,48.0]]`)),
		report(47, &entry.PatrolReport{ID: "r1", Plan: "p1", Start: at("2026-01-07T07:10:00Z"), End: at("2026-01-07T12:00:00Z"), Outcome: "restricted",
			Track: line(`[[37.9,48.0],[37.9,48.1]]`), Restrictions: []entry.Restriction{
				restriction("x1", "2026-01-07T09:00:00Z", 37.9, 48.1, "checkpoint", "RU", 90),
				restriction("x2", "2026-01-07T10:30:00Z", 37.9, 48.1, "mines", "", 30)}}),
		report(48, &entry.PatrolReport{ID: "r2", Plan: "p2", Start: at("2026-01-07T08:10:00Z"), End: at("2026-01-07T15:00:00Z"), Outcome: "completed",
			Track: line(`[[37.95,48.0],[37.95,48.1]]`)}),
		report(49, &entry.PatrolReport{ID: "r3", Plan: "p3", Start: at("2026-01-07T07:00:00Z"), End: at("2026-01-07T07:00:00Z"), Outcome: "cancelled", Reason: "security"}),
		report(50, &entry.PatrolReport{ID: "cr", Plan: "cam", Start: at("2026-01-07T00:00:00Z"), End: at("2026-01-08T00:00:00Z"), Outcome: "partial", Reason: "technical",
			Up: []entry.Interval{{From: at("2026-01-07T00:00:00Z"), To: at("2026-01-07T12:00:00Z")}, {From: at("2026-01-07T15:00:00Z"), To: at("2026-01-08T00:00:00Z")}}}),
	}
	return src
}

func TestMapPatrols(t *testing.T) {
	h := newUI(patrolFixture())
	for _, tc := range []struct {
		query, patrols string
		plans, reports int
		rows           []string // restrictions' observations, newest first
	}{
		{"", "/v1/patrols.geojson", 6, 5, []string{"x2", "x1", "x0"}},
		{"?from=2026-01-07&to=2026-01-08", "/v1/patrols.geojson?from=2026-01-07&amp;to=2026-01-08", 5, 4, []string{"x2", "x1"}},
		{"?to=2026-01-06&category=shelling", "/v1/patrols.geojson?to=2026-01-06", 1, 1, []string{"x0"}},
		{"?from=2026-01-09", "/v1/patrols.geojson?from=2026-01-09", 0, 0, nil},
	} {
		t.Run(tc.query, func(t *testing.T) {
			res, body := get(t, h, "/map"+tc.query)
			if res.StatusCode != 200 {
				t.Fatalf("status %s", res.Status)
			}
			csvURL := strings.Replace(tc.patrols, "/v1/patrols.geojson", "/v1/patrols/restrictions.csv", 1)
			mustContain(t, "map", body, `data-patrols="`+tc.patrols+`"`, `href="`+csvURL+`"`,
				fmt.Sprintf(`<strong id="restriction-count" data-count="%d">Restrictions: %d</strong>`, len(tc.rows), len(tc.rows)),
				fmt.Sprintf(`data-plans="%d" data-reports="%d">Patrols: %d plans, %d reports.</span>`, tc.plans, tc.reports, tc.plans, tc.reports),
				`<h2 id="restrictions-h">Restrictions of the mission&#39;s movement</h2>`, "Patrol track: Completed", "Patrol track: Restricted")
			noRawHostile(t, "map", body)
			var got []string
			for _, m := range regexp.MustCompile(`<tr data-report="[^"]*" data-observation="([^"]*)">`).FindAllStringSubmatch(body, -1) {
				got = append(got, m[1])
			}
			if !slices.Equal(got, tc.rows) {
				t.Errorf("restrictions %v, want %v", got, tc.rows)
			}
			if len(tc.rows) == 0 {
				mustContain(t, "map", body, `<p id="restrictions-none">No patrol of the period reports a restriction of its movement.</p>`)
			}
		})
	}
	_, body := get(t, h, "/map?from=2026-01-07")
	row := regexp.MustCompile(`(?s)<tr data-report="r1" data-observation="x1">.*?</tr>`).FindString(body)
	for _, want := range []string{`<time datetime="2026-01-07T09:00:00Z">2026-01-07 09:00 UTC</time>`, "48.1000, 37.9000", "<td>Checkpoint</td><td>RU</td><td class=\"num\">90</td>",
		"<td>&lt;script&gt;alert(&#34;team&#34;)&lt;/script&gt;</td><td>p1</td>", `<a href="/explorer/entries/47">r1</a>`} {
		if !strings.Contains(row, want) {
			t.Errorf("the row of x1 lacks %q: %s", want, row)
		}
	}
	// In Ukrainian, who stopped the patrol is named in Ukrainian.
	_, body = get(t, h, "/map?from=2026-01-07&lang=uk")
	mustContain(t, "map uk", body, "<td>Блокпост</td>", "<td>Міни</td>", "Маршрут патруля: Обмежено")
	// The strings map.js shows are the reader's language's.
	if m := regexp.MustCompile(`data-i18n="([^"]*)"`).FindStringSubmatch(body); m == nil || !strings.Contains(m[1], "Маршрути патрулів") || !strings.Contains(m[1], "restriction.by.uav_jamming") {
		t.Errorf("map.js's strings: %v", m)
	}
}

// patrolReport reads the report of 7 January 2026 over the patrol
// fixture.
func patrolReport(t *testing.T) web.Report {
	t.Helper()
	return report(t, newUI(patrolFixture(), clock("2026-01-20T12:00:00Z")), "/reports/2026-01-07.json")
}

func TestReportPatrols(t *testing.T) {
	p := patrolReport(t).Patrols
	if got := fmt.Sprint(p.Planned, p.Completed, p.Partial, p.Cancelled, p.Restricted, p.Unreported); got != "5 1 1 1 1 1" {
		t.Errorf("planned, completed, partial, cancelled, restricted, unreported: %s", got)
	}
	r := p.Restrictions
	if r.Total != 2 || r.DurationMin != 120 || fmt.Sprint(r.ByParty) != "[{ 1 30} {RU 1 90}]" || fmt.Sprint(r.ByWhom) != "[{checkpoint 1 90} {mines 1 30}]" {
		t.Errorf("restrictions %+v", r)
	}
	if p.OutageHours != 3 || len(p.Outages) != 1 || p.Outages[0].Team != hostileTeam || !p.Outages[0].From.Equal(at("2026-01-07T12:00:00Z")) || p.Outages[0].Index != 50 {
		t.Errorf("outages %v hours: %+v", p.OutageHours, p.Outages)
	}
	if p.Query != "http://example.com/v1/patrols?from=2026-01-07&to=2026-01-08" {
		t.Errorf("query %q", p.Query)
	}
	if len(p.Coverage) != 1 {
		t.Fatalf("coverage of %d agreements", len(p.Coverage))
	}
	c := p.Coverage[0]
	if c.Agreement != "fw" || c.Version != 1 || c.DistanceM != 1000 || c.GapDays != 7 || c.Query != "http://example.com/v1/patrols/coverage?agreement=fw&from=2026-01-07&to=2026-01-08" {
		t.Errorf("coverage %+v", c)
	}
	// The same survey, built here from the fixture's geometry: the area
	// first, then the line; the tracks of the 5th and the 7th and the
	// camera's view.
	zones := []patrol.Zone{{ID: "north", Geometry: orb.Polygon{{{37.8, 48.0}, {38.0, 48.0}, {38.0, 48.2}, {37.8, 48.2}, {37.8, 48.0}}}},
		{ID: "contact", Geometry: orb.LineString{{37.9, 47.5}, {37.9, 49}}}}
	tracks := []patrol.Track{
		{ID: "r0", Start: at("2026-01-05T07:10:00Z"), End: at("2026-01-05T16:00:00Z"), Path: orb.LineString{{37.9, 48.0}, {37.9, 48.2}}},
		{ID: "r1", Start: at("2026-01-07T07:10:00Z"), End: at("2026-01-07T12:00:00Z"), Path: orb.LineString{{37.9, 48.0}, {37.9, 48.1}}},
		{ID: "r2", Start: at("2026-01-07T08:10:00Z"), End: at("2026-01-07T15:00:00Z"), Path: orb.LineString{{37.95, 48.0}, {37.95, 48.1}}},
	}
	cam := []patrol.Footprint{{ID: "cr", Kind: "camera", Area: orb.Polygon{{{37.88, 48.3}, {37.92, 48.3}, {37.92, 48.35}, {37.88, 48.35}, {37.88, 48.3}}},
		Up: []patrol.Interval{{From: at("2026-01-07T00:00:00Z"), To: at("2026-01-07T12:00:00Z")}, {From: at("2026-01-07T15:00:00Z"), To: at("2026-01-08T00:00:00Z")}}}}
	s, err := patrol.NewSurvey(zones, tracks, cam, patrol.Params{DistanceM: 1000})
	if err != nil {
		t.Fatal(err)
	}
	day := patrol.Days(at("2026-01-07T00:00:00Z"), at("2026-01-08T00:00:00Z"))
	want := s.Coverage(day)
	gaps := s.Gaps(at("2026-01-08T00:00:00Z"), 7)
	if len(c.Zones) != 2 {
		t.Fatalf("zones %+v", c.Zones)
	}
	for i, z := range c.Zones {
		if z.Zone != want[i].Zone || z.Coverage != want[i].Coverage || !slices.Equal(z.Tracks, want[i].Tracks) || z.StaleShare != gaps[i].Share {
			t.Errorf("zone %s: %+v, want %+v (stale %v)", z.Zone, z, want[i], gaps[i].Share)
		}
		if z.Share <= 0 || z.Share >= 1 {
			t.Errorf("zone %s: share %v", z.Zone, z.Share)
		}
	}
	if n, l := c.Zones[0], c.Zones[1]; n.Title != "North <b>x</b> area" || n.Kind != "area" || n.Restrictions != 2 || fmt.Sprint(n.Tracks) != "[r1 r2]" ||
		l.Kind != "line" || l.Restrictions != 0 || fmt.Sprint(l.Tracks) != "[r1]" || len(l.Footprints) != 1 || l.Footprints[0].UpHours != 21 {
		t.Errorf("zones %+v", c.Zones)
	}

	// A day without patrols: zeros, and the line not visited for 7 days.
	p = report(t, newUI(patrolFixture(), clock("2026-01-20T12:00:00Z")), "/reports/2026-01-16.json").Patrols
	if p.Planned != 0 || p.Restrictions.Total != 0 || p.OutageHours != 0 || len(p.Outages) != 0 || p.Coverage[0].Zones[1].Share != 0 || p.Coverage[0].Zones[1].StaleShare != 1 {
		t.Errorf("16 January: %+v", p)
	}
}

func TestReportPatrolsPage(t *testing.T) {
	h := newUI(patrolFixture(), clock("2026-01-20T12:00:00Z"))
	_, body := get(t, h, "/reports/2026-01-07")
	mustContain(t, "report", body,
		`<h2 id="patrols-h">Patrols and freedom of movement</h2>`,
		`<dd id="patrols-planned" data-count="5">5</dd>`, `<dd id="patrols-restricted" data-count="1">1</dd>`, `<dd id="patrols-unreported" data-count="1">1</dd>`,
		`<dd id="patrol-restrictions" data-count="2">2 <span class="hint">(120 min in all)</span></dd>`,
		`<dd id="camera-outage-hours" data-hours="3">3</dd>`,
		`<tr data-party=""><th scope="row">None named</th><td class="num" data-count="1">1</td><td class="num">30</td></tr>`,
		`<tr data-party="RU"><th scope="row">RU</th><td class="num" data-count="1">1</td><td class="num">90</td></tr>`,
		`<tr data-by="checkpoint"><th scope="row">Checkpoint</th>`, `<tr data-by="mines"><th scope="row">Mines</th>`,
		`<table class="patrol-coverage" data-agreement="fw">`, "fw, version 1: the share within 1\u202f000 m of a patrol",
		`<th scope="row">North &lt;b&gt;x&lt;/b&gt; area</th><td>area</td>`, "Not visited in 7 days",
		`<td>&lt;script&gt;alert(&#34;team&#34;)&lt;/script&gt;</td><td>cam</td>`, `<a href="/explorer/entries/50">cr</a>`,
		`href="/v1/patrols/restrictions.csv?from=2026-01-07&amp;to=2026-01-08"`, `href="http://example.com/v1/patrols/coverage?agreement=fw&amp;from=2026-01-07&amp;to=2026-01-08"`)
	noRawHostile(t, "report", body)

	// Empty states: no patrol, no restriction, no outage; and without any
	// agreement, no coverage.
	_, body = get(t, newUI(fixture(), clock("2026-01-20T12:00:00Z")), "/reports/2026-01-07")
	mustContain(t, "no patrols", body, `<p id="patrols-none">No patrol was planned to start on this day.</p>`,
		`<p id="patrol-restrictions-none">`, `<p id="camera-outages-none">`, `<tr data-zone="contact" data-share="0" data-stale="1">`)
	_, body = get(t, newUI(&memSource{}, clock("2026-01-20T12:00:00Z")), "/reports/2026-01-07")
	mustContain(t, "nothing", body, `<p id="patrol-coverage-none">No agreement in force on this day names patrol areas or lines.</p>`)
	_, body = get(t, newUI(patrolFixture(), clock("2026-01-20T12:00:00Z")), "/reports/2026-01-07?lang=ru")
	mustContain(t, "report ru", body, "Патрули и свобода передвижения", `<th scope="row">Блокпост</th>`, `<th scope="row">Не названа</th>`)
}

func TestReportPatrolsCSV(t *testing.T) {
	_, body := get(t, newUI(patrolFixture(), clock("2026-01-20T12:00:00Z")), "/reports/2026-01-07.csv")
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	value := slices.Index(web.ReportCSVColumns, "value")
	got := map[string]string{}
	for _, r := range rows[1:] {
		got[strings.Join(r[1:value], "|")] = r[value]
	}
	rep := patrolReport(t)
	for key, want := range map[string]string{
		"patrols_planned|||||||":                  "5",
		"patrols_completed|||||||":                "1",
		"patrols_partial|||||||":                  "1",
		"patrols_cancelled|||||||":                "1",
		"patrols_restricted|||||||":               "1",
		"patrols_unreported|||||||":               "1",
		"patrol_restrictions|||||||":              "2",
		"patrol_restriction_minutes|||||||":       "120",
		"patrol_restrictions||||||(none)|":        "1",
		"patrol_restrictions||||||RU|":            "1",
		"patrol_restriction_minutes||||||RU|":     "90",
		"patrol_restrictions|||||||checkpoint":    "1",
		"patrol_restriction_minutes|||||||mines":  "30",
		"camera_outage_hours|||||||":              "3",
		"patrol_restrictions|fw|north|||||":       "2",
		"patrol_coverage_share|fw|north|||||":     fmt.Sprint(rep.Patrols.Coverage[0].Zones[0].Share),
		"patrol_stale_share|fw|contact|||||":      fmt.Sprint(rep.Patrols.Coverage[0].Zones[1].StaleShare),
		"patrol_coverage_share|fw|contact|||||":   fmt.Sprint(rep.Patrols.Coverage[0].Zones[1].Share),
		"incidents|||||||":                        "1",
		"movement_restrictions|||||||":            "0",
		"patrol_restriction_minutes||||||(none)|": "30",
	} {
		if got[key] != want {
			t.Errorf("%s = %q, want %q", key, got[key], want)
		}
	}
}

func TestBoardAccess(t *testing.T) {
	for _, tc := range []struct {
		now, total string
		parties    []string // party=count
	}{
		{"2026-01-08T12:00:00Z", "3", []string{"=1", "RU=1", "UA=1"}},
		{"2026-01-12T11:00:00Z", "2", []string{"=1", "RU=1"}}, // 10:00 on the 5th is more than 7 days back
		{"2026-01-20T12:00:00Z", "0", nil},
	} {
		t.Run(tc.now, func(t *testing.T) {
			_, body := get(t, newUI(patrolFixture(), clock(tc.now)), "/board")
			mustContain(t, "board", body, `<h2 id="access-h">Mission access</h2>`)
			if tc.parties != nil {
				mustContain(t, "board", body, `<span id="access-total" data-count="`+tc.total+`">Restrictions: `+tc.total+`,`)
			}
			var got []string
			for _, m := range regexp.MustCompile(`<tr data-party="([^"]*)"><th scope="row">[^<]*</th><td class="num" data-count="(\d+)">`).FindAllStringSubmatch(body, -1) {
				got = append(got, m[1]+"="+m[2])
			}
			if !slices.Equal(got, tc.parties) {
				t.Errorf("by party %v, want %v", got, tc.parties)
			}
			from := at(tc.now).Add(-7 * 24 * time.Hour).Format(time.RFC3339)
			mustContain(t, "board", body, `href="/v1/patrols/restrictions.csv?from=`+from+`&amp;to=`+tc.now+`"`)
			if tc.parties == nil {
				mustContain(t, "board", body, `<p id="access-none">No patrol reported a restriction of its movement in the last 7 days.</p>`)
			}
			noRawHostile(t, "board", body)
		})
	}
}

// TestPatrolStoreErrorIsA500Page: the pages that read patrols answer a
// store's error with the 500 page.
func TestPatrolStoreErrorIsA500Page(t *testing.T) {
	src := patrolFixture()
	h := newUI(&patrolErrSource{src}, clock("2026-01-20T12:00:00Z"))
	for _, path := range []string{"/map", "/reports/2026-01-07", "/reports/2026-01-07.json", "/board"} {
		if res, body := get(t, h, path); res.StatusCode != 500 || !strings.Contains(body, "Something went wrong") {
			t.Errorf("%s: %s", path, res.Status)
		}
	}
}

// patrolErrSource is a memSource whose patrols cannot be read.
type patrolErrSource struct{ *memSource }

func (patrolErrSource) PatrolEntries(context.Context, node.PatrolFilter, func(node.Record) error) error {
	return errors.New("patrol table is locked")
}
