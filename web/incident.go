package web

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
)

// member is an observation of an incident, with its log entry.
type member struct {
	Index       uint64
	Signer      string
	Observation entry.Observation
}

// incidentData is what an incident's page shows: the same facts as GET
// /v1/incidents/{id}.
type incidentData struct {
	base
	ID            uint64
	Latest        node.IncidentRow // the revision from the highest log index
	MergedInto    uint64           // the incident this one was merged into; 0 if none
	Revisions     []node.IncidentRow
	Absorbed      []uint64 // incidents merged into this one, transitively
	Members       []member
	Verifications []node.VerificationRow
	Points        string // JSON for map.js: centroid and members
	I18N          string
	JSONURL       string
}

// handleIncident serves GET /incidents/{id}: every revision of the
// incident, the member observations of its latest revision and every
// verification of it or of an incident merged into it, each linked to its
// log entry (GET /v1/entries/{index}).
func (h *handler) handleIncident(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := h.lang(r)
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		msg, _ := translate(lang, "error.incident.text", r.PathValue("id"))
		h.fail(w, r, http.StatusNotFound, "error.incident.title", msg)
		return
	}
	revs, err := h.src.Incident(ctx, id)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	if len(revs) == 0 {
		msg, _ := translate(lang, "error.incident.text", r.PathValue("id"))
		h.fail(w, r, http.StatusNotFound, "error.incident.title", msg)
		return
	}
	d := incidentData{base: h.page(r, ""), ID: id, Revisions: revs, Latest: revs[0], I18N: mapStrings(lang),
		JSONURL: "/v1/incidents/" + strconv.FormatUint(id, 10)}
	for _, rv := range revs {
		if rv.Index > d.Latest.Index {
			d.Latest = rv
		}
	}
	if m := d.Latest.Incident.MergedInto; m != nil {
		d.MergedInto = *m
	}
	for _, idx := range d.Latest.Incident.Members {
		rec, ok, err := h.src.Entry(ctx, idx)
		if err != nil {
			h.internal(w, r, err)
			return
		}
		ob, isObs := rec.Body.(*entry.Observation)
		if !ok || !isObs || len(rec.Signers) == 0 {
			h.logger.WarnContext(ctx, "web: incident member is not an accepted observation", "incident", id, "member", idx)
			continue
		}
		d.Members = append(d.Members, member{Index: rec.Index, Signer: rec.Signers[0], Observation: *ob})
	}
	ids, err := node.Absorbed(ctx, h.src, id, revs)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	d.Absorbed = ids[1:]
	if d.Verifications, err = h.src.Verifications(ctx, ids); err != nil {
		h.internal(w, r, err)
		return
	}
	d.Points = incidentPoints(d.Latest.Incident, d.Members)
	h.render(w, r, http.StatusOK, "incident", d)
}

// incidentPoints returns the JSON map.js draws on an incident's page: the
// centroid with its radius, and each member observation.
func incidentPoints(in entry.Incident, members []member) string {
	type point struct {
		Lon      float64 `json:"lon"`
		Lat      float64 `json:"lat"`
		RadiusM  float64 `json:"radius_m,omitempty"`
		Index    uint64  `json:"index,omitempty"`
		Category string  `json:"category,omitempty"`
		Level    string  `json:"level,omitempty"`
	}
	v := struct {
		Centroid point   `json:"centroid"`
		Members  []point `json:"members"`
	}{Centroid: point{Lon: in.Location.Coordinates[0], Lat: in.Location.Coordinates[1], RadiusM: float64(in.RadiusM), Level: in.Level, Category: in.Category}}
	for _, m := range members {
		p := point{Lon: m.Observation.Location.Coordinates[0], Lat: m.Observation.Location.Coordinates[1], Index: m.Index, Category: m.Observation.Category}
		if m.Observation.AccuracyM != nil {
			p.RadiusM = *m.Observation.AccuracyM
		}
		v.Members = append(v.Members, p)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
