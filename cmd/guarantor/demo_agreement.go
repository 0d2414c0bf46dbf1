package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/agreements"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/keyfile"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"
	"golang.org/x/mod/sumdb/note"
)

// demoAgreement makes a key for every party and guarantor a shipped
// agreement binds, registers them, and logs the agreement co-signed by
// all of them. It returns the agreement and the keys by role.
func demoAgreement(ctx context.Context, c *client, d dataDir, auth note.Signer, name string, notBefore, notAfter time.Time) (*entry.Agreement, map[string]note.Signer, error) {
	body, err := agreements.JSON(name)
	if err != nil {
		return nil, nil, err
	}
	var doc entry.Agreement
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, nil, fmt.Errorf("agreement %s: %w", name, err)
	}
	keys := map[string]note.Signer{}
	var signers []note.Signer
	for _, role := range doc.Signatories() {
		keyName := strings.ReplaceAll(role, ":", ".")
		vkey, err := keyfile.Generate(d.key(keyName), keyName)
		if err != nil {
			return nil, nil, err
		}
		s, err := keyfile.Signer(d.key(keyName))
		if err != nil {
			return nil, nil, err
		}
		raw, err := keyEntry(auth, vkey, guarantor.Role(role), keyName+" (demo key)", notBefore, notAfter)
		if err != nil {
			return nil, nil, err
		}
		if _, _, err := c.submit(ctx, raw); err != nil {
			return nil, nil, fmt.Errorf("register %s: %w", role, err)
		}
		keys[role] = s
		signers = append(signers, s)
	}
	if err := signSubmit(ctx, c, entry.KindAgreement, body, signers...); err != nil {
		return nil, nil, fmt.Errorf("agreement %s: %w", name, err)
	}
	return &doc, keys, nil
}

// demoResponses answers some of the open obligations, so that the
// fulfilment record shows every path: the first debtor fulfils, the
// second acknowledges, the third declines; the rest stay open until their
// deadlines pass. It returns how many responses it logged.
func demoResponses(ctx context.Context, c *client, keys map[string]note.Signer, now time.Time) (int, error) {
	var list struct {
		Obligations []struct {
			entry.Obligation
		} `json:"obligations"`
	}
	if err := c.getJSON(ctx, "/v1/obligations?status=open&limit=10000", &list); err != nil {
		return 0, err
	}
	answers := []string{entry.AnswerFulfilled, entry.AnswerAcknowledge, entry.AnswerDeclined}
	n := 0
	seen := map[string]bool{}
	// A sanction obligation is answered by re-imposing the demo's measure
	// (snap-back); the others by the three answers in turn.
	for _, o := range list.Obligations {
		s := keys[o.Who]
		if o.Action != "sanction" || s == nil {
			continue
		}
		r := entry.Response{ID: fmt.Sprintf("demo-%d", o.ID), At: now.UTC().Truncate(time.Second), Obligation: o.ID, Answer: entry.AnswerFulfilled,
			Text: "SYNTHETIC demo answer: the suspended measure is re-imposed", Sanctions: []string{demoSanctionID}}
		body, err := json.Marshal(r)
		if err != nil {
			return n, err
		}
		if err := signSubmit(ctx, c, entry.KindResponse, body, s); err != nil {
			return n, fmt.Errorf("response to obligation %d: %w", o.ID, err)
		}
		seen[o.Who] = true
		n++
		break
	}
	for _, o := range list.Obligations {
		if seen[o.Who] || n >= len(answers) || o.Action == "sanction" {
			continue
		}
		s := keys[o.Who]
		if s == nil {
			continue
		}
		seen[o.Who] = true
		r := entry.Response{ID: fmt.Sprintf("demo-%d", o.ID), At: now.UTC().Truncate(time.Second), Obligation: o.ID, Answer: answers[n%len(answers)]}
		switch r.Answer {
		case entry.AnswerDeclined:
			r.Reason = "SYNTHETIC demo answer: no capacity available in the period"
		case entry.AnswerFulfilled:
			r.Text = "SYNTHETIC demo answer: consultations held"
		}
		body, err := json.Marshal(r)
		if err != nil {
			return n, err
		}
		if err := signSubmit(ctx, c, entry.KindResponse, body, s); err != nil {
			return n, fmt.Errorf("response to obligation %d: %w", o.ID, err)
		}
		n++
	}
	return n, nil
}

// demoSanctionID is the SYNTHETIC measure the demo's EU key holds as
// leverage under the 2025 framework.
const demoSanctionID = "demo-eu-2025-1"

// demoSanction logs, by the EU's key, a SYNTHETIC measure suspended while
// the ceasefire holds, with a snap-back clause on the framework's
// sanctions trigger.
func demoSanction(ctx context.Context, c *client, eu note.Signer, at time.Time) error {
	start := at.UTC().Truncate(24 * time.Hour)
	body, err := json.Marshal(entry.Sanction{
		ID: demoSanctionID, At: at.UTC().Truncate(time.Second), Authority: "EU",
		Program:    "SYNTHETIC demo measure (not a real EU act)",
		Targets:    []entry.SanctionTarget{{Kind: "state", Name: "Russian Federation", Country: "ru"}, {Kind: "sector", Name: "Energy exports", Country: "ru"}},
		Provisions: "SYNTHETIC: asset freeze and import ban, suspended as relief while the ceasefire holds",
		Status:     entry.SanctionSuspended, StartDate: &start,
		Relief:   "Suspended while the ceasefire holds; re-imposed by snap-back on a verified Russian strike.",
		Snapback: []entry.SnapbackClause{{Agreement: "framework-2025", Trigger: "sanctions-snapback"}},
	})
	if err != nil {
		return err
	}
	return signSubmit(ctx, c, entry.KindSanction, body, eu)
}

// demoVerifications has a SYNTHETIC analyst verify up to n corroborated
// strikes, attributing them to party:RU, so that the framework's
// attack-on-one and snap-back triggers have something to judge. It
// returns how many it verified.
func demoVerifications(ctx context.Context, c *client, analyst note.Signer, n int, at time.Time) (int, error) {
	done := 0
	for _, cat := range []string{"drone_strike", "missile_strike", "air_strike"} {
		var list struct {
			Incidents []entry.Incident `json:"incidents"`
		}
		if err := c.getJSON(ctx, "/v1/incidents?level=corroborated&category="+cat+"&limit=10", &list); err != nil {
			return done, err
		}
		for _, in := range list.Incidents {
			if done >= n {
				return done, nil
			}
			body, err := json.Marshal(entry.Verification{
				ID: fmt.Sprintf("demo-verify-%d", in.ID), At: at.UTC().Truncate(time.Second), Incident: in.ID, Revision: in.Revision,
				Verdict: entry.VerdictVerify, AttributedTo: "party:RU", Confidence: "medium", Basis: []string{"crater_analysis", "imagery"},
				Text: "SYNTHETIC demo verification: crater orientation and imagery point to fire from the east.",
			})
			if err != nil {
				return done, err
			}
			if err := signSubmit(ctx, c, entry.KindVerification, body, analyst); err != nil {
				return done, fmt.Errorf("verify incident %d: %w", in.ID, err)
			}
			done++
		}
	}
	return done, nil
}

// demoPledges has the coalition's members make SYNTHETIC pledges against
// the agreement's requirements and report deployments: some in full,
// some partly, one withdrawn, one never deployed, so that the coverage
// shows gaps; some air defence is offered only from outside Ukraine, a
// caveat the framework's response duty rules out. Three members pledge
// budget support in EUR, USD and GBP and disburse part of it, and a
// monitor (monitor, when not nil) confirms some deployments in place. It
// returns how many pledges it logged.
func demoPledges(ctx context.Context, c *client, doc *entry.Agreement, keys map[string]note.Signer, monitor note.Signer, start, now time.Time) (int, error) {
	if doc.Coalition == "" {
		return 0, nil
	}
	members, _ := doc.Debtors(doc.Coalition)
	type plan struct {
		who, capability, sector string
		quantity, deployed      float64
		withdrawn               bool
		caveats                 []string
		currency                string
		paid                    int // disbursements of a twelfth, for money
	}
	at := func(i int) time.Time { return start.Add(time.Duration(i) * 24 * time.Hour).UTC().Truncate(time.Second) }
	var plans []plan
	for i, req := range doc.Requirements {
		for j, who := range members {
			if (i+j)%3 != 0 {
				continue
			}
			q := max(1, float64(int(req.Quantity)/len(members)+1))
			p := plan{who: who, capability: req.Capability, sector: req.Sector, quantity: q, deployed: q}
			switch (i*7 + j) % 6 { // most in full; some partly, withdrawn, or not yet
			case 1:
				p.deployed = float64(int(q) / 2) // partly
			case 2:
				p.withdrawn = true
			case 3:
				p.deployed = 0 // not yet
			}
			switch req.Capability {
			case "air_policing":
				p.caveats = []string{"air_only"}
			case "air_missile_defence":
				if j%2 == 0 {
					p.caveats = []string{"no_deployment_in_ukraine"} // batteries kept at home
				}
			}
			plans = append(plans, p)
		}
	}
	for i, cur := range []string{"EUR", "USD", "GBP"} {
		if i < len(members) {
			plans = append(plans, plan{who: members[i], capability: "budget_support", sector: "ua-held", quantity: float64(1_200_000_000 * (i + 1)), currency: cur, paid: 3 + 3*i})
		}
	}
	n := 0
	for i, p := range plans {
		s := keys[p.who]
		if s == nil {
			continue
		}
		if _, ok := doc.Capability(p.capability); !ok || !slices.ContainsFunc(doc.Zones, func(z entry.Zone) bool { return z.ID == p.sector }) {
			continue
		}
		id := fmt.Sprintf("demo-%s-%d", strings.TrimPrefix(p.who, "guarantor:"), i)
		body, err := json.Marshal(entry.Pledge{ID: id, At: at(0), Agreement: doc.ID, Capability: p.capability, Quantity: p.quantity, Currency: p.currency,
			Sector: p.sector, From: at(0), To: at(0).AddDate(1, 0, 0), Readiness: "medium", Caveats: p.caveats,
			Text: "SYNTHETIC demo pledge"})
		if err != nil {
			return n, err
		}
		if err := signSubmit(ctx, c, entry.KindPledge, body, s); err != nil {
			return n, fmt.Errorf("pledge %s: %w", id, err)
		}
		n++
		if p.currency != "" {
			for k := range p.paid {
				if at(1 + 30*k).After(now) {
					break
				}
				body, _ := json.Marshal(entry.Deployment{ID: fmt.Sprintf("%s-p%d", id, k), At: at(1 + 30*k), Pledge: id, Quantity: p.quantity / 12, Status: "disbursed", Text: "SYNTHETIC"})
				if err := signSubmit(ctx, c, entry.KindDeployment, body, s); err != nil {
					return n, fmt.Errorf("disbursement of %s: %w", id, err)
				}
			}
			continue
		}
		if p.deployed > 0 {
			body, _ := json.Marshal(entry.Deployment{ID: id + "-d", At: at(1), Pledge: id, Quantity: p.deployed, Status: "deployed", Text: "SYNTHETIC"})
			if err := signSubmit(ctx, c, entry.KindDeployment, body, s); err != nil {
				return n, fmt.Errorf("deployment of %s: %w", id, err)
			}
			if monitor != nil && i%2 == 0 {
				// A monitoring team sees it in place a few days later.
				seen := at(4)
				if late := now.UTC().Truncate(time.Second); seen.After(late) {
					seen = late // a short demo: seen as soon as it can be
				}
				if seen.Before(at(1)) {
					seen = at(1)
				}
				sighting := entry.Observation{ID: id + "-seen", ObservedAt: seen, Location: demoSectorPoint(doc, p.sector), Category: entry.CategoryDeploymentSighting,
					SourceType: "patrol", Text: "SYNTHETIC sighting of a coalition deployment",
					Confirms: &entry.Confirmation{Contributor: p.who, Deployment: id + "-d", Quantity: p.deployed}}
				body, _ := json.Marshal(sighting)
				if err := signSubmit(ctx, c, entry.KindObservation, body, monitor); err != nil {
					return n, fmt.Errorf("sighting of %s: %w", id, err)
				}
			}
		}
		if p.withdrawn {
			body, _ := json.Marshal(entry.Deployment{ID: id + "-w", At: now.UTC().Truncate(time.Second).Add(-time.Hour), Pledge: id, Status: "withdrawn", Text: "SYNTHETIC"})
			if err := signSubmit(ctx, c, entry.KindDeployment, body, s); err != nil {
				return n, fmt.Errorf("withdrawal of %s: %w", id, err)
			}
		}
	}
	return n, nil
}

// demoSectorPoint is a point to report a sighting in a sector: the
// centroid of its zone (the sector's first polygon for a multipolygon).
func demoSectorPoint(doc *entry.Agreement, sector string) entry.Point {
	for _, z := range doc.Zones {
		if z.ID != sector {
			continue
		}
		g, err := geojson.UnmarshalGeometry(z.Geometry)
		if err != nil {
			break
		}
		geom := g.Geometry()
		if mp, ok := geom.(orb.MultiPolygon); ok && len(mp) > 0 {
			geom = mp[0]
		}
		c, _ := planar.CentroidArea(geom)
		return entry.Point{Type: "Point", Coordinates: [2]float64{math.Round(c[0]*1e4) / 1e4, math.Round(c[1]*1e4) / 1e4}}
	}
	return entry.Point{Type: "Point"}
}

// signSubmit signs body as an entry of kind and submits it.
func signSubmit(ctx context.Context, c *client, kind entry.Kind, body []byte, signers ...note.Signer) error {
	raw, err := entry.Sign(kind, body, signers...)
	if err != nil {
		return err
	}
	_, _, err = c.submit(ctx, raw)
	return err
}
