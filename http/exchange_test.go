package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	ghttp "github.com/guarantor/guarantor/http"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/exchange"
	"github.com/guarantor/guarantor/exchange/commit"
	"github.com/guarantor/guarantor/exchange/names"
	"github.com/guarantor/guarantor/exchange/progress"
	"github.com/guarantor/guarantor/exchange/synth"
	"github.com/guarantor/guarantor/exchange/vault"
	"github.com/guarantor/guarantor/ledger"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/store/sqlite"
	"github.com/prometheus/client_golang/prometheus"
)

// exchangeEnv is a server running the verifier's exchange service, with
// every role's key registered and valid now, and the server's own
// process log captured for the leak scan.
type exchangeEnv struct {
	t       *testing.T
	dir     string
	srv     *httptest.Server
	node    *node.Node
	svc     *exchange.Service
	auth    key
	keys    map[string]key // by role; "nobody" is registered nowhere
	logs    *syncBuffer
	metrics *prometheus.Registry
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newExchangeEnv(t *testing.T) *exchangeEnv {
	t.Helper()
	ctx := context.Background()
	e := &exchangeEnv{t: t, dir: t.TempDir(), auth: newKey(t, "authority"), keys: map[string]key{}, logs: &syncBuffer{}, metrics: prometheus.NewRegistry()}
	logK := newKey(t, "test.log")
	lg, err := ledger.Open(ctx, ledger.Config{Dir: filepath.Join(e.dir, "log"), Signer: logK.S, CheckpointInterval: 100 * time.Millisecond, BatchMaxAge: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(e.dir, "projection.db"))
	if err != nil {
		t.Fatal(err)
	}
	ring, err := vault.NewRing(vault.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	cm, err := commit.New(vault.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	e.svc, err = exchange.Open(ctx, exchange.Config{Path: filepath.Join(e.dir, "exchange.db"), Ring: ring, Committer: cm})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.node, err = node.New(ctx, node.Config{Log: lg, Store: st, AuthorityVKey: e.auth.VKey, Metrics: node.NewMetrics(e.metrics), Logger: logger, Exchange: e.svc})
	if err != nil {
		t.Fatal(err)
	}
	info := ghttp.Info{Origin: "test.log", LogVKey: logK.VKey, AuthorityVKey: e.auth.VKey}
	e.srv = httptest.NewServer(ghttp.NewServer(e.node, info, e.metrics, logger, ghttp.WithExchange(e.svc)))
	t.Cleanup(func() {
		e.srv.Close()
		e.node.Close()
		_ = lg.Close(ctx)
		_ = st.Close()
		_ = e.svc.Close()
	})
	now := time.Now().UTC()
	for _, role := range []string{"party:UA", "party:RU", "verifier", "monitor", "analyst", "operator", "guarantor:UK"} {
		k := newKey(t, strings.ReplaceAll(role, ":", "."))
		e.keys[role] = k
		e.post(e.sign(entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":%q,"not_before":"2020-01-01T00:00:00Z","not_after":%q}`, k.VKey, role,
			now.AddDate(0, 0, 1).Format(time.RFC3339)), e.auth))
	}
	e.keys["nobody"] = newKey(t, "party.nobody")
	return e
}

func (e *exchangeEnv) sign(kind entry.Kind, body string, signers ...key) []byte {
	e.t.Helper()
	raw, err := entry.Sign(kind, []byte(body), signers[0].S)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, k := range signers[1:] {
		if raw, err = entry.Cosign(raw, k.S); err != nil {
			e.t.Fatal(err)
		}
	}
	return raw
}

// post submits a signed entry and fails the test unless it is logged.
func (e *exchangeEnv) post(raw []byte) {
	e.t.Helper()
	resp, err := http.Post(e.srv.URL+"/v1/entries", "text/plain", bytes.NewReader(raw))
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("POST /v1/entries: %s %s", resp.Status, b)
	}
}

// call makes a request signed (body included) by the key of role, or
// unsigned when role is "".
func (e *exchangeEnv) call(method, path, role string, body any) (int, []byte) {
	e.t.Helper()
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			e.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(raw))
	if err != nil {
		e.t.Fatal(err)
	}
	if role != "" {
		p, _, _ := strings.Cut(path, "?")
		h, err := ghttp.SignRequestBody(e.keys[role].S, method, p, time.Now(), raw)
		if err != nil {
			e.t.Fatal(err)
		}
		req.Header.Set("Authorization", h)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (e *exchangeEnv) must(method, path, role string, body, out any) {
	e.t.Helper()
	code, b := e.call(method, path, role, body)
	if code/100 != 2 {
		e.t.Fatalf("%s %s as %s: %d %s", method, path, role, code, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// TestExchangeEndToEnd runs an all-for-all exchange through the HTTP API:
// both parties upload thousands of SYNTHETIC records and sign their
// lists' log bodies, the verifier reconciles, decides, drafts two batches
// which both parties and the verifier co-sign, the parties confirm
// release and receipt, a family checks its relative's inclusion from an
// opening and the public manifest, and the public progress adds up. Then
// it proves who may call each exchange endpoint and who may not, and
// scans the log's files, the public projection, the process log, the
// metrics and every public answer for every identity field: none may
// appear.
func TestExchangeEndToEnd(t *testing.T) {
	e := newExchangeEnv(t)
	ds := synth.Generate(synth.Config{Seed: 3, People: 2000})
	held, claimed := ds.Submissions()

	// The parties upload and sign their lists.
	var up struct {
		ListID string               `json:"list_id"`
		Bodies []entry.ExchangeList `json:"bodies"`
	}
	at := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	for _, u := range []struct {
		role, list string
		people     []exchange.Person
	}{{"party:RU", entry.ListHeld, held}, {"party:UA", entry.ListClaimed, claimed}} {
		up.ListID, up.Bodies = "", nil // json.Unmarshal would merge into the last answer's maps
		e.must("POST", "/v1/exchanges/x/lists", u.role, ghttp.ListUpload{List: u.list, At: at, People: u.people}, &up)
		if len(up.Bodies) != (len(u.people)+entry.MaxExchangePart-1)/entry.MaxExchangePart {
			t.Fatalf("%d bodies for %d people", len(up.Bodies), len(u.people))
		}
		for _, b := range up.Bodies {
			raw, _ := json.Marshal(b)
			e.post(e.sign(entry.KindExchangeList, string(raw), e.keys[u.role]))
		}
	}
	// A party cannot sign a list body it did not upload (altered count).
	bad := up.Bodies[0]
	bad.Commitments = append([]string(nil), bad.Commitments...)
	bad.Commitments[0] = strings.Repeat("0", 64)
	raw, _ := json.Marshal(bad)
	if resp, err := http.Post(e.srv.URL+"/v1/entries", "text/plain", bytes.NewReader(e.sign(entry.KindExchangeList, string(raw), e.keys["party:UA"]))); err != nil || resp.StatusCode == http.StatusCreated {
		t.Fatalf("an altered list part was accepted: %v", resp.Status)
	}

	// The verifier reconciles and settles one ambiguous record.
	var rec exchange.Reconciliation
	e.must("POST", "/v1/exchanges/x/reconcile", "verifier", ghttp.ReconcileRequest{Holder: "RU"}, &rec)
	if rec.Counts.Matched < len(ds.Pairs)*9/10 || rec.Counts.Held != len(held) {
		t.Fatalf("reconciliation counts %+v for %d true pairs", rec.Counts, len(ds.Pairs))
	}
	if len(rec.Ambiguous) > 0 {
		q := rec.Ambiguous[0]
		d := exchange.Decision{Verdict: exchange.VerdictNoMatch, Note: "SYNTHETIC: checked with both sides"}
		if q.List == entry.ListHeld {
			d.Held = q.Record
		} else {
			d.Claimed = q.Record
		}
		e.must("POST", "/v1/exchanges/x/decisions", "verifier", ghttp.DecisionsRequest{Holder: "RU", Decisions: []exchange.Decision{d}}, &rec)
	}

	// Two batches, co-signed by both parties and the verifier; RU
	// releases them, UA receives them, one person short in batch 2.
	var batches []exchange.Manifest
	for i, limit := range []int{500, 0} {
		var m exchange.Manifest
		e.must("POST", "/v1/exchanges/x/manifests", "verifier", ghttp.ManifestRequest{From: "RU", Batch: i + 1, Limit: limit, At: at.Add(time.Minute)}, &m)
		for _, b := range m.Bodies {
			raw, _ := json.Marshal(b)
			e.post(e.sign(entry.KindExchangeManifest, string(raw), e.keys["party:RU"], e.keys["party:UA"], e.keys["verifier"]))
		}
		batches = append(batches, m)
	}
	short := batches[1].Bodies[0].Commitments[0]
	for i, m := range batches {
		released := fmt.Sprintf(`{"id":"rel-%d","exchange":"x","manifest":%q,"event":"released","at":%q,"count":%d}`, i, m.ID, at.Add(2*time.Minute).Format(time.RFC3339), m.Count)
		e.post(e.sign(entry.KindExchangeConfirmation, released, e.keys["party:RU"]))
		received := fmt.Sprintf(`{"id":"rec-%d","exchange":"x","manifest":%q,"event":"received","at":%q,"count":%d}`, i, m.ID, at.Add(3*time.Minute).Format(time.RFC3339), m.Count)
		if i == 1 {
			received = fmt.Sprintf(`{"id":"rec-%d","exchange":"x","manifest":%q,"event":"received","at":%q,"count":%d,"missing":[%q]}`, i, m.ID, at.Add(3*time.Minute).Format(time.RFC3339), m.Count-1, short)
		}
		e.post(e.sign(entry.KindExchangeConfirmation, received, e.keys["party:UA"], e.keys["verifier"]))
	}

	// The public progress: from the log alone.
	var p progress.Progress
	e.must("GET", "/v1/exchanges/x", "", nil, &p)
	inBatches := batches[0].Count + batches[1].Count
	heldAlive := 0
	for _, h := range held {
		if h.Status == exchange.StatusHeld {
			heldAlive++
		}
	}
	if p.Held != heldAlive || p.InBatches != inBatches || p.Released != inBatches || p.Received != inBatches-1 || p.Complete {
		t.Fatalf("progress %+v; want held %d, in batches %d", p, heldAlive, inBatches)
	}
	t.Logf("exchange: %d held, %d reconciled into 2 batches, %d released, %d received (completeness %.3f); %d ambiguous left for the verifier",
		p.Held, p.InBatches, p.Released, p.Received, p.Completeness, len(rec.Ambiguous))

	// A family checks its relative from the verifier's opening, typing the
	// names as it knows them.
	person := batches[0].Persons[0]
	var opening commit.Opening
	e.must("GET", "/v1/exchanges/x/persons/"+person+"/opening?manifest="+batches[0].ID, "verifier", nil, &opening)
	var mv ghttp.ManifestView
	e.must("GET", "/v1/exchanges/x/manifests/"+batches[0].ID, "", nil, &mv)
	family := claimedPersonOf(t, e, rec, person)
	checkFamily(t, mv, opening, family, nil)
	wrong := family
	wrong.Born = "1900-01-01"
	checkFamily(t, mv, opening, wrong, commit.ErrMismatch)

	exchangeWhoMayCall(t, e, rec, batches[0], person)
	scanForIdentities(t, e, append(held, claimed...))
}

// claimedPersonOf returns the claimed record of a matched person: what
// the family's side wrote.
func claimedPersonOf(t *testing.T, e *exchangeEnv, rec exchange.Reconciliation, person string) exchange.Person {
	t.Helper()
	var records struct {
		Records []exchange.Record `json:"records"`
	}
	e.must("GET", "/v1/exchanges/x/lists/"+rec.ClaimedList+"/records", "verifier", nil, &records)
	for _, m := range rec.Matched {
		if m.Person == person {
			for _, r := range records.Records {
				if r.ID == m.Claimed {
					return r.Person
				}
			}
		}
	}
	t.Fatalf("person %s has no claimed record", person)
	return exchange.Person{}
}

// checkFamily checks an opening as a family would: the manifest's
// commitments must rebuild the logged root, and the relative's names and
// birth date, normalised, must give the opened commitment.
func checkFamily(t *testing.T, mv ghttp.ManifestView, o commit.Opening, p exchange.Person, want error) {
	t.Helper()
	id := commit.Identity{RecordID: o.RecordID, Family: p.Family, Given: p.Given, Patronymic: p.Patronymic, Born: p.Born}.Normalised(names.Key)
	err := commit.CheckPublished(o, id, mv.Commitments, mv.Root)
	if (want == nil && err != nil) || (want != nil && !errors.Is(err, want)) {
		t.Fatalf("family check: %v, want %v", err, want)
	}
}

func isErr(err, target error) bool {
	return err != nil && strings.Contains(err.Error(), target.Error())
}

// exchangeWhoMayCall proves, for every exchange endpoint, which roles are
// refused (401 unsigned, 403 signed by the wrong role) and which may call
// it.
func exchangeWhoMayCall(t *testing.T, e *exchangeEnv, rec exchange.Reconciliation, batch exchange.Manifest, person string) {
	roles := []string{"", "nobody", "monitor", "analyst", "operator", "guarantor:UK", "party:UA", "party:RU", "verifier"}
	type route struct {
		method, path string
		body         any
		allowed      []string
	}
	heldList := rec.HeldList // RU's
	routes := []route{
		{"GET", "/v1/exchanges/x", nil, roles},
		{"GET", "/v1/exchanges/x/manifests/" + batch.ID, nil, roles},
		{"POST", "/v1/exchanges/x/lists", ghttp.ListUpload{List: "claimed", People: []exchange.Person{{Ref: "SYN-auth-1", Family: "Тестовий", Status: "claimed"}}}, []string{"party:UA", "party:RU"}},
		{"GET", "/v1/exchanges/x/lists", nil, []string{"party:UA", "party:RU", "verifier"}},
		{"GET", "/v1/exchanges/x/lists/" + heldList + "/records", nil, []string{"party:RU", "verifier"}},
		{"POST", "/v1/exchanges/x/reconcile", ghttp.ReconcileRequest{Holder: "RU"}, []string{"verifier"}},
		{"GET", "/v1/exchanges/x/reconciliations/RU", nil, []string{"verifier"}},
		{"POST", "/v1/exchanges/x/decisions", ghttp.DecisionsRequest{Holder: "RU"}, []string{"verifier"}},
		{"GET", "/v1/exchanges/x/parties/UA", nil, []string{"party:UA", "verifier"}},
		{"GET", "/v1/exchanges/x/parties/RU", nil, []string{"party:RU", "verifier"}},
		{"POST", "/v1/exchanges/x/manifests", ghttp.ManifestRequest{From: "RU", Batch: 99, Limit: 1}, []string{"verifier"}},
		{"GET", "/v1/exchanges/x/persons/" + person + "/opening?manifest=" + batch.ID, nil, []string{"verifier"}},
	}
	// Every exchange route of the server's table is in this matrix.
	for _, r := range ghttp.Routes {
		if !strings.Contains(r.Pattern, "/v1/exchanges/") {
			continue
		}
		found := false
		for _, x := range routes {
			m, p, _ := strings.Cut(r.Pattern, " ")
			found = found || (x.method == m && len(strings.Split(strings.Split(x.path, "?")[0], "/")) == len(strings.Split(p, "/")) && strings.HasPrefix(x.path, strings.Split(p, "{")[0]))
		}
		if !found {
			t.Errorf("route %s is not in the authorisation matrix", r.Pattern)
		}
	}
	for _, r := range routes {
		for _, role := range roles {
			code, b := e.call(r.method, r.path, role, r.body)
			allowed := false
			for _, a := range r.allowed {
				allowed = allowed || a == role
			}
			switch {
			case allowed && (code == http.StatusUnauthorized || code == http.StatusForbidden || code >= 500):
				// Past the authorisation, an answer may still be a 404
				// (no matched person left to draft) or a 409.
				t.Errorf("%s %s as %q: %d %s, want it let through", r.method, r.path, role, code, b)
			case !allowed && role == "" && code != http.StatusUnauthorized:
				t.Errorf("%s %s unsigned: %d, want 401", r.method, r.path, code)
			case !allowed && role == "nobody" && code != http.StatusUnauthorized:
				t.Errorf("%s %s by an unregistered key: %d, want 401", r.method, r.path, code)
			case !allowed && role != "" && role != "nobody" && code != http.StatusForbidden:
				t.Errorf("%s %s as %s: %d %s, want 403", r.method, r.path, role, code, b)
			}
		}
	}
	// A party's view holds none of the other side's record ids.
	code, b := e.call("GET", "/v1/exchanges/x/parties/UA", "party:UA", nil)
	if code != 200 || strings.Contains(string(b), rec.HeldList) || (len(rec.HeldOnly) > 0 && strings.Contains(string(b), rec.HeldOnly[0])) {
		t.Fatalf("UA's view names RU's records: %d", code)
	}
}

// scanForIdentities looks for every family name, given name, patronymic,
// full birth date and birth place of the scenario (strings of at least 5
// bytes: shorter ones occur by chance in hex and ciphertext) in the log's
// files, the public projection, the process log, the metrics and the
// public answers.
func scanForIdentities(t *testing.T, e *exchangeEnv, people []exchange.Person) {
	t.Helper()
	var hay []struct {
		what string
		b    []byte
	}
	add := func(what string, b []byte) {
		hay = append(hay, struct {
			what string
			b    []byte
		}{what, b})
	}
	for _, dir := range []string{filepath.Join(e.dir, "log")} {
		if err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			add(path, b)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"projection.db", "projection.db-wal"} {
		if b, err := os.ReadFile(filepath.Join(e.dir, f)); err == nil {
			add(f, b)
		}
	}
	add("process log", []byte(e.logs.String()))
	for _, p := range []string{"/metrics", "/v1/exchanges/x", "/v1/observations.csv"} {
		_, b := e.call("GET", p, "", nil)
		add(p, b)
	}
	var exported bytes.Buffer
	if err := e.node.Store().Export(context.Background(), &exported); err != nil {
		t.Fatal(err)
	}
	add("projection export", exported.Bytes())
	needles := map[string]bool{}
	for _, p := range people {
		for _, s := range []string{p.Family, p.Given, p.Patronymic, p.BirthPlace, p.CapturePlace} {
			if len(s) >= 5 {
				needles[s] = true
			}
		}
		if len(p.Born) == 10 {
			needles[p.Born] = true
		}
	}
	found := 0
	for n := range needles {
		for _, h := range hay {
			if bytes.Contains(h.b, []byte(n)) {
				found++
				t.Errorf("identity field %q found in %s", n, h.what)
			}
		}
	}
	size := 0
	for _, h := range hay {
		size += len(h.b)
	}
	t.Logf("leak scan: %d identity strings in %d files and answers (%d bytes): %d found", len(needles), len(hay), size, found)
}
