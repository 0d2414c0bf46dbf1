package http

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// Incident list limits: GET /v1/incidents answers at most
// DefaultIncidentLimit incidents unless limit asks for more, up to
// MaxIncidentLimit. The CSV and GeoJSON exports are open data: they
// stream every incident selected unless limit says otherwise.
const (
	DefaultIncidentLimit = 1000
	MaxIncidentLimit     = 10000
)

// IncidentCSVColumns are the columns of GET /v1/incidents.csv. members is
// the number of member observations; source_types and attributed_to are
// joined with ";"; index is the log index of the revision.
var IncidentCSVColumns = []string{
	"id", "revision", "status", "level", "category", "from", "to", "lon", "lat", "radius_m", "count",
	"members", "monitors", "source_types", "verify", "dispute", "reject", "attributed_to", "index",
}

// IncidentView is an incident revision as GET /v1/incidents lists it: the
// logged body with the log index of its entry.
type IncidentView struct {
	Index uint64 `json:"index"`
	entry.Incident
}

// IncidentRevision is one revision in an IncidentDetail.
type IncidentRevision struct {
	Index    uint64         `json:"index"`
	Incident entry.Incident `json:"incident"`
}

// ObservationView is an observation with its log index and signer
// (name+hash of its first signature).
type ObservationView struct {
	Index  uint64 `json:"index"`
	Signer string `json:"signer"`
	entry.Observation
}

// VerificationView is an accepted verification with its log index and
// signer.
type VerificationView struct {
	Index  uint64 `json:"index"`
	Signer string `json:"signer"`
	entry.Verification
}

// IncidentDetail is what GET /v1/incidents/{id} serves: every revision of
// the incident, the member observations of its latest revision (the one
// from the highest log index), and every verification of it or of an
// incident merged into it, transitively.
type IncidentDetail struct {
	ID            uint64             `json:"id"`
	Revisions     []IncidentRevision `json:"revisions"`
	Members       []ObservationView  `json:"members"`
	Verifications []VerificationView `json:"verifications"`
}

var partyName = regexp.MustCompile(`^party:[A-Za-z0-9_-]{1,32}$`)

// parseIncidentFilter reads the incident filters from the query string:
// from and to (the incident's span overlaps [from, to)), bbox (on the
// centroid), category, level, party, status (open, merged or all; default
// open) and limit (default DefaultIncidentLimit, at most
// MaxIncidentLimit). The zone filter, which needs the log's agreements,
// is read by parseZoneFilter.
func parseIncidentFilter(r *http.Request, defLimit, maxLimit int) (node.IncidentFilter, error) {
	var f node.IncidentFilter
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
	levels := []string{"reported", "corroborated", "verified"}
	if v := q.Get("level"); v != "" {
		if !contains(levels, v) {
			return f, guarantor.Errorf(guarantor.EInvalid, "level", "level=%q is not one of %s", v, strings.Join(levels, ", "))
		}
		f.Level = v
	}
	if v := q.Get("party"); v != "" {
		if !partyName.MatchString(v) {
			return f, guarantor.Errorf(guarantor.EInvalid, "party", "party=%q is not a party like party:RU", v)
		}
		f.Party = v
	}
	f.Status = entry.IncidentOpen
	if v := q.Get("status"); v != "" {
		if v != entry.IncidentOpen && v != entry.IncidentMerged && v != "all" {
			return f, guarantor.Errorf(guarantor.EInvalid, "status", "status=%q is not open, merged or all", v)
		}
		f.Status = v
	}
	if f.Limit, err = parseLimit(q, defLimit, maxLimit); err != nil {
		return f, err
	}
	return f, nil
}

// handleIncidents serves GET /v1/incidents: {"incidents": [IncidentView,
// ...]}, the latest revision of each selected incident by id, streamed.
func (s *Server) handleIncidents(w http.ResponseWriter, r *http.Request) {
	s.streamIncidents(w, r, false, "application/json", "",
		func(w io.Writer) error {
			_, err := io.WriteString(w, `{"incidents":[`)
			return err
		},
		func(w io.Writer, n int, row node.IncidentRow) error {
			b, err := json.Marshal(IncidentView{Index: row.Index, Incident: row.Incident})
			if err != nil {
				return err
			}
			if n > 0 {
				b = append([]byte{','}, b...)
			}
			_, err = w.Write(b)
			return err
		},
		func(w io.Writer) error {
			_, err := io.WriteString(w, "]}\n")
			return err
		})
}

// handleIncidentsCSV serves GET /v1/incidents.csv (open data), streamed.
func (s *Server) handleIncidentsCSV(w http.ResponseWriter, r *http.Request) {
	var cw *csv.Writer
	s.streamIncidents(w, r, true, "text/csv; charset=utf-8", "incidents.csv",
		func(w io.Writer) error {
			cw = csv.NewWriter(w)
			return cw.Write(IncidentCSVColumns)
		},
		func(_ io.Writer, _ int, row node.IncidentRow) error {
			in := row.Incident
			var v entry.Verdicts
			if in.Verdicts != nil {
				v = *in.Verdicts
			}
			return cw.Write([]string{
				strconv.FormatUint(in.ID, 10), strconv.Itoa(in.Revision), in.Status, in.Level, in.Category,
				in.From.UTC().Format(time.RFC3339Nano), in.To.UTC().Format(time.RFC3339Nano),
				strconv.FormatFloat(in.Location.Coordinates[0], 'f', -1, 64), strconv.FormatFloat(in.Location.Coordinates[1], 'f', -1, 64),
				strconv.FormatInt(in.RadiusM, 10), strconv.FormatInt(in.Count, 10), strconv.Itoa(len(in.Members)),
				strconv.Itoa(in.Monitors), strings.Join(in.SourceTypes, ";"),
				strconv.Itoa(v.Verify), strconv.Itoa(v.Dispute), strconv.Itoa(v.Reject),
				strings.Join(parties(in), ";"), strconv.FormatUint(row.Index, 10),
			})
		},
		func(io.Writer) error {
			cw.Flush()
			return cw.Error()
		})
}

// handleIncidentsGeoJSON serves GET /v1/incidents.geojson (open data): a
// FeatureCollection with one Point (the centroid) per incident and the
// CSV's columns as properties (source_types and attributed_to as arrays),
// streamed.
func (s *Server) handleIncidentsGeoJSON(w http.ResponseWriter, r *http.Request) {
	s.streamIncidents(w, r, true, "application/geo+json", "",
		func(w io.Writer) error {
			_, err := io.WriteString(w, `{"type":"FeatureCollection","features":[`)
			return err
		},
		func(w io.Writer, n int, row node.IncidentRow) error {
			in := row.Incident
			var v entry.Verdicts
			if in.Verdicts != nil {
				v = *in.Verdicts
			}
			ft := geojson.NewFeature(orb.Point{in.Location.Coordinates[0], in.Location.Coordinates[1]})
			ft.ID = in.ID
			ft.Properties = geojson.Properties{
				"id": in.ID, "revision": in.Revision, "status": in.Status, "level": in.Level, "category": in.Category,
				"from": in.From.UTC().Format(time.RFC3339Nano), "to": in.To.UTC().Format(time.RFC3339Nano),
				"radius_m": in.RadiusM, "count": in.Count, "members": len(in.Members), "monitors": in.Monitors,
				"source_types": nonNil(in.SourceTypes), "verify": v.Verify, "dispute": v.Dispute, "reject": v.Reject,
				"attributed_to": nonNil(parties(in)), "index": row.Index,
			}
			b, err := json.Marshal(ft)
			if err != nil {
				return err
			}
			if n > 0 {
				b = append([]byte{','}, b...)
			}
			_, err = w.Write(b)
			return err
		},
		func(w io.Writer) error {
			_, err := io.WriteString(w, "]}\n")
			return err
		})
}

// parties returns the parties an incident is attributed to, in the
// order the engine listed them.
func parties(in entry.Incident) []string {
	out := make([]string, 0, len(in.Attributions))
	for _, a := range in.Attributions {
		out = append(out, a.Party)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// streamIncidents answers with the incidents the query selects (all of
// them for an export, else at most the list limit), as streamRows does.
// With zone and agreement, only the incidents whose centroid lies in
// that zone of the agreement's latest version: limit then counts those.
func (s *Server) streamIncidents(w http.ResponseWriter, r *http.Request, export bool, contentType, filename string,
	head func(io.Writer) error, row func(w io.Writer, n int, row node.IncidentRow) error, tail func(io.Writer) error) {
	defLimit, maxLimit := DefaultIncidentLimit, MaxIncidentLimit
	if export {
		defLimit, maxLimit = 0, 0 // open data: everything
	}
	f, err := parseIncidentFilter(r, defLimit, maxLimit)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	in, err := s.parseZoneFilter(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	query := func(ctx context.Context, fn func(node.IncidentRow) error) error {
		return s.node.Store().Incidents(ctx, f, fn)
	}
	if in != nil {
		// The store knows no zones: read every incident the other filters
		// select and keep those in the zone, at most limit of them.
		limit := f.Limit
		f.Limit = 0
		query = func(ctx context.Context, fn func(node.IncidentRow) error) error {
			n := 0
			err := s.node.Store().Incidents(ctx, f, func(row node.IncidentRow) error {
				c := row.Incident.Location.Coordinates
				if !in(c[0], c[1]) {
					return nil
				}
				if err := fn(row); err != nil {
					return err
				}
				if n++; limit > 0 && n >= limit {
					return errEnough
				}
				return nil
			})
			if errors.Is(err, errEnough) {
				return nil
			}
			return err
		}
	}
	streamRows(s, w, r, contentType, filename, query, head, row, tail)
}

// errEnough stops a stream that has yielded as many rows as asked for.
var errEnough = errors.New("enough rows")

// parseZoneFilter reads zone and agreement, which go together: it returns
// nil when neither is given, else whether a point (lon, lat) lies in that
// zone of the agreement's latest version, compiled once. A missing half,
// an unknown agreement or a zone the agreement does not define is an
// invalid-input error naming the field.
func (s *Server) parseZoneFilter(r *http.Request) (func(lon, lat float64) bool, error) {
	q := r.URL.Query()
	zone, id := q.Get("zone"), q.Get("agreement")
	switch {
	case zone == "" && id == "":
		return nil, nil
	case id == "":
		return nil, guarantor.Errorf(guarantor.EInvalid, "agreement", "zone=%q needs the agreement that defines it, as agreement=ID", zone)
	case zone == "":
		return nil, guarantor.Errorf(guarantor.EInvalid, "zone", "agreement=%q filters nothing without zone=ID, one of its zones", id)
	}
	c, err := s.node.LatestAgreement(r.Context(), id)
	var ge *guarantor.Error
	switch {
	case errors.As(err, &ge) && ge.Field == "/agreement": // not logged
		return nil, guarantor.Errorf(guarantor.EInvalid, "agreement", "agreement=%q: no such agreement is logged", id)
	case err != nil:
		return nil, err
	}
	ids := make([]string, 0, len(c.Doc.Zones))
	for _, z := range c.Doc.Zones {
		if z.ID == zone {
			return func(lon, lat float64) bool { return c.InZone(lon, lat, zone) }, nil
		}
		ids = append(ids, z.ID)
	}
	if len(ids) == 0 {
		return nil, guarantor.Errorf(guarantor.EInvalid, "zone", "zone=%q: agreement %s (version %d) defines no zone", zone, id, c.Doc.Version)
	}
	return nil, guarantor.Errorf(guarantor.EInvalid, "zone", "zone=%q is not a zone of agreement %s (version %d): %s", zone, id, c.Doc.Version, strings.Join(ids, ", "))
}

// streamRows answers with the rows query yields: head, then row for each
// (n counts from 0), then tail, through a buffer. The status and headers
// go out with the first bytes that leave the buffer, so a store error
// before then is answered with a problem; an error after that cuts the
// answer short, without its tail, so that the client sees it is
// incomplete, and is logged.
func streamRows[R any](s *Server, w http.ResponseWriter, r *http.Request, contentType, filename string,
	query func(ctx context.Context, fn func(R) error) error,
	head func(io.Writer) error, row func(w io.Writer, n int, row R) error, tail func(io.Writer) error) {
	lw := &lazyWriter{w: w, start: func() {
		w.Header().Set("Content-Type", contentType)
		if filename != "" {
			w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
		}
	}}
	bw := bufio.NewWriterSize(lw, 64<<10)
	err := head(bw)
	n := 0
	if err == nil {
		err = query(r.Context(), func(v R) error {
			err := row(bw, n, v)
			n++
			return err
		})
	}
	if err == nil {
		err = tail(bw)
	}
	if err == nil {
		err = bw.Flush()
	}
	switch {
	case err == nil:
	case !lw.started:
		s.problem(w, r, err)
	case errors.Is(err, context.Canceled) || r.Context().Err() != nil:
		// The client went away.
	default:
		s.logger.ErrorContext(r.Context(), "answer cut short", "path", r.URL.Path, "err", err)
	}
}

// lazyWriter calls start before the first write reaches w.
type lazyWriter struct {
	w       io.Writer
	start   func()
	started bool
}

// Write starts the answer if need be and writes p.
func (l *lazyWriter) Write(p []byte) (int, error) {
	if !l.started {
		l.started = true
		l.start()
	}
	return l.w.Write(p)
}

// handleIncident serves GET /v1/incidents/{id}: an IncidentDetail.
func (s *Server) handleIncident(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		s.problem(w, r, guarantor.Errorf(guarantor.EInvalid, "id", "incident id %q is not a non-negative integer (the log index of its first observation)", r.PathValue("id")))
		return
	}
	st := s.node.Store()
	revs, err := st.Incident(ctx, id)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if len(revs) == 0 {
		s.problem(w, r, guarantor.Errorf(guarantor.ENotFound, "id", "no incident %d", id))
		return
	}
	d := IncidentDetail{ID: id, Revisions: make([]IncidentRevision, len(revs)), Members: []ObservationView{}, Verifications: []VerificationView{}}
	latest := revs[0]
	for i, rv := range revs {
		d.Revisions[i] = IncidentRevision{Index: rv.Index, Incident: rv.Incident}
		if rv.Index > latest.Index {
			latest = rv
		}
	}
	for _, m := range latest.Incident.Members {
		rec, ok, err := st.Entry(ctx, m)
		if err != nil {
			s.problem(w, r, err)
			return
		}
		ob, isObs := rec.Body.(*entry.Observation)
		if !ok || !isObs || len(rec.Signers) == 0 {
			s.logger.WarnContext(ctx, "incident member is not an accepted observation", "incident", id, "index", latest.Index, "member", m)
			continue
		}
		d.Members = append(d.Members, ObservationView{Index: rec.Index, Signer: rec.Signers[0], Observation: *ob})
	}
	ids, err := node.Absorbed(ctx, st, id, revs)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	vs, err := st.Verifications(ctx, ids)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	for _, v := range vs {
		d.Verifications = append(d.Verifications, VerificationView{Index: v.Index, Signer: v.Signer, Verification: v.Verification})
	}
	writeJSON(w, http.StatusOK, d)
}
