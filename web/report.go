package web

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/guarantor/guarantor/engine/agreement"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
)

// TrendDays is how many days the report's longer chart covers, ending
// with the report's day; the shorter one covers the last 30 of them.
const TrendDays = 90

// ListedDays is how many days with incidents GET /reports lists.
const ListedDays = 60

// explosive are the categories whose counts the report adds up as
// explosions.
var explosive = []string{"shelling", "explosion_heard", "air_strike", "missile_strike", "drone_strike"}

// Report is one UTC day's report, as GET /reports/{day}.json serves it.
// Every incident figure counts the open incidents (the latest revision of
// each, merged ones left out) whose time span overlaps the day, exactly
// as GET /v1/incidents?from={day}&to={next day} selects them.
type Report struct {
	Day  string    `json:"day"`  // YYYY-MM-DD
	From time.Time `json:"from"` // the day's first instant, UTC
	To   time.Time `json:"to"`   // the next day's first instant (not included)
	// Complete is false while the day has not ended: its figures may
	// still grow.
	Complete   bool            `json:"complete"`
	Incidents  int             `json:"incidents"`
	ByLevel    []LevelCount    `json:"by_level"`    // every level, weakest first
	ByCategory []CategoryCount `json:"by_category"` // the categories with incidents, in the schema's order
	// Zones counts the incidents whose centroid lies in each zone of the
	// agreements in force on the day (an incident may lie in several);
	// OutsideZones those in none of them.
	Zones        []ZoneCount `json:"zones"`
	OutsideZones int         `json:"outside_zones"`
	// Explosions adds up the count of the incidents of the explosive
	// categories (shelling, explosions heard, air, missile and drone
	// strikes).
	Explosions Explosions `json:"explosions"`
	// MovementRestrictions counts incidents restricting the mission's
	// movement.
	MovementRestrictions int `json:"movement_restrictions"`
	// Determinations counts the triggers that fired on the day (their
	// determination's time), per agreement and trigger.
	Determinations    []TriggerCount `json:"determinations"`
	NewDeterminations int            `json:"new_determinations"`
	// LimitBreaches counts the determinations of triggers that test a
	// weapon limit (violates(...)).
	LimitBreaches int `json:"limit_breaches"`
	// NewObligations lists the obligations opened on the day, with their
	// status now.
	NewObligations []ObligationSummary `json:"new_obligations"`
	// Patrols is what the mission's patrols did on the day, how freely
	// they moved, and how much of the patrol areas and lines they saw.
	Patrols PatrolDay `json:"patrols"`
	// Trend is the number of incidents on each of the TrendDays days
	// ending with this one, counted as Incidents is.
	Trend []DayCount  `json:"trend"`
	Proof ProofBundle `json:"proof"`
}

// LevelCount is the number of incidents at one corroboration level.
type LevelCount struct {
	Level     string `json:"level"`
	Incidents int    `json:"incidents"`
}

// CategoryCount is the number of incidents of one category.
type CategoryCount struct {
	Category  string `json:"category"`
	Incidents int    `json:"incidents"`
}

// ZoneCount is the number of incidents in one zone of an agreement, in
// all and by category.
type ZoneCount struct {
	Agreement  string          `json:"agreement"`
	Version    int             `json:"version"`
	Zone       string          `json:"zone"`
	Title      string          `json:"title"`
	Incidents  int             `json:"incidents"`
	ByCategory []CategoryCount `json:"by_category"`
}

// Explosions is what the report counts of explosions: how many incidents
// of the explosive categories, and the sum of their counts.
type Explosions struct {
	Incidents int   `json:"incidents"`
	Count     int64 `json:"count"`
}

// TriggerCount is how many determinations one trigger of an agreement
// made on the day.
type TriggerCount struct {
	Agreement      string `json:"agreement"`
	Trigger        string `json:"trigger"`
	Title          string `json:"title"`
	LimitBreach    bool   `json:"limit_breach"` // the trigger tests a weapon limit
	Determinations int    `json:"determinations"`
}

// ObligationSummary is an obligation opened on the report's day.
type ObligationSummary struct {
	ID        uint64    `json:"id"`
	Index     uint64    `json:"index"` // log index of its latest revision
	Who       string    `json:"who"`
	Group     string    `json:"group,omitempty"`
	Action    string    `json:"action"`
	Agreement string    `json:"agreement"`
	Trigger   string    `json:"trigger"`
	Opened    time.Time `json:"opened"`
	Deadline  time.Time `json:"deadline"`
	Status    string    `json:"status"`
}

// DayCount is the number of incidents on one day.
type DayCount struct {
	Day       string `json:"day"`
	Incidents int    `json:"incidents"`
}

// ProofBundle says what a report was computed from and how to check it.
type ProofBundle struct {
	// Entries is how many log entries the projection held once the report
	// was computed: every figure comes from entries [0, Entries).
	Entries uint64 `json:"entries"`
	// Checkpoint is the log's latest published checkpoint, read after the
	// report was computed; nil when the log's state is not available.
	Checkpoint *CheckpointRef `json:"checkpoint"`
	// Covered is true when the checkpoint's tree holds every entry the
	// report read (its size is at least Entries).
	Covered bool `json:"covered"`
	// Replay is the command that re-runs the engine over the log and
	// checks every incident, determination and obligation counted here
	// byte for byte. It reads the log's latest checkpoint, whose tree
	// extends this one (guarantor verify --state proves it).
	Replay string `json:"replay"`
	// Queries are the API requests that return the incidents, by
	// category, this report counts, then the day's patrols and the
	// coverage of each agreement's patrol areas and lines.
	Queries []string `json:"queries"`
}

// CheckpointRef is a signed checkpoint of the log: its origin, tree size
// and root hash (base64), and the whole signed note.
type CheckpointRef struct {
	Origin   string `json:"origin"`
	Size     uint64 `json:"size"`
	RootHash string `json:"root_hash"`
	Note     string `json:"note"`
}

// ReportCSVColumns are the columns of GET /reports/{day}.csv, one row
// per figure: measure is incidents, explosions, explosion_incidents,
// movement_restrictions, outside_zones, determinations, limit_breaches,
// obligations_opened, the patrols' patrols_planned, patrols_completed,
// patrols_partial, patrols_cancelled, patrols_restricted and
// patrols_unreported, patrol_restrictions and patrol_restriction_minutes,
// camera_outage_hours, and per patrol area or line patrol_coverage_share
// and patrol_stale_share (from 0 to 1) and patrol_restrictions
// (explosions is the sum of the counts, every other measure without a
// unit in its name a number of incidents, determinations, obligations,
// patrols or restrictions); agreement, zone, category, level, trigger,
// party and by (who stopped a patrol) narrow it where they are set, and a
// party of "(none)" counts the restrictions that name no party. Each row
// carries the entries read and the checkpoint the report was computed at.
var ReportCSVColumns = []string{"day", "measure", "agreement", "zone", "category", "level", "trigger", "party", "by", "value", "entries", "checkpoint_size", "checkpoint_root"}

// dayName is the form of a day in a report's URL.
var dayName = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)

// parseDay reads YYYY-MM-DD as the start of a UTC day.
func parseDay(s string) (time.Time, bool) {
	if !dayName.MatchString(s) {
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, s)
	return t, err == nil
}

// reportData is what the report page shows.
type reportData struct {
	base
	*Report
	Prev, Next       string // neighbouring days; Next is "" for a day not yet begun
	Levels           []levelCount
	Categories       []string // the columns of the zone table
	Chart30, Chart90 template.HTML
	JSONURL, CSVURL  string
	IncidentsQuery   string // ?from=&to= of the day, for the API and the map
	Log              *logState
	Uncovered        uint64 // entries read that the checkpoint does not cover yet
}

// handleReport serves GET /reports/{day}, {day}.json and {day}.csv.
func (h *handler) handleReport(w http.ResponseWriter, r *http.Request) {
	lang := h.lang(r)
	name := r.PathValue("day")
	format := "html"
	for _, ext := range []string{".json", ".csv"} {
		if s, ok := strings.CutSuffix(name, ext); ok {
			name, format = s, ext[1:]
		}
	}
	from, ok := parseDay(name)
	if !ok {
		msg, _ := translate(lang, "error.report.text", r.PathValue("day"))
		h.fail(w, r, http.StatusNotFound, "error.report.title", msg)
		return
	}
	if from.After(h.now()) {
		msg, _ := translate(lang, "error.report.future", name)
		h.fail(w, r, http.StatusNotFound, "error.report.title", msg)
		return
	}
	rep, cp, err := h.buildReport(r.Context(), from, baseURL(r))
	if err != nil {
		h.internal(w, r, err)
		return
	}
	switch format {
	case "json":
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			h.internal(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(append(b, '\n'))
	case "csv":
		b, err := reportCSV(rep)
		if err != nil {
			h.internal(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="report-`+rep.Day+`.csv"`)
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(b)
	default:
		d := reportData{base: h.page(r, "reports"), Report: rep, Log: cp,
			Prev: from.AddDate(0, 0, -1).Format(time.DateOnly), Levels: make([]levelCount, len(rep.ByLevel)),
			JSONURL: "/reports/" + rep.Day + ".json", CSVURL: "/reports/" + rep.Day + ".csv",
			IncidentsQuery: "?" + dayQuery(rep.From, rep.To).Encode()}
		if next := rep.To; !next.After(h.now()) {
			d.Next = next.Format(time.DateOnly)
		}
		for i, l := range rep.ByLevel {
			d.Levels[i] = levelCount{l.Level, l.Incidents}
		}
		seen := map[string]bool{}
		for _, z := range rep.Zones {
			for _, c := range z.ByCategory {
				seen[c.Category] = true
			}
		}
		for _, c := range entry.Categories {
			if seen[c] {
				d.Categories = append(d.Categories, c)
			}
		}
		if cp != nil && cp.Size < rep.Proof.Entries {
			d.Uncovered = rep.Proof.Entries - cp.Size
		}
		d.Chart30 = barChart(lang, "chart-30", rep.Trend[len(rep.Trend)-30:])
		d.Chart90 = barChart(lang, "chart-90", rep.Trend)
		h.render(w, r, http.StatusOK, "report", d)
	}
}

// dayQuery is the query that selects a day's incidents from the API.
func dayQuery(from, to time.Time) url.Values {
	return url.Values{"from": {from.Format(time.DateOnly)}, "to": {to.Format(time.DateOnly)}}
}

// buildReport computes the report of the UTC day that starts at from,
// and returns it with the checkpoint it names (nil when the log's state
// is not available). server is the base URL the commands name.
func (h *handler) buildReport(ctx context.Context, from time.Time, server string) (*Report, *logState, error) {
	to := from.AddDate(0, 0, 1)
	start := from.AddDate(0, 0, 1-TrendDays)
	rep := &Report{Day: from.Format(time.DateOnly), From: from, To: to, Complete: !to.After(h.now()),
		ByCategory: []CategoryCount{}, Zones: []ZoneCount{}, Determinations: []TriggerCount{}, NewObligations: []ObligationSummary{}}

	rows, err := h.src.Agreements(ctx)
	if err != nil {
		return nil, nil, err
	}
	inForce, err := h.inForce(rows, from, to)
	if err != nil {
		return nil, nil, err
	}
	// The patrols' figures, mostly geometry, are computed while the
	// incidents, determinations and obligations are read.
	type patrolResult struct {
		pd  PatrolDay
		err error
	}
	patrols := make(chan patrolResult, 1)
	go func() {
		pd, err := h.patrolDay(ctx, rows, inForce, from, to, server)
		patrols <- patrolResult{pd, err}
	}()
	waited := false
	defer func() {
		// On an early return, wait for it all the same, so that nothing
		// outlives the request.
		if !waited {
			<-patrols
		}
	}()
	type zoneKey struct{ agreement, zone string }
	zoneCats := map[zoneKey]map[string]int{}
	for _, c := range inForce {
		for _, z := range c.Doc.Zones {
			rep.Zones = append(rep.Zones, ZoneCount{Agreement: c.Doc.ID, Version: c.Doc.Version, Zone: z.ID, Title: cmp.Or(z.Title, z.ID)})
			zoneCats[zoneKey{c.Doc.ID, z.ID}] = map[string]int{}
		}
	}

	trend := make([]int, TrendDays)
	byLevel, byCategory := map[string]int{}, map[string]int{}
	err = h.src.Incidents(ctx, node.IncidentFilter{Status: entry.IncidentOpen, From: start, To: to}, func(row node.IncidentRow) error {
		in := &row.Incident
		first := max(0, dayIndex(start, in.From))
		last := min(TrendDays-1, dayIndex(start, in.To))
		for i := first; i <= last; i++ {
			trend[i]++
		}
		if in.To.Before(from) {
			return nil
		}
		rep.Incidents++
		byLevel[in.Level]++
		byCategory[in.Category]++
		if slices.Contains(explosive, in.Category) {
			rep.Explosions.Incidents++
			rep.Explosions.Count += in.Count
		}
		if in.Category == "movement_restriction" {
			rep.MovementRestrictions++
		}
		lon, lat := in.Location.Coordinates[0], in.Location.Coordinates[1]
		inAny := false
		for i := range rep.Zones {
			z := &rep.Zones[i]
			if c := compiledOf(inForce, z.Agreement); c != nil && c.InZone(lon, lat, z.Zone) {
				z.Incidents++
				zoneCats[zoneKey{z.Agreement, z.Zone}][in.Category]++
				inAny = true
			}
		}
		if !inAny {
			rep.OutsideZones++
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	for _, l := range levels {
		rep.ByLevel = append(rep.ByLevel, LevelCount{l, byLevel[l]})
	}
	rep.ByCategory = categoryCounts(byCategory)
	for i := range rep.Zones {
		z := &rep.Zones[i]
		z.ByCategory = categoryCounts(zoneCats[zoneKey{z.Agreement, z.Zone}])
	}
	for i, n := range trend {
		rep.Trend = append(rep.Trend, DayCount{start.AddDate(0, 0, i).Format(time.DateOnly), n})
	}

	triggers := map[[2]string]*TriggerCount{}
	err = h.src.Determinations(ctx, node.DeterminationFilter{From: from, To: to}, func(row node.DeterminationRow) error {
		d := &row.Determination
		rep.NewDeterminations++
		k := [2]string{d.Agreement, d.Trigger}
		tc := triggers[k]
		if tc == nil {
			tc = &TriggerCount{Agreement: d.Agreement, Trigger: d.Trigger, Title: d.Trigger}
			if t := findTrigger(rows, d.Agreement, d.Version, d.Trigger); t != nil {
				tc.Title, tc.LimitBreach = cmp.Or(t.Title, t.ID), testsLimit.MatchString(t.When)
			}
			triggers[k] = tc
		}
		tc.Determinations++
		if tc.LimitBreach {
			rep.LimitBreaches++
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	for _, tc := range triggers {
		rep.Determinations = append(rep.Determinations, *tc)
	}
	slices.SortFunc(rep.Determinations, func(a, b TriggerCount) int {
		return cmp.Or(cmp.Compare(a.Agreement, b.Agreement), cmp.Compare(a.Trigger, b.Trigger))
	})

	err = h.src.Obligations(ctx, node.ObligationFilter{}, func(row node.ObligationRow) error {
		o := &row.Obligation
		if o.Opened.Before(from) || !o.Opened.Before(to) {
			return nil
		}
		rep.NewObligations = append(rep.NewObligations, ObligationSummary{ID: o.ID, Index: row.Index, Who: o.Who, Group: o.Group, Action: o.Action,
			Agreement: o.Agreement, Trigger: o.Trigger, Opened: o.Opened, Deadline: o.Deadline, Status: o.Status})
		return nil
	})
	if err != nil {
		return nil, nil, err
	}

	pr := <-patrols
	waited = true
	if pr.err != nil {
		return nil, nil, pr.err
	}
	rep.Patrols = pr.pd

	// What was read is covered by a checkpoint when the projection, read
	// after the figures, holds no more entries than the checkpoint, read
	// last: the projection only grows, and only with logged entries.
	if rep.Proof.Entries, err = h.src.Applied(ctx); err != nil {
		return nil, nil, err
	}
	cp := h.checkpoint(ctx)
	if cp != nil {
		rep.Proof.Checkpoint = &CheckpointRef{Origin: cp.Origin, Size: cp.Size, RootHash: cp.Root, Note: cp.Text}
		rep.Proof.Covered = cp.Size >= rep.Proof.Entries
	}
	rep.Proof.Replay = "guarantor replay --server " + server
	q := dayQuery(from, to)
	rep.Proof.Queries = append(rep.Proof.Queries, server+"/v1/incidents?"+q.Encode()+"&limit=10000")
	for _, c := range rep.ByCategory {
		q.Set("category", c.Category)
		rep.Proof.Queries = append(rep.Proof.Queries, server+"/v1/incidents?"+q.Encode()+"&limit=10000")
	}
	rep.Proof.Queries = append(rep.Proof.Queries, rep.Patrols.Query)
	for _, a := range rep.Patrols.Coverage {
		rep.Proof.Queries = append(rep.Proof.Queries, a.Query)
	}
	return rep, cp, nil
}

// dayIndex is the number of whole days from start to t (negative before
// start).
func dayIndex(start, t time.Time) int {
	d := t.Sub(start)
	if d < 0 {
		return -1 - int((-d-1)/(24*time.Hour))
	}
	return int(d / (24 * time.Hour))
}

// categoryCounts returns the non-zero counts of n in the schema's order of
// categories, then any category the schema does not list, by name.
func categoryCounts(n map[string]int) []CategoryCount {
	out := []CategoryCount{}
	for _, c := range entry.Categories {
		if n[c] > 0 {
			out = append(out, CategoryCount{c, n[c]})
		}
	}
	var extra []string
	for c, k := range n {
		if k > 0 && !slices.Contains(entry.Categories, c) {
			extra = append(extra, c)
		}
	}
	slices.Sort(extra)
	for _, c := range extra {
		out = append(out, CategoryCount{c, n[c]})
	}
	return out
}

// testsLimit matches a trigger expression that calls violates().
var testsLimit = regexp.MustCompile(`\bviolates\s*\(`)

// findTrigger returns the trigger id of version of agreement id, or nil.
func findTrigger(rows []node.AgreementRow, id string, version int, trigger string) *entry.Trigger {
	for i := range rows {
		a := &rows[i].Agreement
		if a.ID != id || a.Version != version {
			continue
		}
		for j := range a.Triggers {
			if a.Triggers[j].ID == trigger {
				return &a.Triggers[j]
			}
		}
	}
	return nil
}

// compiledOf returns the compiled version of agreement id among cs.
func compiledOf(cs []*agreement.Compiled, id string) *agreement.Compiled {
	for _, c := range cs {
		if c.Doc.ID == id {
			return c
		}
	}
	return nil
}

// inForce returns, compiled and ordered by id, the version of each
// agreement in force during [from, to): the one of the latest effective
// date before to (the first logged of a version), unless it expired by
// from.
func (h *handler) inForce(rows []node.AgreementRow, from, to time.Time) ([]*agreement.Compiled, error) {
	best := map[string]*node.AgreementRow{}
	for i := range rows {
		row := &rows[i]
		a := &row.Agreement
		if !a.Effective.Before(to) {
			continue
		}
		prev := best[a.ID]
		if prev == nil || a.Effective.After(prev.Agreement.Effective) ||
			a.Effective.Equal(prev.Agreement.Effective) && a.Version > prev.Agreement.Version {
			best[a.ID] = row
		}
	}
	var out []*agreement.Compiled
	for _, row := range best {
		if e := row.Agreement.Expires; e != nil && !e.After(from) {
			continue
		}
		c, err := h.compile(row)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *agreement.Compiled) int { return cmp.Compare(a.Doc.ID, b.Doc.ID) })
	return out, nil
}

// compile returns the agreement entry compiled, from the cache when it was
// compiled before.
func (h *handler) compile(row *node.AgreementRow) (*agreement.Compiled, error) {
	if v, ok := h.compiled.Load(row.Index); ok {
		return v.(*agreement.Compiled), nil
	}
	doc := row.Agreement
	c, err := agreement.Compile(&doc)
	if err != nil {
		return nil, fmt.Errorf("compile agreement %s version %d (entry %d): %w", doc.ID, doc.Version, row.Index, err)
	}
	h.compiled.Store(row.Index, c)
	return c, nil
}

// reportCSV writes the report as ReportCSVColumns.
func reportCSV(rep *Report) ([]byte, error) {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	size, root := "", ""
	if cp := rep.Proof.Checkpoint; cp != nil {
		size, root = strconv.FormatUint(cp.Size, 10), cp.RootHash
	}
	entries := strconv.FormatUint(rep.Proof.Entries, 10)
	row := func(measure, agreement, zone, category, level, trigger string, value int64) {
		_ = cw.Write([]string{rep.Day, measure, agreement, zone, category, level, trigger, "", "", strconv.FormatInt(value, 10), entries, size, root})
	}
	_ = cw.Write(ReportCSVColumns)
	row("incidents", "", "", "", "", "", int64(rep.Incidents))
	for _, l := range rep.ByLevel {
		row("incidents", "", "", "", l.Level, "", int64(l.Incidents))
	}
	for _, c := range rep.ByCategory {
		row("incidents", "", "", c.Category, "", "", int64(c.Incidents))
	}
	for _, z := range rep.Zones {
		row("incidents", z.Agreement, z.Zone, "", "", "", int64(z.Incidents))
		for _, c := range z.ByCategory {
			row("incidents", z.Agreement, z.Zone, c.Category, "", "", int64(c.Incidents))
		}
	}
	row("outside_zones", "", "", "", "", "", int64(rep.OutsideZones))
	row("explosions", "", "", "", "", "", rep.Explosions.Count)
	row("explosion_incidents", "", "", "", "", "", int64(rep.Explosions.Incidents))
	row("movement_restrictions", "", "", "", "", "", int64(rep.MovementRestrictions))
	row("determinations", "", "", "", "", "", int64(rep.NewDeterminations))
	for _, t := range rep.Determinations {
		row("determinations", t.Agreement, "", "", "", t.Trigger, int64(t.Determinations))
	}
	row("limit_breaches", "", "", "", "", "", int64(rep.LimitBreaches))
	row("obligations_opened", "", "", "", "", "", int64(len(rep.NewObligations)))

	p := &rep.Patrols
	patrolRow := func(measure, agreement, zone, party, by string, value float64) {
		_ = cw.Write([]string{rep.Day, measure, agreement, zone, "", "", "", party, by, strconv.FormatFloat(value, 'f', -1, 64), entries, size, root})
	}
	for _, f := range []struct {
		measure string
		n       int
	}{{"patrols_planned", p.Planned}, {"patrols_completed", p.Completed}, {"patrols_partial", p.Partial}, {"patrols_cancelled", p.Cancelled},
		{"patrols_restricted", p.Restricted}, {"patrols_unreported", p.Unreported}} {
		patrolRow(f.measure, "", "", "", "", float64(f.n))
	}
	r := &p.Restrictions
	patrolRow("patrol_restrictions", "", "", "", "", float64(r.Total))
	patrolRow("patrol_restriction_minutes", "", "", "", "", r.DurationMin)
	for _, c := range r.ByParty {
		party := cmp.Or(c.Key, "(none)")
		patrolRow("patrol_restrictions", "", "", party, "", float64(c.Count))
		patrolRow("patrol_restriction_minutes", "", "", party, "", c.DurationMin)
	}
	for _, c := range r.ByWhom {
		patrolRow("patrol_restrictions", "", "", "", c.Key, float64(c.Count))
		patrolRow("patrol_restriction_minutes", "", "", "", c.Key, c.DurationMin)
	}
	patrolRow("camera_outage_hours", "", "", "", "", p.OutageHours)
	for _, a := range p.Coverage {
		for _, z := range a.Zones {
			patrolRow("patrol_coverage_share", a.Agreement, z.Zone, "", "", z.Share)
			patrolRow("patrol_stale_share", a.Agreement, z.Zone, "", "", z.StaleShare)
			patrolRow("patrol_restrictions", a.Agreement, z.Zone, "", "", float64(z.Restrictions))
		}
	}
	cw.Flush()
	return buf.Bytes(), cw.Error()
}

// reportsData is what GET /reports shows.
type reportsData struct {
	base
	Error  string     // the day the form asked for is not a day
	Day    string     // what the form holds
	Today  string     // today's date, UTC
	Days   []DayCount // the latest days with incidents, newest first
	Latest string     // the latest day with incidents; "" for none
	Chart  template.HTML
	Trend  []DayCount // the TrendDays days ending with Latest
}

// handleReports serves GET /reports: the latest days with incidents, each
// linked to its report, a chart of the days before the latest, and a form
// that opens any day's report (GET /reports?day=YYYY-MM-DD redirects to
// it).
func (h *handler) handleReports(w http.ResponseWriter, r *http.Request) {
	lang := h.lang(r)
	now := h.now().UTC()
	d := reportsData{base: h.page(r, "reports"), Today: now.Format(time.DateOnly)}
	status := http.StatusOK
	if day := r.URL.Query().Get("day"); day != "" {
		if t, ok := parseDay(day); ok && !t.After(now) {
			http.Redirect(w, r, "/reports/"+day, http.StatusSeeOther)
			return
		}
		d.Day = day
		d.Error, _ = translate(lang, "reports.error.day", day, d.Today)
		status = http.StatusBadRequest
	}
	// Count each day's incidents as the reports do, over every open
	// incident; a span longer than a year counts on its last year's days.
	counts := map[string]int{}
	err := h.src.Incidents(r.Context(), node.IncidentFilter{Status: entry.IncidentOpen}, func(row node.IncidentRow) error {
		in := &row.Incident
		first := in.From.UTC().Truncate(24 * time.Hour)
		last := in.To.UTC().Truncate(24 * time.Hour)
		if last.Sub(first) > 366*24*time.Hour {
			first = last.AddDate(0, 0, -366)
		}
		for t := first; !t.After(last); t = t.AddDate(0, 0, 1) {
			counts[t.Format(time.DateOnly)]++
		}
		return nil
	})
	if err != nil {
		h.internal(w, r, err)
		return
	}
	for day, n := range counts {
		d.Days = append(d.Days, DayCount{day, n})
	}
	slices.SortFunc(d.Days, func(a, b DayCount) int { return strings.Compare(b.Day, a.Day) })
	// Days after today (an incident's claimed future time) have no report.
	d.Days = slices.DeleteFunc(d.Days, func(c DayCount) bool { return c.Day > d.Today })
	d.Days = d.Days[:min(len(d.Days), ListedDays)]
	if len(d.Days) > 0 {
		d.Latest = d.Days[0].Day
		end, _ := parseDay(d.Latest)
		for i := TrendDays - 1; i >= 0; i-- {
			day := end.AddDate(0, 0, -i).Format(time.DateOnly)
			d.Trend = append(d.Trend, DayCount{day, counts[day]})
		}
		d.Chart = barChart(lang, "chart-recent", d.Trend)
	}
	h.render(w, r, status, "reports", d)
}
