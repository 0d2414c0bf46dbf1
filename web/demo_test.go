package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guarantor/guarantor/agreements"
	"github.com/guarantor/guarantor/engine"
	"github.com/guarantor/guarantor/entry"
	ghttp "github.com/guarantor/guarantor/http"
	"github.com/guarantor/guarantor/internal/testkeys"
	"github.com/guarantor/guarantor/ledger"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/scenario"
	"github.com/guarantor/guarantor/store/sqlite"
	"github.com/guarantor/guarantor/web"
	"github.com/prometheus/client_golang/prometheus"
)

// demo is a running node with the engine, fed the generated SYNTHETIC
// scenario and the 2025 framework agreement the way `guarantor demo` feeds
// them (signed entries through intake, fusion by the engine, a few analyst
// verifications), served by the JSON API with the web pages mounted
// through WithUI on a real listener.
type demo struct {
	node *node.Node
	srv  *httptest.Server
	ui   http.Handler // the pages alone
	api  http.Handler // the whole server: API and pages
}

// demoStart is the first day of the scenario: after the framework's
// effective date, and in the past.
var demoStart = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// newDemo builds a demo of days of scenario. It takes a few seconds.
func newDemo(tb testing.TB, days int) *demo {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	quiet := slog.New(slog.DiscardHandler)
	auth, logKey, eng := testkeys.New(tb, "authority"), testkeys.New(tb, "demo.log"), testkeys.New(tb, "engine")
	lg, err := ledger.Open(ctx, ledger.Config{Dir: filepath.Join(dir, "log"), Signer: logKey.S, CheckpointInterval: 100 * time.Millisecond, BatchMaxAge: 5 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "projection.db"))
	if err != nil {
		tb.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	n, err := node.New(ctx, node.Config{Log: lg, Store: st, AuthorityVKey: auth.VKey, Logger: quiet, Metrics: node.NewMetrics(reg),
		Engine: &node.EngineConfig{Rules: engine.DefaultConfig(), Signer: eng.S, TickEvery: -1}})
	if err != nil {
		tb.Fatal(err)
	}
	d := &demo{node: n}
	tb.Cleanup(func() {
		if d.srv != nil {
			d.srv.Close()
		}
		n.Close()
		_ = lg.Close(ctx)
		_ = st.Close()
	})
	submit := func(raw []byte) *node.Result {
		tb.Helper()
		res, err := n.Submit(ctx, raw)
		if err != nil {
			tb.Fatalf("submit %.60q: %v", raw, err)
		}
		return res
	}
	// submitAll submits the entries with 32 at a time in flight.
	submitAll := func(raws [][]byte) {
		tb.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, len(raws))
		sem := make(chan struct{}, 32)
		for _, raw := range raws {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				if _, err := n.Submit(ctx, raw); err != nil {
					errs <- fmt.Errorf("submit %.60q: %w", raw, err)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			tb.Fatal(err)
		}
	}
	keyEntry := func(k testkeys.Key, role string) []byte {
		body, err := json.Marshal(entry.KeyBody{VKey: k.VKey, Role: role, Label: k.ID + " (test)",
			NotBefore: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2027, 12, 31, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			tb.Fatal(err)
		}
		return testkeys.Sign(tb, entry.KindKey, string(body), auth)
	}

	// Keys: the engine, the scenario's monitors, an analyst, and every
	// party and guarantor the agreement binds.
	cfg := scenario.Config{Seed: 1, Start: demoStart, Days: days, Monitors: 6}
	monitors := scenario.Monitors(cfg)
	monKeys := make([]testkeys.Key, len(monitors))
	keys := [][]byte{keyEntry(eng, "engine")}
	for i, m := range monitors {
		monKeys[i] = testkeys.New(tb, m.Name)
		keys = append(keys, keyEntry(monKeys[i], "monitor"))
	}
	analyst := testkeys.New(tb, "analyst.demo")
	keys = append(keys, keyEntry(analyst, "analyst"))
	body, err := agreements.JSON("framework-2025")
	if err != nil {
		tb.Fatal(err)
	}
	var doc entry.Agreement
	if err := json.Unmarshal(body, &doc); err != nil {
		tb.Fatal(err)
	}
	var signatories []testkeys.Key
	for _, role := range doc.Signatories() {
		k := testkeys.New(tb, strings.ReplaceAll(role, ":", "."))
		signatories = append(signatories, k)
		keys = append(keys, keyEntry(k, role))
	}
	submitAll(keys)
	submit(testkeys.Sign(tb, entry.KindAgreement, string(body), signatories...))

	// The scenario's observations, then the engine's incidents.
	var obs [][]byte
	for _, it := range scenario.Generate(cfg) {
		b, err := json.Marshal(it.Observation)
		if err != nil {
			tb.Fatal(err)
		}
		obs = append(obs, testkeys.Sign(tb, entry.KindObservation, string(b), monKeys[it.Monitor]))
	}
	submitAll(obs)
	if err := n.WaitDerived(ctx); err != nil {
		tb.Fatal(err)
	}

	// A SYNTHETIC analyst verifies a few corroborated incidents.
	var toVerify []entry.Incident
	err = st.Incidents(ctx, node.IncidentFilter{Level: "corroborated", Limit: 3}, func(row node.IncidentRow) error {
		toVerify = append(toVerify, row.Incident)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	for _, in := range toVerify {
		b, err := json.Marshal(entry.Verification{ID: fmt.Sprintf("test-verify-%d", in.ID), At: in.To.Add(time.Hour), Incident: in.ID, Revision: in.Revision,
			Verdict: entry.VerdictVerify, AttributedTo: "party:RU", Confidence: "medium", Basis: []string{"imagery"},
			Text: "SYNTHETIC test verification <b>not bold</b>"})
		if err != nil {
			tb.Fatal(err)
		}
		submit(testkeys.Sign(tb, entry.KindVerification, string(b), analyst))
	}
	if err := n.WaitDerived(ctx); err != nil {
		tb.Fatal(err)
	}

	d.ui = web.New(n.Store(), web.WithLog(n.Log()), web.WithLogger(quiet))
	info := ghttp.Info{Origin: "demo.log", LogVKey: logKey.VKey, AuthorityVKey: auth.VKey, EngineVKey: eng.VKey}
	d.api = ghttp.NewServer(n, info, filepath.Join(dir, "log"), reg, quiet, ghttp.WithUI(d.ui))
	d.srv = httptest.NewServer(d.api)
	return d
}

// getJSON reads path from the demo's server into v.
func (d *demo) getJSON(tb testing.TB, path string, v any) {
	tb.Helper()
	res, err := http.Get(d.srv.URL + path)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s: %s %s", path, res.Status, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		tb.Fatalf("GET %s: %v", path, err)
	}
}

// countIncidents returns how many incidents GET /v1/incidents lists for
// query.
func (d *demo) countIncidents(tb testing.TB, query string) int {
	tb.Helper()
	var v struct {
		Incidents []json.RawMessage `json:"incidents"`
	}
	d.getJSON(tb, "/v1/incidents?limit=10000&"+query, &v)
	return len(v.Incidents)
}

// TestMountedBesideTheAPI: through WithUI, the pages answer every GET the
// API does not, the API keeps its routes, and the pages' counts are the
// API's.
func TestMountedBesideTheAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a node with the engine (a few seconds)")
	}
	d := newDemo(t, 2)
	get := func(path string) (*http.Response, string) {
		t.Helper()
		res, err := http.Get(d.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, string(b)
	}
	for path, want := range map[string]string{
		"/":                     "text/html; charset=utf-8",
		"/map":                  "text/html; charset=utf-8",
		"/v1/log":               "application/json",
		"/v1/incidents":         "application/json",
		"/v1/incidents.geojson": "application/geo+json",
	} {
		if res, body := get(path); res.StatusCode != 200 || res.Header.Get("Content-Type") != want {
			t.Errorf("GET %s: %s %s %.200s", path, res.Status, res.Header.Get("Content-Type"), body)
		}
	}
	if res, body := get("/no/such/page"); res.StatusCode != 404 || !strings.Contains(body, "Page not found") {
		t.Errorf("GET /no/such/page: %s %.200s", res.Status, body)
	}
	open := d.countIncidents(t, "")
	if open == 0 {
		t.Fatal("the engine made no incident")
	}
	_, body := get("/")
	if want := fmt.Sprintf(`data-count="%d">Open incidents: %d</p>`, open, open); !strings.Contains(body, want) {
		t.Errorf("home: no %q", want)
	}
	var info struct{ Size uint64 }
	d.getJSON(t, "/v1/log", &info)
	if want := fmt.Sprintf(`<dd id="log-size">%d</dd>`, info.Size); !strings.Contains(body, want) {
		t.Errorf("home: no %q", want)
	}
	_, body = get("/map")
	if want := fmt.Sprintf(`data-count="%d">Incidents: %d</strong>`, open, open); !strings.Contains(body, want) {
		t.Errorf("map: no %q", want)
	}
}
