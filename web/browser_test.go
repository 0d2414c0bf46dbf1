package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/guarantor/guarantor/exchange/progress"
	"github.com/guarantor/guarantor/web"
)

// chromium is where Debian's chromium package installs the browser.
const chromium = "/usr/bin/chromium"

// browser starts headless Chromium for t and returns a tab's context, and
// a func that fails t if the tab requested anything from a host other
// than this machine or if a script threw. Screenshots go to the
// directory GUARANTOR_ARTIFACTS names (default: a temporary one).
func browser(t *testing.T) (ctx context.Context, check func()) {
	t.Helper()
	path := chromium
	if _, err := os.Stat(path); err != nil {
		if path, err = exec.LookPath("chromium"); err != nil {
			t.Skip("chromium not found: install Debian's chromium package")
		}
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(1280, 900))...)
	t.Cleanup(cancelAlloc)
	var mu sync.Mutex
	var foreign, thrown []string
	ctx, cancel := chromedp.NewContext(alloc, chromedp.WithListener(func(ev any) {
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			u, err := url.Parse(ev.Request.URL)
			if err != nil || !local(u) {
				mu.Lock()
				foreign = append(foreign, ev.Request.URL)
				mu.Unlock()
			}
		case *runtime.EventExceptionThrown:
			mu.Lock()
			thrown = append(thrown, ev.ExceptionDetails.Text+" "+fmt.Sprint(ev.ExceptionDetails.Exception))
			mu.Unlock()
		}
	}))
	t.Cleanup(cancel)
	// Start the browser and turn on the network domain explicitly.
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx, func() {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		for _, u := range foreign {
			t.Errorf("a request left this machine: %s", u)
		}
		for _, e := range thrown {
			t.Errorf("a script threw: %s", e)
		}
	}
}

// local reports whether u names this machine (or needs no network).
func local(u *url.URL) bool {
	switch u.Scheme {
	case "data", "blob", "about":
		return true
	}
	h := u.Hostname()
	return h == "127.0.0.1" || h == "localhost" || h == "::1"
}

// artefacts returns the directory for screenshots.
func artefacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("GUARANTOR_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// run runs a chromedp action with a timeout and fails t on error.
func run[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	actx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(actx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// do runs chromedp actions with a timeout and fails t on error.
func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	actx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(actx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// navigate runs action (a click or a navigation) and waits for the page it
// loads, failing t unless it answers 200.
func navigate(t *testing.T, ctx context.Context, what string, action chromedp.Action[chromedp.Void]) {
	t.Helper()
	actx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := chromedp.RunResponse(actx, action)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if res.Status != 200 {
		t.Fatalf("%s: %s answered %d", what, res.URL, res.Status)
	}
}

// shoot saves a full-page screenshot as dir/name.
func shoot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png := run(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// shootElement saves a screenshot of the element sel selects as dir/name.
func shootElement(t *testing.T, ctx context.Context, dir, name string, sel chromedp.CSS) {
	t.Helper()
	png := run(t, ctx, "screenshot "+name, chromedp.Screenshot(sel))
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// groupDigits writes n as the pages do, in groups of three digits
// separated by narrow no-break spaces.
func groupDigits(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "\u202f" + s[i:]
	}
	return s
}

// TestBrowser walks the pages in headless Chromium as a person would: the
// overview, the map, a filter, an incident and the log entry behind it,
// a daily report, the board, a prisoner exchange, the explorer, and the
// overview in Ukrainian, checking the text shown against the API's JSON,
// and that nothing is requested from another host.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser and a node (about ten seconds)")
	}
	ctx, check := browser(t)
	dir := artefacts(t)
	d := newDemo(t, 4)
	defer check()

	// The overview: the log's size and the counts by level are the API's.
	navigate(t, ctx, "open /", chromedp.Navigate(d.srv.URL+"/"))
	var info struct{ Size uint64 }
	d.getJSON(t, "/v1/log", &info)
	if got := run(t, ctx, "log size", chromedp.Text(chromedp.ID("log-size"))); got != strconv.FormatUint(info.Size, 10) {
		t.Errorf("log size shown %q, API %d", got, info.Size)
	}
	open := d.countIncidents(t, "")
	if got, want := run(t, ctx, "open incidents", chromedp.Text(chromedp.ID("open-incidents"))), fmt.Sprintf("Open incidents: %d", open); got != want {
		t.Errorf("home shows %q, want %q (the API's count)", got, want)
	}
	for _, level := range []string{"reported", "corroborated", "verified"} {
		got := run(t, ctx, "level "+level, chromedp.Text(chromedp.CSS(`td[data-level="`+level+`"]`)))
		if want := strconv.Itoa(d.countIncidents(t, "level="+level)); got != want {
			t.Errorf("%s: home shows %q, API %s", level, got, want)
		}
	}
	var obligations struct {
		Obligations []json.RawMessage `json:"obligations"`
	}
	d.getJSON(t, "/v1/obligations?status=open&limit=10000", &obligations)
	if got, want := run(t, ctx, "open obligations", chromedp.Text(chromedp.ID("open-obligations"))), fmt.Sprintf("Open obligations: %d.", len(obligations.Obligations)); got != want {
		t.Errorf("home shows %q, want %q", got, want)
	}
	// The keyboard: the first Tab reaches the skip link.
	do(t, ctx, "tab", chromedp.KeyEvent("\t"))
	if got := run(t, ctx, "focus", chromedp.Evaluate[string](`document.activeElement.textContent`)); got != "Skip to the main content" {
		t.Errorf("first Tab focuses %q", got)
	}
	shoot(t, ctx, dir, "1-home.png")

	// The map: every incident the API selects is drawn and listed, and the
	// agreement's zones and lines are drawn.
	navigate(t, ctx, "open the map", chromedp.Click(chromedp.CSS(`a[href="/map"]`)))
	loaded := run(t, ctx, "map loaded", chromedp.Poll[string](`(m => m.loaded && m.zones && m.basemap)(document.getElementById("map").dataset)`))
	if loaded == "" {
		t.Fatal("the map drew nothing")
	}
	mapState := func() (drawn, zones, lines, listed int) {
		t.Helper()
		v := run(t, ctx, "map state", chromedp.Evaluate[[]int](`(() => { const m = document.getElementById("map").dataset;
			return [+m.loaded, +m.zones, +m.lines, +document.getElementById("incident-count").dataset.count]; })()`))
		return v[0], v[1], v[2], v[3]
	}
	drawn, zones, lines, listed := mapState()
	if drawn != open || listed != open {
		t.Errorf("map draws %d and lists %d incidents; the API has %d", drawn, listed, open)
	}
	if zones == 0 || lines == 0 {
		t.Errorf("map draws %d zones and %d lines", zones, lines)
	}
	markers := run(t, ctx, "markers", chromedp.Evaluate[int](`document.querySelectorAll("#map .leaflet-marker-icon:not(.restriction)").length`))
	if markers == 0 || markers > open {
		t.Errorf("%d markers for %d incidents", markers, open)
	}
	// Markers are named for screen readers and keyboard users, in words.
	title := run(t, ctx, "marker title", chromedp.Evaluate[string](`document.querySelector("#map .leaflet-marker-icon:not(.restriction)").title`))
	if !strings.HasPrefix(title, "Incident ") && !strings.HasPrefix(title, "A group of nearby incidents (") {
		t.Errorf("a marker is titled %q", title)
	}
	rows := run(t, ctx, "rows", chromedp.Evaluate[int](`document.querySelectorAll("table.incidents tbody tr").length`))
	if rows != min(open, 500) {
		t.Errorf("the table has %d rows for %d incidents", rows, open)
	}
	shootElement(t, ctx, dir, "2-map.png", "#map")

	// The patrols: tracks, planned routes, cameras and restrictions are
	// drawn from /v1/patrols.geojson; each restriction has a marker and a
	// row in the table below the map, and the layer control hides and
	// shows them.
	run(t, ctx, "patrols loaded", chromedp.Poll[string](`(m => m.restrictions && m.tracks)(document.getElementById("map").dataset)`))
	var fc struct {
		Features []struct {
			Properties struct {
				Kind        string `json:"kind"`
				Team        string `json:"team"`
				Observation string `json:"observation"`
			} `json:"properties"`
		} `json:"features"`
	}
	d.getJSON(t, "/v1/patrols.geojson", &fc)
	kinds := map[string]int{}
	var restricted string
	for _, f := range fc.Features {
		kinds[f.Properties.Kind]++
		if f.Properties.Kind == "restriction" {
			restricted = f.Properties.Team
		}
	}
	patrols := run(t, ctx, "patrol layers", chromedp.Evaluate[[]int](`(() => { const m = document.getElementById("map").dataset;
		return [+m.tracks, +m.plans + +m.cameras, +m.restrictions, document.querySelectorAll("#map .leaflet-marker-icon.restriction").length,
			document.querySelectorAll("#map path.track").length, document.querySelectorAll("#restrictions tbody tr").length]; })()`))
	if kinds["restriction"] == 0 || patrols[0] != kinds["track"] || patrols[1] != kinds["plan"] || patrols[2] != kinds["restriction"] ||
		patrols[3] != kinds["restriction"] || patrols[4] != kinds["track"] || patrols[5] != kinds["restriction"] {
		t.Errorf("tracks, plans, restrictions, restriction markers, track paths and table rows %v; the API's features %v", patrols, kinds)
	}
	rowShown := run(t, ctx, "restriction row", chromedp.Evaluate[bool](`(r => r.getBoundingClientRect().height > 0 && getComputedStyle(r).visibility === "visible")(document.querySelector("#restrictions tbody tr"))`))
	if !rowShown {
		t.Error("the table's restriction rows are not shown")
	}
	layer := func(name string) string {
		t.Helper()
		i := run(t, ctx, "layer "+name, chromedp.Evaluate[int](`[...document.querySelectorAll(".leaflet-control-layers-overlays label")].findIndex(l => l.textContent.trim() === `+strconv.Quote(name)+`)`))
		if i < 0 {
			t.Fatalf("the layer control has no %q", name)
		}
		return fmt.Sprintf(".leaflet-control-layers-overlays label:nth-child(%d) input", i+1)
	}
	visible := func(sel string) int {
		t.Helper()
		return run(t, ctx, "count "+sel, chromedp.Evaluate[int](`[...document.querySelectorAll(`+strconv.Quote(sel)+`)].filter(e => e.getBoundingClientRect().width > 0).length`))
	}
	restrictionsBox, tracksBox := layer("Restrictions of movement"), layer("Patrol tracks")
	do(t, ctx, "hide the restrictions", chromedp.Click(chromedp.CSS(restrictionsBox)))
	if n := visible("#map .leaflet-marker-icon.restriction"); n != 0 {
		t.Errorf("%d restriction markers after hiding their layer", n)
	}
	do(t, ctx, "show the restrictions", chromedp.Click(chromedp.CSS(restrictionsBox)))
	if n := visible("#map .leaflet-marker-icon.restriction"); n != kinds["restriction"] {
		t.Errorf("%d restriction markers after showing their layer, want %d", n, kinds["restriction"])
	}
	do(t, ctx, "hide the tracks", chromedp.Click(chromedp.CSS(tracksBox)))
	if n := visible("#map path.track"); n != 0 {
		t.Errorf("%d tracks after hiding their layer", n)
	}
	do(t, ctx, "show the tracks", chromedp.Click(chromedp.CSS(tracksBox)))
	if n := run(t, ctx, "tracks", chromedp.Evaluate[int](`document.querySelectorAll("#map path.track").length`)); n != kinds["track"] {
		t.Errorf("%d tracks after showing their layer, want %d", n, kinds["track"])
	}
	// A restriction's marker says who stopped which patrol, in words.
	rtitle := run(t, ctx, "restriction title", chromedp.Evaluate[string](`document.querySelector("#map .leaflet-marker-icon.restriction").title`))
	if !strings.HasPrefix(rtitle, "Patrol of "+restricted+" stopped: ") || !strings.Contains(rtitle, " min, ") {
		t.Errorf("a restriction marker is titled %q", rtitle)
	}
	run(t, ctx, "open a restriction", chromedp.Evaluate[bool](`(m => { m.click(); return true; })(document.querySelector("#map .leaflet-marker-icon.restriction"))`))
	popup := run(t, ctx, "restriction popup", chromedp.Poll[string](`(p => p && p.textContent)(document.querySelector(".leaflet-popup-content"))`))
	if !strings.Contains(popup, "The patrol's report in the log explorer") {
		t.Errorf("the restriction's popup reads %q", popup)
	}
	shootElement(t, ctx, dir, "2b-map-patrols.png", "#map")

	// A filter: verified incidents only.
	do(t, ctx, "choose a level", chromedp.SetValue(chromedp.ID("f-level"), "verified"))
	navigate(t, ctx, "apply the filter", chromedp.Click(chromedp.ID("f-apply")))
	if loc := run(t, ctx, "location", chromedp.Location()); !strings.Contains(loc, "level=verified") {
		t.Fatalf("after the filter the page is %s", loc)
	}
	run(t, ctx, "filtered map loaded", chromedp.Poll[string](`(m => m.loaded && m.basemap)(document.getElementById("map").dataset)`))
	verified := d.countIncidents(t, "level=verified")
	if drawn, _, _, listed := mapState(); drawn != verified || listed != verified || verified == 0 {
		t.Fatalf("filtered: map draws %d and lists %d; the API has %d verified", drawn, listed, verified)
	}
	if got := run(t, ctx, "selected", chromedp.Evaluate[string](`document.getElementById("f-level").value`)); got != "verified" {
		t.Errorf("the form forgot the level: %q", got)
	}
	shoot(t, ctx, dir, "3-map-verified.png")

	// A zone filter: the markers (a group counting as its incidents), the
	// table and the API agree on the incidents in the zone.
	options := run(t, ctx, "zones offered", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#f-zone option")].map(o => o.value).filter(v => v)`))
	zone, inZone := "", 0
	for _, o := range options {
		a, z, _ := strings.Cut(o, "/")
		if n := d.countIncidents(t, url.Values{"zone": {z}, "agreement": {a}}.Encode()); n > 0 && n < open {
			zone, inZone = o, n
			break
		}
	}
	if zone == "" {
		t.Fatalf("no zone of %v holds some incidents but not all", options)
	}
	do(t, ctx, "choose a zone", chromedp.SetValue(chromedp.ID("f-level"), ""), chromedp.SetValue(chromedp.ID("f-zone"), zone))
	navigate(t, ctx, "apply the zone", chromedp.Click(chromedp.ID("f-apply")))
	if loc := run(t, ctx, "location", chromedp.Location()); !strings.Contains(loc, "zone="+url.QueryEscape(zone)) || strings.Contains(loc, "level=verified") {
		t.Fatalf("after the zone filter the page is %s", loc)
	}
	run(t, ctx, "zone map loaded", chromedp.Poll[string](`(m => m.loaded && m.basemap)(document.getElementById("map").dataset)`))
	counts := run(t, ctx, "zone markers", chromedp.Evaluate[[]int](`(() => {
		const singles = document.querySelectorAll("#map .leaflet-marker-icon.inc").length;
		const grouped = [...document.querySelectorAll("#map .leaflet-marker-icon.cluster")].reduce((n, c) => n + +c.textContent, 0);
		return [singles + grouped, +document.getElementById("incident-count").dataset.count,
			document.querySelectorAll("table.incidents tbody tr").length, +document.getElementById("map").dataset.loaded]; })()`))
	if counts[0] != inZone || counts[1] != inZone || counts[2] != min(inZone, 500) || counts[3] != inZone {
		t.Errorf("zone %s: markers count %d incidents, the table %d (%d rows), the map loaded %d; the API has %d", zone, counts[0], counts[1], counts[2], counts[3], inZone)
	}
	if got := run(t, ctx, "zone selected", chromedp.Evaluate[string](`document.getElementById("f-zone").value`)); got != zone {
		t.Errorf("the form forgot the zone: %q", got)
	}
	shoot(t, ctx, dir, "3b-map-zone.png")
	// Back to the verified incidents, for what follows.
	navigate(t, ctx, "back to verified", chromedp.Navigate(d.srv.URL+"/map?level=verified"))
	run(t, ctx, "verified map loaded", chromedp.Poll[string](`(m => m.loaded && m.basemap)(document.getElementById("map").dataset)`))

	// Printed, the page is the table: no form, no map.
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	printed := run(t, ctx, "print styles", chromedp.Evaluate[[]string](`["form.filters", "#map-wrap", "table.incidents"].map(s => getComputedStyle(document.querySelector(s)).display)`))
	if printed[0] != "none" || printed[1] != "none" || printed[2] == "none" {
		t.Errorf("printed, the form, map and table display as %v", printed)
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
		t.Fatal(err)
	}

	// An incident: its revisions, observations and verifications are the
	// API's.
	// One that an analyst verified (others are verified by their sources).
	var list struct {
		Incidents []struct {
			ID       uint64 `json:"id"`
			Verdicts *struct {
				Verify int `json:"verify"`
			} `json:"verdicts"`
		} `json:"incidents"`
	}
	d.getJSON(t, "/v1/incidents?level=verified&limit=10000", &list)
	id := ""
	for _, in := range list.Incidents {
		if in.Verdicts != nil && in.Verdicts.Verify > 0 {
			id = strconv.FormatUint(in.ID, 10)
		}
	}
	if id == "" {
		t.Fatal("no incident verified by an analyst")
	}
	navigate(t, ctx, "open incident "+id, chromedp.Click(chromedp.CSS(`table.incidents tbody tr[data-id="`+id+`"] a[href^="/incidents/"]`)))
	if got := run(t, ctx, "h1", chromedp.Text(chromedp.CSS("h1"))); got != "Incident "+id {
		t.Errorf("incident page title %q, want Incident %s", got, id)
	}
	var detail struct {
		Revisions     []json.RawMessage `json:"revisions"`
		Members       []json.RawMessage `json:"members"`
		Verifications []json.RawMessage `json:"verifications"`
	}
	d.getJSON(t, "/v1/incidents/"+id, &detail)
	for table, want := range map[string]int{"revisions": len(detail.Revisions), "observations": len(detail.Members), "verifications": len(detail.Verifications)} {
		got := run(t, ctx, table, chromedp.Evaluate[int](`document.querySelectorAll("#`+table+` tbody tr").length`))
		if got != want || want == 0 {
			t.Errorf("incident %s: %d %s shown, the API has %d", id, got, table, want)
		}
	}
	if got := run(t, ctx, "level", chromedp.Text(chromedp.ID("incident-level"))); got != "Verified" {
		t.Errorf("incident %s shows level %q", id, got)
	}
	if got := run(t, ctx, "verification text", chromedp.Text(chromedp.CSS("#verifications td.text"))); got != "SYNTHETIC test verification <b>not bold</b>" {
		t.Errorf("verification text shown as %q", got)
	}
	run(t, ctx, "incident map", chromedp.Poll[string](`(m => m.loaded && m.basemap)(document.getElementById("map").dataset)`))
	shoot(t, ctx, dir, "4-incident.png")

	// Its proof: the latest revision's log entry.
	href := run(t, ctx, "proof link", chromedp.Evaluate[string](`document.querySelector("#revisions tbody tr:last-child a.proof").getAttribute("href")`))
	navigate(t, ctx, "follow the proof link", chromedp.Click(chromedp.CSS(`#revisions tbody tr:last-child a.proof`)))
	body := run(t, ctx, "entry", chromedp.Evaluate[string](`(document.querySelector("pre") || document.body).textContent`))
	var ev struct {
		Index uint64 `json:"index"`
		Kind  string `json:"kind"`
		Body  struct {
			ID    uint64 `json:"id"`
			Level string `json:"level"`
		} `json:"body"`
		Note string `json:"note"`
	}
	if err := json.Unmarshal([]byte(body), &ev); err != nil {
		t.Fatalf("%s: %v\n%.300s", href, err, body)
	}
	if "/v1/entries/"+strconv.FormatUint(ev.Index, 10) != href || ev.Kind != "incident" || strconv.FormatUint(ev.Body.ID, 10) != id ||
		ev.Body.Level != "verified" || !strings.HasPrefix(ev.Note, "guarantor.v1/incident\n") {
		t.Errorf("%s: %+v", href, ev)
	}
	shoot(t, ctx, dir, "5-entry.png")

	// The daily report of the first day, opened from the list of days: the
	// figures a person reads are the report's JSON, which the mounted test
	// checks against the API.
	day := demoStart.Format(time.DateOnly)
	navigate(t, ctx, "open the reports", chromedp.Navigate(d.srv.URL+"/reports"))
	navigate(t, ctx, "open the report of "+day, chromedp.Click(chromedp.CSS(`#days a[href="/reports/`+day+`"]`)))
	var rep web.Report
	d.getJSON(t, "/reports/"+day+".json", &rep)
	if rep.Incidents == 0 {
		t.Fatalf("the report of %s counts no incident", day)
	}
	for id, want := range map[string]int{"report-incidents": rep.Incidents, "report-restrictions": rep.MovementRestrictions, "report-breaches": rep.LimitBreaches,
		"report-determinations": rep.NewDeterminations, "report-obligations": len(rep.NewObligations)} {
		if got := run(t, ctx, id, chromedp.Text(chromedp.ID(id))); got != strconv.Itoa(want) {
			t.Errorf("%s shows %q, the JSON %d", id, got, want)
		}
	}
	if got, want := run(t, ctx, "explosions", chromedp.Text(chromedp.ID("report-explosions"))), fmt.Sprintf("%d (incidents: %d)", rep.Explosions.Count, rep.Explosions.Incidents); got != want {
		t.Errorf("explosions shown as %q, the JSON says %q", got, want)
	}
	for _, c := range rep.ByCategory {
		if got := run(t, ctx, c.Category, chromedp.Text(chromedp.CSS(`td[data-category="`+c.Category+`"]`))); got != strconv.Itoa(c.Incidents) {
			t.Errorf("%s: the report shows %q, the JSON %d", c.Category, got, c.Incidents)
		}
	}
	chart := run(t, ctx, "chart", chromedp.Evaluate[[]float64](`(() => { const svg = document.getElementById("chart-30");
		const bars = svg.querySelectorAll("rect.bar"); return [bars.length, +bars[bars.length-1].dataset.count, svg.getBoundingClientRect().width]; })()`))
	if chart[0] != 30 || int(chart[1]) != rep.Incidents || chart[2] < 300 {
		t.Errorf("the 30-day chart: %v bars, the last of %v incidents, %v px wide", chart[0], chart[1], chart[2])
	}
	if got := run(t, ctx, "chart title", chromedp.Evaluate[string](`document.querySelector("#chart-30 title").textContent`)); !strings.HasSuffix(got, " to "+day) {
		t.Errorf("the chart is titled %q", got)
	}
	if got := run(t, ctx, "replay", chromedp.Text(chromedp.ID("proof-replay"))); got != "guarantor replay --server "+d.srv.URL {
		t.Errorf("the replay command shown is %q", got)
	}
	shoot(t, ctx, dir, "6-report.png")
	// Printed (or saved as PDF), the report keeps its figures, charts and
	// proof, and drops the navigation.
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	printed = run(t, ctx, "print styles", chromedp.Evaluate[[]string](`["header.site nav", ".crumbs", "#chart-90", "#proof", "#report-incidents"].map(s => getComputedStyle(document.querySelector(s)).display)`))
	if printed[0] != "none" || printed[1] != "none" || printed[2] == "none" || printed[3] == "none" || printed[4] == "none" {
		t.Errorf("printed, the nav, links, chart, proof and figures display as %v", printed)
	}
	pdf := run(t, ctx, "print to PDF", chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4)))
	if err := os.WriteFile(filepath.Join(dir, "6-report.pdf"), pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
		t.Fatal(err)
	}

	// The board: the open obligations the API lists, each with the time
	// left, which its script keeps ticking.
	navigate(t, ctx, "open the board", chromedp.Click(chromedp.CSS(`header nav a[href="/board"]`)))
	d.getJSON(t, "/v1/obligations?status=open&limit=10000", &obligations)
	if got := run(t, ctx, "open rows", chromedp.Evaluate[int](`document.querySelectorAll("#open-obligations tbody tr").length`)); got != len(obligations.Obligations) || got == 0 {
		t.Errorf("the board lists %d open obligations, the API %d", got, len(obligations.Obligations))
	}
	left := run(t, ctx, "countdown", chromedp.Text(chromedp.CSS(`#open-obligations .countdown`)))
	if !strings.HasSuffix(left, " left") && !strings.HasPrefix(left, "overdue by ") && left != "due now" {
		t.Errorf("a countdown reads %q", left)
	}
	if got := run(t, ctx, "matrix", chromedp.Evaluate[int](`document.querySelectorAll("table.matrix td.cell.gap").length`)); got == 0 {
		t.Error("the coverage matrix shows no gap")
	}
	shoot(t, ctx, dir, "7-board.png")

	// A prisoner exchange, opened from the board: the figures a person
	// reads, and the bar a screen reader announces, are the API's.
	navigate(t, ctx, "open the exchange", chromedp.Click(chromedp.CSS(`#exchanges-table a[href="/exchanges/`+demoExchange+`"]`)))
	var p progress.Progress
	d.getJSON(t, "/v1/exchanges/"+demoExchange, &p)
	for id, want := range map[string]int{"exchange-held": p.Held, "exchange-in-batches": p.InBatches, "exchange-released": p.Released, "exchange-received": p.Received} {
		if got := run(t, ctx, id, chromedp.Evaluate[string](`document.getElementById("`+id+`").firstChild.textContent.trim()`)); got != groupDigits(want) {
			t.Errorf("%s shows %q, the API %d", id, got, want)
		}
	}
	bar := run(t, ctx, "bar", chromedp.Evaluate[[]string](`(b => [b.value.toFixed(1), b.max.toString(), b.getAttribute("aria-label"), document.querySelector("#exchange-completeness .pct").textContent])(document.querySelector("#exchange-completeness progress"))`))
	if want := fmt.Sprintf("%.1f", 100*p.Completeness); bar[0] != want || bar[1] != "100" || bar[2] != "Completeness of exchange "+demoExchange || bar[3] != want+"%" {
		t.Errorf("the completeness bar reads %q, the API %.4f", bar, p.Completeness)
	}
	if got := run(t, ctx, "batches", chromedp.Evaluate[int](`document.querySelectorAll("#batches tbody tr").length`)); got != len(p.Batches) {
		t.Errorf("%d batches shown, the API %d", got, len(p.Batches))
	}
	shoot(t, ctx, dir, "8-exchange.png")

	// The log explorer: search for the incident, open its first
	// observation's entry, and see its inclusion proof checked.
	navigate(t, ctx, "open the explorer", chromedp.Click(chromedp.CSS(`header nav a[href="/explorer"]`)))
	do(t, ctx, "type a search", chromedp.SetValue(chromedp.ID("q"), id))
	navigate(t, ctx, "search", chromedp.Click(chromedp.ID("q-go")))
	navigate(t, ctx, "open entry "+id, chromedp.Click(chromedp.CSS(`#search-results a[href="/explorer/entries/`+id+`"]`)))
	if got := run(t, ctx, "entry kind", chromedp.Text(chromedp.ID("entry-kind"))); got != "observation" {
		t.Errorf("entry %s is of kind %q", id, got)
	}
	if got := run(t, ctx, "verified", chromedp.Evaluate[string](`document.getElementById("proof-verified").dataset.verified`)); got != "true" {
		t.Errorf("entry %s: the proof is checked as %q", id, got)
	}
	if n := run(t, ctx, "proof hashes", chromedp.Evaluate[int](`document.querySelectorAll("#proof-hashes li").length`)); n == 0 {
		t.Error("no proof hashes shown")
	}
	shoot(t, ctx, dir, "9-explorer-entry.png")

	// The overview in Ukrainian, chosen with ?lang=; the next pages stay
	// Ukrainian, and the switcher turns them back to English.
	navigate(t, ctx, "open /?lang=uk", chromedp.Navigate(d.srv.URL+"/?lang=uk"))
	if got := run(t, ctx, "h1", chromedp.Text(chromedp.CSS("h1"))); got != "Огляд" {
		t.Errorf("in Ukrainian the overview is titled %q", got)
	}
	if got := run(t, ctx, "lang", chromedp.Evaluate[string](`document.documentElement.lang`)); got != "uk" {
		t.Errorf("the page's language is %q", got)
	}
	if got, want := run(t, ctx, "open incidents", chromedp.Text(chromedp.ID("open-incidents"))), fmt.Sprintf("Відкритих інцидентів: %d", open); got != want {
		t.Errorf("home shows %q, want %q", got, want)
	}
	shoot(t, ctx, dir, "10-home-uk.png")
	navigate(t, ctx, "open the board in Ukrainian", chromedp.Click(chromedp.CSS(`header nav a[href="/board"]`)))
	if got := run(t, ctx, "h1", chromedp.Text(chromedp.CSS("h1"))); got != "Табло гарантів" {
		t.Errorf("the board, after choosing Ukrainian, is titled %q", got)
	}
	left = run(t, ctx, "countdown", chromedp.Text(chromedp.CSS(`#open-obligations .countdown`)))
	if !strings.HasPrefix(left, "залишилося ") && !strings.HasPrefix(left, "прострочено на ") && left != "термін настав" {
		t.Errorf("a countdown reads %q in Ukrainian", left)
	}
	navigate(t, ctx, "switch to English", chromedp.Click(chromedp.CSS(`nav.langs a[hreflang="en"]`)))
	if got := run(t, ctx, "h1", chromedp.Text(chromedp.CSS("h1"))); got != "Guarantor board" {
		t.Errorf("after switching to English the board is titled %q", got)
	}
	t.Logf("screenshots in %s", dir)
}
