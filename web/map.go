package web

import (
	"cmp"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/guarantor/guarantor/engine/agreement"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
)

// MaxTableRows is how many incidents the map page's table lists: the
// newest by id. The count above the table and the exports cover them all.
const MaxTableRows = 500

// filterForm is the map's filter as the form holds it: the query
// parameters of GET /v1/incidents, which the map reads with the same
// values, but for Zone, which is "agreement/zone" here and zone=zone and
// agreement=agreement there.
type filterForm struct {
	From, To, Category, Level string
	Party                     string // attributed to, e.g. party:RU
	Zone                      string // agreement/zone
}

// query returns the filter as the API's query parameters, leaving out
// empty ones. The form must have been checked (parseFilter).
func (f filterForm) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"from": f.From, "to": f.To, "category": f.Category, "level": f.Level, "party": f.Party} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if a, z, ok := strings.Cut(f.Zone, "/"); ok {
		q.Set("zone", z)
		q.Set("agreement", a)
	}
	return q
}

// partyName is the form of a party GET /v1/incidents filters by.
var partyName = regexp.MustCompile(`^party:[A-Za-z0-9_-]{1,32}$`)

// zoneGroup is one agreement's zones among the filter's options.
type zoneGroup struct {
	Agreement, Title string
	Version          int
	Zones            []zoneOption
}

// zoneOption is a zone the filter offers: Value is agreement/zone.
type zoneOption struct {
	Value, Title string
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
	// Parties are those of the logged agreements, as party:ID; Zones
	// those of each agreement's latest version, by agreement id.
	Parties []string
	Zones   []zoneGroup
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
	d.Filter = filterForm{From: q.Get("from"), To: q.Get("to"), Category: q.Get("category"), Level: q.Get("level"),
		Party: q.Get("party"), Zone: q.Get("zone")}
	rows, err := h.src.Agreements(r.Context())
	if err != nil {
		h.internal(w, r, err)
		return
	}
	latest, err := h.latestAgreements(rows)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	d.Parties, d.Zones = filterOptions(rows, latest)
	if d.Filter.Party != "" && !slices.Contains(d.Parties, d.Filter.Party) && partyName.MatchString(d.Filter.Party) {
		// A party no agreement names selects nothing, as in the API; the
		// form keeps it.
		d.Parties = append(d.Parties, d.Filter.Party)
	}
	f, msg := parseFilter(lang, d.Filter)
	var inZone func(lon, lat float64) bool
	if msg == "" {
		inZone, msg = zoneFilter(lang, d.Filter.Zone, latest)
	}
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
	err = h.src.Incidents(r.Context(), f, func(row node.IncidentRow) error {
		in := row.Incident
		if inZone != nil && !inZone(in.Location.Coordinates[0], in.Location.Coordinates[1]) {
			return nil
		}
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

// latestAgreements returns each agreement's latest version, compiled, by
// id: the highest version, the first logged of it, as GET /v1/incidents
// reads an agreement's zones.
func (h *handler) latestAgreements(rows []node.AgreementRow) (map[string]*agreement.Compiled, error) {
	best := map[string]*node.AgreementRow{}
	for i := range rows {
		if prev := best[rows[i].Agreement.ID]; prev == nil || rows[i].Agreement.Version > prev.Agreement.Version {
			best[rows[i].Agreement.ID] = &rows[i]
		}
	}
	out := make(map[string]*agreement.Compiled, len(best))
	for id, row := range best {
		c, err := h.compile(row)
		if err != nil {
			return nil, err
		}
		out[id] = c
	}
	return out, nil
}

// filterOptions returns the parties of every logged agreement version
// (party:ID, those the API can filter by), sorted, and the zones of each
// agreement's latest version, by agreement id.
func filterOptions(rows []node.AgreementRow, latest map[string]*agreement.Compiled) ([]string, []zoneGroup) {
	var parties []string
	for _, row := range rows {
		for _, p := range row.Agreement.Parties {
			if v := "party:" + p.ID; partyName.MatchString(v) && !slices.Contains(parties, v) {
				parties = append(parties, v)
			}
		}
	}
	slices.Sort(parties)
	var zones []zoneGroup
	for _, c := range latest {
		if len(c.Doc.Zones) == 0 {
			continue
		}
		g := zoneGroup{Agreement: c.Doc.ID, Title: cmp.Or(c.Doc.Title, c.Doc.ID), Version: c.Doc.Version}
		for _, z := range c.Doc.Zones {
			g.Zones = append(g.Zones, zoneOption{Value: c.Doc.ID + "/" + z.ID, Title: cmp.Or(z.Title, z.ID)})
		}
		zones = append(zones, g)
	}
	slices.SortFunc(zones, func(a, b zoneGroup) int { return cmp.Compare(a.Agreement, b.Agreement) })
	return parties, zones
}

// zoneFilter checks the form's zone (agreement/zone) as GET /v1/incidents
// checks zone and agreement, and returns whether a point lies in that
// zone of the agreement's latest version (nil for no zone), or a
// translated message.
func zoneFilter(lang, value string, latest map[string]*agreement.Compiled) (func(lon, lat float64) bool, string) {
	if value == "" {
		return nil, ""
	}
	id, zone, ok := strings.Cut(value, "/")
	if !ok || id == "" || zone == "" {
		msg, _ := translate(lang, "filter.error.zone", value)
		return nil, msg
	}
	c := latest[id]
	if c == nil {
		msg, _ := translate(lang, "filter.error.agreement", id)
		return nil, msg
	}
	if !slices.ContainsFunc(c.Doc.Zones, func(z entry.Zone) bool { return z.ID == zone }) {
		msg, _ := translate(lang, "filter.error.zone.unknown", zone, id)
		return nil, msg
	}
	return func(lon, lat float64) bool { return c.InZone(lon, lat, zone) }, ""
}

// parseFilter checks the form as GET /v1/incidents checks its query and
// returns the store's filter (open incidents), or a translated message
// naming the first bad field. The zone is zoneFilter's.
func parseFilter(lang string, form filterForm) (node.IncidentFilter, string) {
	f := node.IncidentFilter{Status: entry.IncidentOpen, Category: form.Category, Level: form.Level, Party: form.Party}
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
	if f.Party != "" && !partyName.MatchString(f.Party) {
		msg, _ := translate(lang, "filter.error.party", f.Party)
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
