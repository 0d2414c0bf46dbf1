package engine_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/guarantor/guarantor/engine"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/internal/testkeys"
)

// testAgreement: a square security zone around (37.8, 48.0); shelling in
// it obliges the coalition (UK and FR) to consult within 24 hours and the
// party RU to report within 72 hours; three shellings in a day oblige UK
// to respond within 2 days, at most once a day.
const testAgreement = `{
 "id": "test", "version": 1, "title": "Test", "effective": "2021-01-01T00:00:00Z",
 "parties": [{"id": "UA", "name": "Ukraine"}, {"id": "RU", "name": "Russia"}],
 "guarantors": [{"id": "coalition", "name": "Coalition", "kind": "collective", "members": ["UK", "FR"]}],
 "zones": [{"id": "sz", "kind": "security_zone", "geometry": {"type": "Polygon", "coordinates": [[[37.7, 47.9], [37.9, 47.9], [37.9, 48.1], [37.7, 48.1], [37.7, 47.9]]]}}],
 "triggers": [
  {"id": "fire", "title": "Fire in the zone", "when": "incident.category == 'shelling' && in_zone(incident, 'sz')",
   "obligations": [{"who": "coalition", "action": "consult", "within": "24h", "on_request_of": "UA"}, {"who": "RU", "action": "report", "within": "72h"}]},
  {"id": "many", "title": "Persistent fire", "when": "count({'category': 'shelling', 'zone': 'sz'}, '24h') >= 3", "cooldown": "24h",
   "obligations": [{"who": "UK", "action": "respond", "within": "2d"}]},
  {"id": "snap", "title": "Missile strike", "when": "incident.category == 'missile_strike'",
   "obligations": [{"who": "UK", "action": "sanction", "within": "30d"}]}
 ]
}`

// world is an engine with keys for two guarantors, a party and a monitor
// registered, and the test agreement in force.
type world struct {
	t       *testing.T
	e       *engine.Engine
	next    uint64
	keys    map[string]string // role -> key id
	derived []entry.Obligation
	dets    []entry.Determination
	all     []engine.Derived
	inputs  []engine.Input
}

func newWorld(t *testing.T) *world {
	w := &world{t: t, e: engine.New(engine.DefaultConfig()), keys: map[string]string{}}
	for _, role := range []string{"guarantor:UK", "guarantor:FR", "party:RU", "party:UA"} {
		k := testkeys.New(t, strings.ReplaceAll(role, ":", "."))
		w.keys[role] = k.ID
		w.apply(&entry.KeyBody{VKey: k.VKey, Role: role}, "authority+1")
	}
	var a entry.Agreement
	if err := json.Unmarshal([]byte(testAgreement), &a); err != nil {
		t.Fatal(err)
	}
	w.apply(&a, w.keys["party:UA"])
	return w
}

func (w *world) apply(body any, signer string) []engine.Derived {
	w.t.Helper()
	in := input(w.next, body, signer)
	switch body.(type) {
	case *entry.KeyBody:
		in.Kind = entry.KindKey
	case *entry.Agreement:
		in.Kind = entry.KindAgreement
	case *entry.Response:
		in.Kind = entry.KindResponse
	case *entry.Sanction:
		in.Kind = entry.KindSanction
	case *entry.Pledge:
		in.Kind = entry.KindPledge
	case *entry.Deployment:
		in.Kind = entry.KindDeployment
	}
	w.next++
	w.inputs = append(w.inputs, in)
	out, err := w.e.Apply(in)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, d := range out {
		lines := strings.SplitN(d.Text, "\n", 3)
		switch lines[0] {
		case "guarantor.v1/obligation":
			var o entry.Obligation
			json.Unmarshal([]byte(lines[1]), &o)
			w.derived = append(w.derived, o)
		case "guarantor.v1/determination":
			var dt entry.Determination
			json.Unmarshal([]byte(lines[1]), &dt)
			w.dets = append(w.dets, dt)
		}
	}
	w.all = append(w.all, out...)
	return out
}

var t0 = time.Date(2021, 6, 1, 18, 0, 0, 0, time.UTC)

func (w *world) shelling(id string, at time.Time, lon float64) {
	w.apply(obsAt(id, at, lon, 48.0, "shelling", "patrol", 500), "patrol+"+id)
}

func (w *world) tick(at time.Time) { w.apply(&entry.Tick{At: at}, "engine+1") }

func (w *world) respond(role string, obligation uint64, answer string, at time.Time) {
	r := &entry.Response{ID: fmt.Sprintf("r-%d-%s", obligation, answer), At: at, Obligation: obligation, Answer: answer}
	if answer == entry.AnswerDeclined {
		r.Reason = "no forces available"
	}
	w.apply(r, w.keys[role])
}

// latest returns the latest revision of every obligation, by id.
func (w *world) latest() map[uint64]entry.Obligation {
	out := map[uint64]entry.Obligation{}
	for _, o := range w.derived {
		out[o.ID] = o
	}
	return out
}

func (w *world) owed(role string) entry.Obligation {
	w.t.Helper()
	for _, o := range w.latest() {
		if o.Who == role && o.Trigger == "fire" {
			return o
		}
	}
	w.t.Fatalf("no obligation owed by %s", role)
	return entry.Obligation{}
}

func TestDeterminationOpensObligations(t *testing.T) {
	w := newWorld(t)
	w.shelling("a", t0, 37.8)
	if len(w.dets) != 1 || w.dets[0].Trigger != "fire" || w.dets[0].Incidents[0].ID != w.next-1 {
		t.Fatalf("determinations %+v", w.dets)
	}
	got := map[string]entry.Obligation{}
	for _, o := range w.derived {
		got[o.Who] = o
	}
	uk, ru := got["guarantor:UK"], got["guarantor:FR"]
	if len(got) != 3 || uk.Group != "coalition" || uk.Action != "consult" || uk.OnRequestOf != "party:UA" || !uk.Deadline.Equal(t0.Add(24*time.Hour)) || ru.Group != "coalition" {
		t.Fatalf("obligations %+v", got)
	}
	if r := got["party:RU"]; r.Action != "report" || !r.Deadline.Equal(t0.Add(72*time.Hour)) || r.Determination != w.dets[0].Seq {
		t.Fatalf("party's obligation %+v", r)
	}
	// The same incident growing does not fire again; shelling outside the
	// zone does not fire at all.
	w.shelling("b", t0.Add(time.Minute), 37.801)
	w.shelling("c", t0.Add(2*time.Hour), 38.5)
	if len(w.dets) != 1 {
		t.Fatalf("%d determinations", len(w.dets))
	}
	if !w.e.NextDeadline().Equal(t0.Add(24 * time.Hour)) {
		t.Fatalf("next deadline %s", w.e.NextDeadline())
	}
}

// TestObligationPaths: each way an obligation ends.
func TestObligationPaths(t *testing.T) {
	for _, c := range []struct {
		name  string
		steps func(w *world, id uint64)
		want  string
	}{
		{"fulfilled in time", func(w *world, id uint64) {
			w.respond("guarantor:UK", id, entry.AnswerFulfilled, t0.Add(time.Hour))
			w.tick(t0.Add(25 * time.Hour))
		}, entry.ObligationFulfilled},
		{"acknowledged, then fulfilled", func(w *world, id uint64) {
			w.respond("guarantor:UK", id, entry.AnswerAcknowledge, t0.Add(time.Hour))
			w.respond("guarantor:UK", id, entry.AnswerFulfilled, t0.Add(2*time.Hour))
		}, entry.ObligationFulfilled},
		{"missed", func(w *world, id uint64) {
			w.tick(t0.Add(23 * time.Hour))
			w.tick(t0.Add(24 * time.Hour))
		}, entry.ObligationMissed},
		{"late", func(w *world, id uint64) {
			w.tick(t0.Add(24 * time.Hour))
			w.respond("guarantor:UK", id, entry.AnswerFulfilled, t0.Add(30*time.Hour))
		}, entry.ObligationLate},
		{"backdating does not help", func(w *world, id uint64) {
			w.tick(t0.Add(24 * time.Hour))
			w.respond("guarantor:UK", id, entry.AnswerFulfilled, t0.Add(time.Hour))
		}, entry.ObligationLate},
		{"declined", func(w *world, id uint64) {
			w.respond("guarantor:UK", id, entry.AnswerDeclined, t0.Add(time.Hour))
			w.tick(t0.Add(25 * time.Hour))
		}, entry.ObligationDeclined},
		{"answered by someone else", func(w *world, id uint64) {
			w.respond("guarantor:FR", id, entry.AnswerFulfilled, t0.Add(time.Hour))
			w.tick(t0.Add(25 * time.Hour))
		}, entry.ObligationMissed},
		{"declined after missing changes nothing", func(w *world, id uint64) {
			w.tick(t0.Add(25 * time.Hour))
			w.respond("guarantor:UK", id, entry.AnswerDeclined, t0.Add(26*time.Hour))
		}, entry.ObligationMissed},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			w.shelling("a", t0, 37.8)
			uk := w.owed("guarantor:UK")
			c.steps(w, uk.ID)
			got := w.owed("guarantor:UK")
			if got.Status != c.want {
				t.Fatalf("status %s, want %s (revisions: %d)", got.Status, c.want, got.Revision)
			}
			if c.want != entry.ObligationOpen && got.Settled == nil {
				t.Fatal("settled time missing")
			}
			if got.Status == entry.ObligationDeclined && got.Reason == "" {
				t.Fatal("declined without the reason")
			}
			// FR owed its own and answered nothing: missed after any tick
			// past the deadline, whatever UK did.
			w.tick(t0.Add(48 * time.Hour))
			if fr := w.owed("guarantor:FR"); fr.Status != entry.ObligationMissed {
				t.Fatalf("FR: %s", fr.Status)
			}
			// Revisions count up by one and seqs never repeat.
			seen := map[uint64]bool{}
			for _, d := range w.all {
				if seen[d.Seq] {
					t.Fatalf("seq %d twice", d.Seq)
				}
				seen[d.Seq] = true
			}
		})
	}
}

func TestAggregateTriggerAndCooldown(t *testing.T) {
	w := newWorld(t)
	for i, lon := range []float64{37.75, 37.80, 37.85} {
		w.shelling(fmt.Sprint("s", i), t0.Add(time.Duration(i)*time.Hour), lon)
	}
	var many []entry.Determination
	for _, d := range w.dets {
		if d.Trigger == "many" {
			many = append(many, d)
		}
	}
	if len(many) != 1 || len(many[0].Incidents) != 3 {
		t.Fatalf("aggregate determinations %+v", many)
	}
	// A fourth within the cooldown: no new aggregate determination; a
	// fifth a day later: one.
	w.shelling("s3", t0.Add(4*time.Hour), 37.78)
	w.shelling("s4", t0.Add(30*time.Hour), 37.82)
	w.shelling("s5", t0.Add(30*time.Hour+time.Hour), 37.76)
	w.shelling("s6", t0.Add(30*time.Hour+2*time.Hour), 37.84)
	n := 0
	for _, d := range w.dets {
		if d.Trigger == "many" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d aggregate determinations, want 2", n)
	}
}

func TestAgreementInForceByIncidentTime(t *testing.T) {
	w := newWorld(t)
	w.shelling("before", time.Date(2020, 12, 31, 23, 0, 0, 0, time.UTC), 37.8)
	if len(w.dets) != 0 {
		t.Fatalf("an incident before the agreement took effect fired %d times", len(w.dets))
	}
}

// TestObligationsReplay: the whole story, logged as a live server logs
// it (each derived entry after the input that caused it), replays byte
// for byte; a changed obligation is caught at its index.
func TestObligationsReplay(t *testing.T) {
	w := newWorld(t)
	w.shelling("a", t0, 37.8)
	uk := w.owed("guarantor:UK")
	w.respond("guarantor:UK", uk.ID, entry.AnswerFulfilled, t0.Add(time.Hour))
	w.tick(t0.Add(80 * time.Hour))
	// Build the log: inputs with fresh indexes, derived entries after.
	e := engine.New(engine.DefaultConfig())
	var log []logged
	for _, in := range w.inputs {
		in.Index = uint64(len(log))
		out, err := e.Apply(in)
		if err != nil {
			t.Fatal(err)
		}
		log = append(log, logged{in: in})
		for _, d := range out {
			body := decodeAny(t, d.Text)
			log = append(log, logged{in: engine.Input{Index: uint64(len(log)), Kind: d.Kind, Body: body}, text: d.Text})
		}
	}
	r, err := replay(log)
	if err != nil || len(r.Pending()) != 0 {
		t.Fatalf("replay: %v, %d pending", err, len(r.Pending()))
	}
	kinds := map[entry.Kind]int{}
	for _, l := range log {
		kinds[l.in.Kind]++
	}
	if kinds[entry.KindDetermination] != 1 || kinds[entry.KindObligation] != 3+3 {
		t.Fatalf("log holds %v", kinds)
	}
	for i, l := range log {
		if l.in.Kind != entry.KindObligation {
			continue
		}
		bad := append([]logged(nil), log...)
		bad[i].text = strings.Replace(l.text, `"status":"`, `"status":"x`, 1)
		if _, err := replay(bad); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("entry %d ", i)) {
			t.Fatalf("tampered obligation at %d: %v", i, err)
		}
	}
}

// decodeAny decodes a derived entry's body by its kind.
func decodeAny(t *testing.T, text string) any {
	t.Helper()
	lines := strings.SplitN(text, "\n", 3)
	var body any
	switch lines[0] {
	case "guarantor.v1/incident":
		body = &entry.Incident{}
	case "guarantor.v1/determination":
		body = &entry.Determination{}
	case "guarantor.v1/obligation":
		body = &entry.Obligation{}
	case "guarantor.v1/coverage":
		body = &entry.Coverage{}
	default:
		t.Fatalf("derived kind %q", lines[0])
	}
	if err := json.Unmarshal([]byte(lines[1]), body); err != nil {
		t.Fatal(err)
	}
	return body
}

// TestTestAgreementPassesIntake: the agreement these tests use is one the
// log would accept (a duty may name a member of a group on its own).
func TestTestAgreementPassesIntake(t *testing.T) {
	k := testkeys.New(t, "party.UA")
	if err := testkeys.Valid(t, entry.KindAgreement, json.RawMessage(testAgreement), k); err != nil {
		t.Fatal(err)
	}
}

// amendment returns the test agreement as version 2, effective at the
// given time, with the party's duty to report dropped.
func amendment(t *testing.T, effective time.Time) *entry.Amendment {
	var a entry.Agreement
	if err := json.Unmarshal([]byte(testAgreement), &a); err != nil {
		t.Fatal(err)
	}
	a.Version, a.Effective = 2, effective
	a.Triggers[0].Obligations = a.Triggers[0].Obligations[:1] // the coalition still consults
	return &entry.Amendment{Agreement: a, Reason: "the party's reports go through the mission now"}
}

func (w *world) applySigned(body any, kind entry.Kind, roles ...string) {
	w.t.Helper()
	var signers []string
	for _, r := range roles {
		signers = append(signers, w.keys[r])
	}
	in := input(w.next, body, "")
	in.Kind, in.Signers = kind, signers
	w.next++
	w.inputs = append(w.inputs, in)
	out, err := w.e.Apply(in)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, d := range out {
		lines := strings.SplitN(d.Text, "\n", 3)
		if lines[0] == "guarantor.v1/obligation" {
			var o entry.Obligation
			json.Unmarshal([]byte(lines[1]), &o)
			w.derived = append(w.derived, o)
		}
	}
	w.all = append(w.all, out...)
}

func TestAmendments(t *testing.T) {
	w := newWorld(t)
	w.shelling("a", t0, 37.8)
	ru := w.owed("party:RU")
	// Without the quorum (every party and guarantor): no effect.
	w.applySigned(amendment(t, t0), entry.KindAmendment, "party:UA", "guarantor:UK")
	if got := w.owed("party:RU"); got.Status != entry.ObligationOpen {
		t.Fatalf("an amendment short of its quorum settled RU's obligation: %s", got.Status)
	}
	// With it: the dropped duty is amended away, the kept one stays.
	w.applySigned(amendment(t, t0), entry.KindAmendment, "party:UA", "party:RU", "guarantor:UK", "guarantor:FR")
	if got := w.latest()[ru.ID]; got.Status != entry.ObligationAmended || got.Reason == "" || got.Settled == nil {
		t.Fatalf("RU's obligation after the amendment: %+v", got)
	}
	if got := w.owed("guarantor:UK"); got.Status != entry.ObligationOpen {
		t.Fatalf("UK's obligation after the amendment: %s", got.Status)
	}
	// A new incident is judged under version 2: no duty for RU.
	before := len(w.derived)
	w.shelling("b", t0.Add(3*time.Hour), 37.75)
	for _, o := range w.derived[before:] {
		if o.Who == "party:RU" || o.Version != 2 {
			t.Fatalf("under version 2: %+v", o)
		}
	}
}

// TestAmendmentJudgesByIncidentTime: an incident that happened before the
// new version took effect is judged under the old one, even when it is
// logged after the amendment.
func TestAmendmentJudgesByIncidentTime(t *testing.T) {
	w := newWorld(t)
	w.applySigned(amendment(t, t0.Add(time.Hour)), entry.KindAmendment, "party:UA", "party:RU", "guarantor:UK", "guarantor:FR")
	w.shelling("early", t0, 37.8)
	versions := map[int]bool{}
	for _, o := range w.derived {
		versions[o.Version] = true
		if o.Who == "party:RU" && o.Version != 1 {
			t.Fatalf("RU owes under version %d", o.Version)
		}
	}
	if !versions[1] || versions[2] {
		t.Fatalf("versions used: %v", versions)
	}
	w.shelling("late", t0.Add(2*time.Hour), 37.75)
	for _, o := range w.derived {
		if o.Opened.After(t0.Add(90*time.Minute)) && o.Version != 2 {
			t.Fatalf("an incident after the new version took effect was judged under version %d", o.Version)
		}
	}
}

func TestSnapBack(t *testing.T) {
	w := newWorld(t)
	suspended := func(id string, snapback ...entry.SnapbackClause) *entry.Sanction {
		return &entry.Sanction{ID: id, At: t0.Add(-time.Hour), Authority: "UK", Program: "test", Provisions: "asset freeze",
			Targets: []entry.SanctionTarget{{Kind: "state", Name: "Russia", Country: "ru"}}, Status: entry.SanctionSuspended, Snapback: snapback}
	}
	w.apply(suspended("uk-1", entry.SnapbackClause{Agreement: "test", Trigger: "snap"}), w.keys["guarantor:UK"])
	w.apply(suspended("uk-2"), w.keys["guarantor:UK"])
	w.apply(obsAt("m", t0, 37.8, 48.0, "missile_strike", "patrol", 500), "patrol+1")
	var ob entry.Obligation
	for _, o := range w.latest() {
		if o.Action == "sanction" {
			ob = o
		}
	}
	if ob.Who != "guarantor:UK" {
		t.Fatalf("no sanction obligation: %+v", w.latest())
	}
	r := &entry.Response{ID: "r", At: t0.Add(time.Hour), Obligation: ob.ID, Answer: entry.AnswerFulfilled, Sanctions: []string{"uk-2", "uk-1", "unknown"}}
	w.apply(r, w.keys["guarantor:UK"])
	got := w.latest()[ob.ID]
	if got.Status != entry.ObligationFulfilled || len(got.Reimposed) != 1 || got.Reimposed[0] != "uk-1" {
		t.Fatalf("after the fulfilment: %+v", got)
	}
}

// TestCoverageSnapshots: pledges and deployments by coalition members
// produce coverage entries for the month; a report on someone else's
// pledge changes nothing; a tick into a new month logs the new month's
// coverage; and it all replays.
func TestCoverageSnapshots(t *testing.T) {
	w := newWorld(t)
	var a entry.Agreement
	if err := json.Unmarshal([]byte(testAgreement), &a); err != nil {
		t.Fatal(err)
	}
	a.ID, a.Coalition = "coal", "coalition"
	a.Requirements = []entry.Requirement{{Sector: "sz", Capability: "land_demining", Quantity: 4, From: t0.AddDate(0, -1, 0), To: t0.AddDate(1, 0, 0)}}
	w.apply(&a, w.keys["party:UA"])
	coverage := func() *entry.Coverage {
		var last *entry.Coverage
		for _, d := range w.all {
			if d.Kind == entry.KindCoverage {
				last = decodeAny(t, d.Text).(*entry.Coverage)
			}
		}
		return last
	}
	p := &entry.Pledge{ID: "uk-1", At: t0, Agreement: "coal", Capability: "land_demining", Quantity: 3, Sector: "sz", From: t0.AddDate(0, 0, -20), To: t0.AddDate(0, 6, 0)}
	w.apply(p, w.keys["guarantor:UK"])
	c := coverage()
	if c == nil || c.Month != "2021-06" || len(c.Cells) != 1 || c.Cells[0].Pledged != 3 || c.Cells[0].Deployed != 0 || c.Cells[0].Shortfall != 4 {
		t.Fatalf("after the pledge: %+v", c)
	}
	w.apply(&entry.Deployment{ID: "d1", At: t0.Add(time.Hour), Pledge: "uk-1", Quantity: 3, Status: "deployed"}, w.keys["guarantor:UK"])
	// Reported on 1 June: in place by mid-month, which the month counts.
	if c := coverage(); c.Cells[0].Deployed != 3 || c.Cells[0].Shortfall != 1 || len(c.Ratios) != 1 || c.Ratios[0].Contributor != "guarantor:UK" {
		t.Fatalf("after the deployment: %+v", c)
	}
	n := len(w.all)
	w.apply(&entry.Deployment{ID: "d2", At: t0.Add(2 * time.Hour), Pledge: "uk-1", Status: "withdrawn"}, w.keys["guarantor:FR"])
	if len(w.all) != n {
		t.Fatal("FR's report on UK's pledge changed the coverage")
	}
	if !w.e.HasPledge("guarantor:UK", "uk-1") || w.e.HasPledge("guarantor:FR", "uk-1") {
		t.Fatal("HasPledge")
	}
	w.tick(t0.AddDate(0, 1, 0))
	if c := coverage(); c.Month != "2021-07" || c.Cells[0].Deployed != 3 {
		t.Fatalf("the new month: %+v", c)
	}
}
