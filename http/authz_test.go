package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/alert"
	"github.com/guarantor/guarantor/blob"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/exchange"
	"github.com/guarantor/guarantor/exchange/commit"
	"github.com/guarantor/guarantor/exchange/vault"
	ghttp "github.com/guarantor/guarantor/http"
	"github.com/guarantor/guarantor/ledger"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/store/sqlite"
	"github.com/guarantor/guarantor/web"
	"github.com/prometheus/client_golang/prometheus"
)

// The authorisation matrix: every route of ghttp.Routes called by every
// kind of caller, against a table of expectations written here, apart
// from the server's, so that a policy changed in one place and not the
// other fails.

// authzRoles are the roles that have a key registered, valid now, in
// the matrix's server. Each also has a revoked and an expired key.
var authzRoles = []string{"monitor", "sensor", "analyst", "engine", "verifier", "operator", "intake", "party:X", "party:Y", "guarantor:X"}

// The callers that are no registered role.
const (
	callAnonymous = "anonymous"      // no Authorization header
	callMalformed = "malformed"      // an Authorization header of another scheme
	callUnknown   = "unknown key"    // a key the registry does not hold
	callAuthority = "authority"      // the mission authority's key
	callRevoked   = "revoked key"    // revoked an hour ago
	callExpired   = "expired key"    // valid in 2020 only
	callOtherPath = "another path"   // a valid key's note for GET /v1/log
	callStale     = "stale time"     // a valid key's note ten minutes old
	callAllowed   = "allowed caller" // (the role the four above use)
)

// authzCallers is every caller the matrix tries on every route.
var authzCallers = append(append([]string{callAnonymous, callMalformed, callUnknown}, authzRoles...),
	callAuthority, callRevoked, callExpired, callOtherPath, callStale)

// authzExpect says, route by route, what the matrix requests and which
// callers may make it: public (every caller, signed or not, is let
// through) or the callers named. Each path fills the pattern's wildcards
// with values the handler may answer 400 or 404 to; any status but 401
// and 403 lets an allowed caller through.
var authzExpect = map[string]struct {
	path    string
	public  bool
	allowed []string
}{
	"POST /v1/entries":                                       {path: "/v1/entries", public: true},
	"POST /v1/entries:batch":                                 {path: "/v1/entries:batch", public: true},
	"POST /v1/testimony":                                     {path: "/v1/testimony", public: true},
	"GET /v1/log":                                            {path: "/v1/log", public: true},
	"GET /v1/entries/{index}":                                {path: "/v1/entries/0", public: true},
	"GET /v1/schemas/{file}":                                 {path: "/v1/schemas/observation.json", public: true},
	"GET /v1/openapi.json":                                   {path: "/v1/openapi.json", public: true},
	"GET /v1/observations.csv":                               {path: "/v1/observations.csv", public: true},
	"GET /v1/observations.geojson":                           {path: "/v1/observations.geojson", public: true},
	"GET /v1/incidents":                                      {path: "/v1/incidents", public: true},
	"GET /v1/incidents/{id}":                                 {path: "/v1/incidents/1", public: true},
	"GET /v1/incidents.csv":                                  {path: "/v1/incidents.csv", public: true},
	"GET /v1/incidents.geojson":                              {path: "/v1/incidents.geojson", public: true},
	"GET /v1/agreements":                                     {path: "/v1/agreements", public: true},
	"GET /v1/agreements/{id}":                                {path: "/v1/agreements/a1", public: true},
	"GET /v1/determinations":                                 {path: "/v1/determinations", public: true},
	"GET /v1/obligations":                                    {path: "/v1/obligations", public: true},
	"GET /v1/obligations/{id}":                               {path: "/v1/obligations/1", public: true},
	"GET /v1/obligations.csv":                                {path: "/v1/obligations.csv", public: true},
	"GET /v1/guarantors/{who}/record":                        {path: "/v1/guarantors/X/record", public: true},
	"GET /v1/guarantors.csv":                                 {path: "/v1/guarantors.csv", public: true},
	"GET /v1/guarantors/{who}/feed.atom":                     {path: "/v1/guarantors/X/feed.atom", public: true},
	"GET /v1/parties/{who}/feed.atom":                        {path: "/v1/parties/X/feed.atom", public: true},
	"POST /v1/webhooks":                                      {path: "/v1/webhooks", allowed: []string{"operator", "party:X", "party:Y", "guarantor:X"}},
	"GET /v1/webhooks":                                       {path: "/v1/webhooks", allowed: []string{"operator", "party:X", "party:Y", "guarantor:X"}},
	"DELETE /v1/webhooks/{id}":                               {path: "/v1/webhooks/1", allowed: []string{"operator", "party:X", "party:Y", "guarantor:X"}},
	"GET /v1/webhooks/{id}/deliveries":                       {path: "/v1/webhooks/1/deliveries", allowed: []string{"operator", "party:X", "party:Y", "guarantor:X"}},
	"POST /v1/webhooks/{id}/deliveries/{delivery}/redeliver": {path: "/v1/webhooks/1/deliveries/1/redeliver", allowed: []string{"operator", "party:X", "party:Y", "guarantor:X"}},
	"GET /v1/coalition/{agreement}/coverage":                 {path: "/v1/coalition/a1/coverage", public: true},
	"GET /v1/coalition/{agreement}/coverage.csv":             {path: "/v1/coalition/a1/coverage.csv", public: true},
	"GET /v1/coalition/{agreement}/support.csv":              {path: "/v1/coalition/a1/support.csv", public: true},
	"GET /v1/patrols":                                        {path: "/v1/patrols", public: true},
	"GET /v1/patrols.geojson":                                {path: "/v1/patrols.geojson", public: true},
	"GET /v1/patrols/restrictions.csv":                       {path: "/v1/patrols/restrictions.csv", public: true},
	"GET /v1/patrols/coverage":                               {path: "/v1/patrols/coverage", public: true},
	"GET /v1/patrols/coverage.csv":                           {path: "/v1/patrols/coverage.csv", public: true},
	"GET /v1/exchanges/{exchange}":                           {path: "/v1/exchanges/x", public: true},
	"GET /v1/exchanges/{exchange}/manifests/{id}":            {path: "/v1/exchanges/x/manifests/m1", public: true},
	"POST /v1/exchanges/{exchange}/lists":                    {path: "/v1/exchanges/x/lists", allowed: []string{"party:X", "party:Y"}},
	"GET /v1/exchanges/{exchange}/lists":                     {path: "/v1/exchanges/x/lists", allowed: []string{"verifier", "party:X", "party:Y"}},
	"GET /v1/exchanges/{exchange}/lists/{id}/records":        {path: "/v1/exchanges/x/lists/l1/records", allowed: []string{"verifier", "party:X", "party:Y"}},
	"POST /v1/exchanges/{exchange}/reconcile":                {path: "/v1/exchanges/x/reconcile", allowed: []string{"verifier"}},
	"GET /v1/exchanges/{exchange}/reconciliations/{holder}":  {path: "/v1/exchanges/x/reconciliations/X", allowed: []string{"verifier"}},
	"POST /v1/exchanges/{exchange}/decisions":                {path: "/v1/exchanges/x/decisions", allowed: []string{"verifier"}},
	// Only the party the path names, not the other one.
	"GET /v1/exchanges/{exchange}/parties/{side}":           {path: "/v1/exchanges/x/parties/X", allowed: []string{"verifier", "party:X"}},
	"POST /v1/exchanges/{exchange}/manifests":               {path: "/v1/exchanges/x/manifests", allowed: []string{"verifier"}},
	"GET /v1/exchanges/{exchange}/persons/{person}/opening": {path: "/v1/exchanges/x/persons/p1/opening", allowed: []string{"verifier"}},
	"GET /v1/sanctions":                                     {path: "/v1/sanctions", public: true},
	"GET /v1/sanctions/{id}":                                {path: "/v1/sanctions/s1", public: true},
	"GET /v1/sanctions.ftm.jsonl":                           {path: "/v1/sanctions.ftm.jsonl", public: true},
	"GET /log/":                                             {path: "/log/checkpoint", public: true},
	"PUT /v1/blobs/{sha256}":                                {path: "/v1/blobs/" + strings.Repeat("a", 64), allowed: []string{"monitor", "sensor", "analyst", "operator"}},
	// Public at the table; restricted evidence is the handler's
	// (TestEvidenceAndWhoMayTouchIt).
	"GET /v1/blobs/{sha256}": {path: "/v1/blobs/" + strings.Repeat("a", 64), public: true},
	"GET /healthz":           {path: "/healthz", public: true},
	"GET /metrics":           {path: "/metrics", public: true},
	"GET /":                  {path: "/", public: true},
}

// authzEnv is a server with every optional service (evidence, alerts,
// the exchange verifier, testimony, the public pages) over a real node,
// with a key of every role valid now, and a revoked and an expired one
// of each.
type authzEnv struct {
	t       *testing.T
	h       *ghttp.Server
	srv     *httptest.Server
	node    *node.Node
	alerts  *alert.Store
	svc     *exchange.Service
	auth    key
	keys    map[string]key // by role
	revoked map[string]key // by role
	expired map[string]key // by role
	unknown key
}

func newAuthzEnv(t *testing.T, opts ...ghttp.Option) *authzEnv {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	e := &authzEnv{t: t, auth: newKey(t, "authority"), keys: map[string]key{}, revoked: map[string]key{}, expired: map[string]key{}, unknown: newKey(t, "monitor.unknown")}
	logK := newKey(t, "test.log")
	lg, err := ledger.Open(ctx, ledger.Config{Dir: filepath.Join(dir, "log"), Signer: logK.S, CheckpointInterval: 100 * time.Millisecond, BatchMaxAge: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "projection.db"))
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := blob.Open(filepath.Join(dir, "blobs"), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	e.alerts, err = alert.Open(ctx, filepath.Join(dir, "alerts.db"))
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
	e.svc, err = exchange.Open(ctx, exchange.Config{Path: filepath.Join(dir, "exchange.db"), Ring: ring, Committer: cm})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	logger := slog.New(slog.DiscardHandler)
	e.node, err = node.New(ctx, node.Config{Log: lg, Store: st, AuthorityVKey: e.auth.VKey, Metrics: node.NewMetrics(reg), Logger: logger, Evidence: blobs, Exchange: e.svc})
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range authzRoles {
		name := strings.ReplaceAll(role, ":", ".")
		e.keys[role], e.revoked[role], e.expired[role] = newKey(t, name), newKey(t, name+".revoked"), newKey(t, name+".expired")
	}
	info := ghttp.Info{Origin: "test.log", LogVKey: logK.VKey, AuthorityVKey: e.auth.VKey}
	opts = append([]ghttp.Option{
		ghttp.WithBlobs(blobs), ghttp.WithAlerts(e.alerts), ghttp.WithExchange(e.svc),
		ghttp.WithTestimony(ghttp.TestimonyConfig{Signer: e.keys["intake"].S, ContactKey: []byte("0123456789abcdef0123456789abcdef"), Every: time.Millisecond, Burst: 1 << 20}),
		ghttp.WithUI(web.New(e.node.Store(), web.WithLogger(logger))),
	}, opts...)
	e.h = ghttp.NewServer(e.node, info, reg, logger, opts...)
	e.srv = httptest.NewServer(e.h)
	t.Cleanup(func() {
		e.srv.Close()
		e.node.Close()
		_ = lg.Close(ctx)
		_ = st.Close()
		_ = e.svc.Close()
		_ = e.alerts.Close()
	})

	now := time.Now().UTC()
	keyEntry := func(k key, role string, from, to time.Time) []byte {
		return e.sign(entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":%q,"not_before":%q,"not_after":%q}`, k.VKey, role, from.Format(time.RFC3339), to.Format(time.RFC3339)))
	}
	var keys, revocations [][]byte
	for _, role := range authzRoles {
		keys = append(keys,
			keyEntry(e.keys[role], role, now.AddDate(0, 0, -1), now.AddDate(0, 0, 1)),
			keyEntry(e.revoked[role], role, now.AddDate(0, 0, -1), now.AddDate(0, 0, 1)),
			keyEntry(e.expired[role], role, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2020, 12, 31, 0, 0, 0, 0, time.UTC)))
		revocations = append(revocations, e.sign(entry.KindRevocation, fmt.Sprintf(`{"key":%q,"reason":"lost","effective":%q}`, e.revoked[role].ID, now.Add(-time.Hour).Format(time.RFC3339))))
	}
	e.batch(keys)
	e.batch(revocations)
	return e
}

// sign signs an entry by the authority.
func (e *authzEnv) sign(kind entry.Kind, body string) []byte {
	e.t.Helper()
	raw, err := entry.Sign(kind, []byte(body), e.auth.S)
	if err != nil {
		e.t.Fatal(err)
	}
	return raw
}

// batch logs the notes, concurrently, straight through the node (not
// to count against the write limit), and fails unless each is created.
func (e *authzEnv) batch(notes [][]byte) {
	e.t.Helper()
	errs := make([]error, len(notes))
	var wg sync.WaitGroup
	for i, raw := range notes {
		wg.Go(func() {
			res, err := e.node.Submit(context.Background(), raw)
			if err == nil && !res.Created {
				err = fmt.Errorf("not created")
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			e.t.Fatalf("note %d: %v", i, err)
		}
	}
}

// authHeader returns the Authorization header caller sends for method
// and path on a route allowing role (the role the revoked, expired,
// other-path and stale callers have), or "".
func (e *authzEnv) authHeader(caller, role, method, path string, body []byte) string {
	e.t.Helper()
	k, at := e.keys[role], time.Now()
	switch caller {
	case callAnonymous:
		return ""
	case callMalformed:
		return "Bearer 0123456789"
	case callUnknown:
		k = e.unknown
	case callAuthority:
		k = e.auth
	case callRevoked:
		k = e.revoked[role]
	case callExpired:
		k = e.expired[role]
	case callOtherPath:
		method, path = "GET", "/v1/log"
	case callStale:
		at = at.Add(-2 * ghttp.MaxRequestSkew)
	default:
		k = e.keys[caller]
	}
	h, err := ghttp.SignRequestBody(k.S, method, path, at, body)
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

// do makes a request to the server over the network.
func (e *authzEnv) do(method, path, auth string, body []byte) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestAuthzMatrix calls every route as every caller: anonymous, a
// malformed header, an unknown key, a key of every role, the authority,
// and, with the key of a role the route admits, a revoked key, an
// expired one, a note for another path and a stale note. A caller the
// expectations admit must not get 401 or 403; any other must get 401
// (cannot authenticate) or 403 (another role) as problem+json naming
// Authorization.
func TestAuthzMatrix(t *testing.T) {
	e := newAuthzEnv(t)
	for _, rt := range ghttp.Routes {
		if _, ok := authzExpect[rt.Pattern]; !ok {
			t.Errorf("route %s is not in the matrix's expectations", rt.Pattern)
		}
	}
	for pattern := range authzExpect {
		if !slices.ContainsFunc(ghttp.Routes, func(rt ghttp.Route) bool { return rt.Pattern == pattern }) {
			t.Errorf("the matrix expects route %s, which the server does not have", pattern)
		}
	}
	// The table itself admits whom the expectations do, whatever the
	// handlers check besides.
	for _, rt := range ghttp.Routes {
		want, ok := authzExpect[rt.Pattern]
		if !ok {
			continue
		}
		method, _, _ := strings.Cut(rt.Pattern, " ")
		for _, caller := range append(slices.Clone(authzRoles), callAuthority) {
			mux, got := http.NewServeMux(), false
			mux.HandleFunc(rt.Pattern, func(_ http.ResponseWriter, r *http.Request) {
				got = rt.Allow.Public() || ghttp.Admits(rt.Allow, guarantor.Role(caller), r)
			})
			mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, want.path, nil))
			if allowed := want.public || slices.Contains(want.allowed, caller); got != allowed {
				t.Errorf("%s: the table admits %s: %v, want %v", rt.Pattern, caller, got, allowed)
			}
		}
	}
	for _, rt := range ghttp.Routes {
		want, ok := authzExpect[rt.Pattern]
		if !ok {
			continue
		}
		method, _, _ := strings.Cut(rt.Pattern, " ")
		role := "monitor" // the role of the revoked, expired, other-path and stale callers
		if !want.public {
			role = want.allowed[0]
		}
		for _, caller := range authzCallers {
			var body []byte // handlers that take one refuse it as empty, past the authorisation
			resp, b := e.do(method, want.path, e.authHeader(caller, role, method, want.path, body), body)
			what := fmt.Sprintf("%s %s as %s", method, want.path, caller)
			if slices.Contains([]string{callRevoked, callExpired, callOtherPath, callStale}, caller) {
				what += " (" + role + ")"
			}
			var p ghttp.Problem
			if resp.Header.Get("Content-Type") == "application/problem+json" {
				if err := json.Unmarshal(b, &p); err != nil {
					t.Errorf("%s: problem %s: %v", what, b, err)
				}
			}
			allowed := want.public || slices.Contains(want.allowed, caller)
			switch {
			case allowed:
				if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden || resp.StatusCode >= 500 {
					t.Errorf("%s: %d %s, want it let through", what, resp.StatusCode, b)
				}
			case slices.Contains(authzRoles, caller) || caller == callAuthority:
				if resp.StatusCode != http.StatusForbidden || p.Code != guarantor.EForbidden || p.Field != "Authorization" || !strings.Contains(p.Detail, "role "+caller) {
					t.Errorf("%s: %d %s, want 403 forbidden naming Authorization and role %s", what, resp.StatusCode, b, caller)
				}
			default:
				if resp.StatusCode != http.StatusUnauthorized || p.Code != guarantor.EUnauthenticated || p.Field != "Authorization" || resp.Header.Get("WWW-Authenticate") != ghttp.AuthScheme {
					t.Errorf("%s: %d %s (WWW-Authenticate %q), want 401 unauthenticated naming Authorization", what, resp.StatusCode, b, resp.Header.Get("WWW-Authenticate"))
				}
			}
		}
	}
}

// TestAuthzPathBoundParty: a party's key reads its own side of an
// exchange, not the other party's, whose path it names.
func TestAuthzPathBoundParty(t *testing.T) {
	e := newAuthzEnv(t)
	path := "/v1/exchanges/x/parties/Y"
	resp, b := e.do("GET", path, e.authHeader("party:X", "", "GET", path, nil), nil)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(b), "party:{side}") {
		t.Errorf("party:X reading party:Y's side: %d %s, want 403", resp.StatusCode, b)
	}
	if resp, b := e.do("GET", path, e.authHeader("party:Y", "", "GET", path, nil), nil); resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		t.Errorf("party:Y reading its own side: %d %s", resp.StatusCode, b)
	}
}

// TestAuthzDocumented checks the OpenAPI document marks exactly the
// routes that need a signed request, and that Who puts the policy in
// words.
func TestAuthzDocumented(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(ghttp.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range ghttp.Routes {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		item := doc.Paths.Value(path)
		if item == nil || item.GetOperation(method) == nil {
			continue // TestOpenAPIDescribesEveryRoute
		}
		sec := item.GetOperation(method).Security
		signed := sec != nil && len(*sec) > 0 && !slices.ContainsFunc(*sec, func(r openapi3.SecurityRequirement) bool { return len(r) == 0 })
		if signed == rt.Allow.Public() {
			t.Errorf("%s: openapi.json says signed request %v; the table says public %v", rt.Pattern, signed, rt.Allow.Public())
		}
	}
	for pattern, want := range map[string]string{
		"GET /v1/log":            "anyone",
		"POST /v1/entries":       "anyone, rate limited per address; the entry's own signatures decide whether it is accepted",
		"PUT /v1/blobs/{sha256}": "signed request by a monitor, sensor, analyst or operator key, rate limited per address; the body must hash to the name",
		"GET /v1/exchanges/{exchange}/parties/{side}": "signed request by a verifier or party:{side} key; that party's own records and their states, never the other side's",
		"GET /v1/webhooks":                            "signed request by an operator, party or guarantor key; a guarantor or party key sees its own webhooks, an operator key all; never the secrets",
	} {
		i := slices.IndexFunc(ghttp.Routes, func(rt ghttp.Route) bool { return rt.Pattern == pattern })
		if i < 0 {
			t.Errorf("no route %s", pattern)
			continue
		}
		if got := ghttp.Routes[i].Who(); got != want {
			t.Errorf("%s: Who() = %q, want %q", pattern, got, want)
		}
	}
}

// authzLimits is each route's body limit, apart from the server's table:
// routes not named take at most 64 KiB. The test server's evidence store
// takes 1 MiB.
var authzLimits = map[string]int{
	"POST /v1/entries":                        65535,
	"POST /v1/entries:batch":                  16 << 20,
	"POST /v1/testimony":                      32 << 10,
	"POST /v1/webhooks":                       8 << 10,
	"PUT /v1/blobs/{sha256}":                  1 << 20,
	"POST /v1/exchanges/{exchange}/lists":     32 << 20,
	"POST /v1/exchanges/{exchange}/reconcile": 4 << 10,
	"POST /v1/exchanges/{exchange}/decisions": 1 << 20,
	"POST /v1/exchanges/{exchange}/manifests": 4 << 10,
}

// authzReaders are the routes whose handlers read the body, each with
// the caller that may and the body's media type, and a body of n bytes
// the handler reads to the end (the start of a JSON string, lines of
// JSON strings).
var authzReaders = map[string]struct {
	caller, ctype string
	body          func(n int) []byte
}{
	"POST /v1/entries":                        {"", "text/plain", filler},
	"POST /v1/entries:batch":                  {"", "application/x-ndjson", ndjsonFiller},
	"POST /v1/testimony":                      {"", "application/json", jsonFiller},
	"POST /v1/webhooks":                       {"operator", "application/json", jsonFiller},
	"PUT /v1/blobs/{sha256}":                  {"monitor", "text/plain", filler},
	"POST /v1/exchanges/{exchange}/lists":     {"party:X", "application/json", jsonFiller},
	"POST /v1/exchanges/{exchange}/reconcile": {"verifier", "application/json", jsonFiller},
	"POST /v1/exchanges/{exchange}/decisions": {"verifier", "application/json", jsonFiller},
	"POST /v1/exchanges/{exchange}/manifests": {"verifier", "application/json", jsonFiller},
}

func filler(n int) []byte { return bytes.Repeat([]byte("x"), n) }

func jsonFiller(n int) []byte { return append([]byte(`{"text":"`), filler(n)...)[:n] }

func ndjsonFiller(n int) []byte {
	line := append(append([]byte(`"`), filler(16<<10)...), '"', '\n')
	return bytes.Repeat(line, n/len(line)+1)[:n]
}

// serve makes a request in process, from addr, and returns the answer.
func (e *authzEnv) serve(method, path, addr, auth, ctype string, body io.Reader) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, body)
	req.RemoteAddr = addr
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	return w
}

// logSize returns the published log's size.
func (e *authzEnv) logSize() uint64 {
	e.t.Helper()
	w := e.serve("GET", "/v1/log", "192.0.2.1:1", "", "", nil)
	var v struct{ Size uint64 }
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		e.t.Fatal(err)
	}
	return v.Size
}

// TestAuthzBodyLimits sends every route a body one byte over its limit,
// declared: 413 too_large before anything else is checked. Each route
// whose handler reads the body gets one too, of undeclared length, from
// a caller the route admits: 413 as well. A body at the limit is not
// refused for its size. Nothing is logged or stored.
func TestAuthzBodyLimits(t *testing.T) {
	e := newAuthzEnv(t)
	before := e.logSize()
	for _, rt := range ghttp.Routes {
		method, _, _ := strings.Cut(rt.Pattern, " ")
		path := authzExpect[rt.Pattern].path
		limit, ok := authzLimits[rt.Pattern]
		if !ok {
			limit = 64 << 10
		}
		w := e.serve(method, path, "192.0.2.1:1", "", "", bytes.NewReader(filler(limit+1)))
		var p ghttp.Problem
		_ = json.Unmarshal(w.Body.Bytes(), &p)
		if w.Code != http.StatusRequestEntityTooLarge || p.Code != guarantor.ETooLarge || w.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s with %d bytes declared: %d %s, want 413 too_large", rt.Pattern, limit+1, w.Code, w.Body.Bytes())
		}
		if w := e.serve(method, path, "192.0.2.1:1", "", "", bytes.NewReader(filler(limit))); w.Code == http.StatusRequestEntityTooLarge {
			t.Errorf("%s with %d bytes: 413 %s, want it taken", rt.Pattern, limit, w.Body.Bytes())
		}
		rd, ok := authzReaders[rt.Pattern]
		if !ok {
			continue
		}
		body := rd.body(limit + 1)
		if method == "PUT" { // a blob named by its hash
			path = "/v1/blobs/" + sum(body)
		}
		var auth string
		if rd.caller != "" {
			auth = e.authHeader(rd.caller, "", method, path, nil)
		}
		w = e.serve(method, path, "192.0.2.1:1", auth, rd.ctype, io.MultiReader(bytes.NewReader(body))) // of undeclared length
		p = ghttp.Problem{}
		_ = json.Unmarshal(w.Body.Bytes(), &p)
		if w.Code != http.StatusRequestEntityTooLarge || p.Code != guarantor.ETooLarge {
			t.Errorf("%s with %d bytes undeclared: %d %s, want 413 too_large", rt.Pattern, limit+1, w.Code, w.Body.Bytes())
		}
		if method == "PUT" {
			if w := e.serve("GET", path, "192.0.2.1:1", "", "", nil); w.Code != http.StatusNotFound {
				t.Errorf("the oversize blob: GET %d, want 404", w.Code)
			}
		}
	}
	if after := e.logSize(); after != before {
		t.Errorf("log size %d, was %d", after, before)
	}
	if lists, err := e.svc.Lists(context.Background(), "x"); err != nil || len(lists) != 0 {
		t.Errorf("exchange lists: %v %v", lists, err)
	}
	if subs, err := e.alerts.Subscriptions(context.Background(), ""); err != nil || len(subs) != 0 {
		t.Errorf("webhooks: %v %v", subs, err)
	}
}

// authzLimited are the routes WithWriteLimit limits, apart from the
// server's table.
var authzLimited = []string{
	"POST /v1/entries", "POST /v1/entries:batch", "PUT /v1/blobs/{sha256}", "POST /v1/webhooks",
	"POST /v1/webhooks/{id}/deliveries/{delivery}/redeliver", "POST /v1/exchanges/{exchange}/lists",
}

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestAuthzWriteLimit: an address's burst passes, the next write is
// refused with 429 and Retry-After until the clock has refilled a token;
// other addresses and reads are unaffected.
func TestAuthzWriteLimit(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	e := newAuthzEnv(t, ghttp.WithClock(clock.Now), ghttp.WithWriteLimit(0.5, 3))
	post := func(addr string) *httptest.ResponseRecorder {
		return e.serve("POST", "/v1/entries", addr, "", "text/plain", strings.NewReader("not a note"))
	}
	for i := range 3 {
		if w := post("192.0.2.1:1000"); w.Code == http.StatusTooManyRequests {
			t.Fatalf("write %d of the burst: 429", i+1)
		}
	}
	w := post("192.0.2.1:1001") // the same address, another port
	var p ghttp.Problem
	_ = json.Unmarshal(w.Body.Bytes(), &p)
	if w.Code != http.StatusTooManyRequests || p.Code != guarantor.ERateLimited || w.Header().Get("Retry-After") != "2" {
		t.Fatalf("write past the burst: %d (Retry-After %q) %s, want 429 rate_limited, Retry-After 2", w.Code, w.Header().Get("Retry-After"), w.Body.Bytes())
	}
	if w := post("198.51.100.7:1000"); w.Code == http.StatusTooManyRequests {
		t.Errorf("another address: 429")
	}
	if w := e.serve("GET", "/v1/log", "192.0.2.1:1000", "", "", nil); w.Code != http.StatusOK {
		t.Errorf("a read from the limited address: %d", w.Code)
	}
	clock.Add(time.Second)
	if w := post("192.0.2.1:1000"); w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "1" {
		t.Errorf("half a token later: %d (Retry-After %q), want 429, Retry-After 1", w.Code, w.Header().Get("Retry-After"))
	}
	clock.Add(time.Second)
	if w := post("192.0.2.1:1000"); w.Code == http.StatusTooManyRequests {
		t.Errorf("a token later: 429")
	}
	if w := post("192.0.2.1:1000"); w.Code != http.StatusTooManyRequests {
		t.Errorf("past the token: %d, want 429", w.Code)
	}
}

// TestAuthzWriteLimitRoutes: with a burst of one, each limited route
// takes one write from an address and refuses the second; no other
// route refuses for the rate.
func TestAuthzWriteLimitRoutes(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	e := newAuthzEnv(t, ghttp.WithClock(clock.Now), ghttp.WithWriteLimit(1, 1))
	for i, rt := range ghttp.Routes {
		method, _, _ := strings.Cut(rt.Pattern, " ")
		addr := fmt.Sprintf("203.0.113.%d:1", i+1)
		var codes []int
		for range 2 {
			codes = append(codes, e.serve(method, authzExpect[rt.Pattern].path, addr, "", "", nil).Code)
		}
		limited := slices.Contains(authzLimited, rt.Pattern)
		switch {
		case limited && (codes[0] == http.StatusTooManyRequests || codes[1] != http.StatusTooManyRequests):
			t.Errorf("%s: %v, want the second refused with 429", rt.Pattern, codes)
		case !limited && slices.Contains(codes, http.StatusTooManyRequests):
			t.Errorf("%s: %v, want no 429: it is not rate limited", rt.Pattern, codes)
		}
	}
}

// TestAuthzWriteLimitDefault: without WithWriteLimit, one address
// writing 2,000 times a second for ten seconds is never refused, nor a
// burst of 10,000; WithWriteLimit(0, 0) never refuses.
func TestAuthzWriteLimitDefault(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	e := newAuthzEnv(t, ghttp.WithClock(clock.Now))
	post := func() int {
		return e.serve("POST", "/v1/entries", "192.0.2.1:1", "", "application/x-refused", nil).Code
	}
	for i := range 20000 {
		if code := post(); code == http.StatusTooManyRequests {
			t.Fatalf("write %d at 2,000/s: 429", i)
		}
		clock.Add(time.Second / 2000)
	}
	clock.Add(10 * time.Second)
	for i := range 10000 {
		if code := post(); code == http.StatusTooManyRequests {
			t.Fatalf("write %d of a burst: 429", i)
		}
	}
	u := newAuthzEnv(t, ghttp.WithClock(clock.Now), ghttp.WithWriteLimit(0, 0))
	for i := range 1000 {
		if w := u.serve("POST", "/v1/entries", "192.0.2.1:1", "", "application/x-refused", nil); w.Code == http.StatusTooManyRequests {
			t.Fatalf("unlimited, write %d: 429", i)
		}
	}
}

// TestAuthzWriteLimitForgets: the limiter forgets an address once its
// bucket is full again, and never tracks more than its most.
func TestAuthzWriteLimitForgets(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	e := newAuthzEnv(t, ghttp.WithClock(clock.Now), ghttp.WithWriteLimit(1, 2), ghttp.WithWriteAddrs(8))
	post := func(i int) {
		e.serve("POST", "/v1/entries", "198.51.100."+strconv.Itoa(i)+":1", "", "application/x-refused", nil)
		if n := ghttp.WriteAddrs(e.h); n > 8 {
			t.Fatalf("after address %d: %d tracked, want at most 8", i, n)
		}
	}
	for i := range 6 {
		post(i)
	}
	if n := ghttp.WriteAddrs(e.h); n != 6 {
		t.Fatalf("%d addresses tracked, want 6", n)
	}
	clock.Add(2 * time.Second) // every bucket refilled
	post(100)
	if n := ghttp.WriteAddrs(e.h); n != 1 {
		t.Errorf("after the buckets refilled: %d addresses tracked, want 1", n)
	}
	for i := range 50 {
		post(i)
	}
}
