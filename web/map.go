package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
)

// MaxTableRows is how many incidents the map page's table lists: the
// newest by id. The count above the table and the exports cover them all.
const MaxTableRows = 500

// filterForm is the map's filter as the form holds it: the query
// parameters of GET /v1/incidents, which the map reads with the same
// values.
type filterForm struct {
	From, To, Category, Level string
}

// query returns the filter as query parameters, leaving out empty ones.
func (f filterForm) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"from": f.From, "to": f.To, "category": f.Category, "level": f.Level} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// incidentRow is one line of the map page's table.
type incidentRow struct {
	ID, Index       uint64
	Level, Category string
	From, To        time.Time
	Lon, Lat        float64
	RadiusM, Count  int64
	Monitors        int
	Members         int
	Attributed      []string
}

// mapData is what the map page shows.
type mapData struct {
	base
	Filter     filterForm
	Error      string // the filter's fault, translated; no table then
	Categories []string
	Levels     []string
	// GeoJSONURL, CSVURL and JSONURL are the API's answers for the same
	// filter: the map reads the first.
	GeoJSONURL, CSVURL, JSONURL string
	Total                       int
	ByLevel                     []levelCount
	Rows                        []incidentRow // newest first
	Truncated                   bool
	I18N                        string // JSON strings for map.js
	// PatrolsURL, PatrolsJSONURL and RestrictionsCSVURL are the API's
	// patrols of the filter's dates (its category and level do not apply
	// to them): the map reads the first.
	PatrolsURL, PatrolsJSONURL, RestrictionsCSVURL string
	// Patrols and PatrolReports count the plans and reports selected;
	// Restrictions lists their restrictions, newest first, at most
	// MaxTableRows of RestrictionsTotal.
	Patrols, PatrolReports int
	Restrictions           []restrictionRow
	RestrictionsTotal      int
	Outcomes               []string // the tracks' outcomes, for the legend
}

// handleMap serves GET /map: the filter form, the map (drawn by map.js
// from /v1/incidents.geojson with the same filter), and a table of the
// incidents selected, so that a reader without JavaScript sees the data.
func (h *handler) handleMap(w http.ResponseWriter, r *http.Request) {
	lang := h.lang(r)
	d := mapData{base: h.page(r, "map"), Categories: entry.Categories, Levels: levels, I18N: mapStrings(lang)}
	q := r.URL.Query()
	d.Filter = filterForm{From: q.Get("from"), To: q.Get("to"), Category: q.Get("category"), Level: q.Get("level")}
	f, msg := parseFilter(lang, d.Filter)
	if msg != "" {
		d.Error = msg
		h.render(w, r, http.StatusBadRequest, "map", d)
		return
	}
	query := d.Filter.query().Encode()
	if query != "" {
		query = "?" + query
	}
	d.GeoJSONURL, d.CSVURL, d.JSONURL = "/v1/incidents.geojson"+query, "/v1/incidents.csv"+query, "/v1/incidents"+query
	// The table shows the newest incidents: keep the last MaxTableRows of
	// the id-ordered stream in a ring.
	ring := make([]incidentRow, 0, MaxTableRows)
	byLevel := map[string]int{}
	err := h.src.Incidents(r.Context(), f, func(row node.IncidentRow) error {
		in := row.Incident
		ir := incidentRow{ID: in.ID, Index: row.Index, Level: in.Level, Category: in.Category, From: in.From, To: in.To,
			Lon: in.Location.Coordinates[0], Lat: in.Location.Coordinates[1], RadiusM: in.RadiusM, Count: in.Count,
			Monitors: in.Monitors, Members: len(in.Members)}
		for _, a := range in.Attributions {
			ir.Attributed = append(ir.Attributed, a.Party)
		}
		if len(ring) < MaxTableRows {
			ring = append(ring, ir)
		} else {
			ring[d.Total%MaxTableRows] = ir
		}
		d.Total++
		byLevel[in.Level]++
		return nil
	})
	if err != nil {
		h.internal(w, r, err)
		return
	}
	if d.Total > MaxTableRows {
		// Rotate so that the ring runs oldest to newest.
		k := d.Total % MaxTableRows
		ring = append(ring[k:], ring[:k]...)
		d.Truncated = true
	}
	slices.Reverse(ring)
	d.Rows = ring
	d.ByLevel = countLevels(byLevel)

	// The patrols of the same dates, as GET /v1/patrols selects them.
	pq := url.Values{}
	for k, v := range map[string]string{"from": d.Filter.From, "to": d.Filter.To} {
		if v != "" {
			pq.Set(k, v)
		}
	}
	pquery := pq.Encode()
	if pquery != "" {
		pquery = "?" + pquery
	}
	d.PatrolsURL, d.PatrolsJSONURL, d.RestrictionsCSVURL = "/v1/patrols.geojson"+pquery, "/v1/patrols"+pquery, "/v1/patrols/restrictions.csv"+pquery
	ps, err := h.loadPatrols(r.Context(), node.PatrolFilter{From: f.From, To: f.To})
	if err != nil {
		h.internal(w, r, err)
		return
	}
	d.Patrols = len(ps)
	for _, p := range ps {
		d.PatrolReports += len(p.Reports)
	}
	d.Restrictions = restrictionRows(ps)
	d.RestrictionsTotal = len(d.Restrictions)
	d.Restrictions = d.Restrictions[:min(len(d.Restrictions), MaxTableRows)]
	d.Outcomes = []string{entry.PatrolCompleted, entry.PatrolPartial, entry.PatrolRestricted, entry.PatrolCancelled}
	h.render(w, r, http.StatusOK, "map", d)
}

// parseFilter checks the form as GET /v1/incidents checks its query and
// returns the store's filter (open incidents), or a translated message
// naming the first bad field.
func parseFilter(lang string, form filterForm) (node.IncidentFilter, string) {
	f := node.IncidentFilter{Status: entry.IncidentOpen, Category: form.Category, Level: form.Level}
	for _, p := range []struct {
		field, value string
		dst          *time.Time
	}{{"from", form.From, &f.From}, {"to", form.To, &f.To}} {
		if p.value == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, p.value)
		if err != nil {
			if t, err = time.Parse(time.DateOnly, p.value); err != nil {
				msg, _ := translate(lang, "filter.error.time", p.field, p.value)
				return f, msg
			}
		}
		*p.dst = t
	}
	if f.Category != "" && !slices.Contains(entry.Categories, f.Category) {
		msg, _ := translate(lang, "filter.error.category", f.Category)
		return f, msg
	}
	if f.Level != "" && !slices.Contains(levels, f.Level) {
		msg, _ := translate(lang, "filter.error.level", f.Level)
		return f, msg
	}
	return f, ""
}

// mapStrings returns, as JSON, the strings map.js shows: the names of
// levels and categories and a few labels.
func mapStrings(lang string) string {
	m := map[string]string{}
	put := func(key string) {
		m[key], _ = translate(lang, key)
	}
	for _, l := range levels {
		m["level."+l] = name(lang, "level", l)
	}
	for _, c := range entry.Categories {
		m["category."+c] = name(lang, "category", c)
	}
	for _, k := range []string{"js.incident", "js.incidents", "js.cluster", "js.layer.incidents", "js.layer.zones", "js.layer.lines", "js.details", "js.load.error", "js.members", "js.centroid"} {
		put(k)
	}
	for _, k := range []string{"js.layer.tracks", "js.layer.plans", "js.layer.cameras", "js.layer.restrictions", "js.track", "js.plan", "js.camera", "js.restriction", "js.minutes", "js.party", "js.report"} {
		put(k)
	}
	for _, k := range restrictionBy {
		put(k)
	}
	for _, k := range outcomes {
		put(k)
	}
	b, _ := json.Marshal(m)
	return string(b)
}
