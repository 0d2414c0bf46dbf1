package http

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/ucdp"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// CSVColumns are the columns of GET /v1/observations.csv: guarantor's
// own, then the UCDP GED columns that map back from an observation (filled
// for observations imported from UCDP). latitude and longitude carry
// UCDP's names already.
var CSVColumns = []string{
	"log_index", "signer", "obs_id", "observed_at", "longitude", "latitude", "accuracy_m", "category",
	"count", "bearing_deg", "weapon", "source_type", "source", "external_id", "evidence", "text",
	"id", "date_start", "where_prec", "best",
}

// parseFilter reads the export filters from the query string: from and to
// (RFC 3339 or YYYY-MM-DD), bbox (minLon,minLat,maxLon,maxLat), category,
// source_type, limit.
func parseFilter(r *http.Request) (node.ObservationFilter, error) {
	var f node.ObservationFilter
	q := r.URL.Query()
	var err error
	if f.From, f.To, err = parseTimes(q); err != nil {
		return f, err
	}
	if f.BBox, err = parseBBox(q); err != nil {
		return f, err
	}
	if f.Category, err = parseCategory(q); err != nil {
		return f, err
	}
	if v := q.Get("source_type"); v != "" {
		if !contains(entry.SourceTypes, v) {
			return f, guarantor.Errorf(guarantor.EInvalid, "source_type", "source_type=%q is not one of %s", v, strings.Join(entry.SourceTypes, ", "))
		}
		f.SourceType = v
	}
	if f.Limit, err = parseLimit(q, 0, 0); err != nil {
		return f, err
	}
	return f, nil
}

// parseTimes reads the from and to parameters, each RFC 3339 or
// YYYY-MM-DD (midnight UTC); zero when absent.
func parseTimes(q url.Values) (from, to time.Time, err error) {
	for name, dst := range map[string]*time.Time{"from": &from, "to": &to} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			if t, err = time.Parse("2006-01-02", v); err != nil {
				return from, to, guarantor.Errorf(guarantor.EInvalid, name, "%s=%q is not a time like 2025-03-01 or 2025-03-01T18:00:00Z", name, v)
			}
		}
		*dst = t
	}
	return from, to, nil
}

// parseBBox reads the bbox parameter, minLon,minLat,maxLon,maxLat in
// degrees; nil when absent.
func parseBBox(q url.Values) (*[4]float64, error) {
	v := q.Get("bbox")
	if v == "" {
		return nil, nil
	}
	parts := strings.Split(v, ",")
	var b [4]float64
	ok := len(parts) == 4
	for i := 0; ok && i < 4; i++ {
		x, err := strconv.ParseFloat(strings.TrimSpace(parts[i]), 64)
		ok = err == nil
		b[i] = x
	}
	if !ok || b[0] > b[2] || b[1] > b[3] || b[0] < -180 || b[2] > 180 || b[1] < -90 || b[3] > 90 {
		return nil, guarantor.Errorf(guarantor.EInvalid, "bbox", "bbox=%q must be minLon,minLat,maxLon,maxLat in degrees", v)
	}
	return &b, nil
}

// parseCategory reads the category parameter, one of entry.Categories.
func parseCategory(q url.Values) (string, error) {
	v := q.Get("category")
	if v != "" && !contains(entry.Categories, v) {
		return "", guarantor.Errorf(guarantor.EInvalid, "category", "category=%q is not one of %s", v, strings.Join(entry.Categories, ", "))
	}
	return v, nil
}

// parseLimit reads the limit parameter, a positive integer no larger
// than most (when most > 0); def when absent.
func parseLimit(q url.Values, def, most int) (int, error) {
	v := q.Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, guarantor.Errorf(guarantor.EInvalid, "limit", "limit=%q must be a positive integer", v)
	}
	if most > 0 && n > most {
		return 0, guarantor.Errorf(guarantor.EInvalid, "limit", "limit=%q is more than the maximum, %d", v, most)
	}
	return n, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func fmtFloat(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}

// handleObservationsCSV serves GET /v1/observations.csv, streaming.
func (s *Server) handleObservationsCSV(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilter(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="observations.csv"`)
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	_ = cw.Write(CSVColumns)
	err = s.node.Store().Observations(r.Context(), f, func(row node.ObservationRow) error {
		o := row.Observation
		count := ""
		if o.Count != nil {
			count = strconv.Itoa(*o.Count)
		}
		var ev []string
		for _, e := range o.Evidence {
			ev = append(ev, e.SHA256+" "+e.MediaType)
		}
		lon := strconv.FormatFloat(o.Location.Coordinates[0], 'f', -1, 64)
		lat := strconv.FormatFloat(o.Location.Coordinates[1], 'f', -1, 64)
		rec := []string{
			strconv.FormatUint(row.Index, 10), row.Signer, o.ID, o.ObservedAt.UTC().Format(time.RFC3339Nano), lon, lat,
			fmtFloat(o.AccuracyM), o.Category, count, fmtFloat(o.BearingDeg), o.Weapon, o.SourceType, o.Source, o.ExternalID,
			strings.Join(ev, ";"), o.Text,
			"", "", "", "",
		}
		if o.Source == "ucdp-ged" {
			best := count
			if best == "" {
				best = "0"
			}
			prec := ""
			if o.AccuracyM != nil {
				prec = strconv.Itoa(ucdp.WherePrec(*o.AccuracyM))
			}
			copy(rec[16:], []string{o.ExternalID, o.ObservedAt.UTC().Format("2006-01-02"), prec, best})
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
		return nil
	})
	cw.Flush()
	if err != nil {
		s.logger.ErrorContext(r.Context(), "observations export", "err", err)
	}
	_ = bw.Flush()
}

// handleObservationsGeoJSON serves GET /v1/observations.geojson: a
// FeatureCollection of points, streamed feature by feature.
func (s *Server) handleObservationsGeoJSON(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilter(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/geo+json")
	bw := bufio.NewWriterSize(w, 64<<10)
	_, _ = bw.WriteString(`{"type":"FeatureCollection","features":[`)
	first := true
	err = s.node.Store().Observations(r.Context(), f, func(row node.ObservationRow) error {
		o := row.Observation
		ft := geojson.NewFeature(orb.Point{o.Location.Coordinates[0], o.Location.Coordinates[1]})
		ft.ID = row.Index
		ft.Properties = geojson.Properties{
			"log_index": row.Index, "signer": row.Signer, "obs_id": o.ID, "observed_at": o.ObservedAt.UTC().Format(time.RFC3339Nano),
			"category": o.Category, "source_type": o.SourceType,
		}
		for k, v := range map[string]any{"accuracy_m": o.AccuracyM, "count": o.Count, "bearing_deg": o.BearingDeg} {
			switch p := v.(type) {
			case *float64:
				if p != nil {
					ft.Properties[k] = *p
				}
			case *int:
				if p != nil {
					ft.Properties[k] = *p
				}
			}
		}
		for k, v := range map[string]string{"weapon": o.Weapon, "source": o.Source, "external_id": o.ExternalID, "text": o.Text} {
			if v != "" {
				ft.Properties[k] = v
			}
		}
		b, err := json.Marshal(ft)
		if err != nil {
			return err
		}
		if !first {
			_ = bw.WriteByte(',')
		}
		first = false
		_, err = bw.Write(b)
		return err
	})
	if err != nil {
		s.logger.ErrorContext(r.Context(), "observations export", "err", err)
	}
	_, _ = bw.WriteString("]}\n")
	_ = bw.Flush()
}
