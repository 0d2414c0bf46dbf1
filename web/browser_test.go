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

// TestBrowser walks the pages in headless Chromium as a person would: the
// overview, the map, a filter, an incident and the log entry behind it,
// checking the text shown against the API's JSON, and that nothing is
// requested from another host.
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
	markers := run(t, ctx, "markers", chromedp.Evaluate[int](`document.querySelectorAll("#map .leaflet-marker-icon").length`))
	if markers == 0 || markers > open {
		t.Errorf("%d markers for %d incidents", markers, open)
	}
	// Markers are named for screen readers and keyboard users, in words.
	title := run(t, ctx, "marker title", chromedp.Evaluate[string](`document.querySelector("#map .leaflet-marker-icon").title`))
	if !strings.HasPrefix(title, "Incident ") && !strings.HasPrefix(title, "A group of nearby incidents (") {
		t.Errorf("a marker is titled %q", title)
	}
	rows := run(t, ctx, "rows", chromedp.Evaluate[int](`document.querySelectorAll("table.incidents tbody tr").length`))
	if rows != min(open, 500) {
		t.Errorf("the table has %d rows for %d incidents", rows, open)
	}
	shootElement(t, ctx, dir, "2-map.png", "#map")

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
	t.Logf("screenshots in %s", dir)
}
