package web_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/guarantor/guarantor/entry"
	ghttp "github.com/guarantor/guarantor/http"
	"github.com/guarantor/guarantor/internal/testkeys"
	"github.com/guarantor/guarantor/patrol"
	"github.com/guarantor/guarantor/web"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// patrolHistory is how many days before the scenario the demo's patrols
// begin: more than the report's gap days, so that its coverage leaves
// old tracks out as it should.
const patrolHistory = 9

// logPatrols logs the demo's SYNTHETIC patrols through submitAll, as
// `guarantor demo` does, from patrolHistory days before first to the day
// before first+days: each day three teams of two monitors (keys[0..5])
// drive stretches of the agreement's first line; the third team is
// stopped every other day at a checkpoint (RU and UA in turn), and every
// fourth day by mines too, each restriction an observation first; the
// first team's patrol is cut short by the weather and the second's
// cancelled for security every third day; a fixed camera on the line
// (keys[1]) reports its up hours with a three-hour outage; and on the
// last day a UAV flight is planned and not yet reported. Plans, then the
// observations, then the reports go in, each batch in parallel.
func logPatrols(tb testing.TB, submitAll func([][]byte), doc *entry.Agreement, keys []testkeys.Key, first time.Time, days int) {
	tb.Helper()
	var line orb.LineString
	for _, l := range doc.Lines {
		if g, err := geojson.UnmarshalGeometry(l.Geometry); err == nil {
			if ls, ok := g.Geometry().(orb.LineString); ok && line == nil {
				line = ls
			}
		}
	}
	if line == nil || len(keys) < 6 {
		tb.Fatal("the demo's patrols need a line and six monitors")
	}
	sign := func(kind entry.Kind, v any, ks ...testkeys.Key) []byte {
		tb.Helper()
		b, err := json.Marshal(v)
		if err != nil {
			tb.Fatal(err)
		}
		return testkeys.Sign(tb, kind, string(b), ks...)
	}
	lineString := func(ps []orb.Point) json.RawMessage {
		var cs []string
		for _, p := range ps {
			cs = append(cs, fmt.Sprintf("[%.4f,%.4f]", p[0], p[1]))
		}
		return json.RawMessage(`{"type":"LineString","coordinates":[` + strings.Join(cs, ",") + `]}`)
	}
	mod := func(a, n int) int { return (a%n + n) % n }
	var plans, observations, reports [][]byte
	for d := -patrolHistory; d < days; d++ {
		day := first.AddDate(0, 0, d)
		stamp := day.Format("20060102")
		for team := range 3 {
			lead, second := keys[2*team], keys[2*team+1]
			start := mod(team*5+d*3, len(line)-4)
			offset := []float64{-0.06, 0.02, 0.07}[team]
			var route []orb.Point
			for _, p := range line[start : start+5] {
				route = append(route, orb.Point{p[0], p[1] + offset})
			}
			from, to := day.Add(7*time.Hour), day.Add(17*time.Hour)
			plan := entry.PatrolPlan{ID: fmt.Sprintf("test-patrol-%s-team%d", stamp, team+1), At: day.Add(6 * time.Hour), Agreement: doc.ID,
				Team: fmt.Sprintf("team-%d", team+1), Members: []string{lead.ID, second.ID}, Means: "vehicle", Vehicles: []string{"SYNTHETIC armoured vehicle"},
				Route: lineString(route), From: from, To: to, Purpose: "SYNTHETIC test patrol along the line"}
			plans = append(plans, sign(entry.KindPatrolPlan, plan, lead))
			rep := entry.PatrolReport{ID: plan.ID + "-report", At: to.Add(time.Hour), Plan: plan.ID, Start: from.Add(10 * time.Minute), End: to.Add(-30 * time.Minute),
				Outcome: entry.PatrolCompleted, Track: lineString(route), SimplifiedM: entry.PatrolTrackTolerance, Text: "SYNTHETIC"}
			switch {
			case team == 2 && mod(d, 2) == 0:
				stops := []struct {
					by, party string
					after     time.Duration
					minutes   int
				}{{"checkpoint", []string{"RU", "UA"}[mod(d/2, 2)], 3 * time.Hour, 120}}
				if mod(d, 4) == 0 {
					stops = append(stops, struct {
						by, party string
						after     time.Duration
						minutes   int
					}{"mines", "", 5 * time.Hour, 45})
				}
				for i, s := range stops {
					at := from.Add(s.after)
					stop := line[start+2+i]
					obs := entry.Observation{ID: fmt.Sprintf("%s-restriction-%d", plan.ID, i+1), ObservedAt: at, Location: pt(stop[0], stop[1]+offset),
						Category: "movement_restriction", SourceType: "patrol", Text: "SYNTHETIC: patrol stopped"}
					observations = append(observations, sign(entry.KindObservation, obs, lead))
					rep.Observations = append(rep.Observations, obs.ID)
					rep.Restrictions = append(rep.Restrictions, entry.Restriction{Observation: obs.ID, At: at, Location: obs.Location, By: s.by, Party: s.party, DurationM: s.minutes})
					rep.End = at.Add(time.Hour)
				}
				rep.Outcome, rep.Reason, rep.Track = entry.PatrolRestricted, "restriction", lineString(route[:3])
			case team == 0 && mod(d, 3) == 1:
				rep.Outcome, rep.Reason, rep.Track, rep.End = entry.PatrolPartial, "weather", lineString(route[:3]), from.Add(4*time.Hour)
			case team == 1 && mod(d, 3) == 1:
				rep.Outcome, rep.Reason, rep.Track, rep.Start, rep.End = entry.PatrolCancelled, "security", nil, from, from
			}
			reports = append(reports, sign(entry.KindPatrolReport, rep, lead, second))
		}

		cam := line[len(line)/2]
		k := 0.03
		area := fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%.4f,%.4f],[%.4f,%.4f],[%.4f,%.4f],[%.4f,%.4f],[%.4f,%.4f]]]}`,
			cam[0]-k, cam[1]-k, cam[0]+k, cam[1]-k, cam[0]+k, cam[1]+k, cam[0]-k, cam[1]+k, cam[0]-k, cam[1]-k)
		camPlan := entry.PatrolPlan{ID: "test-camera-" + stamp, At: day, Agreement: doc.ID, Team: "camera-1", Members: []string{keys[1].ID}, Means: "camera",
			Area: json.RawMessage(area), From: day, To: day.AddDate(0, 0, 1), Purpose: "SYNTHETIC fixed camera"}
		plans = append(plans, sign(entry.KindPatrolPlan, camPlan, keys[1]))
		outage := time.Duration(12+mod(d, 5)) * time.Hour
		reports = append(reports, sign(entry.KindPatrolReport, entry.PatrolReport{ID: camPlan.ID + "-report", At: day.AddDate(0, 0, 1), Plan: camPlan.ID,
			Start: day, End: day.AddDate(0, 0, 1), Outcome: entry.PatrolPartial, Reason: "technical",
			Up: []entry.Interval{{From: day, To: day.Add(outage)}, {From: day.Add(outage + 3*time.Hour), To: day.AddDate(0, 0, 1)}}, Text: "SYNTHETIC"}, keys[1]))

		if d == days-1 {
			p := line[len(line)/3]
			uav := entry.PatrolPlan{ID: "test-uav-" + stamp, At: day.Add(8 * time.Hour), Agreement: doc.ID, Team: "uav-1", Members: []string{keys[4].ID}, Means: "uav",
				Route: lineString([]orb.Point{{p[0] - 0.05, p[1]}, {p[0] + 0.05, p[1]}}), From: day.Add(9 * time.Hour), To: day.Add(11 * time.Hour), Purpose: "SYNTHETIC UAV flight"}
			plans = append(plans, sign(entry.KindPatrolPlan, uav, keys[4]))
		}
	}
	submitAll(plans)
	submitAll(observations)
	submitAll(reports)
}

// checkPatrols: each day's report counts the patrols, restrictions,
// camera outages and coverage that the API serves for the same day
// (GET /v1/patrols, GET /v1/patrols/coverage with its defaults); the
// map lists the restrictions of /v1/patrols/restrictions.csv for the
// same dates; and the board counts, by party, the restrictions that CSV
// lists for its last seven days.
func checkPatrols(t *testing.T, d *demo) {
	for i := range 2 {
		day := demoStart.AddDate(0, 0, i)
		next := day.AddDate(0, 0, 1)
		q := fmt.Sprintf("from=%s&to=%s", day.Format(time.DateOnly), next.Format(time.DateOnly))
		var rep web.Report
		d.getJSON(t, "/reports/"+day.Format(time.DateOnly)+".json", &rep)
		p := rep.Patrols

		// Plans whose window starts on the day, by their latest report.
		var list struct {
			Patrols []ghttp.PatrolView `json:"patrols"`
		}
		d.getJSON(t, "/v1/patrols?"+q, &list)
		count := map[string]int{}
		for _, pv := range list.Patrols {
			if pv.Plan.From.Before(day) || !pv.Plan.From.Before(next) {
				continue
			}
			count["planned"]++
			if len(pv.Reports) == 0 {
				count["unreported"]++
			} else {
				count[pv.Reports[len(pv.Reports)-1].Outcome]++
			}
		}
		got := fmt.Sprint(p.Planned, p.Completed, p.Partial, p.Cancelled, p.Restricted, p.Unreported)
		if want := fmt.Sprint(count["planned"], count["completed"], count["partial"], count["cancelled"], count["restricted"], count["unreported"]); got != want || p.Planned == 0 {
			t.Errorf("%s: planned, completed, partial, cancelled, restricted, unreported: the report %s, the API %s", rep.Day, got, want)
		}

		var cov ghttp.PatrolCoverageView
		d.getJSON(t, "/v1/patrols/coverage?agreement=framework-2025&"+q, &cov)
		if len(cov.Coverage) == 0 || len(cov.Restrictions) != 1 || cov.DistanceM != web.PatrolDistanceM || cov.Days != web.PatrolGapDays {
			t.Fatalf("%s: the API's coverage %+v", rep.Day, cov)
		}
		r := cov.Restrictions[0]
		if p.Restrictions.Total != r.Total || p.Restrictions.DurationMin != r.DurationMin || fmt.Sprint(p.Restrictions.ByParty) != fmt.Sprint(r.ByParty) ||
			fmt.Sprint(p.Restrictions.ByWhom) != fmt.Sprint(r.ByWhom) {
			t.Errorf("%s: restrictions %+v, the API %+v", rep.Day, p.Restrictions, r)
		}
		var down time.Duration
		n := 0
		for _, o := range cov.Outages {
			s, e := o.Outage.From, o.Outage.To
			if s.Before(day) {
				s = day
			}
			if e.After(next) {
				e = next
			}
			if e.After(s) {
				down += e.Sub(s)
				n++
			}
		}
		if p.OutageHours != down.Hours() || len(p.Outages) != n || n == 0 {
			t.Errorf("%s: %v outage hours in %d outages, the API %v in %d", rep.Day, p.OutageHours, len(p.Outages), down.Hours(), n)
		}
		if len(p.Coverage) != 1 || p.Coverage[0].Agreement != cov.Agreement || p.Coverage[0].Version != cov.Version || len(p.Coverage[0].Zones) != len(cov.Coverage) {
			t.Fatalf("%s: coverage %+v, the API's zones %d", rep.Day, p.Coverage, len(cov.Coverage))
		}
		covered := 0.0
		for i, z := range p.Coverage[0].Zones {
			c := cov.Coverage[i]
			var up []patrol.FootprintHours
			for _, f := range c.Footprints {
				if f.UpHours > 0 {
					up = append(up, f)
				}
			}
			if z.Zone != c.Zone || z.Coverage != c.Coverage || !slices.Equal(z.Tracks, c.Tracks) || fmt.Sprint(z.Footprints) != fmt.Sprint(up) {
				t.Errorf("%s: zone %s: the report %+v, the API %+v", rep.Day, z.Zone, z, c)
			}
			if z.StaleShare != cov.Gaps[i].Share || z.Restrictions != r.ByZone[i].Count {
				t.Errorf("%s: zone %s: stale %v and %d restrictions, the API %v and %d", rep.Day, z.Zone, z.StaleShare, z.Restrictions, cov.Gaps[i].Share, r.ByZone[i].Count)
			}
			covered += z.Share
		}
		if covered == 0 {
			t.Errorf("%s: the patrols covered nothing", rep.Day)
		}
		if i == 0 && (p.Restrictions.Total != 2 || p.Restricted != 1) {
			t.Errorf("%s: the demo's restricted patrol is missing: %+v", rep.Day, p)
		}

		// The map lists the restrictions of the same dates as the CSV.
		rows := restrictionsCSV(t, d, "/v1/patrols/restrictions.csv?"+q)
		res, err := http.Get(d.srv.URL + "/map?" + q)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var listed []string
		for _, m := range regexp.MustCompile(`<tr data-report="[^"]*" data-observation="([^"]*)">`).FindAllStringSubmatch(string(page), -1) {
			listed = append(listed, m[1])
		}
		var want []string
		for _, row := range rows {
			want = append(want, row["observation"])
		}
		slices.Sort(listed)
		slices.Sort(want)
		if !slices.Equal(listed, want) || i == 0 && len(want) == 0 {
			t.Errorf("%s: the map lists restrictions %v, the CSV %v", rep.Day, listed, want)
		}
	}

	// The board, on the second day at noon: its last seven days.
	now := demoStart.Add(36 * time.Hour)
	ui := web.New(d.node.Store(), web.WithClock(func() time.Time { return now }))
	rec := httptest.NewRecorder()
	ui.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/board", nil))
	body := rec.Body.String()
	from := now.Add(-7 * 24 * time.Hour)
	link := regexp.MustCompile(`<a href="([^"]+)" id="access-csv">`).FindStringSubmatch(body)
	if link == nil {
		t.Fatal("the board has no link to the restrictions")
	}
	byParty := map[string]int{}
	total := 0
	for _, row := range restrictionsCSV(t, d, strings.ReplaceAll(link[1], "&amp;", "&")) {
		at, err := time.Parse(time.RFC3339, row["at"])
		if err != nil {
			t.Fatal(err)
		}
		if !at.Before(from) && at.Before(now) {
			byParty[row["party"]]++
			total++
		}
	}
	shown := map[string]int{}
	for _, m := range regexp.MustCompile(`<tr data-party="([^"]*)"><th scope="row">[^<]*</th><td class="num" data-count="(\d+)">`).FindAllStringSubmatch(
		regexp.MustCompile(`(?s)<section aria-labelledby="access-h".*?</section>`).FindString(body), -1) {
		shown[m[1]], _ = strconv.Atoi(m[2])
	}
	if !maps.Equal(shown, byParty) || total == 0 || !strings.Contains(body, fmt.Sprintf(`<span id="access-total" data-count="%d">`, total)) {
		t.Errorf("the board's restrictions by party %v, the CSV's %v (%d)", shown, byParty, total)
	}
}

// restrictionsCSV reads a restrictions CSV from the demo's server, each
// row by column name.
func restrictionsCSV(t *testing.T, d *demo, path string) []map[string]string {
	t.Helper()
	res, err := http.Get(d.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	records, err := csv.NewReader(res.Body).ReadAll()
	if err != nil || res.StatusCode != 200 || len(records) == 0 || !slices.Equal(records[0], ghttp.RestrictionCSVColumns) {
		t.Fatalf("GET %s: %s %v %v", path, res.Status, err, records)
	}
	var out []map[string]string
	for _, r := range records[1:] {
		row := map[string]string{}
		for i, c := range records[0] {
			row[c] = r[i]
		}
		out = append(out, row)
	}
	return out
}
