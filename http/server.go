// Package http serves guarantor over HTTP: the JSON API for submitting and
// reading entries, open data exports, the C2SP tlog-tiles read API under
// /log/, health and metrics. Routes lists every route with who may call
// it, its body limit and whether it is rate limited; NewServer enforces
// all three before a handler runs. GET /v1/openapi.json describes them
// all.
//
// Every write is authorised by note signatures checked against the key
// registry, not by the connection, so the API has no sessions.
package http

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/alert"
	"github.com/guarantor/guarantor/blob"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/exchange"
	"github.com/guarantor/guarantor/node"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Info is what GET /v1/log tells about the log besides its size.
type Info struct {
	Origin        string `json:"origin"`
	LogVKey       string `json:"log_vkey"`
	AuthorityVKey string `json:"authority_vkey"`
	EngineVKey    string `json:"engine_vkey"`
	IntakeVKey    string `json:"intake_vkey,omitempty"`
}

// Route is one route of the API: who may call it and how much it takes.
type Route struct {
	Pattern string // net/http ServeMux pattern
	// Allow is who may call it. NewServer enforces its roles before the
	// handler runs; the handler keeps the finer checks Allow.Note names.
	Allow Access
	// MaxBody is the largest request body in bytes: 0 means
	// DefaultMaxBody, BlobStoreLimit the evidence store's limit. A larger
	// body is refused with 413 and changes nothing.
	MaxBody int64
	// WriteLimited routes are rate limited per client address
	// (WithWriteLimit).
	WriteLimited bool
	// Needs is the Option that serves the route, if it needs one
	// ("WithBlobs", "WithAlerts", "WithExchange", "WithTestimony",
	// "WithUI"). Without it the route answers 404 or 503 to anyone,
	// signed or not: nothing is behind it to protect.
	Needs string
}

// Routes is the authorisation table: every route the server answers, who
// may call it (Route.Who says it in words) and its limits. NewServer
// enforces it and refuses to start if a route lacks a handler or a
// handler lacks a route; tests check each route is in the OpenAPI
// document and prove, route by route, who may call it and who may not.
var Routes = []Route{
	{Pattern: "POST /v1/entries", Allow: Anyone("the entry's own signatures decide whether it is accepted"), MaxBody: entry.MaxSize, WriteLimited: true},
	{Pattern: "POST /v1/entries:batch", Allow: Anyone("as above, note by note"), MaxBody: MaxBatchBytes, WriteLimited: true},
	{Pattern: "POST /v1/testimony", Allow: Anyone("rate limited per address by its own limit (WithTestimony); logged as testimony signed by the intake key"), MaxBody: MaxTestimonyBody, Needs: "WithTestimony"},
	{Pattern: "GET /v1/log", Allow: Anyone("")},
	{Pattern: "GET /v1/entries/{index}", Allow: Anyone("published entries only")},
	{Pattern: "GET /v1/schemas/{file}", Allow: Anyone("")},
	{Pattern: "GET /v1/openapi.json", Allow: Anyone("")},
	{Pattern: "GET /v1/observations.csv", Allow: Anyone("open data: observations hold no personal data")},
	{Pattern: "GET /v1/observations.geojson", Allow: Anyone("as above")},
	{Pattern: "GET /v1/incidents", Allow: Anyone("open data: incidents hold no personal data")},
	{Pattern: "GET /v1/incidents/{id}", Allow: Anyone("open data: incidents hold no personal data")},
	{Pattern: "GET /v1/incidents.csv", Allow: Anyone("open data: incidents hold no personal data")},
	{Pattern: "GET /v1/incidents.geojson", Allow: Anyone("open data: incidents hold no personal data")},
	{Pattern: "GET /v1/agreements", Allow: Anyone("open data")},
	{Pattern: "GET /v1/agreements/{id}", Allow: Anyone("open data")},
	{Pattern: "GET /v1/determinations", Allow: Anyone("open data")},
	{Pattern: "GET /v1/obligations", Allow: Anyone("open data")},
	{Pattern: "GET /v1/obligations/{id}", Allow: Anyone("open data")},
	{Pattern: "GET /v1/obligations.csv", Allow: Anyone("open data")},
	{Pattern: "GET /v1/guarantors/{who}/record", Allow: Anyone("open data")},
	{Pattern: "GET /v1/guarantors.csv", Allow: Anyone("open data")},
	{Pattern: "GET /v1/guarantors/{who}/feed.atom", Allow: Anyone("open data: Atom feed of guarantor:{who}'s obligation revisions")},
	{Pattern: "GET /v1/parties/{who}/feed.atom", Allow: Anyone("open data: Atom feed of party:{who}'s obligation revisions")},
	{Pattern: "POST /v1/webhooks", Allow: Signed("the signature covers the body; a guarantor or party key for its own obligations, an operator key for anyone's or all", guarantor.RoleOperator, "party:*", "guarantor:*"), MaxBody: maxSubscribeBody, WriteLimited: true, Needs: "WithAlerts"},
	{Pattern: "GET /v1/webhooks", Allow: Signed("a guarantor or party key sees its own webhooks, an operator key all; never the secrets", guarantor.RoleOperator, "party:*", "guarantor:*"), Needs: "WithAlerts"},
	{Pattern: "DELETE /v1/webhooks/{id}", Allow: Signed("the handler admits a key of the role that subscribed, or an operator key", guarantor.RoleOperator, "party:*", "guarantor:*"), Needs: "WithAlerts"},
	{Pattern: "GET /v1/webhooks/{id}/deliveries", Allow: Signed("the handler admits a key of the role that subscribed, or an operator key", guarantor.RoleOperator, "party:*", "guarantor:*"), Needs: "WithAlerts"},
	{Pattern: "POST /v1/webhooks/{id}/deliveries/{delivery}/redeliver", Allow: Signed("the handler admits a key of the role that subscribed, or an operator key", guarantor.RoleOperator, "party:*", "guarantor:*"), WriteLimited: true, Needs: "WithAlerts"},
	{Pattern: "GET /v1/coalition/{agreement}/coverage", Allow: Anyone("open data: what the coalition pledged and deployed, and the gaps")},
	{Pattern: "GET /v1/coalition/{agreement}/coverage.csv", Allow: Anyone("as above")},
	{Pattern: "GET /v1/coalition/{agreement}/support.csv", Allow: Anyone("as above: economic support pledged, due and disbursed per donor")},
	{Pattern: "GET /v1/patrols", Allow: Anyone("open data: the mission's patrol plans and reports, tracks and restrictions")},
	{Pattern: "GET /v1/patrols.geojson", Allow: Anyone("as above")},
	{Pattern: "GET /v1/patrols/restrictions.csv", Allow: Anyone("as above")},
	{Pattern: "GET /v1/patrols/coverage", Allow: Anyone("open data: the share of the agreement's zones and lines the patrols covered, per day or week, the gaps, restrictions counted, cameras' outages")},
	{Pattern: "GET /v1/patrols/coverage.csv", Allow: Anyone("as above")},
	{Pattern: "GET /v1/exchanges/{exchange}", Allow: Anyone("open data: counts and progress of a prisoner exchange, from the log; no identity")},
	{Pattern: "GET /v1/exchanges/{exchange}/manifests/{id}", Allow: Anyone("open data: a batch's keyed commitments and root, for families' checks; no identity")},
	{Pattern: "POST /v1/exchanges/{exchange}/lists", Allow: Signed("the signature covers the body; uploads the caller's own party's list in clear, stored encrypted", "party:*"), MaxBody: MaxExchangeUpload, WriteLimited: true, Needs: "WithExchange"},
	{Pattern: "GET /v1/exchanges/{exchange}/lists", Allow: Signed("the verifier sees every list, a party its own; ids and counts only", guarantor.RoleVerifier, "party:*"), Needs: "WithExchange"},
	{Pattern: "GET /v1/exchanges/{exchange}/lists/{id}/records", Allow: Signed("clear records; the handler admits a party's key only to that party's own lists", guarantor.RoleVerifier, "party:*"), Needs: "WithExchange"},
	{Pattern: "POST /v1/exchanges/{exchange}/reconcile", Allow: Signed("the signature covers the body", guarantor.RoleVerifier), MaxBody: maxReconcileBody, Needs: "WithExchange"},
	{Pattern: "GET /v1/exchanges/{exchange}/reconciliations/{holder}", Allow: Signed("it quotes both sides' records", guarantor.RoleVerifier), Needs: "WithExchange"},
	{Pattern: "POST /v1/exchanges/{exchange}/decisions", Allow: Signed("the signature covers the body", guarantor.RoleVerifier), MaxBody: maxDecisionsBody, Needs: "WithExchange"},
	{Pattern: "GET /v1/exchanges/{exchange}/parties/{side}", Allow: Signed("that party's own records and their states, never the other side's", guarantor.RoleVerifier, "party:{side}"), Needs: "WithExchange"},
	{Pattern: "POST /v1/exchanges/{exchange}/manifests", Allow: Signed("the signature covers the body; drafts a batch for both parties and the verifier to co-sign", guarantor.RoleVerifier), MaxBody: maxDraftBody, Needs: "WithExchange"},
	{Pattern: "GET /v1/exchanges/{exchange}/persons/{person}/opening", Allow: Signed("the opening it hands one family out of band", guarantor.RoleVerifier), Needs: "WithExchange"},
	{Pattern: "GET /v1/sanctions", Allow: Anyone("open data: measures, authorities and targets are public acts; no private persons")},
	{Pattern: "GET /v1/sanctions/{id}", Allow: Anyone("as above")},
	{Pattern: "GET /v1/sanctions.ftm.jsonl", Allow: Anyone("as above")},
	{Pattern: "GET /log/", Allow: Anyone("C2SP tlog-tiles checkpoint and tiles")},
	{Pattern: "PUT /v1/blobs/{sha256}", Allow: Signed("the body must hash to the name", guarantor.RoleMonitor, guarantor.RoleSensor, guarantor.RoleAnalyst, guarantor.RoleOperator), MaxBody: BlobStoreLimit, WriteLimited: true, Needs: "WithBlobs"},
	{Pattern: "GET /v1/blobs/{sha256}", Allow: Anyone("public evidence; restricted evidence only to a signed request by a monitor, analyst, operator or verifier key, the authority or its uploader, which the handler checks"), Needs: "WithBlobs"},
	{Pattern: "GET /healthz", Allow: Anyone("")},
	{Pattern: "GET /metrics", Allow: Anyone("counts only: no entry contents, keys or personal data")},
	{Pattern: "GET /", Allow: Anyone("the public pages: every GET no route above matches; 404 without WithUI"), Needs: "WithUI"},
}

// Server is the HTTP front of a node.
type Server struct {
	node      *node.Node
	info      Info
	logger    *slog.Logger
	mux       *http.ServeMux
	metrics   *prometheus.Registry
	blobs     *blob.Store
	testimony *testimony
	alerts    *alert.Store // nil: no webhooks
	// privateWebhooks lets non-operators point webhooks at local and
	// private addresses (WithPrivateWebhooks).
	privateWebhooks bool
	clock           func() time.Time  // nil: time.Now
	ui              http.Handler      // GET / (WithUI); nil: 404
	exchange        *exchange.Service // the verifier's exchange endpoints (WithExchange); nil: 404
	writes          *writeLimiter     // WithWriteLimit; nil: unlimited
	proxies         []netip.Prefix    // WithTrustedProxies
}

// WithUI serves h, the public web pages (package web), on GET /: every
// GET that no API route matches, since the API's more specific patterns
// take precedence. Without it such requests get a 404.
func WithUI(h http.Handler) Option { return func(s *Server) { s.ui = h } }

// NewServer returns a handler for n. The log's public tlog-tiles files
// are served under /log/ from n's log (its directory or its database).
// gatherer serves /metrics.
func NewServer(n *node.Node, info Info, gatherer *prometheus.Registry, logger *slog.Logger, opts ...Option) *Server {
	if logger == nil {
		logger = slog.Default()
	}
	if gatherer == nil {
		gatherer = prometheus.NewRegistry()
	}
	s := &Server{node: n, info: info, logger: logger, mux: http.NewServeMux(), metrics: gatherer,
		writes: newWriteLimiter(DefaultWriteRate, DefaultWriteBurst)}
	for _, o := range opts {
		o(s)
	}
	ui := s.ui
	if ui == nil {
		ui = http.NotFoundHandler()
	}
	handlers := map[string]http.Handler{
		// The public pages (WithUI).
		"GET /": ui,

		"POST /v1/entries":                                      http.HandlerFunc(s.handleSubmit),
		"POST /v1/entries:batch":                                http.HandlerFunc(s.handleBatch),
		"POST /v1/testimony":                                    http.HandlerFunc(s.handleTestimony),
		"GET /v1/log":                                           http.HandlerFunc(s.handleLog),
		"GET /v1/entries/{index}":                               http.HandlerFunc(s.handleEntry),
		"GET /v1/schemas/{file}":                                http.HandlerFunc(s.handleSchema),
		"GET /v1/openapi.json":                                  http.HandlerFunc(handleOpenAPI),
		"GET /v1/observations.csv":                              http.HandlerFunc(s.handleObservationsCSV),
		"GET /v1/observations.geojson":                          http.HandlerFunc(s.handleObservationsGeoJSON),
		"GET /v1/incidents":                                     http.HandlerFunc(s.handleIncidents),
		"GET /v1/incidents/{id}":                                http.HandlerFunc(s.handleIncident),
		"GET /v1/incidents.csv":                                 http.HandlerFunc(s.handleIncidentsCSV),
		"GET /v1/incidents.geojson":                             http.HandlerFunc(s.handleIncidentsGeoJSON),
		"GET /v1/agreements":                                    http.HandlerFunc(s.handleAgreements),
		"GET /v1/agreements/{id}":                               http.HandlerFunc(s.handleAgreement),
		"GET /v1/determinations":                                http.HandlerFunc(s.handleDeterminations),
		"GET /v1/obligations":                                   http.HandlerFunc(s.handleObligations),
		"GET /v1/obligations/{id}":                              http.HandlerFunc(s.handleObligation),
		"GET /v1/obligations.csv":                               http.HandlerFunc(s.handleObligationsCSV),
		"GET /v1/guarantors/{who}/record":                       http.HandlerFunc(s.handleGuarantorRecord),
		"GET /v1/guarantors.csv":                                http.HandlerFunc(s.handleGuarantorsCSV),
		"GET /v1/sanctions":                                     http.HandlerFunc(s.handleSanctions),
		"GET /v1/coalition/{agreement}/coverage":                http.HandlerFunc(s.handleCoverage),
		"GET /v1/coalition/{agreement}/coverage.csv":            http.HandlerFunc(s.handleCoverageCSV),
		"GET /v1/coalition/{agreement}/support.csv":             http.HandlerFunc(s.handleSupportCSV),
		"GET /v1/sanctions/{id}":                                http.HandlerFunc(s.handleSanction),
		"GET /v1/exchanges/{exchange}":                          http.HandlerFunc(s.handleExchange),
		"GET /v1/patrols":                                       http.HandlerFunc(s.handlePatrols),
		"GET /v1/patrols.geojson":                               http.HandlerFunc(s.handlePatrolsGeoJSON),
		"GET /v1/patrols/restrictions.csv":                      http.HandlerFunc(s.handleRestrictionsCSV),
		"GET /v1/patrols/coverage":                              http.HandlerFunc(s.handlePatrolCoverage),
		"GET /v1/patrols/coverage.csv":                          http.HandlerFunc(s.handlePatrolCoverageCSV),
		"GET /v1/exchanges/{exchange}/manifests/{id}":           http.HandlerFunc(s.handleManifest),
		"POST /v1/exchanges/{exchange}/lists":                   http.HandlerFunc(s.handleExchangeUpload),
		"GET /v1/exchanges/{exchange}/lists":                    http.HandlerFunc(s.handleExchangeLists),
		"GET /v1/exchanges/{exchange}/lists/{id}/records":       http.HandlerFunc(s.handleExchangeRecords),
		"POST /v1/exchanges/{exchange}/reconcile":               http.HandlerFunc(s.handleExchangeReconcile),
		"GET /v1/exchanges/{exchange}/reconciliations/{holder}": http.HandlerFunc(s.handleExchangeReconciliation),
		"POST /v1/exchanges/{exchange}/decisions":               http.HandlerFunc(s.handleExchangeDecisions),
		"GET /v1/exchanges/{exchange}/parties/{side}":           http.HandlerFunc(s.handleExchangeParty),
		"POST /v1/exchanges/{exchange}/manifests":               http.HandlerFunc(s.handleExchangeDraft),
		"GET /v1/exchanges/{exchange}/persons/{person}/opening": http.HandlerFunc(s.handleExchangeOpening),
		"GET /v1/sanctions.ftm.jsonl":                           http.HandlerFunc(s.handleSanctionsFtM),
		"GET /log/":                                             http.StripPrefix("/log/", n.Log().Handler()),
		"PUT /v1/blobs/{sha256}":                                http.HandlerFunc(s.handlePutBlob),
		"GET /v1/blobs/{sha256}":                                http.HandlerFunc(s.handleGetBlob),
		"GET /healthz":                                          http.HandlerFunc(s.handleHealth),
		"GET /metrics":                                          promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}),

		// Alerts (alerts.go).
		"GET /v1/guarantors/{who}/feed.atom":                     http.HandlerFunc(s.handleGuarantorFeed),
		"GET /v1/parties/{who}/feed.atom":                        http.HandlerFunc(s.handlePartyFeed),
		"POST /v1/webhooks":                                      http.HandlerFunc(s.handleSubscribe),
		"GET /v1/webhooks":                                       http.HandlerFunc(s.handleWebhooks),
		"DELETE /v1/webhooks/{id}":                               http.HandlerFunc(s.handleUnsubscribe),
		"GET /v1/webhooks/{id}/deliveries":                       http.HandlerFunc(s.handleDeliveries),
		"POST /v1/webhooks/{id}/deliveries/{delivery}/redeliver": http.HandlerFunc(s.handleRedeliver),
	}
	if len(handlers) != len(Routes) {
		panic("http: the handlers and the Routes table differ")
	}
	serves := map[string]bool{
		"": true, "WithBlobs": s.blobs != nil, "WithAlerts": s.alerts != nil,
		"WithExchange": s.exchange != nil, "WithTestimony": s.testimony != nil, "WithUI": s.ui != nil,
	}
	for _, rt := range Routes {
		h, ok := handlers[rt.Pattern]
		if !ok {
			panic("http: no handler for route " + rt.Pattern)
		}
		on, known := serves[rt.Needs]
		if !known {
			panic(fmt.Sprintf("http: route %s needs %q, which is no Option", rt.Pattern, rt.Needs))
		}
		rt.Allow.check(rt.Pattern)
		// The checks run in this order: rate, size, role, then the
		// handler's own; the cheapest refuse first.
		if on {
			h = s.authorize(rt, h)
		}
		h = s.limitBody(rt.Pattern, s.maxBody(rt), h)
		if rt.WriteLimited && s.writes != nil {
			h = s.limitWrites(h)
		}
		s.mux.Handle(rt.Pattern, h)
	}
	return s
}

// maxBody is the body limit of rt on this server.
func (s *Server) maxBody(rt Route) int64 {
	switch {
	case rt.MaxBody == BlobStoreLimit && s.blobs != nil:
		return s.blobs.MaxSize()
	case rt.MaxBody <= 0:
		return DefaultMaxBody
	}
	return rt.MaxBody
}

// ServeHTTP routes the request and logs it (method, path, status, time;
// never bodies).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	s.mux.ServeHTTP(sw, r)
	level := slog.LevelDebug
	if sw.status >= 500 {
		level = slog.LevelError
	}
	s.logger.Log(r.Context(), level, "http", "method", r.Method, "path", r.URL.Path, "status", sw.status, "ms", time.Since(start).Milliseconds())
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the status and passes it on.
func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (s *Server) handleSubmit(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "text/plain") && !strings.HasPrefix(ct, "application/octet-stream") {
		s.problem(w, r, guarantor.Errorf(guarantor.EUnsupported, "Content-Type", "send the signed note as text/plain (got %q)", ct))
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, entry.MaxSize))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		s.problem(w, r, guarantor.Errorf(guarantor.ETooLarge, "", "entry exceeds %d bytes", entry.MaxSize))
		return
	}
	if err != nil {
		s.problem(w, r, guarantor.Errorf(guarantor.EInvalid, "", "cannot read request body: %v", err))
		return
	}
	if err := refuseEngineKinds(raw); err != nil {
		s.problem(w, r, err)
		return
	}
	res, err := s.node.Submit(r.Context(), raw)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	status := http.StatusCreated
	if !res.Created {
		status = http.StatusOK
	}
	w.Header().Set("Location", "/v1/entries/"+strconv.FormatUint(res.Receipt.Index, 10))
	writeJSON(w, status, res.Receipt)
}

// refuseEngineKinds refuses the entries only the server's own engine
// writes (the derived kinds of entry.Derived: incidents, determinations
// and obligations; and ticks): an engine key could sign them, but one
// submitted from outside would put words in the engine's mouth that
// replay could not reproduce. A note that does not parse is left to
// node.Submit, which names its fault.
func refuseEngineKinds(raw []byte) error {
	e, err := entry.Parse(raw)
	if err != nil {
		return nil
	}
	if entry.Derived(e.Kind) || e.Kind == entry.KindTick {
		return guarantor.Errorf(guarantor.EForbidden, "kind", "kind %s: incident, determination, obligation and tick entries are written by the server's own engine", e.Kind)
	}
	return nil
}

func (s *Server) handleLog(w http.ResponseWriter, r *http.Request) {
	size, err := s.publishedSize(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Info
		Size uint64 `json:"size"`
	}{s.info, size})
}

func (s *Server) publishedSize(r *http.Request) (uint64, error) {
	cp, err := s.node.Log().ReadCheckpoint(r.Context())
	if err != nil {
		return 0, fmt.Errorf("read checkpoint: %w", err)
	}
	return node.CheckpointSize(cp)
}

// EntryView is the decoded form of a log entry served by GET /v1/entries/{index}.
type EntryView struct {
	Index    uint64          `json:"index"`
	LeafHash []byte          `json:"leaf_hash"`
	Kind     string          `json:"kind"`
	Signers  []string        `json:"signers"`
	Body     json.RawMessage `json:"body"`
	Note     string          `json:"note"`
	Rejected string          `json:"rejected,omitempty"`
}

func (s *Server) handleEntry(w http.ResponseWriter, r *http.Request) {
	idx, err := strconv.ParseUint(r.PathValue("index"), 10, 64)
	if err != nil {
		s.problem(w, r, guarantor.Errorf(guarantor.EInvalid, "index", "index %q is not a non-negative integer", r.PathValue("index")))
		return
	}
	size, err := s.publishedSize(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	rec, ok, err := s.node.Store().Entry(r.Context(), idx)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if !ok || idx >= size {
		s.problem(w, r, guarantor.Errorf(guarantor.ENotFound, "index", "no published entry at index %d (log size %d)", idx, size))
		return
	}
	e, err := entry.Parse(rec.Raw)
	if err != nil {
		s.problem(w, r, fmt.Errorf("stored entry %d does not parse: %w", idx, err))
		return
	}
	writeJSON(w, http.StatusOK, EntryView{
		Index: idx, LeafHash: rec.LeafHash, Kind: string(rec.Kind), Signers: rec.Signers,
		Body: e.Body, Note: string(rec.Raw), Rejected: rec.Rejected,
	})
}

func (s *Server) handleSchema(w http.ResponseWriter, r *http.Request) {
	kind, ok := strings.CutSuffix(r.PathValue("file"), ".json")
	b, found := entry.Schema(entry.Kind(kind))
	if !ok || !found {
		s.problem(w, r, guarantor.Errorf(guarantor.ENotFound, "file", "no schema %q; available: %s (append .json)", r.PathValue("file"), strings.Join(entry.KindNames(), ", ")))
		return
	}
	w.Header().Set("Content-Type", "application/schema+json")
	_, _ = w.Write(b)
}

// handleHealth answers 200 while the node follows the log and its engine
// (if any) agrees with it; 503 once the engine has halted on a divergence,
// or while the disk is full or read-only (writes are then refused).
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	h := map[string]any{"status": "ok", "applied": s.node.Applied()}
	status := http.StatusOK
	if st, ok := s.node.Engine(); ok {
		eng := map[string]any{"derived_emitted": st.Seq, "derived_logged": st.Matched, "pending": st.Pending, "open_incidents": st.Open,
			"writer": s.node.Leading()} // false: another server sharing the log writes the engine's entries
		if st.Halted != nil {
			eng["halted"] = st.Halted.Error()
			h["status"] = "engine halted"
			status = http.StatusServiceUnavailable
		}
		h["engine"] = eng
	}
	if err := s.node.DiskFault(); err != nil {
		h["status"] = "disk fault"
		h["disk"] = err.Error()
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, h)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}
