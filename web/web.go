// Package web serves guarantor's public web pages: the home page with the
// log's state and the counts that matter, a map of incidents with the
// agreements' zones and lines, and one page per incident with every
// revision, member observation and verification linked to its log entry.
//
// The pages are rendered on the server with html/template and read
// without JavaScript; a vendored Leaflet draws the map over an embedded
// Natural Earth base map. Nothing is loaded from another host. Mount the
// handler beside the JSON API, whose open data the map reads:
//
//	ghttp.NewServer(n, info, logDir, reg, logger, ghttp.WithUI(web.New(n.Store(), web.WithLog(n.Log()))))
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
	"time"

	"github.com/guarantor/guarantor/node"
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
}

var _ Source = node.Store(nil)

// Log is the read side of the transparency log the pages report on;
// *ledger.Log satisfies it.
type Log interface {
	// ReadCheckpoint returns the latest published signed checkpoint.
	ReadCheckpoint(ctx context.Context) ([]byte, error)
}

// Option configures the handler New returns.
type Option func(*handler)

// WithLog shows the log's published checkpoint (size, root hash and
// signatures) on the home page. Optional: without it the home page says
// the log's state is not available.
func WithLog(l Log) Option { return func(h *handler) { h.log = l } }

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
var views = []string{"home", "map", "incident", "error"}

// handler serves the pages and their static assets.
type handler struct {
	src    Source
	log    Log
	logger *slog.Logger
	mux    *http.ServeMux
	static *assets
	// pages holds, per language of the catalogue, each view parsed with
	// the layout and that language's strings.
	pages   map[string]map[string]*template.Template
	matcher language.Matcher
	langs   []string // matcher's languages, in the same order
}

// New returns the handler of the public pages over src: GET / (home),
// /map, /incidents/{id} and /static/, and a 404 page for any other path.
// It parses every template once and panics if one does not parse, which
// the package's tests rule out.
func New(src Source, opts ...Option) http.Handler {
	h := &handler{src: src, logger: slog.Default(), mux: http.NewServeMux()}
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
	h.mux.Handle("GET /static/{hash}/{file...}", static)
	h.mux.HandleFunc("/", h.handleNotFound)
	return h
}

// ServeHTTP serves one request.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

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
	}
}

// base is what every page's layout needs.
type base struct {
	Lang string
	Nav  string // the nav entry of this page, "home" or "map"; "" for none
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
	hd.Set("Vary", "Accept-Language")
	hd.Set("Cache-Control", "no-cache")
	// The pages load only their own scripts, styles and data.
	hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// lang picks the catalogue language the request's Accept-Language
// prefers; English when none matches.
func (h *handler) lang(r *http.Request) string {
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
	h.render(w, r, status, "error", errorData{base: base{Lang: h.lang(r)}, Status: status, Title: titleKey, Message: message})
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
