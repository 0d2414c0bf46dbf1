package web_test

import (
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/guarantor/guarantor/node"
)

// BenchmarkPages times the server's work for each page (handler to
// response bytes, no network) over a demo-sized projection: 14 days of
// the generated scenario, as `guarantor demo` logs by default (about 700
// open incidents, 300 open obligations, 2,200 log entries). Compare each
// figure with the baselines of the same run: "baseline-empty" renders a
// one-line template, "baseline-api" is GET /v1/incidents over the same
// store. The target is under 100 ms a page. The report is of the
// scenario's fourth day, report-patrols of its fifth, when a patrol was
// stopped twice, another cut short and a third cancelled (the demo logs
// patrols from 9 days before the scenario: 23 days of three teams and a
// camera, whose coverage the report measures over two patrol areas and
// the line); the entry is the first observation of the incident with the
// most; the exchange is the demo's SYNTHETIC one.
func BenchmarkPages(b *testing.B) {
	d := newDemo(b, 14)
	// The incident with the most member observations.
	var id uint64
	most := 0
	err := d.node.Store().Incidents(b.Context(), node.IncidentFilter{}, func(row node.IncidentRow) error {
		if len(row.Incident.Members) > most {
			most, id = len(row.Incident.Members), row.Incident.ID
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	empty := template.Must(template.New("empty").Parse(`<!doctype html><p>{{.}}</p>`))
	serve := func(b *testing.B, h http.Handler, path string) {
		b.Helper()
		for b.Loop() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			if rec.Code != http.StatusOK {
				b.Fatalf("GET %s: %d", path, rec.Code)
			}
		}
	}
	b.Run("baseline-empty", func(b *testing.B) {
		serve(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_ = empty.Execute(w, r.URL.Path)
		}), "/")
	})
	b.Run("baseline-api", func(b *testing.B) { serve(b, d.api, "/v1/incidents?limit=10000") })
	b.Run("home", func(b *testing.B) { serve(b, d.ui, "/") })
	b.Run("map", func(b *testing.B) { serve(b, d.ui, "/map") })
	b.Run("map-filtered", func(b *testing.B) { serve(b, d.ui, "/map?level=corroborated&category=shelling") })
	b.Run("incident", func(b *testing.B) { serve(b, d.ui, fmt.Sprintf("/incidents/%d", id)) })
	day := demoStart.AddDate(0, 0, 3).Format(time.DateOnly)
	b.Run("reports", func(b *testing.B) { serve(b, d.ui, "/reports") })
	b.Run("report", func(b *testing.B) { serve(b, d.ui, "/reports/"+day) })
	b.Run("report-json", func(b *testing.B) { serve(b, d.ui, "/reports/"+day+".json") })
	b.Run("report-csv", func(b *testing.B) { serve(b, d.ui, "/reports/"+day+".csv") })
	patrolDay := demoStart.AddDate(0, 0, 4).Format(time.DateOnly)
	b.Run("report-patrols", func(b *testing.B) { serve(b, d.ui, "/reports/"+patrolDay) })
	b.Run("report-patrols-json", func(b *testing.B) { serve(b, d.ui, "/reports/"+patrolDay+".json") })
	b.Run("baseline-patrol-coverage", func(b *testing.B) {
		serve(b, d.api, "/v1/patrols/coverage?agreement=framework-2025&from="+patrolDay+"&to="+demoStart.AddDate(0, 0, 5).Format(time.DateOnly))
	})
	b.Run("map-day", func(b *testing.B) {
		serve(b, d.ui, "/map?from="+patrolDay+"&to="+demoStart.AddDate(0, 0, 5).Format(time.DateOnly))
	})
	b.Run("board", func(b *testing.B) { serve(b, d.ui, "/board") })
	b.Run("exchange", func(b *testing.B) { serve(b, d.ui, "/exchanges/"+demoExchange) })
	b.Run("home-uk", func(b *testing.B) { serve(b, d.ui, "/?lang=uk") })
	b.Run("explorer", func(b *testing.B) { serve(b, d.ui, "/explorer") })
	b.Run("explorer-search", func(b *testing.B) { serve(b, d.ui, "/explorer?q=syn-m01-20260105-0001") })
	b.Run("entry", func(b *testing.B) { serve(b, d.ui, fmt.Sprintf("/explorer/entries/%d", id)) })
}
