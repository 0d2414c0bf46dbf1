package http

import (
	"bufio"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
)

// SanctionView is a measure as GET /v1/sanctions lists it: its latest
// statement, its status now, and the snap-back that re-imposed it, if
// one did.
type SanctionView struct {
	Index          uint64  `json:"index"` // log index of the latest statement
	Status         string  `json:"status"`
	ReimposedBy    *uint64 `json:"reimposed_by,omitempty"`    // the obligation whose fulfilment re-imposed it
	ReimposedIndex *uint64 `json:"reimposed_index,omitempty"` // the log index of that obligation revision
	entry.Sanction
}

func sanctionView(r node.SanctionRow) SanctionView {
	v := SanctionView{Index: r.Index, Status: r.Status, ReimposedBy: r.ReimposedBy, ReimposedIndex: r.ReimposedIndex, Sanction: r.Sanction}
	v.Sanction.Status = r.Sanction.Status // the statement's own; Status above is the measure's now
	return v
}

// handleSanctions serves GET /v1/sanctions: every measure's state now.
func (s *Server) handleSanctions(w http.ResponseWriter, r *http.Request) {
	rows, err := s.node.Store().Sanctions(r.Context())
	if err != nil {
		s.problem(w, r, err)
		return
	}
	out := struct {
		Sanctions []SanctionView `json:"sanctions"`
	}{Sanctions: []SanctionView{}}
	for _, row := range rows {
		out.Sanctions = append(out.Sanctions, sanctionView(row))
	}
	writeJSON(w, http.StatusOK, out)
}

var sanctionID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// handleSanction serves GET /v1/sanctions/{id}: the measure's state now
// and every statement about it.
func (s *Server) handleSanction(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !sanctionID.MatchString(id) {
		s.problem(w, r, guarantor.Errorf(guarantor.EInvalid, "id", "%q is not a sanction id", id))
		return
	}
	history, err := s.node.Store().SanctionHistory(r.Context(), id)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if len(history) == 0 {
		s.problem(w, r, guarantor.Errorf(guarantor.ENotFound, "id", "no sanction %q", id))
		return
	}
	rows, err := s.node.Store().Sanctions(r.Context())
	if err != nil {
		s.problem(w, r, err)
		return
	}
	out := struct {
		Current SanctionView   `json:"current"`
		History []SanctionView `json:"statements"`
	}{}
	for _, row := range rows {
		if row.Sanction.ID == id {
			out.Current = sanctionView(row)
		}
	}
	for _, h := range history {
		out.History = append(out.History, SanctionView{Index: h.Index, Status: h.Sanction.Status, Sanction: h.Sanction})
	}
	writeJSON(w, http.StatusOK, out)
}

// ftmEntity is a FollowTheMoney entity as its JSON lines format carries
// it: id, schema and multi-valued string properties.
type ftmEntity struct {
	ID         string              `json:"id"`
	Schema     string              `json:"schema"`
	Properties map[string][]string `json:"properties"`
}

// ftmStatus spells a status as FollowTheMoney's examples do.
func ftmStatus(s string) string {
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// ftmSchema maps a target kind to a FollowTheMoney schema.
var ftmSchema = map[string]string{
	"state": "PublicBody", "organization": "Organization", "company": "Company", "vessel": "Vessel", "sector": "Organization",
}

// handleSanctionsFtM serves GET /v1/sanctions.ftm.jsonl: every measure
// as a FollowTheMoney Sanction entity, preceded by the entities it
// targets, one JSON object per line, so that sanctions tools can read
// the measures and their status now (after any snap-back).
func (s *Server) handleSanctionsFtM(w http.ResponseWriter, r *http.Request) {
	rows, err := s.node.Store().Sanctions(r.Context())
	if err != nil {
		s.problem(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", `attachment; filename="sanctions.ftm.jsonl"`)
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	seen := map[string]bool{}
	for _, row := range rows {
		sn := row.Sanction
		var entities []string
		for _, t := range sn.Targets {
			id := "guarantor-target-" + slug(t.Kind+"-"+t.Country+"-"+t.Name)
			entities = append(entities, id)
			if seen[id] {
				continue
			}
			seen[id] = true
			props := map[string][]string{"name": {t.Name}}
			if t.Country != "" {
				props["country"] = []string{t.Country}
				if t.Kind == "state" {
					props["jurisdiction"] = []string{t.Country}
				}
			}
			if err := enc.Encode(ftmEntity{ID: id, Schema: ftmSchema[t.Kind], Properties: props}); err != nil {
				return
			}
		}
		props := map[string][]string{
			"entity":     entities,
			"authority":  {sn.Authority},
			"program":    {sn.Program},
			"provisions": {sn.Provisions},
			"status":     {ftmStatus(row.Status)},
			"recordId":   {sn.ID},
			"modifiedAt": {sn.At.UTC().Format(time.RFC3339)},
		}
		add := func(k, v string) {
			if v != "" {
				props[k] = []string{v}
			}
		}
		add("programId", sn.ProgramID)
		add("programUrl", sn.ProgramURL)
		add("reason", sn.Reason)
		add("sourceUrl", sn.SourceURL)
		add("summary", sn.Relief)
		if sn.StartDate != nil {
			add("startDate", sn.StartDate.UTC().Format("2006-01-02"))
		}
		if sn.EndDate != nil {
			add("endDate", sn.EndDate.UTC().Format("2006-01-02"))
		}
		if err := enc.Encode(ftmEntity{ID: "guarantor-sanction-" + slug(sn.ID), Schema: "Sanction", Properties: props}); err != nil {
			return
		}
	}
	_ = bw.Flush()
}

var notSlug = regexp.MustCompile(`[^a-z0-9]+`)

// slug makes an id fragment of s: lower case letters and digits joined by
// hyphens.
func slug(s string) string {
	return strings.Trim(notSlug.ReplaceAllString(strings.ToLower(s), "-"), "-")
}
