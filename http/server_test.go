package http_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/blob"
	"github.com/guarantor/guarantor/engine"
	"github.com/guarantor/guarantor/entry"
	ghttp "github.com/guarantor/guarantor/http"
	"github.com/guarantor/guarantor/internal/testkeys"
	"github.com/guarantor/guarantor/ledger"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/store/sqlite"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/mod/sumdb/note"
)

type key = testkeys.Key

var newKey = testkeys.New

type env struct {
	intake     key
	contactKey []byte
	t          *testing.T
	srv        *httptest.Server
	auth       key
	logK       key
	node       *node.Node
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWithEngine(t, nil)
}

// newEnvWithEngine is newEnv with the node running the engine when eng is
// set.
func newEnvWithEngine(t *testing.T, eng *node.EngineConfig) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	e := &env{t: t, auth: newKey(t, "authority"), logK: newKey(t, "test.log")}
	lg, err := ledger.Open(ctx, ledger.Config{Dir: filepath.Join(dir, "log"), Signer: e.logK.S, CheckpointInterval: 100 * time.Millisecond, BatchMaxAge: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "projection.db"))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	blobs, err := blob.Open(filepath.Join(dir, "blobs"), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	n, err := node.New(ctx, node.Config{Log: lg, Store: st, AuthorityVKey: e.auth.VKey, Metrics: node.NewMetrics(reg), Evidence: blobs, Engine: eng})
	if err != nil {
		t.Fatal(err)
	}
	e.node = n
	info := ghttp.Info{Origin: "test.log", LogVKey: e.logK.VKey, AuthorityVKey: e.auth.VKey}
	e.intake = newKey(t, "test.intake")
	e.contactKey = []byte("0123456789abcdef0123456789abcdef")
	e.srv = httptest.NewServer(ghttp.NewServer(n, info, reg, nil, ghttp.WithBlobs(blobs),
		ghttp.WithTestimony(ghttp.TestimonyConfig{Signer: e.intake.S, ContactKey: e.contactKey, Every: time.Hour, Burst: 6})))
	t.Cleanup(func() {
		e.srv.Close()
		n.Close()
		_ = lg.Close(ctx)
		_ = st.Close()
	})
	return e
}

func (e *env) sign(kind entry.Kind, body string, signers ...key) []byte {
	e.t.Helper()
	ss := make([]note.Signer, len(signers))
	for i, k := range signers {
		ss[i] = k.S
	}
	raw, err := entry.Sign(kind, []byte(body), ss...)
	if err != nil {
		e.t.Fatal(err)
	}
	return raw
}

func (e *env) post(raw []byte) (*http.Response, []byte) {
	e.t.Helper()
	resp, err := http.Post(e.srv.URL+"/v1/entries", "text/plain", bytes.NewReader(raw))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (e *env) mustPost(raw []byte) guarantor.Receipt {
	e.t.Helper()
	resp, b := e.post(raw)
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("POST: %s %s", resp.Status, b)
	}
	var rc guarantor.Receipt
	if err := json.Unmarshal(b, &rc); err != nil {
		e.t.Fatal(err)
	}
	return rc
}

func (e *env) register(k key, role string) {
	e.t.Helper()
	e.mustPost(e.sign(entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":%q,"not_before":"2025-01-01T00:00:00Z","not_after":"2025-12-31T00:00:00Z"}`, k.VKey, role), e.auth))
}

func obs(id, at string, extra string) string {
	return fmt.Sprintf(`{"id":%q,"observed_at":%q,"location":{"type":"Point","coordinates":[37.8,48.0]},"category":"shelling"%s}`, id, at, extra)
}

func TestReceiptVerifiesAndResubmissionIsIdempotent(t *testing.T) {
	e := newEnv(t)
	mon := newKey(t, "monitor.a")
	e.register(mon, "monitor")
	raw := e.sign(entry.KindObservation, obs("o1", "2025-03-01T12:00:00Z", ""), mon)
	rc := e.mustPost(raw)
	logV, _ := note.NewVerifier(e.logK.VKey)
	if _, err := rc.Verify(logV, raw); err != nil {
		t.Fatalf("receipt does not verify: %v", err)
	}
	resp, b := e.post(raw)
	var again guarantor.Receipt
	_ = json.Unmarshal(b, &again)
	if resp.StatusCode != http.StatusOK || again.Index != rc.Index {
		t.Fatalf("resubmission: %s index %d, want 200 and index %d", resp.Status, again.Index, rc.Index)
	}
	// The decoded entry is served back.
	r, err := http.Get(fmt.Sprintf("%s/v1/entries/%d", e.srv.URL, rc.Index))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var ev ghttp.EntryView
	if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
		t.Fatal(err)
	}
	if ev.Kind != "observation" || ev.Note != string(raw) || len(ev.Signers) != 1 || ev.Signers[0] != mon.ID {
		t.Fatalf("entry view = %+v", ev)
	}
}

// TestRejections checks every refusal the intake owes: status, problem
// code, the field named, and that the log did not change.
func TestRejections(t *testing.T) {
	e := newEnv(t)
	mon, party, revoked, stranger := newKey(t, "monitor.a"), newKey(t, "party.ua"), newKey(t, "monitor.r"), newKey(t, "monitor.x")
	e.register(mon, "monitor")
	e.register(party, "party:UA")
	e.register(revoked, "monitor")
	e.mustPost(e.sign(entry.KindRevocation, fmt.Sprintf(`{"key":%q,"reason":"device lost","effective":"2025-02-01T00:00:00Z"}`, revoked.ID), e.auth))
	e.mustPost(e.sign(entry.KindObservation, obs("dup", "2025-03-01T12:00:00Z", ""), mon))

	good := e.sign(entry.KindObservation, obs("g", "2025-03-01T12:00:00Z", ""), mon)
	badSig := bytes.Replace(good, []byte(`"id":"g"`), []byte(`"id":"h"`), 1)
	noSig := good[:bytes.Index(good, []byte("\n\n"))+2]
	big := e.sign(entry.KindObservation, obs("big", "2025-03-01T12:00:00Z", `,"text":"`+strings.Repeat("x", entry.MaxSize)+`"`), mon)

	tests := []struct {
		name   string
		raw    []byte
		status int
		code   string
		field  string
	}{
		{"not a note", []byte("hello world\n"), 400, guarantor.EInvalid, ""},
		{"missing signature", noSig, 400, guarantor.EInvalid, ""},
		{"bad signature", badSig, 403, guarantor.EUnauthorized, "signature"},
		{"unknown signer", e.sign(entry.KindObservation, obs("u", "2025-03-01T12:00:00Z", ""), stranger), 403, guarantor.EUnknownKey, "signature"},
		{"revoked signer", e.sign(entry.KindObservation, obs("r", "2025-03-01T12:00:00Z", ""), revoked), 403, guarantor.ERevoked, "signature"},
		{"outside window", e.sign(entry.KindObservation, obs("w", "2026-03-01T12:00:00Z", ""), mon), 403, guarantor.EOutOfWindow, "signature"},
		{"outside role", e.sign(entry.KindObservation, obs("p", "2025-03-01T12:00:00Z", ""), party), 403, guarantor.EForbidden, "signature"},
		{"key entry by a monitor", e.sign(entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":"monitor","not_before":"2025-01-01T00:00:00Z","not_after":"2025-12-31T00:00:00Z"}`, stranger.VKey), mon), 403, guarantor.EForbidden, "signature"},
		{"revocation by a monitor", e.sign(entry.KindRevocation, fmt.Sprintf(`{"key":%q,"reason":"x","effective":"2025-02-01T00:00:00Z"}`, party.ID), mon), 403, guarantor.EForbidden, "signature"},
		{"unknown kind", e.sign("ceasefire", `{"a":1}`, mon), 400, guarantor.EUnsupported, "kind"},
		{"schema violation", e.sign(entry.KindObservation, obs("s", "2025-03-01T12:00:00Z", `,"bearing_deg":400`), mon), 400, guarantor.EInvalid, "/bearing_deg"},
		{"unknown field", e.sign(entry.KindObservation, obs("s", "2025-03-01T12:00:00Z", `,"mood":"tense"`), mon), 400, guarantor.EInvalid, "/mood"},
		{"too large", big, 413, guarantor.ETooLarge, ""},
		{"same id, other content", e.sign(entry.KindObservation, obs("dup", "2025-03-01T12:05:00Z", ""), mon), 409, guarantor.EConflict, "/id"},
	}
	sizeBefore := e.node.Applied()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := e.post(tt.raw)
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("Content-Type %q, body %s", ct, b)
			}
			var p ghttp.Problem
			if err := json.Unmarshal(b, &p); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status || p.Status != tt.status || p.Code != tt.code || p.Field != tt.field {
				t.Fatalf("got %d %q field %q (%s); want %d %q field %q", resp.StatusCode, p.Code, p.Field, p.Detail, tt.status, tt.code, tt.field)
			}
			if p.Type != ghttp.ProblemType(tt.code) || p.Detail == "" {
				t.Fatalf("problem %+v lacks type or detail", p)
			}
		})
	}
	if got := e.node.Applied(); got != sizeBefore {
		t.Fatalf("log grew from %d to %d after rejections", sizeBefore, got)
	}
	// Wrong media type.
	resp, err := http.Post(e.srv.URL+"/v1/entries", "application/json", bytes.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("application/json body: %s", resp.Status)
	}
}

func TestTilesAndInfo(t *testing.T) {
	e := newEnv(t)
	mon := newKey(t, "monitor.a")
	e.register(mon, "monitor")
	get := func(path string) *http.Response {
		t.Helper()
		r, err := http.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r
	}
	if r := get("/log/checkpoint"); r.StatusCode != 200 || r.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("checkpoint: %s %q", r.Status, r.Header.Get("Cache-Control"))
	}
	if r := get("/log/tile/entries/000.p/1"); r.StatusCode != 200 {
		t.Fatalf("partial entry bundle: %s", r.Status)
	}
	for _, p := range []string{"/log/.state/treeState", "/log/tile/0/1", "/log/tile/0/x000/000", "/log/tile/64/000", "/log/../guarantor.json"} {
		if r := get(p); r.StatusCode != 404 {
			t.Errorf("%s: %s, want 404", p, r.Status)
		}
	}
	r, err := http.Get(e.srv.URL + "/v1/log")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var info struct {
		LogVKey string `json:"log_vkey"`
		Size    uint64 `json:"size"`
	}
	if err := json.NewDecoder(r.Body).Decode(&info); err != nil {
		t.Fatal(err)
	}
	if info.LogVKey != e.logK.VKey || info.Size != 1 {
		t.Fatalf("/v1/log = %+v", info)
	}
	if r := get("/v1/schemas/observation.json"); r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/schema+json" {
		t.Fatalf("schema: %s", r.Status)
	}
	if r := get("/v1/entries/99"); r.StatusCode != 404 {
		t.Fatalf("entry beyond the log: %s", r.Status)
	}
	if r := get("/metrics"); r.StatusCode != 200 {
		t.Fatalf("metrics: %s", r.Status)
	}
}

func (e *env) postBatch(lines []string) (*http.Response, []ghttp.BatchResult, []byte) {
	e.t.Helper()
	resp, err := http.Post(e.srv.URL+"/v1/entries:batch", "application/x-ndjson", strings.NewReader(strings.Join(lines, "\n")+"\n"))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out []ghttp.BatchResult
	if resp.StatusCode == http.StatusOK {
		dec := json.NewDecoder(bytes.NewReader(b))
		for dec.More() {
			var r ghttp.BatchResult
			if err := dec.Decode(&r); err != nil {
				e.t.Fatal(err)
			}
			out = append(out, r)
		}
	}
	return resp, out, b
}

func quote(raw []byte) string {
	b, _ := json.Marshal(string(raw))
	return string(b)
}

func TestBatch(t *testing.T) {
	e := newEnv(t)
	mon := newKey(t, "monitor.a")
	e.register(mon, "monitor")
	first := e.sign(entry.KindObservation, obs("b0", "2025-03-01T12:00:00Z", ""), mon)
	e.mustPost(first)
	var lines []string
	var raws [][]byte
	for i := range 50 {
		raw := e.sign(entry.KindObservation, obs(fmt.Sprintf("b%d", i+1), "2025-03-01T12:00:00Z", ""), mon)
		raws = append(raws, raw)
		lines = append(lines, quote(raw))
	}
	lines = append(lines, quote(first))                                                                                // already logged
	lines = append(lines, quote(e.sign(entry.KindObservation, obs("bad", "2025-03-01T12:00:00Z", `,"count":0`), mon))) // schema
	lines = append(lines, quote(raws[3]))                                                                              // twice in one batch
	resp, res, body := e.postBatch(lines)
	if resp.StatusCode != 200 || len(res) != 53 {
		t.Fatalf("batch: %s, %d results: %s", resp.Status, len(res), body)
	}
	logV, _ := note.NewVerifier(e.logK.VKey)
	indexes := map[uint64]bool{}
	for i := range 50 {
		if res[i].Receipt == nil || (!res[i].Created && i != 3) {
			t.Fatalf("note %d: %+v", i, res[i])
		}
		if _, err := res[i].Receipt.Verify(logV, raws[i]); err != nil {
			t.Fatalf("receipt %d: %v", i, err)
		}
		indexes[res[i].Receipt.Index] = true
	}
	if len(indexes) != 50 {
		t.Fatalf("%d distinct indexes for 50 notes", len(indexes))
	}
	if res[50].Receipt == nil || res[50].Created || res[50].Receipt.Index != 1 {
		t.Fatalf("already logged note: %+v", res[50])
	}
	if p := res[51].Problem; p == nil || p.Code != guarantor.EInvalid || p.Field != "/count" {
		t.Fatalf("invalid note: %+v", res[51])
	}
	// The same note twice in one batch: one index, created exactly once.
	if res[52].Receipt == nil || res[52].Receipt.Index != res[3].Receipt.Index || res[52].Created == res[3].Created {
		t.Fatalf("note twice in a batch: %+v vs %+v", res[52], res[3])
	}
	if got := e.node.Applied(); got != 52 {
		t.Fatalf("log size %d, want 52", got)
	}

	// Framing errors refuse the whole request and log nothing.
	for name, lines := range map[string][]string{
		"not a string": {quote(raws[0]), `{"note":1}`},
		"too many":     slices.Repeat([]string{quote(raws[0])}, ghttp.MaxBatchNotes+1),
		"empty":        {""},
	} {
		resp, _, body := e.postBatch(lines)
		if resp.StatusCode < 400 || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %s %s", name, resp.Status, body)
		}
	}
	if got := e.node.Applied(); got != 52 {
		t.Fatalf("log size %d after refused batches", got)
	}
}

func TestObservationExports(t *testing.T) {
	e := newEnv(t)
	mon := newKey(t, "monitor.a")
	e.register(mon, "monitor")
	e.mustPost(e.sign(entry.KindObservation, obs("a", "2025-03-01T12:00:00Z", `,"count":4,"source_type":"patrol","text":"comma, and \"quote\""`), mon))
	e.mustPost(e.sign(entry.KindObservation, `{"id":"b","observed_at":"2025-03-02T12:00:00Z","location":{"type":"Point","coordinates":[39.5,48.6]},"category":"mine","source_type":"uav"}`, mon))
	get := func(path string) (*http.Response, string) {
		t.Helper()
		r, err := http.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r, string(b)
	}
	r, body := get("/v1/observations.csv")
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("csv: %s", r.Status)
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(recs) != 3 || recs[1][2] != "a" || recs[1][15] != `comma, and "quote"` || recs[1][8] != "4" {
		t.Fatalf("csv rows %q (%v)", recs, err)
	}
	for q, want := range map[string]int{
		"?category=mine": 1, "?source_type=patrol": 1, "?from=2025-03-02": 1, "?to=2025-03-02T00:00:00Z": 1,
		"?bbox=39,48,40,49": 1, "?bbox=30,40,31,41": 0, "?limit=1": 1, "": 2,
	} {
		_, body := get("/v1/observations.csv" + q)
		if n := strings.Count(body, "\n") - 1; n != want {
			t.Errorf("csv%s: %d rows, want %d", q, n, want)
		}
	}
	r, body = get("/v1/observations.geojson?category=mine")
	var fc struct {
		Type     string
		Features []struct {
			Geometry   struct{ Coordinates []float64 }
			Properties map[string]any
		}
	}
	if err := json.Unmarshal([]byte(body), &fc); err != nil || r.Header.Get("Content-Type") != "application/geo+json" {
		t.Fatalf("geojson %q: %v", body, err)
	}
	if fc.Type != "FeatureCollection" || len(fc.Features) != 1 || fc.Features[0].Geometry.Coordinates[0] != 39.5 || fc.Features[0].Properties["obs_id"] != "b" {
		t.Fatalf("geojson %+v", fc)
	}
	for q, field := range map[string]string{"?from=yesterday": "from", "?bbox=1,2,3": "bbox", "?category=picnic": "category", "?limit=0": "limit", "?source_type=rumour": "source_type"} {
		r, body := get("/v1/observations.geojson" + q)
		var p ghttp.Problem
		_ = json.Unmarshal([]byte(body), &p)
		if r.StatusCode != 400 || p.Field != field {
			t.Errorf("%s: %s field %q", q, r.Status, p.Field)
		}
	}
}

// TestHealthReportsTheEngine: /healthz shows the engine's progress, and
// answers 503 once the engine halted on a derived entry it did not emit.
func TestHealthReportsTheEngine(t *testing.T) {
	eng := newKey(t, "engine")
	e := newEnvWithEngine(t, &node.EngineConfig{Rules: engine.DefaultConfig(), Signer: eng.S, TickEvery: -1})
	e.register(eng, "engine")
	health := func() (int, map[string]any) {
		resp, err := http.Get(e.srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var h map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, h
	}
	if code, h := health(); code != 200 || h["status"] != "ok" || h["engine"] == nil {
		t.Fatalf("healthy: %d %v", code, h)
	}
	// Someone else holding the engine key logs an incident the engine
	// never emitted (the HTTP API refuses it; the Go API does not).
	body := `{"seq":0,"id":1,"revision":1,"status":"open","rule":"fusion-1","inputs":[{"index":1,"leaf_hash":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}],"category":"shelling","from":"2025-01-01T00:00:00Z","to":"2025-01-01T00:00:00Z","location":{"type":"Point","coordinates":[37.8,48]},"radius_m":10,"count":1,"members":[1],"monitors":1,"source_types":["patrol"],"level":"reported"}`
	if _, err := e.node.Submit(context.Background(), e.sign(entry.KindIncident, body, eng)); err != nil {
		t.Fatal(err)
	}
	code, h := health()
	if code != http.StatusServiceUnavailable || h["status"] != "engine halted" || !strings.Contains(fmt.Sprint(h["engine"]), "replay diverges at entry") {
		t.Fatalf("after a foreign derived entry: %d %v", code, h)
	}
}
