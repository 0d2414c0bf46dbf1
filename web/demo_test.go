package web_test

import (
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guarantor/guarantor"

	"github.com/guarantor/guarantor/agreements"
	"github.com/guarantor/guarantor/engine"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/exchange/commit"
	"github.com/guarantor/guarantor/exchange/progress"
	ghttp "github.com/guarantor/guarantor/http"
	"github.com/guarantor/guarantor/internal/testkeys"
	"github.com/guarantor/guarantor/ledger"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/scenario"
	"github.com/guarantor/guarantor/store/sqlite"
	"github.com/guarantor/guarantor/web"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/mod/sumdb/note"
)

// demo is a running node with the engine, fed the generated SYNTHETIC
// scenario, the 2025 framework agreement and SYNTHETIC patrols the way
// `guarantor demo` feeds them (signed entries through intake, fusion by
// the engine, a few analyst verifications), served by the JSON API with the web pages mounted
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

	// SYNTHETIC coalition pledges, deployments and a disbursement, and a
	// suspended sanction, for the board's coverage and sanctions.
	keyOf := map[string]testkeys.Key{}
	for i, role := range doc.Signatories() {
		keyOf[role] = signatories[i]
	}
	signed := func(kind entry.Kind, v any, k testkeys.Key) []byte {
		tb.Helper()
		b, err := json.Marshal(v)
		if err != nil {
			tb.Fatal(err)
		}
		return testkeys.Sign(tb, kind, string(b), k)
	}
	year := demoStart.AddDate(1, 0, 0)
	for _, p := range []struct {
		who      string
		pledge   entry.Pledge
		deployed float64
		status   string
	}{
		{"guarantor:FR", entry.Pledge{ID: "test-fr-amd", Capability: "air_missile_defence", Quantity: 3, Sector: "ua-held", Caveats: []string{"no_deployment_in_ukraine"}}, 2, "deployed"},
		{"guarantor:UK", entry.Pledge{ID: "test-uk-demining", Capability: "land_demining", Quantity: 8, Sector: "security-zone"}, 8, "deployed"},
		{"guarantor:DE", entry.Pledge{ID: "test-de-budget", Capability: "budget_support", Quantity: 1.2e9, Currency: "EUR", Sector: "ua-held"}, 1e8, "disbursed"},
	} {
		pl := p.pledge
		pl.At, pl.Agreement, pl.From, pl.To, pl.Readiness, pl.Text = demoStart, doc.ID, demoStart, year, "high", "SYNTHETIC test pledge"
		submit(signed(entry.KindPledge, pl, keyOf[p.who]))
		submit(signed(entry.KindDeployment, entry.Deployment{ID: pl.ID + "-1", At: demoStart.Add(time.Hour), Pledge: pl.ID, Quantity: p.deployed, Status: p.status, Text: "SYNTHETIC"}, keyOf[p.who]))
	}
	start := demoStart
	submit(signed(entry.KindSanction, entry.Sanction{ID: "test-eu-1", At: demoStart, Authority: "EU", Program: "SYNTHETIC test measure",
		Targets:    []entry.SanctionTarget{{Kind: "sector", Name: "Energy exports", Country: "ru"}},
		Provisions: "SYNTHETIC: import ban, suspended while the ceasefire holds", Status: entry.SanctionSuspended, StartDate: &start,
		Snapback: []entry.SnapbackClause{{Agreement: doc.ID, Trigger: "sanctions-snapback"}}}, keyOf["guarantor:EU"]))

	// A SYNTHETIC prisoner exchange: each side's held list (RU's in two
	// parts), UA's claimed list, and two batches, the first released in
	// full and received but for one person, the second only released.
	verifier := testkeys.New(tb, "verifier.demo")
	submit(keyEntry(verifier, "verifier"))
	logExchange(tb, submit, keyOf["party:RU"], keyOf["party:UA"], verifier)

	// SYNTHETIC patrols, from before the scenario to its last day.
	logPatrols(tb, submitAll, &doc, monKeys, demoStart, days)

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
	d.api = ghttp.NewServer(n, info, reg, quiet, ghttp.WithUI(d.ui))
	d.srv = httptest.NewServer(d.api)
	return d
}

// demoExchange is the id of the demo's SYNTHETIC prisoner exchange.
const demoExchange = "test-exchange"

// logExchange logs the demo's SYNTHETIC exchange through submit: lists
// signed by their party, batches co-signed by both parties and the
// verifier, confirmations signed by the side that released or received.
// The commitments are random stand-ins, with real Merkle roots.
func logExchange(tb testing.TB, submit func([]byte) *node.Result, ru, ua, verifier testkeys.Key) {
	tb.Helper()
	commitments := func(n int) ([]string, string) {
		cs := make([]commit.Commitment, n)
		out := make([]string, n)
		for i := range cs {
			if _, err := rand.Read(cs[i][:]); err != nil {
				tb.Fatal(err)
			}
			out[i] = cs[i].String()
		}
		m, err := commit.NewManifest(cs)
		if err != nil {
			tb.Fatal(err)
		}
		slices.Sort(out)
		root := m.Root()
		return out, hex.EncodeToString(root[:])
	}
	sign := func(kind entry.Kind, v any, keys ...testkeys.Key) []byte {
		tb.Helper()
		b, err := json.Marshal(v)
		if err != nil {
			tb.Fatal(err)
		}
		return testkeys.Sign(tb, kind, string(b), keys...)
	}
	at := demoStart.Add(2 * time.Hour)
	for _, l := range []struct {
		id, side, kind string
		by             map[string]int
		key            testkeys.Key
	}{
		{"test-ru-held", "RU", entry.ListHeld, map[string]int{"held": 897, "deceased": 3}, ru},
		{"test-ua-held", "UA", entry.ListHeld, map[string]int{"held": 12}, ua},
		{"test-ua-claimed", "UA", entry.ListClaimed, map[string]int{"claimed": 4, "missing": 1}, ua},
	} {
		n := 0
		for _, c := range l.by {
			n += c
		}
		cs, root := commitments(n)
		parts := (n + entry.MaxExchangePart - 1) / entry.MaxExchangePart
		for part := 1; part <= parts; part++ {
			share := cs[(part-1)*entry.MaxExchangePart : min(n, part*entry.MaxExchangePart)]
			submit(sign(entry.KindExchangeList, entry.ExchangeList{ID: l.id, Exchange: demoExchange, Side: l.side, List: l.kind, At: at,
				Count: n, ByStatus: l.by, Part: part, Parts: parts, Root: root, Commitments: share}, l.key))
		}
	}
	b1, root1 := commitments(4)
	submit(sign(entry.KindExchangeManifest, entry.ExchangeManifest{ID: "test-batch-1", Exchange: demoExchange, Batch: 1, From: "RU", To: "UA", At: at.Add(time.Hour),
		Count: 4, Part: 1, Parts: 1, Root: root1, Commitments: b1}, ru, ua, verifier))
	b2, root2 := commitments(2)
	submit(sign(entry.KindExchangeManifest, entry.ExchangeManifest{ID: "test-batch-2", Exchange: demoExchange, Batch: 2, From: "UA", To: "RU", At: at.Add(time.Hour),
		Count: 2, Part: 1, Parts: 1, Root: root2, Commitments: b2}, ru, ua, verifier))
	confirm := func(id, manifest, event string, count int, missing []string, keys ...testkeys.Key) {
		submit(sign(entry.KindExchangeConfirmation, entry.ExchangeConfirmation{ID: id, Exchange: demoExchange, Manifest: manifest, Event: event,
			At: at.Add(3 * time.Hour), Count: count, Missing: missing, Text: "SYNTHETIC"}, keys...))
	}
	confirm("test-released-1", "test-batch-1", entry.ExchangeReleased, 4, nil, ru)
	confirm("test-received-1", "test-batch-1", entry.ExchangeReceived, 3, b1[2:3], ua, verifier)
	confirm("test-released-2", "test-batch-2", entry.ExchangeReleased, 2, nil, ua)
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
	t.Run("map filters", func(t *testing.T) { checkMapFilters(t, d, body) })

	t.Run("reports", func(t *testing.T) { checkReports(t, d) })
	t.Run("board", func(t *testing.T) {
		_, body := get("/board")
		checkBoard(t, d, body)
	})
	t.Run("explorer", func(t *testing.T) { checkExplorer(t, d) })
	t.Run("exchange", func(t *testing.T) { checkExchange(t, d) })
	t.Run("patrols", func(t *testing.T) { checkPatrols(t, d) })
}

// checkReports: each day's report counts what the API selects with the
// same filters, and its proof bundle names a checkpoint that covers it.
func checkReports(t *testing.T, d *demo) {
	for i := range 2 {
		day := demoStart.AddDate(0, 0, i)
		q := fmt.Sprintf("from=%s&to=%s", day.Format(time.DateOnly), day.AddDate(0, 0, 1).Format(time.DateOnly))
		var rep web.Report
		// The projection may hold entries a moment before a checkpoint
		// covers them.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			d.getJSON(t, "/reports/"+day.Format(time.DateOnly)+".json", &rep)
			if rep.Proof.Covered || time.Now().After(deadline) {
				break
			}
		}
		var list struct {
			Incidents []entry.Incident `json:"incidents"`
		}
		d.getJSON(t, "/v1/incidents?limit=10000&"+q, &list)
		if rep.Incidents != len(list.Incidents) || rep.Incidents == 0 {
			t.Errorf("%s: the report counts %d incidents, the API %d", rep.Day, rep.Incidents, len(list.Incidents))
		}
		byCategory := map[string]int{}
		for _, c := range rep.ByCategory {
			byCategory[c.Category] = c.Incidents
		}
		for _, c := range entry.Categories {
			if got, want := byCategory[c], d.countIncidents(t, q+"&category="+c); got != want {
				t.Errorf("%s: %s: the report counts %d, the API %d", rep.Day, c, got, want)
			}
		}
		for _, l := range rep.ByLevel {
			if want := d.countIncidents(t, q+"&level="+l.Level); l.Incidents != want {
				t.Errorf("%s: %s: the report counts %d, the API %d", rep.Day, l.Level, l.Incidents, want)
			}
		}
		var explosions int64
		restrictions := 0
		for _, in := range list.Incidents {
			switch in.Category {
			case "shelling", "explosion_heard", "air_strike", "missile_strike", "drone_strike":
				explosions += in.Count
			case "movement_restriction":
				restrictions++
			}
		}
		if rep.Explosions.Count != explosions || rep.MovementRestrictions != restrictions {
			t.Errorf("%s: explosions %d and restrictions %d, the API's incidents add up to %d and %d", rep.Day, rep.Explosions.Count, rep.MovementRestrictions, explosions, restrictions)
		}
		var dets struct {
			Determinations []json.RawMessage `json:"determinations"`
		}
		d.getJSON(t, "/v1/determinations?limit=10000&"+q, &dets)
		if rep.NewDeterminations != len(dets.Determinations) {
			t.Errorf("%s: %d determinations, the API %d", rep.Day, rep.NewDeterminations, len(dets.Determinations))
		}
		var obls struct {
			Obligations []entry.Obligation `json:"obligations"`
		}
		d.getJSON(t, "/v1/obligations?limit=10000", &obls)
		opened := 0
		for _, o := range obls.Obligations {
			if !o.Opened.Before(day) && o.Opened.Before(day.AddDate(0, 0, 1)) {
				opened++
			}
		}
		if len(rep.NewObligations) != opened {
			t.Errorf("%s: %d obligations opened, the API %d", rep.Day, len(rep.NewObligations), opened)
		}
		var info struct {
			Size uint64 `json:"size"`
		}
		d.getJSON(t, "/v1/log", &info)
		p := rep.Proof
		if !p.Covered || p.Checkpoint == nil || p.Checkpoint.Size < p.Entries || p.Checkpoint.Size > info.Size || p.Checkpoint.Origin != "demo.log" ||
			p.Replay != "guarantor replay --server "+d.srv.URL {
			t.Errorf("%s: proof bundle %+v (log size %d)", rep.Day, p, info.Size)
		}
	}
}

// checkBoard: the board lists the open obligations the API lists, and
// the fulfilment records of /v1/guarantors.csv.
func checkBoard(t *testing.T, d *demo, body string) {
	var open struct {
		Obligations []entry.Obligation `json:"obligations"`
	}
	d.getJSON(t, "/v1/obligations?status=open&limit=10000", &open)
	want := map[string]bool{}
	for _, o := range open.Obligations {
		want[strconv.FormatUint(o.ID, 10)] = true
	}
	table := regexp.MustCompile(`(?s)<table id="open-obligations">.*?</table>`).FindString(body)
	rows := regexp.MustCompile(`<tr data-id="(\d+)"`).FindAllStringSubmatch(table, -1)
	got := map[string]bool{}
	for _, m := range rows {
		got[m[1]] = true
	}
	if len(want) == 0 || len(rows) != len(want) || !maps.Equal(got, want) {
		t.Errorf("the board lists %d open obligations, the API %d", len(rows), len(want))
	}
	if !strings.Contains(body, fmt.Sprintf(`<span id="board-open-count" data-count="%d">`, len(want))) {
		t.Error("the board's count of open obligations is not the API's")
	}

	res, err := http.Get(d.srv.URL + "/v1/guarantors.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	records, err := csv.NewReader(res.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]string{}
	for _, m := range regexp.MustCompile(`<tr data-who="([^"]+)"><th scope="row">[^<]*</th><td>([a-z]+)</td>\s*`+
		strings.Repeat(`<td class="num[^"]*">(\d+)</td>\s*`, 7)).FindAllStringSubmatch(body, -1) {
		shown[m[1]] = strings.Join(m[2:], ",")
	}
	for _, r := range records[1:] {
		if want := strings.Join(r[1:9], ","); shown[r[0]] != want {
			t.Errorf("the board's record of %s is %q, /v1/guarantors.csv %q", r[0], shown[r[0]], want)
		}
	}
	if len(shown) != len(records)-1 {
		t.Errorf("the board shows %d records, /v1/guarantors.csv %d", len(shown), len(records)-1)
	}
	for _, want := range []string{`data-agreement="framework-2025"`, `<span id="gaps-framework-2025" data-count="`, `<td class="cell gap" data-sector="ua-held" data-capability="air_missile_defence">`,
		`<tr data-id="test-eu-1">`, `<strong class="sanction-suspended">suspended</strong>`} {
		if !strings.Contains(body, want) {
			t.Errorf("board: no %q", want)
		}
	}
}

// checkExplorer: an entry's page checks its inclusion proof against the
// log's checkpoint, and its receipt verifies with the log's key.
func checkExplorer(t *testing.T, d *demo) {
	var list struct {
		Incidents []struct {
			ID    uint64 `json:"id"`
			Index uint64 `json:"index"`
		} `json:"incidents"`
	}
	d.getJSON(t, "/v1/incidents?limit=1", &list)
	if len(list.Incidents) == 0 {
		t.Fatal("no incident")
	}
	i := strconv.FormatUint(list.Incidents[0].Index, 10)
	read := func(path string) []byte {
		t.Helper()
		res, err := http.Get(d.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("GET %s: %s %v", path, res.Status, err)
		}
		return b
	}
	if page := string(read("/explorer/entries/" + i)); !strings.Contains(page, `data-verified="true"`) || !strings.Contains(page, `<dd id="entry-kind">incident</dd>`) {
		t.Errorf("entry %s: the proof is not checked", i)
	}
	var info struct {
		LogVKey string `json:"log_vkey"`
	}
	d.getJSON(t, "/v1/log", &info)
	v, err := note.NewVerifier(info.LogVKey)
	if err != nil {
		t.Fatal(err)
	}
	var rc guarantor.Receipt
	if err := json.Unmarshal(read("/explorer/entries/"+i+"/receipt.json"), &rc); err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Verify(v, read("/explorer/entries/"+i+"/note")); err != nil {
		t.Errorf("entry %s: the receipt does not verify: %v", i, err)
	}
	id := strconv.FormatUint(list.Incidents[0].ID, 10)
	if page := string(read("/explorer?q=" + id)); !strings.Contains(page, `<a href="/incidents/`+id+`">`) || !strings.Contains(page, `<a href="/explorer/entries/`+id+`">`) {
		t.Errorf("searching %s finds neither the incident nor its first observation", id)
	}
}

// checkExchange: the exchange's page, the board and the home page show
// the figures of GET /v1/exchanges/{id}, and each link they give to the
// API and the log answers.
func checkExchange(t *testing.T, d *demo) {
	var p progress.Progress
	d.getJSON(t, "/v1/exchanges/"+demoExchange, &p)
	if p.Held != 909 || p.InBatches != 6 || p.Released != 6 || p.Received != 3 || len(p.Batches) != 2 || len(p.Lists) != 3 {
		t.Fatalf("the API's progress: %+v", p)
	}
	read := func(path string) string {
		t.Helper()
		res, err := http.Get(d.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("GET %s: %s %v", path, res.Status, err)
		}
		return string(b)
	}
	page := read("/exchanges/" + demoExchange)
	for id, want := range map[string]int{"exchange-held": p.Held, "exchange-in-batches": p.InBatches, "exchange-released": p.Released, "exchange-received": p.Received} {
		if !strings.Contains(page, fmt.Sprintf(`<dd id="%s" data-count="%d">`, id, want)) {
			t.Errorf("%s: the page does not show %d", id, want)
		}
	}
	m := regexp.MustCompile(`data-completeness="([^"]+)" data-complete="(true|false)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the page shows no completeness")
	}
	if got, err := strconv.ParseFloat(m[1], 64); err != nil || got != p.Completeness || m[2] != strconv.FormatBool(p.Complete) {
		t.Errorf("the page's completeness is %s (complete %s), the API's %v (%v)", m[1], m[2], p.Completeness, p.Complete)
	}
	if want := fmt.Sprintf(`<span class="pct">%.1f%%</span>`, 100*p.Completeness); !strings.Contains(page, want) {
		t.Errorf("exchange: no %q", want)
	}
	for _, l := range p.Lists {
		row := regexp.MustCompile(`(?s)<tr data-list="` + regexp.QuoteMeta(l.ID) + `".*?</tr>`).FindString(page)
		if !strings.Contains(row, fmt.Sprintf(`data-count="%d"`, l.Count)) || !strings.Contains(row, fmt.Sprintf(`data-parts="%d/%d"`, l.PartsLogged, l.Parts)) ||
			!strings.Contains(row, l.Root) || len(regexp.MustCompile(`href="/explorer/entries/\d+"`).FindAllString(row, -1)) != len(l.Indexes) {
			t.Errorf("list %s: the row %q does not show %+v", l.ID, row, l)
		}
		for status, n := range l.ByStatus {
			if !strings.Contains(row, fmt.Sprintf(`data-status="%s" data-count="%d"`, status, n)) {
				t.Errorf("list %s: no %d %s", l.ID, n, status)
			}
		}
	}
	for _, b := range p.Batches {
		row := regexp.MustCompile(`(?s)<tr data-manifest="` + regexp.QuoteMeta(b.ID) + `">.*?</tr>`).FindString(page)
		cells := regexp.MustCompile(`<td data-count="(\d+)" data-missing="(\d+)">|<td class="hint">`).FindAllStringSubmatch(row, -1)
		if len(cells) != 2 {
			t.Fatalf("batch %s: %q", b.ID, row)
		}
		for i, c := range []*progress.Confirmed{b.Released, b.Received} {
			want := []string{cells[i][0], "", ""}
			if c != nil {
				want = []string{cells[i][0], strconv.Itoa(c.Count), strconv.Itoa(len(c.Missing))}
			}
			if !slices.Equal(cells[i], want) {
				t.Errorf("batch %s: confirmation %d shows %q, the API %+v", b.ID, i, cells[i], c)
			}
		}
		url := "/v1/exchanges/" + demoExchange + "/manifests/" + b.ID
		if !strings.Contains(row, `href="`+url+`"`) {
			t.Errorf("batch %s: no link to %s", b.ID, url)
		}
		var mv ghttp.ManifestView
		d.getJSON(t, url, &mv)
		if mv.Count != b.Count || len(mv.Commitments) != b.Count || mv.Root != b.Root {
			t.Errorf("batch %s: %s answers %+v", b.ID, url, mv)
		}
	}
	// Every log entry the page links to is one of the exchange's.
	for _, m := range regexp.MustCompile(`href="(/explorer/entries/\d+)"`).FindAllStringSubmatch(page, -1) {
		if entry := read(m[1]); !strings.Contains(entry, `<dd id="entry-kind">exchange-`) || !strings.Contains(entry, demoExchange) {
			t.Errorf("%s is not an entry of the exchange", m[1])
		}
	}
	if !strings.Contains(page, "--exchange "+demoExchange) || !strings.Contains(page, `href="/v1/exchanges/`+demoExchange+`"`) {
		t.Error("the page lacks the family's command or the link to the API")
	}

	board := read("/board")
	row := regexp.MustCompile(`(?s)<tr data-exchange="` + demoExchange + `">.*?</tr>`).FindString(board)
	for attr, want := range map[string]int{"held": p.Held, "in-batches": p.InBatches, "released": p.Released, "received": p.Received} {
		if !strings.Contains(row, fmt.Sprintf(`data-%s="%d"`, attr, want)) {
			t.Errorf("board: the exchange's %s is not %d: %q", attr, want, row)
		}
	}
	if !strings.Contains(row, `href="/exchanges/`+demoExchange+`"`) {
		t.Error("the board does not link the exchange's page")
	}
	if home := read("/"); !strings.Contains(home, `<a href="/exchanges/`+demoExchange+`">`) {
		t.Error("the home page does not link the exchange's page")
	}
}

// checkMapFilters: for every zone and party the map offers (mapPage is
// its unfiltered page), the page counts what GET /v1/incidents selects
// with zone and agreement or party, and the GeoJSON the map reads is
// that selection.
func checkMapFilters(t *testing.T, d *demo, mapPage string) {
	pageCount := func(query string) int {
		t.Helper()
		res, err := http.Get(d.srv.URL + "/map?" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		m := regexp.MustCompile(`id="incident-count" data-count="(\d+)"`).FindSubmatch(b)
		if res.StatusCode != 200 || m == nil {
			t.Fatalf("/map?%s: %s %.300s", query, res.Status, b)
		}
		n, _ := strconv.Atoi(string(m[1]))
		return n
	}
	geoCount := func(query string) int {
		t.Helper()
		var fc struct{ Features []json.RawMessage }
		d.getJSON(t, "/v1/incidents.geojson?"+query, &fc)
		return len(fc.Features)
	}
	open := d.countIncidents(t, "")
	zones := regexp.MustCompile(`<option value="(framework-2025/[a-z0-9._-]+)"`).FindAllStringSubmatch(mapPage, -1)
	if len(zones) < 3 {
		t.Fatalf("the map offers %d zones of framework-2025", len(zones))
	}
	some := false
	for _, z := range zones {
		a, zone, _ := strings.Cut(z[1], "/")
		api := url.Values{"zone": {zone}, "agreement": {a}}.Encode()
		want := d.countIncidents(t, api)
		if got := pageCount(url.Values{"zone": {z[1]}}.Encode()); got != want {
			t.Errorf("zone %s: the page counts %d, the API %d", z[1], got, want)
		}
		if got := geoCount(api); got != want {
			t.Errorf("zone %s: the GeoJSON has %d, the API's list %d", z[1], got, want)
		}
		some = some || want > 0 && want < open
	}
	if !some {
		t.Errorf("no zone holds some incidents but not all %d", open)
	}
	for _, party := range []string{"party:RU", "party:UA"} {
		if !strings.Contains(mapPage, `<option value="`+party+`">`) {
			t.Errorf("the map does not offer %s", party)
		}
		q := url.Values{"party": {party}}.Encode()
		want := d.countIncidents(t, q)
		if got := pageCount(q); got != want {
			t.Errorf("%s: the page counts %d, the API %d", party, got, want)
		}
		if party == "party:RU" && want == 0 {
			t.Error("no incident attributed to party:RU")
		}
	}
	// Both at once.
	q := url.Values{"party": {"party:RU"}, "zone": {zones[0][1]}}.Encode()
	a, zone, _ := strings.Cut(zones[0][1], "/")
	if got, want := pageCount(q), d.countIncidents(t, url.Values{"party": {"party:RU"}, "zone": {zone}, "agreement": {a}}.Encode()); got != want {
		t.Errorf("party:RU in %s: the page counts %d, the API %d", zones[0][1], got, want)
	}
}
