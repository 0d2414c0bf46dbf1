package http_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	ghttp "github.com/guarantor/guarantor/http"
)

// testAgreement: a square security zone around (37.8, 48.0); shelling in
// it obliges the coalition (UK and FR) to consult within 24 hours and the
// party RU to report within 72 hours; three shellings in a day oblige UK,
// also a bilateral guarantor of UA, to respond within 2 days.
const testAgreement = `{
 "id": "test", "version": %d, "title": %q, "effective": "2025-01-01T00:00:00Z",
 "parties": [{"id": "UA", "name": "Ukraine"}, {"id": "RU", "name": "Russia"}],
 "guarantors": [{"id": "coalition", "name": "Coalition", "kind": "collective", "members": ["UK", "FR"]},
  {"id": "UK", "name": "United Kingdom", "kind": "bilateral", "beneficiary": "UA"}],
 "zones": [{"id": "sz", "kind": "security_zone", "geometry": {"type": "Polygon", "coordinates": [[[37.7, 47.9], [37.9, 47.9], [37.9, 48.1], [37.7, 48.1], [37.7, 47.9]]]}}],
 "triggers": [
  {"id": "fire", "title": "Fire in the zone", "when": "incident.category == 'shelling' && in_zone(incident, 'sz')",
   "obligations": [{"who": "coalition", "action": "consult", "within": "24h", "on_request_of": "UA"}, {"who": "RU", "action": "report", "within": "72h"}]},
  {"id": "many", "title": "Persistent fire", "when": "count({'category': 'shelling', 'zone': 'sz'}, '24h') >= 3", "cooldown": "24h",
   "obligations": [{"who": "UK", "action": "respond", "within": "2d"}]}
 ]
}`

// bilateralAgreement binds US to protect UA; nothing has fired under it.
const bilateralAgreement = `{"id": "bilat", "version": 1, "title": "Bilateral", "effective": "2025-02-01T00:00:00Z", "expires": "2026-02-01T00:00:00Z",
 "parties": [{"id": "UA", "name": "Ukraine"}, {"id": "RU", "name": "Russia"}],
 "guarantors": [{"id": "US", "name": "United States", "kind": "bilateral", "beneficiary": "UA"}],
 "triggers": [{"id": "mine", "title": "Mines", "when": "incident.category == 'mine'", "obligations": [{"who": "US", "action": "report", "within": "7d"}]}]}`

// agreementEnv is a node with agreements co-signed over HTTP,
// determinations and obligations written by hand and submitted through
// node.Submit as the engine would (HTTP refuses them), and responses.
type agreementEnv struct {
	*incidentEnv
	uk, fr, us, ua, ru key
	agreement          entry.Ref // the first agreement entry: every derived entry's input
	next               uint64    // the next seq of an obligation revision
}

func newAgreementEnv(t *testing.T) *agreementEnv {
	t.Helper()
	e := &agreementEnv{incidentEnv: newIncidentEnv(t), uk: newKey(t, "guarantor.uk"), fr: newKey(t, "guarantor.fr"), us: newKey(t, "guarantor.us"),
		ua: newKey(t, "party.ua"), ru: newKey(t, "party.ru"), next: 100}
	for _, k := range []struct {
		k    key
		role string
	}{{e.uk, "guarantor:UK"}, {e.fr, "guarantor:FR"}, {e.us, "guarantor:US"}, {e.ua, "party:UA"}, {e.ru, "party:RU"}} {
		e.register(k.k, k.role)
	}
	return e
}

func (e *agreementEnv) agree(body string, keys ...key) guarantor.Receipt {
	e.t.Helper()
	rc := e.mustPost(e.sign(entry.KindAgreement, body, keys...))
	if e.agreement.LeafHash == "" {
		e.agreement = entry.Ref{Index: rc.Index, LeafHash: base64.StdEncoding.EncodeToString(rc.LeafHash)}
	}
	return rc
}

// engine signs body as kind with the engine key and submits it through
// the Go API.
func (e *agreementEnv) engine(kind entry.Kind, body any) uint64 {
	e.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := e.node.Submit(context.Background(), e.sign(kind, string(b), e.eng))
	if err != nil {
		e.t.Fatalf("submit %s %s: %v", kind, b, err)
	}
	return res.Receipt.Index
}

func (e *agreementEnv) determine(d entry.Determination) uint64 {
	e.t.Helper()
	d.Inputs = []entry.Ref{e.agreement}
	return e.engine(entry.KindDetermination, d)
}

// oblige logs o with its seq (its id for a first revision), agreement
// and inputs filled in.
func (e *agreementEnv) oblige(o entry.Obligation) uint64 {
	e.t.Helper()
	o.Seq = o.ID
	if o.Revision > 1 {
		o.Seq = e.next
		e.next++
	}
	o.Agreement, o.Inputs = "test", []entry.Ref{e.agreement}
	if o.Version == 0 {
		o.Version = 1
	}
	return e.engine(entry.KindObligation, o)
}

func (e *agreementEnv) respond(k key, id string, obligation uint64, answer, at string) uint64 {
	e.t.Helper()
	r := entry.Response{ID: id, At: tm(e.t, at), Obligation: obligation, Answer: answer}
	if answer == entry.AnswerDeclined {
		r.Reason = "outside our mandate"
	}
	b, _ := json.Marshal(r)
	return e.mustPost(e.sign(entry.KindResponse, string(b), k)).Index
}

// agreementScenario is what buildAgreements logged: the log indexes of
// the agreement entries and of some revisions and responses.
type agreementScenario struct {
	testV1, testV2, bilat uint64
	o2, o3                []uint64 // the revisions of obligations 2 and 3
	r2                    []uint64 // the responses naming obligation 2
}

// buildAgreements logs agreements test (versions 1 and 2) and bilat, and
// under test determinations 1, 5 and 9 and obligations 2, 3, 4 (from 1),
// 6, 7, 8 (from 5) and 10 (from 9). Their latest revisions:
//
//	2  guarantor:UK coalition fulfilled after 2h
//	3  guarantor:FR coalition late, after 30h (missed first)
//	4  party:RU              missed
//	6  guarantor:UK coalition declined
//	7  guarantor:FR coalition open
//	8  party:RU              fulfilled after 10h
//	10 guarantor:UK          fulfilled after 6h
func buildAgreements(t *testing.T, e *agreementEnv) agreementScenario {
	t.Helper()
	var s agreementScenario
	s.testV1 = e.agree(fmt.Sprintf(testAgreement, 1, "Test"), e.ua, e.ru, e.uk, e.fr).Index
	s.testV2 = e.agree(fmt.Sprintf(testAgreement, 2, "Test, amended"), e.uk, e.fr, e.ua, e.ru).Index
	s.bilat = e.agree(bilateralAgreement, e.ua, e.ru, e.us).Index

	d1, d5, d9 := tm(t, "2025-03-01T12:00:00Z"), tm(t, "2025-03-02T12:00:00Z"), tm(t, "2025-03-03T12:00:00Z")
	ob := func(id uint64, rev int, det uint64, opened time.Time, who, group, status string, settled string) entry.Obligation {
		o := entry.Obligation{ID: id, Revision: rev, Determination: det, Trigger: "fire", Who: who, Group: group, Action: "consult",
			OnRequestOf: "party:UA", Opened: opened, Deadline: opened.Add(24 * time.Hour), Status: status}
		if group == "" {
			o.Action, o.OnRequestOf, o.Deadline = "report", "", opened.Add(72*time.Hour)
		}
		if det != 1 {
			o.Version = 2
		}
		if settled != "" {
			at := tm(t, settled)
			o.Settled = &at
		}
		return o
	}
	e.determine(entry.Determination{Seq: 1, Agreement: "test", Version: 1, Trigger: "fire", At: d1, Incidents: []entry.RevisionRef{{ID: 5, Revision: 1}}})
	s.o2 = append(s.o2, e.oblige(ob(2, 1, 1, d1, "guarantor:UK", "coalition", "open", "")))
	s.o3 = append(s.o3, e.oblige(ob(3, 1, 1, d1, "guarantor:FR", "coalition", "open", "")))
	e.oblige(ob(4, 1, 1, d1, "party:RU", "", "open", ""))
	e.determine(entry.Determination{Seq: 5, Agreement: "test", Version: 2, Trigger: "fire", At: d5, Incidents: []entry.RevisionRef{{ID: 7, Revision: 2}}})
	e.oblige(ob(6, 1, 5, d5, "guarantor:UK", "coalition", "open", ""))
	e.oblige(ob(7, 1, 5, d5, "guarantor:FR", "coalition", "open", ""))
	e.oblige(ob(8, 1, 5, d5, "party:RU", "", "open", ""))
	e.determine(entry.Determination{Seq: 9, Agreement: "test", Version: 2, Trigger: "many", At: d9,
		Incidents: []entry.RevisionRef{{ID: 5, Revision: 1}, {ID: 7, Revision: 2}, {ID: 9, Revision: 1}}})
	o10 := ob(10, 1, 9, d9, "guarantor:UK", "", "open", "")
	o10.Trigger, o10.Action, o10.Deadline = "many", "respond", d9.Add(48*time.Hour)
	e.oblige(o10)

	s.r2 = append(s.r2, e.respond(e.uk, "r-1", 2, entry.AnswerAcknowledge, "2025-03-01T13:00:00Z"))
	s.r2 = append(s.r2, e.respond(e.uk, "r-2", 2, entry.AnswerFulfilled, "2025-03-01T14:00:00Z"))
	s.o2 = append(s.o2, e.oblige(ob(2, 2, 1, d1, "guarantor:UK", "coalition", "fulfilled", "2025-03-01T14:00:00Z")))
	// FR answers UK's obligation: refused at intake, naming the debtor.
	fr, _ := json.Marshal(entry.Response{ID: "r-1", At: tm(t, "2025-03-01T15:00:00Z"), Obligation: 2, Answer: entry.AnswerFulfilled})
	if r, b := e.post(e.sign(entry.KindResponse, string(fr), e.fr)); r.StatusCode != 403 || !strings.Contains(string(b), "owed by guarantor:UK") {
		t.Fatalf("FR answering UK's obligation: %s %s", r.Status, b)
	}
	// UK answers it again once fulfilled: nothing to change.
	again, _ := json.Marshal(entry.Response{ID: "r-9", At: tm(t, "2025-03-01T15:00:00Z"), Obligation: 2, Answer: entry.AnswerDeclined, Reason: "late thoughts"})
	if r, b := e.post(e.sign(entry.KindResponse, string(again), e.uk)); r.StatusCode != 409 {
		t.Fatalf("UK declining a fulfilled obligation: %s %s", r.Status, b)
	}
	// An obligation that does not exist.
	none, _ := json.Marshal(entry.Response{ID: "r-0", At: tm(t, "2025-03-01T15:00:00Z"), Obligation: 999, Answer: entry.AnswerFulfilled})
	if r, b := e.post(e.sign(entry.KindResponse, string(none), e.uk)); r.StatusCode != 400 || !strings.Contains(string(b), "/obligation") {
		t.Fatalf("answer to no obligation: %s %s", r.Status, b)
	}
	s.o3 = append(s.o3, e.oblige(ob(3, 2, 1, d1, "guarantor:FR", "coalition", "missed", "2025-03-02T12:00:00Z")))
	e.respond(e.uk, "r-3", 6, entry.AnswerDeclined, "2025-03-02T13:00:00Z")
	e.oblige(ob(6, 2, 5, d5, "guarantor:UK", "coalition", "declined", "2025-03-02T13:00:00Z"))
	s.o3 = append(s.o3, e.oblige(ob(3, 3, 1, d1, "guarantor:FR", "coalition", "late", "2025-03-02T18:00:00Z")))
	e.oblige(ob(8, 2, 5, d5, "party:RU", "", "fulfilled", "2025-03-02T22:00:00Z"))
	e.oblige(ob(4, 2, 1, d1, "party:RU", "", "missed", "2025-03-04T12:00:00Z"))
	o10.Revision, o10.Status = 2, "fulfilled"
	settled := tm(t, "2025-03-03T18:00:00Z")
	o10.Settled = &settled
	e.oblige(o10)
	return s
}

// wantProblem checks that GET path answers a problem+json with the given
// status and field.
func (e *agreementEnv) wantProblem(path string, status int, field string) {
	e.t.Helper()
	r, b := e.get(path)
	var p ghttp.Problem
	_ = json.Unmarshal(b, &p)
	if r.StatusCode != status || r.Header.Get("Content-Type") != "application/problem+json" || p.Field != field {
		e.t.Errorf("%s: %s %q field %q (%s); want %d field %q", path, r.Status, r.Header.Get("Content-Type"), p.Field, p.Detail, status, field)
	}
}

// list decodes a JSON list answer {key: [...]} into out.
func (e *agreementEnv) list(path, key string, out any) {
	e.t.Helper()
	r, b := e.get(path)
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/json" {
		e.t.Fatalf("%s: %s %s", path, r.Status, b)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		e.t.Fatalf("%s: %v in %s", path, err, b)
	}
	if !bytes.HasPrefix(raw[key], []byte("[")) {
		e.t.Fatalf("%s: no %s array in %s", path, key, b)
	}
	if err := json.Unmarshal(raw[key], out); err != nil {
		e.t.Fatalf("%s: %v in %s", path, err, b)
	}
}

func TestAgreementsAPI(t *testing.T) {
	e := newAgreementEnv(t)
	s := buildAgreements(t, e)

	t.Run("agreements", func(t *testing.T) {
		var l []ghttp.AgreementSummary
		e.list("/v1/agreements", "agreements", &l)
		type v struct {
			id      string
			version int
			index   uint64
			signers int
		}
		var got []v
		for _, a := range l {
			got = append(got, v{a.ID, a.Version, a.Index, len(a.Signers)})
		}
		want := []v{{"bilat", 1, s.bilat, 3}, {"test", 2, s.testV2, 4}, {"test", 1, s.testV1, 4}}
		if !slices.Equal(got, want) {
			t.Fatalf("agreements = %+v, want %+v", got, want)
		}
		if l[0].Title != "Bilateral" || l[0].Expires == nil || l[1].Expires != nil || l[2].Signers[0] != e.ua.ID || !l[2].Effective.Equal(tm(t, "2025-01-01T00:00:00Z")) {
			t.Fatalf("agreements = %+v", l)
		}
	})

	t.Run("agreement history", func(t *testing.T) {
		r, b := e.get("/v1/agreements/test")
		if r.StatusCode != 200 {
			t.Fatalf("%s %s", r.Status, b)
		}
		var d ghttp.AgreementDetail
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		if d.ID != "test" || len(d.Versions) != 2 || d.Versions[0].Index != s.testV1 || d.Versions[1].Index != s.testV2 ||
			d.Versions[1].Agreement.Title != "Test, amended" || len(d.Versions[0].Agreement.Triggers) != 2 || len(d.Versions[0].Agreement.Zones) != 1 ||
			!slices.Equal(d.Versions[1].Signers, []string{e.uk.ID, e.fr.ID, e.ua.ID, e.ru.ID}) {
			t.Fatalf("agreement test = %+v", d)
		}
		if !bytes.Contains(b, []byte(`"versions":[{"index":`)) || !bytes.Contains(b, []byte(`"agreement":{"id":"test","version":1,`)) {
			t.Fatalf("agreement JSON = %s", b)
		}
		e.wantProblem("/v1/agreements/nope", 404, "id")
		e.wantProblem("/v1/agreements/Test", 400, "id")
	})

	t.Run("determinations", func(t *testing.T) {
		for q, want := range map[string][]uint64{
			"":                               {1, 5, 9},
			"?agreement=test":                {1, 5, 9},
			"?agreement=bilat":               {},
			"?trigger=many":                  {9},
			"?agreement=test&trigger=fire":   {1, 5},
			"?from=2025-03-02":               {5, 9},
			"?to=2025-03-02T12:00:00Z":       {1},
			"?from=2025-03-02&to=2025-03-03": {5},
			"?limit=2":                       {1, 5},
		} {
			var l []ghttp.DeterminationView
			e.list("/v1/determinations"+q, "determinations", &l)
			got := []uint64{}
			for _, d := range l {
				got = append(got, d.Seq)
			}
			if !slices.Equal(got, want) {
				t.Errorf("/v1/determinations%s = %v, want %v", q, got, want)
			}
		}
		var l []ghttp.DeterminationView
		e.list("/v1/determinations?trigger=many", "determinations", &l)
		if l[0].Index == 0 || len(l[0].Incidents) != 3 || l[0].Version != 2 || len(l[0].Inputs) != 1 {
			t.Fatalf("determination 9 = %+v", l[0])
		}
		for q, field := range map[string]string{"?from=yesterday": "from", "?to=soon": "to", "?agreement=Test": "agreement",
			"?trigger=fire!": "trigger", "?limit=0": "limit", "?limit=10001": "limit"} {
			e.wantProblem("/v1/determinations"+q, 400, field)
		}
	})

	t.Run("obligations", func(t *testing.T) {
		for q, want := range map[string][]uint64{
			"":                                  {2, 3, 4, 6, 7, 8, 10},
			"?who=guarantor:UK":                 {2, 6, 10},
			"?who=party:RU":                     {4, 8},
			"?who=guarantor:US":                 {},
			"?group=coalition":                  {2, 3, 6, 7},
			"?status=open":                      {7},
			"?status=fulfilled":                 {2, 8, 10},
			"?status=late":                      {3},
			"?status=missed":                    {4},
			"?status=declined":                  {6},
			"?agreement=test":                   {2, 3, 4, 6, 7, 8, 10},
			"?agreement=bilat":                  {},
			"?determination=1":                  {2, 3, 4},
			"?determination=9":                  {10},
			"?limit=2":                          {2, 3},
			"?who=guarantor:FR&status=late":     {3},
			"?group=coalition&determination=5":  {6, 7},
			"?who=guarantor:UK&group=coalition": {2, 6},
		} {
			var l []ghttp.ObligationView
			e.list("/v1/obligations"+q, "obligations", &l)
			got := []uint64{}
			for _, o := range l {
				got = append(got, o.ID)
			}
			if !slices.Equal(got, want) {
				t.Errorf("/v1/obligations%s = %v, want %v", q, got, want)
			}
		}
		// Each is its latest revision, as logged, with its index.
		var l []ghttp.ObligationView
		e.list("/v1/obligations?status=late", "obligations", &l)
		if o := l[0]; o.Index != s.o3[2] || o.Revision != 3 || o.Settled == nil || !o.Settled.Equal(tm(t, "2025-03-02T18:00:00Z")) || o.Group != "coalition" {
			t.Fatalf("obligation 3 = %+v", o)
		}
	})

	t.Run("obligation parameters", func(t *testing.T) {
		for _, path := range []string{"/v1/obligations", "/v1/obligations.csv"} {
			for q, field := range map[string]string{
				"?who=UK":            "who",
				"?who=guarantor:":    "who",
				"?who=monitor:a":     "who",
				"?group=a%20b":       "group",
				"?status=closed":     "status",
				"?agreement=Test":    "agreement",
				"?determination=-1":  "determination",
				"?determination=one": "determination",
				"?limit=0":           "limit",
				"?limit=ten":         "limit",
			} {
				e.wantProblem(path+q, 400, field)
			}
		}
		// The list caps limit; the open-data export streams everything.
		e.wantProblem("/v1/obligations?limit=10001", 400, "limit")
		if r, b := e.get("/v1/obligations.csv?limit=10001"); r.StatusCode != 200 {
			t.Errorf("csv limit=10001: %s %s", r.Status, b)
		}
	})

	t.Run("obligation detail", func(t *testing.T) {
		detail := func(id uint64) ghttp.ObligationDetail {
			t.Helper()
			r, b := e.get(fmt.Sprintf("/v1/obligations/%d", id))
			if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("obligation %d: %s %s", id, r.Status, b)
			}
			var d ghttp.ObligationDetail
			if err := json.Unmarshal(b, &d); err != nil {
				t.Fatal(err)
			}
			return d
		}
		d := detail(2)
		var revs, resps []uint64
		for _, r := range d.Revisions {
			revs = append(revs, r.Index)
		}
		for _, r := range d.Responses {
			resps = append(resps, r.Index)
		}
		if d.ID != 2 || !slices.Equal(revs, s.o2) || d.Revisions[1].Obligation.Status != "fulfilled" || !slices.Equal(resps, s.r2) {
			t.Fatalf("obligation 2 = %+v", d)
		}
		if r := d.Responses; len(r) != 2 || r[0].Signer != e.uk.ID || r[0].Answer != "acknowledge" || r[1].Answer != "fulfilled" || r[1].Obligation != 2 {
			t.Fatalf("responses to obligation 2 = %+v", r)
		}
		d = detail(3)
		revs = nil
		for _, r := range d.Revisions {
			revs = append(revs, r.Index)
		}
		if !slices.Equal(revs, s.o3) || d.Responses == nil || len(d.Responses) != 0 {
			t.Fatalf("obligation 3 = %+v", d)
		}
		_, b := e.get("/v1/obligations/3")
		if !bytes.Contains(b, []byte(`"responses":[]`)) || !bytes.Contains(b, []byte(`"revisions":[{"index":`)) || !bytes.Contains(b, []byte(`"obligation":{"seq":3,"id":3,`)) {
			t.Fatalf("obligation JSON = %s", b)
		}
		for path, want := range map[string]struct {
			status int
			field  string
		}{
			"/v1/obligations/999": {404, "id"},
			"/v1/obligations/5":   {404, "id"}, // a determination's seq
			"/v1/obligations/abc": {400, "id"},
			"/v1/obligations/-1":  {400, "id"},
		} {
			e.wantProblem(path, want.status, want.field)
		}
	})

	t.Run("obligations csv", func(t *testing.T) {
		r, body := e.get("/v1/obligations.csv")
		if r.StatusCode != 200 || r.Header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.Contains(r.Header.Get("Content-Disposition"), "obligations.csv") {
			t.Fatalf("csv: %s %q %s", r.Status, r.Header.Get("Content-Type"), body)
		}
		recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(recs[0], ghttp.ObligationCSVColumns) || !slices.Equal(recs[0], []string{
			"id", "revision", "status", "who", "group", "agreement", "version", "trigger", "determination",
			"action", "text", "on_request_of", "opened", "deadline", "acknowledged", "settled", "reason", "index"}) {
			t.Fatalf("csv header = %q", recs[0])
		}
		if len(recs) != 8 {
			t.Fatalf("csv has %d rows, want a header and 7: %q", len(recs), recs)
		}
		want := []string{"3", "3", "late", "guarantor:FR", "coalition", "test", "1", "fire", "1", "consult", "", "party:UA",
			"2025-03-01T12:00:00Z", "2025-03-02T12:00:00Z", "", "2025-03-02T18:00:00Z", "", fmt.Sprint(s.o3[2])}
		if !slices.Equal(recs[2], want) {
			t.Fatalf("csv row for obligation 3 =\n%q\nwant\n%q", recs[2], want)
		}
		if recs[7][0] != "10" || recs[7][1] != "2" || recs[7][4] != "" || recs[7][7] != "many" {
			t.Fatalf("csv row for obligation 10 = %q", recs[7])
		}
		for q, n := range map[string]int{"?who=party:RU": 2, "?status=open": 1, "?limit=3": 3, "?agreement=bilat": 0} {
			_, body := e.get("/v1/obligations.csv" + q)
			recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
			if err != nil || len(recs)-1 != n {
				t.Errorf("csv%s: %d rows (%v), want %d", q, len(recs)-1, err, n)
			}
		}
	})

	t.Run("guarantor record", func(t *testing.T) {
		record := func(who string) ghttp.GuarantorRecord {
			t.Helper()
			r, b := e.get("/v1/guarantors/" + who + "/record")
			if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("record of %s: %s %s", who, r.Status, b)
			}
			var rec ghttp.GuarantorRecord
			if err := json.Unmarshal(b, &rec); err != nil {
				t.Fatal(err)
			}
			return rec
		}
		h := func(v float64) *float64 { return &v }
		row := func(who, kind string, owed, open, fulfilled, late, missed, declined int, median *float64) ghttp.RecordRow {
			return ghttp.RecordRow{Who: who, Kind: kind, Tally: ghttp.Tally{Owed: owed, Open: open, Fulfilled: fulfilled, Late: late,
				Missed: missed, Declined: declined, MedianHoursToRespond: median}}
		}
		for who, want := range map[string]struct {
			row            ghttp.RecordRow
			groups, member []ghttp.RecordRow
		}{
			"UK": {row("guarantor:UK", "guarantor", 3, 0, 2, 0, 0, 1, h(4)), []ghttp.RecordRow{row("coalition", "group", 2, 0, 1, 0, 0, 1, h(2))}, nil},
			"FR": {row("guarantor:FR", "guarantor", 2, 1, 0, 1, 0, 0, h(30)), []ghttp.RecordRow{row("coalition", "group", 2, 1, 0, 1, 0, 0, h(30))}, nil},
			"US": {row("guarantor:US", "guarantor", 0, 0, 0, 0, 0, 0, nil), nil, nil},
			"coalition": {row("coalition", "group", 4, 1, 1, 1, 0, 1, h(16)), nil, []ghttp.RecordRow{
				row("guarantor:FR", "guarantor", 2, 1, 0, 1, 0, 0, h(30)), row("guarantor:UK", "guarantor", 2, 0, 1, 0, 0, 1, h(2))}},
		} {
			got := record(who)
			if !equalRows([]ghttp.RecordRow{got.RecordRow}, []ghttp.RecordRow{want.row}) || !equalRows(got.Groups, want.groups) || !equalRows(got.Members, want.member) {
				t.Errorf("record of %s = %+v\nwant %+v groups %+v members %+v", who, got, want.row, want.groups, want.member)
			}
			if got.Groups == nil || got.Members == nil {
				t.Errorf("record of %s has a null list: %+v", who, got)
			}
		}
		_, b := e.get("/v1/guarantors/US/record")
		if !bytes.Contains(b, []byte(`"median_hours_to_respond":null`)) || !bytes.Contains(b, []byte(`"groups":[]`)) {
			t.Errorf("record of US = %s", b)
		}
		e.wantProblem("/v1/guarantors/RU/record", 404, "who") // a party
		e.wantProblem("/v1/guarantors/nobody/record", 404, "who")
		e.wantProblem("/v1/guarantors/guarantor:UK/record", 400, "who")
		e.wantProblem("/v1/guarantors/a%20b/record", 400, "who")
	})

	t.Run("guarantors csv", func(t *testing.T) {
		r, body := e.get("/v1/guarantors.csv")
		if r.StatusCode != 200 || r.Header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.Contains(r.Header.Get("Content-Disposition"), "guarantors.csv") {
			t.Fatalf("csv: %s %q %s", r.Status, r.Header.Get("Content-Type"), body)
		}
		want := strings.Join([]string{
			"who,kind,owed,open,fulfilled,late,missed,declined,amended,median_hours_to_respond",
			"guarantor:FR,guarantor,2,1,0,1,0,0,0,30",
			"guarantor:UK,guarantor,3,0,2,0,0,1,0,4",
			"guarantor:US,guarantor,0,0,0,0,0,0,0,",
			"coalition,group,4,1,1,1,0,1,0,16",
			"party:RU,party,2,0,1,0,1,0,0,10",
			"party:UA,party,0,0,0,0,0,0,0,",
		}, "\n") + "\n"
		if string(body) != want {
			t.Fatalf("guarantors.csv =\n%s\nwant\n%s", body, want)
		}
		if !slices.Equal(ghttp.GuarantorCSVColumns, strings.Split(strings.SplitN(want, "\n", 2)[0], ",")) {
			t.Fatalf("GuarantorCSVColumns = %q", ghttp.GuarantorCSVColumns)
		}
	})
}

// equalRows compares records, medians by value.
func equalRows(got, want []ghttp.RecordRow) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		gm, wm := g.MedianHoursToRespond, w.MedianHoursToRespond
		g.MedianHoursToRespond, w.MedianHoursToRespond = nil, nil
		if g != w || (gm == nil) != (wm == nil) || gm != nil && *gm != *wm {
			return false
		}
	}
	return true
}

func TestAgreementsEmpty(t *testing.T) {
	e := newAgreementEnv(t)
	for path, key := range map[string]string{"/v1/agreements": "agreements", "/v1/determinations": "determinations", "/v1/obligations": "obligations"} {
		r, b := e.get(path)
		if r.StatusCode != 200 || strings.TrimSpace(string(b)) != `{"`+key+`":[]}` {
			t.Errorf("%s: %s %s", path, r.Status, b)
		}
	}
	if _, b := e.get("/v1/guarantors.csv"); string(b) != strings.Join(ghttp.GuarantorCSVColumns, ",")+"\n" {
		t.Errorf("guarantors.csv = %q", b)
	}
	if _, b := e.get("/v1/obligations.csv"); string(b) != strings.Join(ghttp.ObligationCSVColumns, ",")+"\n" {
		t.Errorf("obligations.csv = %q", b)
	}
	e.wantProblem("/v1/guarantors/UK/record", 404, "who")
}

// TestDerivedKindsRefused checks that determination and obligation
// entries cannot be submitted over HTTP, even signed by a registered
// engine key, singly or in a batch, and that the log does not change.
func TestDerivedKindsRefused(t *testing.T) {
	e := newAgreementEnv(t)
	e.agree(fmt.Sprintf(testAgreement, 1, "Test"), e.ua, e.ru, e.uk, e.fr)
	at := tm(t, "2025-03-01T12:00:00Z")
	det, _ := json.Marshal(entry.Determination{Seq: 1, Agreement: "test", Version: 1, Trigger: "fire", At: at,
		Incidents: []entry.RevisionRef{{ID: 5, Revision: 1}}, Inputs: []entry.Ref{e.agreement}})
	ob, _ := json.Marshal(entry.Obligation{Seq: 2, ID: 2, Revision: 1, Determination: 1, Agreement: "test", Version: 1, Trigger: "fire",
		Who: "guarantor:UK", Group: "coalition", Action: "consult", Opened: at, Deadline: at.Add(24 * time.Hour), Status: "open", Inputs: []entry.Ref{e.agreement}})
	notes := map[string][]byte{
		"determination": e.sign(entry.KindDetermination, string(det), e.eng),
		"obligation":    e.sign(entry.KindObligation, string(ob), e.eng),
	}
	size := e.node.Applied()
	for name, raw := range notes {
		resp, b := e.post(raw)
		var p ghttp.Problem
		_ = json.Unmarshal(b, &p)
		if resp.StatusCode != 403 || resp.Header.Get("Content-Type") != "application/problem+json" || p.Code != guarantor.EForbidden || p.Field != "kind" ||
			!strings.Contains(p.Detail, "written by the server's own engine") {
			t.Errorf("POST %s: %s %+v", name, resp.Status, p)
		}
	}
	resp, res, body := e.postBatch([]string{quote(notes["determination"]), quote(notes["obligation"])})
	if resp.StatusCode != 200 || len(res) != 2 {
		t.Fatalf("batch: %s %s", resp.Status, body)
	}
	for i := range res {
		if p := res[i].Problem; p == nil || p.Status != 403 || p.Code != guarantor.EForbidden || p.Field != "kind" {
			t.Errorf("batch note %d: %+v", i, res[i])
		}
	}
	if got := e.node.Applied(); got != size {
		t.Fatalf("log size %d, want %d", got, size)
	}
	// The same entries are accepted from the engine's own path.
	for _, name := range []string{"determination", "obligation"} {
		if _, err := e.node.Submit(context.Background(), notes[name]); err != nil {
			t.Fatalf("node.Submit(%s) = %v", name, err)
		}
	}
}

func TestTally(t *testing.T) {
	opened := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	ob := func(status string, hours float64) entry.Obligation {
		o := entry.Obligation{Status: status, Opened: opened}
		if status != entry.ObligationOpen {
			s := opened.Add(time.Duration(hours * float64(time.Hour)))
			o.Settled = &s
		}
		return o
	}
	h := func(v float64) *float64 { return &v }
	tests := []struct {
		name string
		obs  []entry.Obligation
		want ghttp.Tally
	}{
		{"none", nil, ghttp.Tally{}},
		{"open only", []entry.Obligation{ob("open", 0), ob("open", 0)}, ghttp.Tally{Owed: 2, Open: 2}},
		{"one fulfilled", []entry.Obligation{ob("fulfilled", 3)}, ghttp.Tally{Owed: 1, Fulfilled: 1, MedianHoursToRespond: h(3)}},
		{"odd count", []entry.Obligation{ob("fulfilled", 5), ob("late", 40), ob("fulfilled", 1)}, ghttp.Tally{Owed: 3, Fulfilled: 2, Late: 1, MedianHoursToRespond: h(5)}},
		{"even count: mean of the middle two", []entry.Obligation{ob("late", 30), ob("fulfilled", 2), ob("fulfilled", 0.5), ob("late", 50)},
			ghttp.Tally{Owed: 4, Fulfilled: 2, Late: 2, MedianHoursToRespond: h(16)}},
		{"missed and declined do not count towards the median", []entry.Obligation{ob("missed", 24), ob("declined", 1), ob("fulfilled", 7), ob("open", 0)},
			ghttp.Tally{Owed: 4, Open: 1, Fulfilled: 1, Missed: 1, Declined: 1, MedianHoursToRespond: h(7)}},
		{"only missed and declined", []entry.Obligation{ob("missed", 24), ob("declined", 1)}, ghttp.Tally{Owed: 2, Missed: 1, Declined: 1}},
		{"minutes", []entry.Obligation{ob("fulfilled", 0.25), ob("fulfilled", 1.5)}, ghttp.Tally{Owed: 2, Fulfilled: 2, MedianHoursToRespond: h(0.875)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ghttp.TallyOf(tt.obs)
			if !equalRows([]ghttp.RecordRow{{Tally: got}}, []ghttp.RecordRow{{Tally: tt.want}}) {
				t.Errorf("tally = %+v (median %v), want %+v (median %v)", got, deref(got.MedianHoursToRespond), tt.want, deref(tt.want.MedianHoursToRespond))
			}
		})
	}
	xs := []float64{3, 1, 2}
	if m := ghttp.Median(xs); m == nil || *m != 2 || !slices.Equal(xs, []float64{3, 1, 2}) {
		t.Errorf("Median(3, 1, 2) = %v and changed its argument to %v", deref(m), xs)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
