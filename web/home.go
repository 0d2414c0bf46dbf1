package web

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
)

// homeObligations is how many open obligations the home page lists, those
// due soonest.
const homeObligations = 10

// logState is the log's published checkpoint, read for display.
type logState struct {
	Origin  string
	Size    uint64
	Root    string   // base64 root hash, as the checkpoint writes it
	RootHex string   // the same in hexadecimal; "" if Root is not base64
	Signers []string // the name of each signature line: the log, then any witnesses
	Text    string   // the whole signed checkpoint
}

// agreementSummary is the latest version of one agreement.
type agreementSummary struct {
	ID           string
	Title        string
	Version      int
	Effective    time.Time
	Illustrative bool
	Index        uint64
}

// feed is the Atom feed of one debtor's obligations.
type feed struct {
	Who string // role, e.g. guarantor:UK
	URL string
}

// homeData is what the home page shows.
type homeData struct {
	base
	Log             *logState // nil when unknown
	OpenIncidents   int
	Levels          []levelCount
	OpenObligations int
	Soonest         []node.ObligationRow // open, soonest deadline first
	Determinations  int
	Agreements      []agreementSummary
	Exchanges       []exchangeView // every prisoner exchange in the log, by id
	Feeds           []feed
}

// handleHome serves GET /: the log's state, counts of open incidents by
// level, open obligations, agreements, the progress of any prisoner
// exchange, and links to every page, export and feed.
func (h *handler) handleHome(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d := homeData{base: h.page(r, "home")}
	// Without the log's state the rest of the page is still worth showing.
	d.Log = h.checkpoint(ctx)

	byLevel := map[string]int{}
	err := h.src.Incidents(ctx, node.IncidentFilter{Status: entry.IncidentOpen}, func(row node.IncidentRow) error {
		d.OpenIncidents++
		byLevel[row.Incident.Level]++
		return nil
	})
	if err != nil {
		h.internal(w, r, err)
		return
	}
	d.Levels = countLevels(byLevel)

	err = h.src.Obligations(ctx, node.ObligationFilter{Status: entry.ObligationOpen}, func(row node.ObligationRow) error {
		d.OpenObligations++
		d.Soonest = append(d.Soonest, row)
		return nil
	})
	if err != nil {
		h.internal(w, r, err)
		return
	}
	slices.SortStableFunc(d.Soonest, func(a, b node.ObligationRow) int {
		return cmp.Or(a.Obligation.Deadline.Compare(b.Obligation.Deadline), cmp.Compare(a.Obligation.ID, b.Obligation.ID))
	})
	d.Soonest = d.Soonest[:min(len(d.Soonest), homeObligations)]

	err = h.src.Determinations(ctx, node.DeterminationFilter{}, func(node.DeterminationRow) error {
		d.Determinations++
		return nil
	})
	if err != nil {
		h.internal(w, r, err)
		return
	}

	rows, err := h.src.Agreements(ctx)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	d.Agreements, d.Feeds = summarise(rows)
	if d.Exchanges, err = h.exchanges(ctx); err != nil {
		h.internal(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "home", d)
}

// summarise returns the latest version of each agreement, by id, and the
// Atom feed of every party and guarantor those versions bind.
func summarise(rows []node.AgreementRow) ([]agreementSummary, []feed) {
	latest := map[string]node.AgreementRow{}
	for _, row := range rows {
		prev, ok := latest[row.Agreement.ID]
		if !ok || row.Agreement.Version > prev.Agreement.Version ||
			(row.Agreement.Version == prev.Agreement.Version && row.Index > prev.Index) {
			latest[row.Agreement.ID] = row
		}
	}
	var list []agreementSummary
	roles := map[string]bool{}
	for _, row := range latest {
		a := row.Agreement
		list = append(list, agreementSummary{ID: a.ID, Title: a.Title, Version: a.Version, Effective: a.Effective, Illustrative: a.Illustrative, Index: row.Index})
		for _, role := range a.Signatories() {
			roles[role] = true
		}
	}
	slices.SortFunc(list, func(a, b agreementSummary) int { return cmp.Compare(a.ID, b.ID) })
	var feeds []feed
	for role := range roles {
		kind, who, _ := strings.Cut(role, ":")
		switch kind {
		case "guarantor":
			feeds = append(feeds, feed{Who: role, URL: "/v1/guarantors/" + who + "/feed.atom"})
		case "party":
			feeds = append(feeds, feed{Who: role, URL: "/v1/parties/" + who + "/feed.atom"})
		}
	}
	slices.SortFunc(feeds, func(a, b feed) int { return cmp.Compare(a.Who, b.Who) })
	return list, feeds
}

// parseCheckpoint reads the origin, size and root hash of a signed
// checkpoint (C2SP tlog-checkpoint) without verifying it: the pages show
// the log's own checkpoint, and anyone may verify it at /log/checkpoint.
func parseCheckpoint(cp []byte) (*logState, error) {
	size, err := node.CheckpointSize(cp)
	if err != nil {
		return nil, err
	}
	lines := bytes.SplitN(cp, []byte("\n"), 4)
	st := &logState{Origin: string(lines[0]), Size: size, Root: string(lines[2]), Text: string(cp)}
	if root, err := base64.StdEncoding.DecodeString(st.Root); err == nil {
		st.RootHex = hex.EncodeToString(root)
	}
	if _, sigs, ok := bytes.Cut(cp, []byte("\n\n")); ok {
		for _, line := range strings.Split(string(sigs), "\n") {
			if f := strings.Fields(line); len(f) == 3 && f[0] == "\u2014" {
				st.Signers = append(st.Signers, f[1])
			}
		}
	}
	return st, nil
}
