// Package web serves guarantor's public web pages: the home page with the
// log's state and the counts that matter, a map of incidents with the
// agreements' zones and lines and the monitoring mission's patrols
// (planned routes, tracks by outcome, cameras' fields of view, and a
// table of the places patrols were stopped), one page per incident with
// every revision, member observation and verification linked to its log
// entry, a daily report (HTML, JSON and CSV, each with its proof bundle,
// including the day's patrols, restrictions of movement, camera outages
// and the coverage of the patrol areas and lines), the guarantor board
// (open obligations, fulfilment records, the mission's access, sanctions,
// coalition coverage, the progress of prisoner exchanges), one page per
// prisoner exchange (counts and commitments' roots only, as the log holds
// no identity) and a log explorer (any entry with its inclusion proof).
//
// The pages are in English, Ukrainian or Russian (see New). They are
// rendered on the server with html/template and read without JavaScript;
// a vendored Leaflet draws the map over an embedded Natural Earth base
// map. Nothing is loaded from another host. Mount the handler beside the
// JSON API, whose open data the map reads:
//
//	ghttp.NewServer(n, info, reg, logger, ghttp.WithUI(web.New(n.Store(), web.WithLog(n.Log()))))
package web

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/registry"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/text/language"
)

// Source is what the pages read from the projection. Its methods are
// those of node.Store, which satisfies it; they must be safe for
// concurrent use, and an error from any of them is answered with a 500
// page.
type Source interface {
	// Entry returns the applied entry at index, or ok=false.
	Entry(ctx context.Context, index uint64) (rec node.Record, ok bool, err error)
	// Incidents calls fn with the latest revision of every incident f
	// selects, ordered by incident id, streaming.
	Incidents(ctx context.Context, f node.IncidentFilter, fn func(node.IncidentRow) error) error
	// Incident returns every revision of incident id in revision order
	// (none when there is no such incident).
	Incident(ctx context.Context, id uint64) ([]node.IncidentRow, error)
	// Verifications returns every accepted verification naming one of the
	// given incident ids, in log order.
	Verifications(ctx context.Context, ids []uint64) ([]node.VerificationRow, error)
	// Agreements returns every accepted agreement entry, in log order.
	Agreements(ctx context.Context) ([]node.AgreementRow, error)
	// Determinations calls fn with every determination f selects, in log
	// order, streaming.
	Determinations(ctx context.Context, f node.DeterminationFilter, fn func(node.DeterminationRow) error) error
	// Obligations calls fn with the latest revision of every obligation f
	// selects, ordered by obligation id, streaming.
	Obligations(ctx context.Context, f node.ObligationFilter, fn func(node.ObligationRow) error) error
	// Applied returns how many log entries the projection holds: whatever
	// the other methods return was computed from entries [0, Applied).
	Applied(ctx context.Context) (uint64, error)
	// Records calls fn with every applied entry in [from, to), in log
	// order, streaming.
	Records(ctx context.Context, from, to uint64, fn func(node.Record) error) error
	// ObservationByID returns the index and leaf hash of the observation
	// with client id made by signer (name+hash of its first signature).
	ObservationByID(ctx context.Context, signer, id string) (index uint64, leafHash []byte, ok bool, err error)
	// Keys returns every registered key, with its revocation if any, in
	// log order.
	Keys(ctx context.Context) ([]registry.Key, error)
	// Sanctions returns every measure's current state, ordered by id.
	Sanctions(ctx context.Context) ([]node.SanctionRow, error)
	// Coverage returns the latest coverage snapshot of an agreement for a
	// month (YYYY-MM; "" for its latest month), if one is logged.
	Coverage(ctx context.Context, agreement, month string) (node.CoverageRow, bool, error)
	// ExchangeEntries calls fn with every accepted entry of a prisoner
	// exchange (list parts, manifest parts, confirmations: Record.Body is
	// an *entry.ExchangeList, *entry.ExchangeManifest or
	// *entry.ExchangeConfirmation) in log order, streaming; exchange ""
	// visits every exchange's.
	ExchangeEntries(ctx context.Context, exchange string, fn func(node.Record) error) error
	// PatrolEntries calls fn with every accepted patrol plan and report f
	// selects (Record.Body is an *entry.PatrolPlan or *entry.PatrolReport:
	// a plan whose window, or a report whose span, overlaps f's period)
	// in log order, streaming.
	PatrolEntries(ctx context.Context, f node.PatrolFilter, fn func(node.Record) error) error
}

var _ Source = node.Store(nil)

// Log is the read side of the transparency log the pages report on;
// *ledger.Log satisfies it. Its methods must be safe for concurrent use.
type Log interface {
	// ReadCheckpoint returns the latest published signed checkpoint.
	ReadCheckpoint(ctx context.Context) ([]byte, error)
	// InclusionProof returns the RFC 6962 inclusion proof of the leaf at
	// index in the tree of the given size, which a published checkpoint
	// must cover.
	InclusionProof(ctx context.Context, index, size uint64) ([][]byte, error)
}

// Option configures the handler New returns.
type Option func(*handler)

// WithLog shows the log's published checkpoint (size, root hash and
// signatures) on the home page and the explorer, names it in each report's
// proof bundle, and gives the explorer its inclusion proofs and receipts.
// Optional: without it the pages say the log's state is not available.
func WithLog(l Log) Option { return func(h *handler) { h.log = l } }

// WithLogVerifier gives the explorer the log's verifier key, to verify
// the log's signature on its checkpoint. Optional: without it the
// explorer shows that signature as not verified here.
func WithLogVerifier(v note.Verifier) Option { return func(h *handler) { h.logV = v } }

// WithClock sets the clock of the board's countdowns and of whether a
// day's report is complete. Optional. Default time.Now.
func WithClock(now func() time.Time) Option {
	return func(h *handler) {
		if now != nil {
			h.now = now
		}
	}
}

// WithLogger receives the errors behind 500 pages. Optional. Default
// slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(h *handler) {
		if l != nil {
			h.logger = l
		}
	}
}

//go:embed templates
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// views are the page templates, each rendered inside layout.html.
var views = []string{"home", "map", "incident", "error", "reports", "report", "board", "explorer", "entry", "exchange"}

// handler serves the pages and their static assets.
type handler struct {
	src    Source
	log    Log
	logV   note.Verifier // the log's key; nil: the log's signature is not checked
	logger *slog.Logger
	now    func() time.Time
	// compiled caches agreement versions compiled for their zones, by the
	// log index of their entry (entries never change).
	compiled sync.Map // uint64 -> *agreement.Compiled
	mux      *http.ServeMux
	static   *assets
	// pages holds, per language of the catalogue, each view parsed with
	// the layout and that language's strings.
	pages   map[string]map[string]*template.Template
	matcher language.Matcher
	langs   []string // matcher's languages, in the same order
}

// New returns the handler of the public pages over src: GET / (home),
// /map, /incidents/{id}, /reports, /reports/{day} (and .json, .csv),
// /board, /exchanges/{id}, /explorer, /explorer/entries/{i} (and its note
// and receipt) and /static/, and a 404 page for any other path.
//
// Each page is in the language of the catalogue that ?lang= names (which
// a cookie then remembers), or else that the request's Accept-Language
// prefers; English when none matches.
//
// It parses every template once and panics if one does not parse, which
// the package's tests rule out.
func New(src Source, opts ...Option) http.Handler {
	h := &handler{src: src, logger: slog.Default(), now: time.Now, mux: http.NewServeMux()}
	for _, o := range opts {
		o(h)
	}
	static, err := loadAssets(staticFS, "static")
	if err != nil {
		panic(fmt.Sprintf("web: %v", err))
	}
	h.static = static
	h.langs = languages()
	tags := make([]language.Tag, len(h.langs))
	for i, l := range h.langs {
		tags[i] = language.Make(l)
	}
	h.matcher = language.NewMatcher(tags)
	h.pages = map[string]map[string]*template.Template{}
	for _, lang := range h.langs {
		pages, err := parsePages(lang, static)
		if err != nil {
			panic(fmt.Sprintf("web: %v", err))
		}
		h.pages[lang] = pages
	}
	h.mux.HandleFunc("GET /{$}", h.handleHome)
	h.mux.HandleFunc("GET /map", h.handleMap)
	h.mux.HandleFunc("GET /incidents/{id}", h.handleIncident)
	h.mux.HandleFunc("GET /reports", h.handleReports)
	h.mux.HandleFunc("GET /reports/{day}", h.handleReport)
	h.mux.HandleFunc("GET /board", h.handleBoard)
	h.mux.HandleFunc("GET /exchanges/{id}", h.handleExchange)
	h.mux.HandleFunc("GET /explorer", h.handleExplorer)
	h.mux.HandleFunc("GET /explorer/entries/{i}", h.handleEntry)
	h.mux.HandleFunc("GET /explorer/entries/{i}/note", h.handleEntryNote)
	h.mux.HandleFunc("GET /explorer/entries/{i}/receipt.json", h.handleEntryReceipt)
	h.mux.Handle("GET /static/{hash}/{file...}", static)
	h.mux.HandleFunc("/", h.handleNotFound)
	return h
}

// ServeHTTP serves one request. A ?lang= that names a language of the
// catalogue is remembered in a cookie, so that the reader's next pages
// are in it too.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if l := r.URL.Query().Get(langParam); l != "" && h.pages[l] != nil {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	h.mux.ServeHTTP(w, r)
}

// parsePages parses every view with the layout, for one language.
func parsePages(lang string, static *assets) (map[string]*template.Template, error) {
	base, err := template.New("layout.html").Funcs(funcs(lang, static)).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, v := range views {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/"+v+".html")
		if err != nil {
			return nil, fmt.Errorf("parse view %s: %w", v, err)
		}
		pages[v] = t
	}
	return pages, nil
}

// funcs are the template functions of one language.
func funcs(lang string, static *assets) template.FuncMap {
	return template.FuncMap{
		"t":    func(key string, args ...any) (string, error) { return translate(lang, key, args...) },
		"name": func(kind, value string) string { return name(lang, kind, value) },
		// asset is the content-hashed URL of a static file.
		"asset":      static.url,
		"date":       func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
		"iso":        func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"coord":      func(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) },
		"join":       strings.Join,
		"pathEscape": url.PathEscape,
		"entryURL": func(index uint64) string {
			return "/v1/entries/" + strconv.FormatUint(index, 10)
		},
		"incidentURL": func(id uint64) string {
			return "/incidents/" + strconv.FormatUint(id, 10)
		},
		"lower": strings.ToLower,
		"explorerURL": func(index uint64) string {
			return "/explorer/entries/" + strconv.FormatUint(index, 10)
		},
		"num": formatNumber,
		// count writes a count of people or things as num does.
		"count": func(n int) string { return formatNumber(float64(n)) },
		"pct":   percent,
		// by names who stopped a patrol; outcome a patrol's outcome.
		"by":      func(v string) string { return restrictedBy(lang, v) },
		"outcome": func(v string) string { return outcomeName(lang, v) },
		// statuses is an exchange list's breakdown by status, in order.
		"statuses": statuses,
		// zoneCount is a zone's count of incidents of one category.
		"zoneCount": func(z ZoneCount, category string) int {
			for _, c := range z.ByCategory {
				if c.Category == category {
					return c.Incidents
				}
			}
			return 0
		},
	}
}

// formatNumber writes x with at most two decimals and its integer part in
// groups of three digits, separated by narrow no-break spaces (as SI and
// ISO 80000 write numbers, whatever the language).
func formatNumber(x float64) string {
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if i := strings.IndexByte(s, '.'); i >= 0 && len(s)-i > 3 {
		s = strconv.FormatFloat(x, 'f', 2, 64)
	}
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteString("\u202f")
		}
		b.WriteRune(c)
	}
	if hasFrac {
		b.WriteString("." + frac)
	}
	return sign + b.String()
}

// percent writes a share (1 is all) as a percentage with one decimal,
// rounded, except that a share short of all never shows as 100.0.
func percent(x float64) string {
	s := strconv.FormatFloat(100*x, 'f', 1, 64)
	if x < 1 && s == "100.0" {
		s = "99.9"
	}
	return s
}

// checkpoint reads and parses the log's published checkpoint; nil when
// there is no log or it cannot be read, which the pages say (and the
// server's log records).
func (h *handler) checkpoint(ctx context.Context) *logState {
	if h.log == nil {
		return nil
	}
	cp, err := h.log.ReadCheckpoint(ctx)
	var st *logState
	if err == nil {
		st, err = parseCheckpoint(cp)
	}
	if err != nil {
		h.logger.WarnContext(ctx, "web: read checkpoint", "err", err)
		return nil
	}
	return st
}

// baseURL is the scheme and host the request came to, for the commands the
// pages print (guarantor replay --server URL).
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// base is what every page's layout needs.
type base struct {
	Lang  string
	Nav   string     // the nav entry of this page: home, map, reports, board or explorer; "" for none
	Langs []langLink // the same page in each language of the catalogue
}

// langLink is the same page in one language, for the language switcher.
type langLink struct {
	Code    string // BCP 47 tag, as in hreflang
	Name    string // the language's name in itself
	URL     string // the page's path and query, with ?lang= set
	Current bool
}

// langParam and langCookie name the language a reader chose: ?lang=
// chooses it, and the cookie remembers it.
const (
	langParam  = "lang"
	langCookie = "lang"
)

// page returns the base of a page in nav (see base.Nav) for request r.
func (h *handler) page(r *http.Request, nav string) base {
	b := base{Lang: h.lang(r), Nav: nav}
	path := r.URL.EscapedPath()
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") {
		path = "/" // never a link to another host
	}
	q := r.URL.Query()
	for _, l := range h.langs {
		q.Set(langParam, l)
		name, _ := translate(l, "lang.name")
		b.Langs = append(b.Langs, langLink{Code: l, Name: name, URL: path + "?" + q.Encode(), Current: l == b.Lang})
	}
	return b
}

// render executes view into a buffer and writes it with status, so that
// a template error becomes a 500 page rather than half a page.
func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, view string, data any) {
	lang := h.lang(r)
	var buf bytes.Buffer
	if err := h.pages[lang][view].ExecuteTemplate(&buf, "layout.html", data); err != nil {
		h.logger.ErrorContext(r.Context(), "render page", "view", view, "path", r.URL.Path, "err", err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Language", lang)
	hd.Set("Vary", "Accept-Language, Cookie")
	hd.Set("Cache-Control", "no-cache")
	// The pages load only their own scripts, styles and data.
	hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// lang picks the catalogue language of a request: the one ?lang= names,
// else the one its cookie remembers, else the one its Accept-Language
// prefers; English when none matches.
func (h *handler) lang(r *http.Request) string {
	if l := r.URL.Query().Get(langParam); h.pages[l] != nil {
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil && h.pages[c.Value] != nil {
		return c.Value
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return h.langs[0]
	}
	_, i, _ := h.matcher.Match(tags...)
	return h.langs[i]
}

// errorData is what the error page shows.
type errorData struct {
	base
	Status  int
	Title   string // catalogue key
	Message string // already translated
}

// fail answers with the error page: status, a title key and a message.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, status int, titleKey, message string) {
	h.render(w, r, status, "error", errorData{base: h.page(r, ""), Status: status, Title: titleKey, Message: message})
}

// internal logs err and answers with a 500 page that does not show it.
func (h *handler) internal(w http.ResponseWriter, r *http.Request, err error) {
	h.logger.ErrorContext(r.Context(), "web page", "path", r.URL.Path, "err", err)
	msg, _ := translate(h.lang(r), "error.internal.text")
	h.fail(w, r, http.StatusInternalServerError, "error.internal.title", msg)
}

func (h *handler) handleNotFound(w http.ResponseWriter, r *http.Request) {
	msg, _ := translate(h.lang(r), "error.notfound.text", r.URL.Path)
	h.fail(w, r, http.StatusNotFound, "error.notfound.title", msg)
}

// levels are the incident corroboration levels, weakest first.
var levels = []string{"reported", "corroborated", "verified"}

// levelCount is the number of incidents at one level.
type levelCount struct {
	Level string
	Count int
}

// countLevels returns n's counts in the order of levels.
func countLevels(n map[string]int) []levelCount {
	out := make([]levelCount, 0, len(levels))
	for _, l := range levels {
		out = append(out, levelCount{l, n[l]})
	}
	return out
}
