package web_test

import (
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/guarantor/guarantor/node"
)

// BenchmarkPages times the server's work for each page (handler to
// response bytes, no network) over a demo-sized projection: 14 days of
// the generated scenario, as `guarantor demo` logs by default (about 700
// open incidents, 300 open obligations, 2,200 log entries). Compare each
// figure with the baselines of the same run: "baseline-empty" renders a
// one-line template, "baseline-api" is GET /v1/incidents over the same
// store. The target is under 100 ms a page.
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
}
