package storetest

import (
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/internal/testkeys"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/registry"
)

type key = testkeys.Key

// logBuilder builds a log the way the follower sees it: every entry is
// really signed, then parsed, validated and checked by a live registry,
// and turned into the record the follower would apply. Alongside it keeps
// a model of what a store fed the log must answer.
type logBuilder struct {
	auth, mon, cam, intake, stranger key
	engine, analyst                  key
	uk, fr, ua, ru, verifier         key
	reg                              *registry.Registry
	recs                             []node.Record
	seq                              uint64      // the engine's last seq
	dup                              node.Record // a copy of the bytes at dupOf
	dupOf                            uint64

	incCurrent   map[uint64]node.IncidentRow   // the latest revision (highest index) of each incident
	incRevisions map[uint64][]node.IncidentRow // in log order
	ver          []node.VerificationRow
	agreements   []node.AgreementRow
	dets         []node.DeterminationRow
	obCurrent    map[uint64]node.ObligationRow
	obRevisions  map[uint64][]node.ObligationRow
	responses    []node.ResponseRow
	sanctions    map[string][]node.SanctionRow // every statement, by measure, in log order
	coverage     []node.CoverageRow
	exchange     []node.Record
	patrols      []node.Record
}

func newLogBuilder(tb testing.TB) *logBuilder {
	tb.Helper()
	l := &logBuilder{
		auth:         testkeys.New(tb, "authority"),
		mon:          testkeys.New(tb, "monitor.a"),
		cam:          testkeys.New(tb, "camera.1"),
		intake:       testkeys.New(tb, "intake"),
		stranger:     testkeys.New(tb, "stranger"),
		engine:       testkeys.New(tb, "engine"),
		analyst:      testkeys.New(tb, "analyst.1"),
		uk:           testkeys.New(tb, "guarantor.uk"),
		fr:           testkeys.New(tb, "guarantor.fr"),
		ua:           testkeys.New(tb, "party.ua"),
		ru:           testkeys.New(tb, "party.ru"),
		verifier:     testkeys.New(tb, "verifier"),
		incCurrent:   map[uint64]node.IncidentRow{},
		incRevisions: map[uint64][]node.IncidentRow{},
		obCurrent:    map[uint64]node.ObligationRow{},
		obRevisions:  map[uint64][]node.ObligationRow{},
		sanctions:    map[string][]node.SanctionRow{},
	}
	var err error
	if l.reg, err = registry.New(l.auth.VKey); err != nil {
		tb.Fatal(err)
	}
	return l
}

// add signs body with keys, admits it at the next index and appends the
// record. accepted says whether the registry must accept it.
func (l *logBuilder) add(tb testing.TB, accepted bool, kind entry.Kind, body string, keys ...key) node.Record {
	tb.Helper()
	return l.addRaw(tb, accepted, testkeys.Sign(tb, kind, body, keys...))
}

// addRaw admits the signed note raw at the next index and appends the
// record.
func (l *logBuilder) addRaw(tb testing.TB, accepted bool, raw []byte) node.Record {
	tb.Helper()
	index := uint64(len(l.recs))
	rec := node.Record{Index: index, LeafHash: guarantor.LeafHash(raw), Raw: raw}
	e, b, err := l.reg.Admit(index, raw)
	if e == nil {
		tb.Fatalf("entry %d does not parse: %v", index, err)
	}
	rec.Kind = e.Kind
	for _, s := range e.Sigs {
		rec.Signers = append(rec.Signers, entry.KeyID(s.Name, s.Hash))
	}
	if err != nil {
		rec.Rejected = err.Error()
	} else {
		rec.Body = b
	}
	if (err == nil) != accepted {
		tb.Fatalf("entry %d (%s): registry says %v, want accepted=%v", index, kind(raw), err, accepted)
	}
	l.recs = append(l.recs, rec)
	return rec
}

func kind(raw []byte) string {
	first, _, _ := strings.Cut(string(raw), "\n")
	return first
}

// addJSON marshals body and adds it.
func (l *logBuilder) addJSON(tb testing.TB, accepted bool, kind entry.Kind, body any, keys ...key) node.Record {
	tb.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		tb.Fatal(err)
	}
	return l.add(tb, accepted, kind, string(b), keys...)
}

// key registers k with role, valid through 2025.
func (l *logBuilder) key(tb testing.TB, k key, role, extra string) {
	tb.Helper()
	l.add(tb, true, entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":%q,"not_before":"2025-01-01T00:00:00Z","not_after":"2026-01-01T00:00:00Z"%s}`, k.VKey, role, extra), l.auth)
}

// ref names the entry at index by its leaf hash.
func (l *logBuilder) ref(index uint64) entry.Ref {
	return entry.Ref{Index: index, LeafHash: base64.StdEncoding.EncodeToString(l.recs[index].LeafHash)}
}

func at(tb testing.TB, v string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func tp(tb testing.TB, v string) *time.Time {
	tb.Helper()
	t := at(tb, v)
	return &t
}

func u64(v uint64) *uint64 { return &v }

// observations adds n accepted observations with varied fields: optional
// ones present or absent, times in other zones and with fractions, text
// that needs quoting.
func (l *logBuilder) observations(tb testing.TB, n int, prefix string) {
	tb.Helper()
	cats := []string{"shelling", "small_arms", "drone_strike"}
	srcs := []string{"patrol", "camera", "uav"}
	for i := range n {
		k := l.mon
		if i%3 == 0 {
			k = l.cam
		}
		var opt strings.Builder
		if i%2 == 0 {
			fmt.Fprintf(&opt, `,"accuracy_m":%d.5,"count":%d`, 100+i, i+1)
		}
		if i%5 == 0 {
			fmt.Fprintf(&opt, `,"bearing_deg":%d.25,"weapon":"mortar_120mm","evidence":[{"sha256":"%064x","media_type":"image/jpeg"}],"external_id":"ged-%d","source":"ucdp-ged"`, i%360, i, i)
		}
		at := fmt.Sprintf("2025-03-01T%02d:%02d:%02d.%dZ", 12+i/3600%10, i/60%60, i%60, i%10)
		if i%7 == 0 {
			at = fmt.Sprintf("2025-03-01T%02d:%02d:%02d+03:00", 15+i/3600%10, i/60%60, i%60) // the same instant, another zone
		}
		body := fmt.Sprintf(`{"id":"%s-%d","observed_at":%q,"location":{"type":"Point","coordinates":[%g,%g]},"category":%q,"source_type":%q,"text":"tab\there, \"quoted\", naïve"%s}`,
			prefix, i, at, 37.5+float64(i%40)/100, 48.0+float64(i%17)/100, cats[i%3], srcs[i%3], opt.String())
		l.add(tb, true, entry.KindObservation, body, k)
	}
}

// incident logs inc, signed by the engine key, filling in seq and the
// inputs (the members, by leaf hash), and updates the model.
func (l *logBuilder) incident(tb testing.TB, inc entry.Incident) node.Record {
	tb.Helper()
	l.seq++
	inc.Seq = l.seq
	inc.Rule = "fusion.v1"
	inc.Location.Type = "Point"
	inc.Inputs = nil
	for _, m := range inc.Members {
		inc.Inputs = append(inc.Inputs, l.ref(m))
	}
	if inc.Monitors == 0 {
		inc.Monitors = 1
	}
	if inc.SourceTypes == nil {
		inc.SourceTypes = []string{}
	}
	rec := l.addJSON(tb, true, entry.KindIncident, inc, l.engine)
	row := node.IncidentRow{Index: rec.Index, Incident: *rec.Body.(*entry.Incident)}
	l.incCurrent[inc.ID] = row
	l.incRevisions[inc.ID] = append(l.incRevisions[inc.ID], row)
	return rec
}

// verification logs an analyst's verdict and updates the model.
func (l *logBuilder) verification(tb testing.TB, id string, incident uint64, revision int, verdict, party string) {
	tb.Helper()
	v := entry.Verification{ID: id, At: at(tb, "2025-03-05T09:00:00+02:00"), Incident: incident, Revision: revision, Verdict: verdict,
		AttributedTo: party, Basis: []string{"imagery"}, Text: "checked \"on site\""}
	rec := l.addJSON(tb, true, entry.KindVerification, v, l.analyst)
	l.ver = append(l.ver, node.VerificationRow{Index: rec.Index, Signer: rec.Signers[0], Verification: *rec.Body.(*entry.Verification)})
}

// storeAgreement binds the parties UA and RU and the coalition (UK, FR).
const storeAgreement = `{"id":"test","version":%d,"title":%q,"effective":"2025-01-01T00:00:00Z","expires":"2026-01-01T00:00:00+02:00",
"parties":[{"id":"UA","name":"Ukraine"},{"id":"RU","name":"Russia"}],
"guarantors":[{"id":"coalition","name":"Coalition","kind":"collective","members":["UK","FR"]}],
"zones":[{"id":"sz","kind":"security_zone","geometry":{"type":"Polygon","coordinates":[[[37.7,47.9],[37.9,47.9],[37.9,48.1],[37.7,48.1],[37.7,47.9]]]}}],
"triggers":[{"id":"fire","title":"Fire in the zone","when":"incident.category == 'shelling' && in_zone(incident, 'sz')",
 "obligations":[{"who":"coalition","action":"consult","within":"24h","on_request_of":"UA"},{"who":"RU","action":"report","within":"72h"}]}]}`

// agreement logs an agreement signed by keys and, if accepted, updates
// the model.
func (l *logBuilder) agreement(tb testing.TB, accepted bool, body string, keys ...key) {
	tb.Helper()
	rec := l.add(tb, accepted, entry.KindAgreement, body, keys...)
	if accepted {
		l.agreements = append(l.agreements, node.AgreementRow{Index: rec.Index, Signers: rec.Signers, Agreement: *rec.Body.(*entry.Agreement)})
	}
}

// amendment logs an amendment carrying body as the new version.
func (l *logBuilder) amendment(tb testing.TB, body, reason string, keys ...key) {
	tb.Helper()
	rec := l.add(tb, true, entry.KindAmendment, fmt.Sprintf(`{"agreement":%s,"reason":%q}`, body, reason), keys...)
	a := rec.Body.(*entry.Amendment)
	l.agreements = append(l.agreements, node.AgreementRow{Index: rec.Index, Signers: rec.Signers, Agreement: a.Agreement, Amendment: a.Reason})
}

// determination logs d, signed by the engine key, with inputs filled in,
// and updates the model.
func (l *logBuilder) determination(tb testing.TB, d entry.Determination) {
	tb.Helper()
	d.Inputs = []entry.Ref{l.ref(uint64(len(l.recs) - 1))}
	rec := l.addJSON(tb, true, entry.KindDetermination, d, l.engine)
	l.dets = append(l.dets, node.DeterminationRow{Index: rec.Index, Determination: *rec.Body.(*entry.Determination)})
}

// obligation logs o, signed by the engine key, with its seq, agreement
// and inputs filled in, and updates the model.
func (l *logBuilder) obligation(tb testing.TB, o entry.Obligation) node.Record {
	tb.Helper()
	l.seq++
	o.Seq = l.seq
	if o.Agreement == "" {
		o.Agreement, o.Version = "test", 1
	}
	o.Inputs = []entry.Ref{l.ref(uint64(len(l.recs) - 1))}
	rec := l.addJSON(tb, true, entry.KindObligation, o, l.engine)
	row := node.ObligationRow{Index: rec.Index, Obligation: *rec.Body.(*entry.Obligation)}
	l.obCurrent[o.ID] = row
	l.obRevisions[o.ID] = append(l.obRevisions[o.ID], row)
	return rec
}

// response logs an answer signed by k and updates the model.
func (l *logBuilder) response(tb testing.TB, k key, id string, obligation uint64, answer string) {
	tb.Helper()
	r := entry.Response{ID: id, At: at(tb, "2025-03-02T10:00:00+01:00"), Obligation: obligation, Answer: answer, Text: "done \"as agreed\""}
	if answer == entry.AnswerDeclined {
		r.Reason = "not our zone"
	}
	rec := l.addJSON(tb, true, entry.KindResponse, r, k)
	l.responses = append(l.responses, node.ResponseRow{Index: rec.Index, Signer: rec.Signers[0], Response: *rec.Body.(*entry.Response)})
}

// sanction logs a statement about measure id by k and, if accepted,
// updates the model.
func (l *logBuilder) sanction(tb testing.TB, id, status string, k key, when string) {
	tb.Helper()
	s := entry.Sanction{ID: id, At: at(tb, when), Authority: "UK", Program: "Russia regime",
		Targets: []entry.SanctionTarget{{Kind: "state", Name: "Russian Federation", Country: "ru"}}, Provisions: "asset freeze", Status: status,
		Snapback: []entry.SnapbackClause{{Agreement: "test", Trigger: "fire"}}}
	accepted := k == l.uk
	rec := l.addJSON(tb, accepted, entry.KindSanction, s, k)
	if accepted {
		l.sanctions[id] = append(l.sanctions[id], node.SanctionRow{Index: rec.Index, Sanction: *rec.Body.(*entry.Sanction), Status: status})
	}
}

// coverageSnapshot logs an engine coverage snapshot and updates the
// model.
func (l *logBuilder) coverageSnapshot(tb testing.TB, agreement, month, when string, deployed float64) {
	tb.Helper()
	l.seq++
	c := entry.Coverage{Seq: l.seq, Agreement: agreement, Version: 1, At: at(tb, when), Month: month,
		Cells:  []entry.CoverageCell{{Sector: "north", Capability: "air_policing", Required: 4, Pledged: 4, Deployed: deployed, Shortfall: max(0, 4-deployed)}},
		Ratios: []entry.CoverageRatio{{Contributor: "UK", Pledged: 4, Deployed: deployed}},
		Inputs: []entry.Ref{l.ref(uint64(len(l.recs) - 1))}}
	rec := l.addJSON(tb, true, entry.KindCoverage, c, l.engine)
	l.coverage = append(l.coverage, node.CoverageRow{Index: rec.Index, Coverage: *rec.Body.(*entry.Coverage)})
}

// commitments returns n distinct fake commitments.
func commitments(n int, salt string) []string {
	out := make([]string, n)
	for i := range out {
		h := sha256.Sum256(fmt.Appendf(nil, "%s-%d", salt, i))
		out[i] = hex.EncodeToString(h[:])
	}
	slices.Sort(out)
	return out
}

// exchangeEntry logs a signed exchange note (co-signed by the further
// keys) and, if accepted, updates the model.
func (l *logBuilder) exchangeEntry(tb testing.TB, accepted bool, kind entry.Kind, body any, keys ...key) {
	tb.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		tb.Fatal(err)
	}
	raw := testkeys.Sign(tb, kind, string(b), keys[0])
	for _, k := range keys[1:] {
		if raw, err = entry.Cosign(raw, k.S); err != nil {
			tb.Fatal(err)
		}
	}
	rec := l.addRaw(tb, accepted, raw)
	if accepted {
		l.exchange = append(l.exchange, rec)
	}
}

// patrol logs a patrol plan or report signed by k and, if accepted,
// updates the model.
func (l *logBuilder) patrol(tb testing.TB, accepted bool, kind entry.Kind, body any, k key) {
	tb.Helper()
	rec := l.addJSON(tb, accepted, kind, body, k)
	if accepted {
		l.patrols = append(l.patrols, rec)
	}
}

// buildLog returns the suite's log: keys, observations, incidents with
// revisions and merges, verifications, agreements and an amendment,
// determinations, obligations with revisions, responses, sanctions with a
// snap-back, coverage snapshots, exchange entries, patrol plans and
// reports, a testimony, a revocation, and entries the registry rejects.
//
// Observations are at indexes 5..64. Incidents: A (id 5), B (id 6,
// merged into A), C (id 7, verified, attributed to party:RU, with two
// entries claiming revision 2), D (id 9, revisions logged out of order),
// E (id 10, in another zone's time). Determinations have seqs 101, 105
// (claimed twice) and 109; obligations ids 102 (UK), 103 (FR), 104 (RU),
// 106 (UK), 107 (FR), 110 (RU, under agreement "other") and 900 (UK, a
// sanction obligation re-imposing measures uk-1 and uk-4).
func buildLog(tb testing.TB) *logBuilder {
	tb.Helper()
	l := newLogBuilder(tb)
	l.key(tb, l.mon, "monitor", `,"label":"Team A","zones":["donetsk-north","luhansk"]`)
	l.add(tb, true, entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":"sensor","not_before":"2025-01-01T00:00:00.25+02:00","not_after":"2026-01-01T00:00:00Z"}`, l.cam.VKey), l.auth)
	l.key(tb, l.intake, "intake", "")
	l.key(tb, l.engine, "engine", "")
	l.key(tb, l.analyst, "analyst", "")
	l.observations(tb, 60, "o")
	l.incidents(tb)
	for _, k := range []struct {
		k    key
		role string
	}{{l.uk, "guarantor:UK"}, {l.fr, "guarantor:FR"}, {l.ua, "party:UA"}, {l.ru, "party:RU"}, {l.verifier, "verifier"}} {
		l.key(tb, k.k, k.role, "")
	}
	l.agreementsAndObligations(tb)
	l.sanctionsAndSnapBack(tb)
	l.coverageSnapshots(tb)
	l.exchanges(tb)
	l.patrolEntries(tb)

	// A joint observation, NUL and negative zero (which a text column and
	// a float column must survive), a testimony, a revocation, and entries
	// the registry rejects.
	joint := l.add(tb, true, entry.KindObservation, `{"id":"joint-1","observed_at":"2025-03-02T08:00:00Z","location":{"type":"Point","coordinates":[37.9,48.1]},"category":"air_strike"}`, l.mon, l.cam)
	l.add(tb, true, entry.KindObservation, `{"id":"edge-1","observed_at":"2025-03-02T08:00:01Z","location":{"type":"Point","coordinates":[-0.0,51.4769]},"category":"shelling","text":"nul\u0000and\u0001soh, ünïcödé \\ \"q\"","external_id":"a\u0000b","source":"\u0001","accuracy_m":0.1,"bearing_deg":-0.0,"count":1}`, l.mon)
	l.add(tb, true, entry.KindTestimony, `{"id":"t-1","received_at":"2025-03-02T09:00:00Z","text":"heard explosions to the east","language":"uk"}`, l.intake)
	l.add(tb, true, entry.KindRevocation, fmt.Sprintf(`{"key":%q,"reason":"rotated","effective":"2025-06-01T00:00:00+02:00"}`, l.cam.ID), l.auth)
	l.add(tb, false, entry.KindObservation, `{"id":"x","observed_at":"2025-03-01T12:00:00Z","location":{"type":"Point","coordinates":[37.8,48.0]},"category":"shelling"}`, l.stranger)
	l.add(tb, false, entry.KindObservation, `{"id":"late","observed_at":"2025-07-01T12:00:00Z","location":{"type":"Point","coordinates":[37.8,48.0]},"category":"shelling"}`, l.cam)
	// The same bytes again, as servers sharing a log can race into: the
	// copy is rejected without a registry check.
	l.dupOf = joint.Index
	l.dup = node.Record{Index: uint64(len(l.recs)), LeafHash: joint.LeafHash, Kind: joint.Kind, Signers: joint.Signers, Raw: joint.Raw,
		Rejected: fmt.Sprintf("duplicate of entry %d (the same bytes)", joint.Index)}
	l.recs = append(l.recs, l.dup)
	return l
}

func (l *logBuilder) incidents(tb testing.TB) {
	tb.Helper()
	pt := func(lon, lat float64) entry.Point { return entry.Point{Coordinates: [2]float64{lon, lat}} }
	l.incident(tb, entry.Incident{ID: 5, Revision: 1, Status: "open", Category: "shelling", From: at(tb, "2025-03-01T12:00:00Z"), To: at(tb, "2025-03-01T12:05:00Z"),
		Location: pt(37.5, 48.0), RadiusM: 500, Count: 2, Members: []uint64{5, 8}, SourceTypes: []string{"camera"}, Level: "reported"})
	l.incident(tb, entry.Incident{ID: 6, Revision: 1, Status: "open", Category: "small_arms", From: at(tb, "2025-03-02T10:00:00Z"), To: at(tb, "2025-03-02T10:00:00Z"),
		Location: pt(38.5, 49.0), Count: 1, Members: []uint64{6}, SourceTypes: []string{"patrol"}, Level: "reported"})
	l.incident(tb, entry.Incident{ID: 7, Revision: 1, Status: "open", Category: "drone_strike", From: at(tb, "2025-03-03T00:00:00Z"), To: at(tb, "2025-03-04T00:00:00Z"),
		Location: pt(37.6, 48.1), RadiusM: 2000, Count: 1, Members: []uint64{7}, SourceTypes: []string{"uav"}, Level: "reported"})
	l.verification(tb, "v-1", 7, 1, entry.VerdictVerify, "party:RU")
	l.incident(tb, entry.Incident{ID: 5, Revision: 2, Status: "open", Category: "shelling", From: at(tb, "2025-03-01T12:00:00Z"), To: at(tb, "2025-03-01T12:10:00Z"),
		Location: pt(37.5, 48.0), RadiusM: 600, Count: 3, Members: []uint64{5, 8, 11}, Monitors: 2, SourceTypes: []string{"camera", "patrol"}, Level: "corroborated"})
	l.incident(tb, entry.Incident{ID: 7, Revision: 2, Status: "open", Category: "drone_strike", From: at(tb, "2025-03-03T00:00:00Z"), To: at(tb, "2025-03-04T00:00:00Z"),
		Location: pt(37.6, 48.1), RadiusM: 2000, Count: 1, Members: []uint64{7}, SourceTypes: []string{"uav"}, Level: "verified",
		Verdicts: &entry.Verdicts{Verify: 1}, Attributions: []entry.Attribution{{Party: "party:RU", Count: 1}}})
	l.verification(tb, "v-2", 6, 1, entry.VerdictDispute, "party:UA")
	// B is absorbed by A.
	l.incident(tb, entry.Incident{ID: 6, Revision: 2, Status: "merged", MergedInto: u64(5), Category: "small_arms", From: at(tb, "2025-03-02T10:00:00Z"), To: at(tb, "2025-03-02T10:00:00Z"),
		Location: pt(38.5, 49.0), Count: 1, Members: []uint64{6}, SourceTypes: []string{"patrol"}, Level: "reported",
		Verdicts: &entry.Verdicts{Dispute: 1}, Attributions: []entry.Attribution{{Party: "party:UA", Count: 1}}})
	l.incident(tb, entry.Incident{ID: 5, Revision: 3, Status: "open", Merged: []entry.RevisionRef{{ID: 6, Revision: 2}}, Category: "shelling",
		From: at(tb, "2025-03-01T12:00:00Z"), To: at(tb, "2025-03-02T10:00:00Z"), Location: pt(37.9, 48.4), RadiusM: 90000, Count: 4,
		Members: []uint64{5, 6, 8, 11}, Monitors: 2, SourceTypes: []string{"camera", "patrol"}, Level: "corroborated",
		Verdicts: &entry.Verdicts{Dispute: 1}, Attributions: []entry.Attribution{{Party: "party:UA", Count: 1}}})
	// A second entry claims C's revision 2: the log holds it, so the
	// projection takes it, and it is C's current revision now; it also
	// drops a member and adds two.
	l.incident(tb, entry.Incident{ID: 7, Revision: 2, Status: "open", Category: "drone_strike", From: at(tb, "2025-03-03T00:00:00Z"), To: at(tb, "2025-03-04T00:00:00Z"),
		Location: pt(37.6, 48.1), RadiusM: 2500, Count: 2, Members: []uint64{10, 13}, SourceTypes: []string{"uav"}, Level: "verified",
		Verdicts: &entry.Verdicts{Verify: 1}, Attributions: []entry.Attribution{{Party: "party:RU", Count: 1}}})
	// D's revision 2 is logged before its revision 1.
	l.incident(tb, entry.Incident{ID: 9, Revision: 2, Status: "open", Category: "shelling", From: at(tb, "2025-03-06T00:00:00Z"), To: at(tb, "2025-03-06T01:00:00Z"),
		Location: pt(30.5, 50.4), Count: 2, Members: []uint64{9, 12}, SourceTypes: []string{"camera"}, Level: "corroborated"})
	l.incident(tb, entry.Incident{ID: 9, Revision: 1, Status: "open", Category: "shelling", From: at(tb, "2025-03-06T00:00:00Z"), To: at(tb, "2025-03-06T00:00:00Z"),
		Location: pt(30.5, 50.4), Count: 1, Members: []uint64{9}, SourceTypes: []string{"camera"}, Level: "reported"})
	// E's times are in +03:00; its span ends 2025-03-07T12:00:00Z.
	l.incident(tb, entry.Incident{ID: 10, Revision: 1, Status: "open", Category: "mine", From: at(tb, "2025-03-07T14:00:00+03:00"), To: at(tb, "2025-03-07T15:00:00+03:00"),
		Location: pt(36.2, 49.9), Count: 1, Members: []uint64{10}, SourceTypes: []string{"patrol"}, Level: "reported"})
	l.verification(tb, "v-3", 9, 1, entry.VerdictReject, "")
	l.verification(tb, "v-1", 7, 2, entry.VerdictVerify, "party:RU") // the same id again
	// An incident signed by a monitor: in the log, rejected, not projected.
	stray, _ := json.Marshal(entry.Incident{ID: 12, Revision: 1, Status: "open", Rule: "fusion.v1", Inputs: []entry.Ref{l.ref(12)},
		Category: "shelling", From: at(tb, "2025-03-01T00:00:00Z"), To: at(tb, "2025-03-01T00:00:00Z"), Location: pt(37, 48), Members: []uint64{12}, Monitors: 1, SourceTypes: []string{}, Level: "reported"})
	l.add(tb, false, entry.KindIncident, string(stray), l.mon)
}

func (l *logBuilder) agreementsAndObligations(tb testing.TB) {
	tb.Helper()
	all := []key{l.ua, l.ru, l.uk, l.fr}
	l.agreement(tb, true, fmt.Sprintf(storeAgreement, 1, "Test"), all...)
	l.agreement(tb, true, fmt.Sprintf(storeAgreement, 2, "Test, amended"), l.uk, l.fr, l.ua, l.ru)
	// A second entry claims version 2: the log holds it, so it is kept.
	l.agreement(tb, true, fmt.Sprintf(storeAgreement, 2, "Test, amended again"), all...)
	// Without the guarantors' co-signatures: rejected, not projected.
	l.agreement(tb, false, fmt.Sprintf(storeAgreement, 3, "Test, unilateral"), l.ua, l.ru)
	l.agreement(tb, true, `{"id":"other","version":1,"title":"Other","effective":"2025-02-01T00:00:00+03:00","parties":[{"id":"UA","name":"Ukraine"},{"id":"RU","name":"Russia"}],
		"triggers":[{"id":"many","title":"Many","when":"count({'category': 'shelling'}, '24h') >= 3","obligations":[{"who":"RU","action":"withdraw","within":"7d"}]}]}`, l.ua, l.ru)
	l.amendment(tb, fmt.Sprintf(storeAgreement, 3, "Test, by amendment"), "the zone is redrawn", all...)

	opened := at(tb, "2025-03-01T12:00:00Z")
	deadline := opened.Add(24 * time.Hour)
	l.seq = 1000
	l.determination(tb, entry.Determination{Seq: 101, Agreement: "test", Version: 1, Trigger: "fire", At: opened,
		Incidents: []entry.RevisionRef{{ID: 5, Revision: 1}, {ID: 7, Revision: 2}, {ID: 5, Revision: 1}}})
	ob := func(id uint64, rev int, det uint64, who, group, status string, settled *time.Time) entry.Obligation {
		return entry.Obligation{ID: id, Revision: rev, Determination: det, Trigger: "fire", Who: who, Group: group, Action: "consult",
			Text: "consult, \"urgently\"", OnRequestOf: "party:UA", Opened: opened, Deadline: deadline, Status: status, Settled: settled}
	}
	l.obligation(tb, ob(102, 1, 101, "guarantor:UK", "coalition", "open", nil))
	l.obligation(tb, ob(103, 1, 101, "guarantor:FR", "coalition", "open", nil))
	l.obligation(tb, ob(104, 1, 101, "party:RU", "", "open", nil))
	l.determination(tb, entry.Determination{Seq: 105, Agreement: "test", Version: 2, Trigger: "fire", At: at(tb, "2025-03-02T15:00:00+03:00"),
		Incidents: []entry.RevisionRef{{ID: 9, Revision: 1}}})
	// A second entry claims determination 105.
	l.determination(tb, entry.Determination{Seq: 105, Agreement: "test", Version: 2, Trigger: "fire", At: at(tb, "2025-03-02T13:00:00Z"),
		Incidents: []entry.RevisionRef{{ID: 10, Revision: 1}}})
	// Obligation 106's revision 2 is logged before its revision 1.
	l.obligation(tb, ob(106, 2, 105, "guarantor:UK", "coalition", "declined", tp(tb, "2025-03-02T13:00:00Z")))
	l.obligation(tb, ob(106, 1, 105, "guarantor:UK", "coalition", "open", nil))
	l.obligation(tb, ob(107, 1, 105, "guarantor:FR", "coalition", "open", nil))
	l.response(tb, l.uk, "r-1", 102, entry.AnswerAcknowledge)
	l.response(tb, l.uk, "r-2", 102, entry.AnswerFulfilled)
	l.obligation(tb, ob(102, 2, 101, "guarantor:UK", "coalition", "fulfilled", tp(tb, "2025-03-01T14:00:00Z")))
	// FR answers UK's obligation: the engine ignores it, the log holds it.
	l.response(tb, l.fr, "r-1", 102, entry.AnswerFulfilled)
	l.response(tb, l.ru, "r-3", 104, entry.AnswerDeclined)
	l.obligation(tb, ob(103, 2, 101, "guarantor:FR", "coalition", "missed", tp(tb, "2025-03-02T12:00:00Z")))
	l.obligation(tb, ob(104, 2, 101, "party:RU", "", "declined", tp(tb, "2025-03-02T09:00:00Z")))
	// A second entry claims obligation 103's revision 2: it is current.
	l.obligation(tb, ob(103, 2, 101, "guarantor:FR", "coalition", "missed", tp(tb, "2025-03-02T12:00:01Z")))
	l.obligation(tb, ob(103, 3, 101, "guarantor:FR", "coalition", "late", tp(tb, "2025-03-02T18:00:00Z")))
	l.determination(tb, entry.Determination{Seq: 109, Agreement: "other", Version: 1, Trigger: "many", At: at(tb, "2025-03-05T00:00:00Z"),
		Incidents: []entry.RevisionRef{{ID: 5, Revision: 3}, {ID: 9, Revision: 2}}})
	o := ob(110, 1, 109, "party:RU", "", "open", nil)
	o.Agreement, o.Version, o.Trigger, o.Action, o.OnRequestOf = "other", 1, "many", "withdraw", ""
	l.obligation(tb, o)
	l.response(tb, l.ru, "r-3", 110, entry.AnswerAcknowledge) // the same id again
	// A determination, an obligation and a response by the wrong keys:
	// in the log, rejected, not projected.
	stray, _ := json.Marshal(entry.Determination{Seq: 200, Agreement: "test", Version: 1, Trigger: "fire", At: opened,
		Incidents: []entry.RevisionRef{{ID: 5, Revision: 1}}, Inputs: []entry.Ref{l.ref(0)}})
	l.add(tb, false, entry.KindDetermination, string(stray), l.uk)
	strayOb := ob(201, 1, 101, "guarantor:UK", "", "open", nil)
	strayOb.Seq, strayOb.Agreement, strayOb.Version, strayOb.Inputs = 201, "test", 1, []entry.Ref{l.ref(0)}
	stray, _ = json.Marshal(strayOb)
	l.add(tb, false, entry.KindObligation, string(stray), l.mon)
	l.add(tb, false, entry.KindResponse, `{"id":"r-x","at":"2025-03-02T10:00:00Z","obligation":102,"answer":"fulfilled"}`, l.analyst)
}

// sanctionsAndSnapBack logs measures uk-1 (suspended), uk-2 (active),
// uk-3 (stated by FR: rejected) and uk-4 (suspended); obligation 900
// re-imposes uk-1, uk-4 and a measure never stated; then UK suspends
// uk-1 again, which its statement decides.
func (l *logBuilder) sanctionsAndSnapBack(tb testing.TB) {
	tb.Helper()
	l.sanction(tb, "uk-1", entry.SanctionSuspended, l.uk, "2025-03-01T00:00:00Z")
	l.sanction(tb, "uk-2", entry.SanctionActive, l.uk, "2025-03-01T00:00:00Z")
	l.sanction(tb, "uk-3", entry.SanctionActive, l.fr, "2025-03-01T00:00:00Z")
	l.sanction(tb, "uk-4", entry.SanctionSuspended, l.uk, "2025-03-01T06:00:00+03:00")
	opened := at(tb, "2025-03-01T12:00:00Z")
	o := entry.Obligation{ID: 900, Revision: 2, Determination: 899, Agreement: "test", Version: 1, Trigger: "fire", Who: "guarantor:UK", Action: "sanction",
		Opened: opened, Deadline: opened.Add(720 * time.Hour), Status: entry.ObligationFulfilled, Settled: &opened, Reimposed: []string{"uk-1", "uk-4", "uk-99"}}
	rec := l.obligation(tb, o)
	for _, id := range []string{"uk-1", "uk-4"} {
		h := l.sanctions[id]
		last := &h[len(h)-1]
		last.Status, last.ReimposedBy, last.ReimposedIndex = entry.SanctionActive, u64(900), u64(rec.Index)
	}
	l.sanction(tb, "uk-1", entry.SanctionSuspended, l.uk, "2025-04-01T00:00:00Z")
}

// sanctionRows returns the model's current state of every measure, by id.
func (l *logBuilder) sanctionRows() []node.SanctionRow {
	var out []node.SanctionRow
	for _, h := range l.sanctions {
		out = append(out, h[len(h)-1])
	}
	slices.SortFunc(out, func(a, b node.SanctionRow) int { return strings.Compare(a.Sanction.ID, b.Sanction.ID) })
	return out
}

// sanctionHistory returns the model's statements about measure id: each
// with its own status and no re-imposition.
func (l *logBuilder) sanctionHistory(id string) []node.SanctionRow {
	var out []node.SanctionRow
	for _, r := range l.sanctions[id] {
		out = append(out, node.SanctionRow{Index: r.Index, Sanction: r.Sanction, Status: r.Sanction.Status})
	}
	return out
}

func (l *logBuilder) coverageSnapshots(tb testing.TB) {
	tb.Helper()
	l.coverageSnapshot(tb, "test", "2025-03", "2025-03-01T00:00:00Z", 1)
	l.coverageSnapshot(tb, "test", "2025-03", "2025-03-15T12:00:00+02:00", 2.5)
	l.coverageSnapshot(tb, "other", "2025-03", "2025-03-15T00:00:00Z", 0)
	l.coverageSnapshot(tb, "test", "2025-04", "2025-04-01T00:00:00Z", 3)
	// An earlier month logged later: not the latest month.
	l.coverageSnapshot(tb, "test", "2025-02", "2025-02-28T00:00:00Z", 0.125)
}

func (l *logBuilder) exchanges(tb testing.TB) {
	tb.Helper()
	when := at(tb, "2025-04-01T00:00:00Z")
	ru, ua, people := commitments(3, "ru"), commitments(2, "ua"), commitments(2, "people")
	list := func(id, exchange, side string, cs []string) entry.ExchangeList {
		return entry.ExchangeList{ID: id, Exchange: exchange, Side: side, List: entry.ListHeld, At: when, Count: len(cs),
			Part: 1, Parts: 1, Root: strings.Repeat("ab", 32), Commitments: cs}
	}
	l.exchangeEntry(tb, true, entry.KindExchangeList, list("ru-1", "x", "RU", ru), l.ru)
	l.exchangeEntry(tb, true, entry.KindExchangeList, list("ua-1", "x", "UA", ua), l.ua)
	l.exchangeEntry(tb, false, entry.KindExchangeList, list("ru-2", "x", "RU", ru), l.ua) // not UA's list to sign
	l.exchangeEntry(tb, true, entry.KindExchangeList, list("ua-1", "y", "UA", ua), l.ua)
	l.exchangeEntry(tb, true, entry.KindExchangeManifest, entry.ExchangeManifest{ID: "b1", Exchange: "x", Batch: 1, From: "RU", To: "UA", At: when,
		Count: 2, Part: 1, Parts: 1, Root: strings.Repeat("cd", 32), Commitments: people}, l.ru, l.ua, l.verifier)
	l.exchangeEntry(tb, true, entry.KindExchangeConfirmation, entry.ExchangeConfirmation{ID: "c1", Exchange: "x", Manifest: "b1",
		Event: entry.ExchangeReleased, At: when.Add(time.Hour), Count: 2}, l.ru)
	l.exchangeEntry(tb, true, entry.KindExchangeConfirmation, entry.ExchangeConfirmation{ID: "c2", Exchange: "x", Manifest: "b1",
		Event: entry.ExchangeReceived, At: when.Add(2 * time.Hour), Count: 1, Missing: people[1:], Text: "one \"not\" received"}, l.ua, l.verifier)
}

func (l *logBuilder) patrolEntries(tb testing.TB) {
	tb.Helper()
	route := json.RawMessage(`{"type":"LineString","coordinates":[[37.75,47.95],[37.8,48.0]]}`)
	area := json.RawMessage(`{"type":"Polygon","coordinates":[[[37.7,47.9],[37.9,47.9],[37.9,48.1],[37.7,47.9]]]}`)
	plan := func(id, from, to string, route, area json.RawMessage) entry.PatrolPlan {
		return entry.PatrolPlan{ID: id, At: at(tb, "2025-03-09T00:00:00Z"), Agreement: "test", Team: "team-a", Members: []string{l.mon.ID},
			Means: "vehicle", Route: route, Area: area, From: at(tb, from), To: at(tb, to), Purpose: "verify \"the line\"", Zones: []string{"sz"}}
	}
	l.patrol(tb, true, entry.KindPatrolPlan, plan("p-1", "2025-03-10T06:00:00Z", "2025-03-10T18:00:00Z", route, nil), l.mon)
	l.patrol(tb, true, entry.KindPatrolPlan, plan("p-2", "2025-03-11T08:00:00+02:00", "2025-03-12T08:00:00+02:00", nil, area), l.mon)
	l.patrol(tb, false, entry.KindPatrolPlan, plan("p-3", "2025-03-10T06:00:00Z", "2025-03-10T18:00:00Z", route, nil), l.analyst) // not an analyst's to sign
	l.patrol(tb, true, entry.KindPatrolReport, entry.PatrolReport{ID: "r-1", At: at(tb, "2025-03-10T19:00:00Z"), Plan: "p-1",
		Start: at(tb, "2025-03-10T07:00:00Z"), End: at(tb, "2025-03-10T12:30:00Z"), Outcome: entry.PatrolCompleted, Track: route, SimplifiedM: 25}, l.mon)
	l.patrol(tb, true, entry.KindPatrolReport, entry.PatrolReport{ID: "r-2", At: at(tb, "2025-03-11T19:00:00Z"), Plan: "p-2",
		Start: at(tb, "2025-03-11T09:00:00+02:00"), End: at(tb, "2025-03-11T10:00:00+02:00"), Outcome: entry.PatrolPartial, Reason: "weather", Text: "fog"}, l.mon)
}

// observationRows returns the rows Observations should yield for recs.
func observationRows(recs []node.Record) []node.ObservationRow {
	var out []node.ObservationRow
	for _, r := range recs {
		if ob, ok := r.Body.(*entry.Observation); ok {
			o := *ob
			o.ObservedAt = o.ObservedAt.UTC()
			o.Confirms = nil
			out = append(out, node.ObservationRow{Index: r.Index, Signer: r.Signers[0], Observation: o})
		}
	}
	return out
}

// incidentRows returns the model's current revisions, by incident id.
func (l *logBuilder) incidentRows() []node.IncidentRow {
	var out []node.IncidentRow
	for _, r := range l.incCurrent {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b node.IncidentRow) int { return cmp.Compare(a.Incident.ID, b.Incident.ID) })
	return out
}

// obligationRows returns the model's current revisions, by obligation id.
func (l *logBuilder) obligationRows() []node.ObligationRow {
	var out []node.ObligationRow
	for _, r := range l.obCurrent {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b node.ObligationRow) int { return cmp.Compare(a.Obligation.ID, b.Obligation.ID) })
	return out
}

// Log returns a registry-checked log holding every kind the projection
// has tables for, with revisions, merges, duplicates, entries logged out
// of order, awkward text and times, and entries the registry rejects: the
// log Run feeds its stores. Its keys are fresh on every call, so two calls
// give different logs; feed one to several stores to compare them.
func Log(tb testing.TB) []node.Record {
	tb.Helper()
	return buildLog(tb).recs
}

// Observations returns a registry-checked log of the keys of a monitor
// and a sensor followed by n accepted observations with varied fields.
func Observations(tb testing.TB, n int) []node.Record {
	tb.Helper()
	l := newLogBuilder(tb)
	l.key(tb, l.mon, "monitor", `,"label":"Team A"`)
	l.key(tb, l.cam, "sensor", "")
	l.observations(tb, n, "o")
	return l.recs
}
