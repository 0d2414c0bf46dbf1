package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/alert"
	"github.com/guarantor/guarantor/entry"
	ghttp "github.com/guarantor/guarantor/http"
	"github.com/guarantor/guarantor/node"
)

// alertEnv is an agreementEnv with a second server over the same node
// that keeps an alert store, and keys valid now for signed requests.
type alertEnv struct {
	*agreementEnv
	alerts                               *alert.Store
	srv                                  *httptest.Server // with WithAlerts
	ukOps, frOps, ruOps, op, mon, nobody key              // valid now, unlike the 2025 keys of agreementEnv
}

func newAlertEnv(t *testing.T) *alertEnv {
	t.Helper()
	e := &alertEnv{agreementEnv: newAgreementEnv(t)}
	st, err := alert.Open(context.Background(), filepath.Join(t.TempDir(), "alerts.db"))
	if err != nil {
		t.Fatal(err)
	}
	e.alerts = st
	info := ghttp.Info{Origin: "test.log", LogVKey: e.logK.VKey, AuthorityVKey: e.auth.VKey}
	e.srv = httptest.NewServer(ghttp.NewServer(e.node, info, nil, slog.New(slog.DiscardHandler), ghttp.WithAlerts(st), ghttp.WithPrivateWebhooks()))
	t.Cleanup(func() {
		e.srv.Close()
		_ = st.Close()
	})
	now := time.Now().UTC()
	for _, k := range []struct {
		k    *key
		name string
		role string
	}{{&e.ukOps, "guarantor.uk.ops", "guarantor:UK"}, {&e.frOps, "guarantor.fr.ops", "guarantor:FR"}, {&e.ruOps, "party.ru.ops", "party:RU"},
		{&e.op, "operator.1", "operator"}, {&e.mon, "monitor.b", "monitor"}} {
		*k.k = newKey(t, k.name)
		e.mustPost(e.sign(entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":%q,"not_before":%q,"not_after":%q}`, k.k.VKey, k.role,
			now.AddDate(0, 0, -1).Format(time.RFC3339), now.AddDate(0, 0, 1).Format(time.RFC3339)), e.auth))
	}
	e.nobody = newKey(t, "guarantor.nobody")
	return e
}

// call makes a request to the alerting server, signed by signer unless
// nil, and returns the status, the problem (if any) and the body.
func (e *alertEnv) call(method, path string, signer *key, body string) (int, ghttp.Problem, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if signer != nil {
		p, _, _ := strings.Cut(path, "?")
		h, err := ghttp.SignRequestBody(signer.S, method, p, time.Now(), []byte(body))
		if err != nil {
			e.t.Fatal(err)
		}
		req.Header.Set("Authorization", h)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var p ghttp.Problem
	if resp.Header.Get("Content-Type") == "application/problem+json" {
		if err := json.Unmarshal(b, &p); err != nil {
			e.t.Fatalf("%s %s: problem %s: %v", method, path, b, err)
		}
	} else if resp.StatusCode >= 400 {
		e.t.Errorf("%s %s: %d with Content-Type %q", method, path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, p, b
}

// subscribe subscribes over HTTP and returns the answer.
func (e *alertEnv) subscribe(signer *key, body string) alert.Subscription {
	e.t.Helper()
	st, p, b := e.call("POST", "/v1/webhooks", signer, body)
	if st != http.StatusCreated {
		e.t.Fatalf("subscribe %s: %d %+v", body, st, p)
	}
	var sub alert.Subscription
	if err := json.Unmarshal(b, &sub); err != nil {
		e.t.Fatal(err)
	}
	return sub
}

// TestWebhooksWhoMayCall proves, route by route, who may not call the
// webhook routes and who may.
func TestWebhooksWhoMayCall(t *testing.T) {
	e := newAlertEnv(t)
	ukSub := e.subscribe(&e.ukOps, `{"url":"https://uk.example/hook"}`)
	if ukSub.Who != "guarantor:UK" || ukSub.Owner != "guarantor:UK" || ukSub.CreatedBy != e.ukOps.ID || len(ukSub.Secret) != 64 || ukSub.ID == 0 {
		t.Fatalf("UK's subscription = %+v", ukSub)
	}
	opSub := e.subscribe(&e.op, `{"url":"https://ops.example/ru","who":"party:RU"}`)
	allSub := e.subscribe(&e.op, `{"url":"https://ops.example/all"}`)
	ruSub := e.subscribe(&e.ruOps, `{"url":"http://ru.example:8080/hook?k=v","who":"party:RU"}`)
	if opSub.Who != "party:RU" || opSub.Owner != "operator" || allSub.Who != "*" || ruSub.Owner != "party:RU" {
		t.Fatalf("subscriptions = %+v %+v %+v", opSub, allSub, ruSub)
	}
	// A delivery to redeliver.
	src := e.node.Store()
	e.agree(fmt.Sprintf(testAgreement, 1, "Test"), e.ua, e.ru, e.uk, e.fr)
	e.determine(entry.Determination{Seq: 1, Agreement: "test", Version: 1, Trigger: "fire", At: tm(t, "2025-03-01T12:00:00Z"), Incidents: []entry.RevisionRef{{ID: 5, Revision: 1}}})
	e.oblige(entry.Obligation{ID: 2, Revision: 1, Determination: 1, Trigger: "fire", Who: "guarantor:UK", Action: "report",
		Opened: tm(t, "2025-03-01T12:00:00Z"), Deadline: tm(t, "2025-03-02T12:00:00Z"), Status: "open"})
	d, err := alert.NewDispatcher(alert.Config{Store: e.alerts, Source: src, Client: &http.Client{Transport: refuse{}}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Follow(context.Background()); err != nil {
		t.Fatal(err)
	}
	ds, err := e.alerts.Deliveries(context.Background(), ukSub.ID, 0)
	if err != nil || len(ds) != 1 {
		t.Fatalf("UK deliveries %+v %v", ds, err)
	}
	uk := fmt.Sprintf("/v1/webhooks/%d", ukSub.ID)
	redeliver := fmt.Sprintf("%s/deliveries/%d/redeliver", uk, ds[0].ID)

	type call struct {
		method, path, body string
	}
	routes := []call{
		{"POST", "/v1/webhooks", `{"url":"https://x.example/"}`},
		{"GET", "/v1/webhooks", ""},
		{"GET", uk + "/deliveries", ""},
		{"POST", redeliver, ""},
		{"DELETE", uk, ""}, // last: it succeeds at the end
	}
	for _, r := range routes {
		for _, c := range []struct {
			name   string
			signer *key
			status int
			code   string
		}{
			{"anonymous", nil, 401, guarantor.EUnauthenticated},
			{"unregistered key", &e.nobody, 401, guarantor.EUnauthenticated},
			{"monitor", &e.mon, 403, guarantor.EForbidden},
		} {
			if st, p, _ := e.call(r.method, r.path, c.signer, r.body); st != c.status || p.Code != c.code {
				t.Errorf("%s %s by %s: %d %s (%s), want %d %s", r.method, r.path, c.name, st, p.Code, p.Detail, c.status, c.code)
			}
		}
		if r.path == "/v1/webhooks" {
			continue
		}
		// Another guarantor, or a party, may not touch UK's webhook.
		for name, k := range map[string]*key{"guarantor:FR": &e.frOps, "party:RU": &e.ruOps} {
			if st, p, _ := e.call(r.method, r.path, k, r.body); st != 403 || p.Code != guarantor.EForbidden {
				t.Errorf("%s %s by %s: %d %+v, want 403", r.method, r.path, name, st, p)
			}
		}
	}
	// A stale signature, or one for another path, is refused.
	req, _ := http.NewRequest("GET", e.srv.URL+"/v1/webhooks", nil)
	h, _ := ghttp.SignRequest(e.op.S, "GET", "/v1/webhooks", time.Now().Add(-10*time.Minute))
	req.Header.Set("Authorization", h)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Errorf("stale signature: %v %v", resp, err)
	}
	h, _ = ghttp.SignRequest(e.op.S, "GET", uk+"/deliveries", time.Now())
	req.Header.Set("Authorization", h)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Errorf("signature for another path: %v %v", resp, err)
	}

	// Subscribing: a guarantor or party only to its own obligations.
	for _, c := range []struct {
		name   string
		signer *key
		body   string
		status int
		field  string
	}{
		{"UK for FR", &e.ukOps, `{"url":"https://x.example/","who":"guarantor:FR"}`, 403, "who"},
		{"UK for all", &e.ukOps, `{"url":"https://x.example/","who":"*"}`, 403, "who"},
		{"RU for UA", &e.ruOps, `{"url":"https://x.example/","who":"party:UA"}`, 403, "who"},
		{"operator, bad who", &e.op, `{"url":"https://x.example/","who":"UK"}`, 400, "who"},
		{"ftp", &e.ukOps, `{"url":"ftp://x.example/"}`, 400, "url"},
		{"relative", &e.ukOps, `{"url":"/hook"}`, 400, "url"},
		{"credentials", &e.ukOps, `{"url":"https://a:b@x.example/"}`, 400, "url"},
		{"no url", &e.ukOps, `{}`, 400, "url"},
		{"unknown field", &e.ukOps, `{"url":"https://x.example/","secret":"mine"}`, 400, ""},
		{"not JSON", &e.ukOps, `url=https://x.example/`, 400, ""},
	} {
		if st, p, _ := e.call("POST", "/v1/webhooks", c.signer, c.body); st != c.status || p.Field != c.field {
			t.Errorf("%s: %d %+v, want %d field %q", c.name, st, p, c.status, c.field)
		}
	}

	// Listing: an operator sees all, a guarantor or party its own, and
	// nobody a secret.
	list := func(k *key) []int64 {
		t.Helper()
		st, p, b := e.call("GET", "/v1/webhooks", k, "")
		if st != 200 || bytes.Contains(b, []byte("secret")) || bytes.Contains(b, []byte(ukSub.Secret)) {
			t.Fatalf("list: %d %+v %s", st, p, b)
		}
		var l struct{ Webhooks []alert.Subscription }
		if err := json.Unmarshal(b, &l); err != nil {
			t.Fatal(err)
		}
		ids := []int64{}
		for _, s := range l.Webhooks {
			ids = append(ids, s.ID)
		}
		return ids
	}
	for name, c := range map[string]struct {
		k    *key
		want []int64
	}{
		"operator":     {&e.op, []int64{ukSub.ID, opSub.ID, allSub.ID, ruSub.ID}},
		"guarantor:UK": {&e.ukOps, []int64{ukSub.ID}},
		"guarantor:FR": {&e.frOps, []int64{}},
		"party:RU":     {&e.ruOps, []int64{ruSub.ID}},
	} {
		if got := list(c.k); !slices.Equal(got, c.want) {
			t.Errorf("%s lists %v, want %v", name, got, c.want)
		}
	}

	// The owner and operators may read and redeliver; RU may not touch
	// the operator's subscription to RU's obligations.
	for name, k := range map[string]*key{"owner": &e.ukOps, "operator": &e.op} {
		st, p, b := e.call("GET", uk+"/deliveries", k, "")
		var l struct{ Deliveries []alert.Delivery }
		_ = json.Unmarshal(b, &l)
		if st != 200 || len(l.Deliveries) != 1 || l.Deliveries[0].Event != "obligation-2-r1" || !bytes.Contains(b, []byte(`"payload":{"event":"obligation.opened"`)) {
			t.Errorf("deliveries read by %s: %d %+v %s", name, st, p, b)
		}
		st, p, b = e.call("POST", redeliver, k, "")
		var dl alert.Delivery
		_ = json.Unmarshal(b, &dl)
		if st != 202 || dl.Status != alert.StatusPending || dl.ID != ds[0].ID {
			t.Errorf("redeliver by %s: %d %+v %s", name, st, p, b)
		}
	}
	for _, c := range []struct{ method, path string }{
		{"DELETE", fmt.Sprintf("/v1/webhooks/%d", opSub.ID)},
		{"GET", fmt.Sprintf("/v1/webhooks/%d/deliveries", opSub.ID)},
	} {
		if st, _, _ := e.call(c.method, c.path, &e.ruOps, ""); st != 403 {
			t.Errorf("%s %s by party:RU: %d, want 403", c.method, c.path, st)
		}
	}
	// Not found, and bad ids.
	for _, c := range []struct {
		method, path string
		status       int
		field        string
	}{
		{"GET", "/v1/webhooks/9999/deliveries", 404, "id"},
		{"DELETE", "/v1/webhooks/9999", 404, "id"},
		{"POST", uk + "/deliveries/9999/redeliver", 404, "delivery"},
		{"POST", fmt.Sprintf("/v1/webhooks/%d/deliveries/%d/redeliver", allSub.ID, ds[0].ID), 404, "delivery"},
		{"DELETE", "/v1/webhooks/0", 400, "id"},
		{"GET", "/v1/webhooks/x/deliveries", 400, "id"},
		{"GET", uk + "/deliveries?limit=1001", 400, "limit"},
	} {
		if st, p, _ := e.call(c.method, c.path, &e.op, ""); st != c.status || p.Field != c.field {
			t.Errorf("%s %s: %d %+v, want %d field %q", c.method, c.path, st, p, c.status, c.field)
		}
	}
	// The owner and operators may delete.
	if st, p, _ := e.call("DELETE", uk, &e.ukOps, ""); st != 204 {
		t.Errorf("delete by owner: %d %+v", st, p)
	}
	if st, p, _ := e.call("DELETE", fmt.Sprintf("/v1/webhooks/%d", ruSub.ID), &e.op, ""); st != 204 {
		t.Errorf("delete by operator: %d %+v", st, p)
	}
	if got := list(&e.op); !slices.Equal(got, []int64{opSub.ID, allSub.ID}) {
		t.Errorf("after deleting: %v", got)
	}
}

// refuse is a transport that sends nothing.
type refuse struct{}

func (refuse) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("no network in this test")
}

func TestWebhooksWithoutAlertStore(t *testing.T) {
	e := newEnv(t)
	for _, r := range []struct{ method, path string }{
		{"POST", "/v1/webhooks"}, {"GET", "/v1/webhooks"}, {"DELETE", "/v1/webhooks/1"},
		{"GET", "/v1/webhooks/1/deliveries"}, {"POST", "/v1/webhooks/1/deliveries/1/redeliver"},
	} {
		req, _ := http.NewRequest(r.method, e.srv.URL+r.path, strings.NewReader(`{"url":"https://x.example/"}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var p ghttp.Problem
		_ = json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if resp.StatusCode != 503 || resp.Header.Get("Content-Type") != "application/problem+json" || p.Code != guarantor.EUnavailable {
			t.Errorf("%s %s: %s %+v", r.method, r.path, resp.Status, p)
		}
	}
}

// TestWebhookEndToEnd subscribes over HTTP, lets a dispatcher follow the
// node's projection, and checks what the receiver gets and can verify.
func TestWebhookEndToEnd(t *testing.T) {
	e := newAlertEnv(t)
	var mu sync.Mutex
	var got []*http.Request
	var bodies [][]byte
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r), append(bodies, b)
		mu.Unlock()
	}))
	defer rcv.Close()
	sub := e.subscribe(&e.ukOps, fmt.Sprintf(`{"url":%q}`, rcv.URL+"/uk"))
	logObligations(t, e.agreementEnv)
	d, err := alert.NewDispatcher(alert.Config{Store: e.alerts, Source: e.node.Store(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	// UK owes 2, 6 and 10, each opened then settled; their deadlines
	// passed long ago, so none is due soon.
	want := []string{"obligation-2-r1", "obligation-6-r1", "obligation-10-r1", "obligation-2-r2", "obligation-6-r2", "obligation-10-r2"}
	var ids []string
	for i, r := range got {
		var p alert.Payload
		if err := json.Unmarshal(bodies[i], &p); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
		if !alert.Verify(sub.Secret, bodies[i], r.Header.Get(alert.HeaderSignature)) || r.URL.Path != "/uk" || p.Obligation.Who != "guarantor:UK" ||
			r.Header.Get(alert.HeaderEvent) != p.Event {
			t.Errorf("request %d: %v %s", i, r.Header, bodies[i])
		}
		rec, ok, err := e.node.Store().Entry(context.Background(), p.LogIndex)
		if err != nil || !ok || rec.Kind != entry.KindObligation || rec.Body.(*entry.Obligation).Revision != p.Obligation.Revision {
			t.Errorf("request %d: log index %d is not its revision", i, p.LogIndex)
		}
	}
	if !slices.Equal(ids, want) {
		t.Fatalf("events %q, want %q", ids, want)
	}
}

// logObligations logs agreement test, determinations 1, 5 and 9 under
// it, and two revisions (opened, settled) of obligations 2, 6 and 10
// owed by guarantor:UK and 4 and 8 owed by party:RU, in this order: 2,
// 4, 6, 8, 10 opened, then 2, 6, 8, 4, 10 settled. It returns the log
// index of each revision by "id/revision".
func logObligations(t *testing.T, e *agreementEnv) map[string]uint64 {
	t.Helper()
	e.agree(fmt.Sprintf(testAgreement, 1, "Test"), e.ua, e.ru, e.uk, e.fr)
	d1, d5, d9 := tm(t, "2025-03-01T12:00:00Z"), tm(t, "2025-03-02T12:00:00Z"), tm(t, "2025-03-03T12:00:00Z")
	for _, d := range []entry.Determination{
		{Seq: 1, Agreement: "test", Version: 1, Trigger: "fire", At: d1, Incidents: []entry.RevisionRef{{ID: 5, Revision: 1}}},
		{Seq: 5, Agreement: "test", Version: 1, Trigger: "fire", At: d5, Incidents: []entry.RevisionRef{{ID: 7, Revision: 1}}},
		{Seq: 9, Agreement: "test", Version: 1, Trigger: "many", At: d9, Incidents: []entry.RevisionRef{{ID: 5, Revision: 1}, {ID: 7, Revision: 1}, {ID: 9, Revision: 1}}},
	} {
		e.determine(d)
	}
	obs := map[uint64]entry.Obligation{
		2:  {Determination: 1, Trigger: "fire", Who: "guarantor:UK", Group: "coalition", Action: "consult", OnRequestOf: "party:UA", Opened: d1, Deadline: d1.Add(24 * time.Hour)},
		4:  {Determination: 1, Trigger: "fire", Who: "party:RU", Action: "report", Opened: d1, Deadline: d1.Add(72 * time.Hour)},
		6:  {Determination: 5, Trigger: "fire", Who: "guarantor:UK", Group: "coalition", Action: "consult", OnRequestOf: "party:UA", Opened: d5, Deadline: d5.Add(24 * time.Hour)},
		8:  {Determination: 5, Trigger: "fire", Who: "party:RU", Action: "report", Opened: d5, Deadline: d5.Add(72 * time.Hour)},
		10: {Determination: 9, Trigger: "many", Who: "guarantor:UK", Action: "respond", Opened: d9, Deadline: d9.Add(48 * time.Hour)},
	}
	idx := map[string]uint64{}
	for _, id := range []uint64{2, 4, 6, 8, 10} {
		o := obs[id]
		o.ID, o.Revision, o.Status = id, 1, entry.ObligationOpen
		idx[fmt.Sprintf("%d/1", id)] = e.oblige(o)
	}
	for _, s := range []struct {
		id      uint64
		status  string
		settled string
	}{
		{2, "fulfilled", "2025-03-01T14:00:00Z"}, {6, "declined", "2025-03-02T13:00:00Z"}, {8, "fulfilled", "2025-03-02T22:00:00Z"},
		{4, "missed", "2025-03-04T12:00:00Z"}, {10, "fulfilled", "2025-03-03T18:00:00Z"},
	} {
		o := obs[s.id]
		at := tm(t, s.settled)
		o.ID, o.Revision, o.Status, o.Settled = s.id, 2, s.status, &at
		if s.status == "declined" {
			o.Reason = "outside our mandate"
		}
		idx[fmt.Sprintf("%d/2", s.id)] = e.oblige(o)
	}
	return idx
}

// atom is what the tests read back from a feed.
type atom struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string   `xml:"id"`
	Title   string   `xml:"title"`
	Updated string   `xml:"updated"`
	Author  struct {
		Name string `xml:"name"`
	} `xml:"author"`
	Links []struct {
		Rel  string `xml:"rel,attr"`
		Href string `xml:"href,attr"`
	} `xml:"link"`
	Entries []struct {
		ID        string `xml:"id"`
		Title     string `xml:"title"`
		Updated   string `xml:"updated"`
		Published string `xml:"published"`
		Links     []struct {
			Rel  string `xml:"rel,attr"`
			Href string `xml:"href,attr"`
		} `xml:"link"`
		Summary struct {
			Type string `xml:"type,attr"`
			Text string `xml:",chardata"`
		} `xml:"summary"`
	} `xml:"entry"`
}

func (e *agreementEnv) feed(path string) atom {
	e.t.Helper()
	r, b := e.get(path)
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/atom+xml" || !bytes.HasPrefix(b, []byte(xml.Header)) {
		e.t.Fatalf("%s: %s %q %s", path, r.Status, r.Header.Get("Content-Type"), b)
	}
	var f atom
	if err := xml.Unmarshal(b, &f); err != nil {
		e.t.Fatalf("%s: %v in %s", path, err, b)
	}
	return f
}

func TestAtomFeeds(t *testing.T) {
	e := newAgreementEnv(t)
	idx := logObligations(t, e)

	f := e.feed("/v1/guarantors/UK/feed.atom")
	if f.Title != "Obligations of guarantor:UK" || f.ID != "tag:test.log,2025:test.log/feed/guarantor:UK" || f.Author.Name != "test.log" ||
		len(f.Links) != 2 || f.Links[0].Rel != "self" || f.Links[0].Href != "/v1/guarantors/UK/feed.atom" {
		t.Errorf("feed head = %+v", f)
	}
	// Every revision of 2, 6 and 10, newest first.
	type rev struct {
		id       string
		updated  string
		obligLnk string
	}
	var got []rev
	for _, en := range f.Entries {
		got = append(got, rev{en.ID, en.Updated, en.Links[0].Href})
	}
	tag := "tag:test.log,2025:test.log/obligation/"
	want := []rev{
		{tag + "10/revision/2", "2025-03-03T18:00:00Z", "/v1/obligations/10"},
		{tag + "6/revision/2", "2025-03-02T13:00:00Z", "/v1/obligations/6"},
		{tag + "2/revision/2", "2025-03-01T14:00:00Z", "/v1/obligations/2"},
		{tag + "10/revision/1", "2025-03-03T12:00:00Z", "/v1/obligations/10"},
		{tag + "6/revision/1", "2025-03-02T12:00:00Z", "/v1/obligations/6"},
		{tag + "2/revision/1", "2025-03-01T12:00:00Z", "/v1/obligations/2"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("entries\n%v\nwant\n%v", got, want)
	}
	if f.Updated != "2025-03-03T18:00:00Z" {
		t.Errorf("feed updated %s", f.Updated)
	}
	first := f.Entries[0]
	if first.Title != "Obligation 10 (respond, agreement test trigger many): fulfilled, due 2025-03-05T12:00:00Z" || first.Published != "2025-03-03T12:00:00Z" ||
		f.Entries[1].Title != "Obligation 6 (consult, agreement test trigger fire): declined, due 2025-03-03T12:00:00Z" ||
		!strings.Contains(f.Entries[1].Summary.Text, "Reason: outside our mandate.") ||
		first.Summary.Type != "text" || !strings.Contains(first.Summary.Text, "Revision 2 of obligation 10, owed by guarantor:UK") ||
		!strings.Contains(first.Summary.Text, "settled 2025-03-03T18:00:00Z") {
		t.Errorf("entry = %+v", first)
	}
	if f.Entries[2].Title != "Obligation 2 (consult, agreement test trigger fire): fulfilled, due 2025-03-02T12:00:00Z" ||
		!strings.Contains(f.Entries[2].Summary.Text, "as a member of coalition on request of party:UA") ||
		f.Entries[2].Links[1].Href != fmt.Sprintf("/v1/entries/%d", idx["2/2"]) {
		t.Errorf("entry = %+v", f.Entries[2])
	}

	// A party's feed; an empty one; bad ids.
	p := e.feed("/v1/parties/RU/feed.atom")
	var ids []string
	for _, en := range p.Entries {
		ids = append(ids, strings.TrimPrefix(en.ID, tag))
	}
	if !slices.Equal(ids, []string{"4/revision/2", "8/revision/2", "8/revision/1", "4/revision/1"}) || p.Links[0].Href != "/v1/parties/RU/feed.atom" {
		t.Errorf("RU feed %q %+v", ids, p.Links)
	}
	if f := e.feed("/v1/guarantors/US/feed.atom"); len(f.Entries) != 0 || f.Updated == "" || f.ID == "" {
		t.Errorf("US feed %+v", f)
	}
	if f := e.feed("/v1/guarantors/RU/feed.atom"); len(f.Entries) != 0 {
		t.Errorf("guarantor:RU feed %+v", f)
	}
	e.wantProblem("/v1/guarantors/a%20b/feed.atom", 400, "who")
	e.wantProblem("/v1/parties/guarantor:UK/feed.atom", 400, "who")
}

// TestAtomFeedKeepsTheNewest checks that a feed lists only the newest
// FeedEntries revisions when there are more.
func TestAtomFeedKeepsTheNewest(t *testing.T) {
	e := newAgreementEnv(t)
	e.agree(fmt.Sprintf(testAgreement, 1, "Test"), e.ua, e.ru, e.uk, e.fr)
	e.determine(entry.Determination{Seq: 1, Agreement: "test", Version: 1, Trigger: "fire", At: tm(t, "2025-03-01T12:00:00Z"), Incidents: []entry.RevisionRef{{ID: 5, Revision: 1}}})
	at := tm(t, "2025-03-01T12:00:00Z")
	n := ghttp.FeedEntries/2 + 5 // two revisions each: more than FeedEntries
	ob := func(id uint64, rev int) []byte {
		o := entry.Obligation{Seq: id, ID: id, Revision: rev, Determination: 1, Agreement: "test", Version: 1, Trigger: "fire", Who: "guarantor:FR",
			Action: "report", Opened: at, Deadline: at.Add(24 * time.Hour), Status: "open", Inputs: []entry.Ref{e.agreement}}
		if rev == 2 {
			settled := at.Add(time.Hour)
			o.Seq, o.Status, o.Settled = id+10000, "fulfilled", &settled
		}
		b, _ := json.Marshal(o)
		return e.sign(entry.KindObligation, string(b), e.eng)
	}
	// Submitted concurrently (in a few batches): the log decides their
	// order, which the test reads back.
	for rev := 1; rev <= 2; rev++ {
		errs := make(chan error, n)
		for i := range n {
			go func() {
				_, err := e.node.Submit(context.Background(), ob(uint64(1000+i), rev))
				errs <- err
			}()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
	}
	var want []string // the obligation revisions in the log, newest first
	err := e.node.Store().Records(context.Background(), 0, e.node.Applied(), func(r node.Record) error {
		if o, ok := r.Body.(*entry.Obligation); ok {
			want = append(want, fmt.Sprintf("/obligation/%d/revision/%d", o.ID, o.Revision))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(want)
	want = want[:ghttp.FeedEntries]
	f := e.feed("/v1/guarantors/FR/feed.atom")
	var got []string
	for _, en := range f.Entries {
		got = append(got, strings.TrimPrefix(en.ID, "tag:test.log,2025:test.log"))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%d entries\n%q\nwant the newest %d\n%q", len(got), got, len(want), want)
	}
}

// TestWebhookSignatureCoversTheBody: a subscription's signed request must
// name its body's digest, and a captured header replayed with another
// body (another URL) is refused.
func TestWebhookSignatureCoversTheBody(t *testing.T) {
	e := newAlertEnv(t)
	post := func(header, body string) int {
		req, _ := http.NewRequest("POST", e.srv.URL+"/v1/webhooks", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	good := `{"url":"https://alerts.example.org/hook"}`
	h, _ := ghttp.SignRequestBody(e.ukOps.S, "POST", "/v1/webhooks", time.Now(), []byte(good))
	if code := post(h, `{"url":"https://attacker.example.net/hook"}`); code != http.StatusUnauthorized {
		t.Fatalf("replayed with another body: %d", code)
	}
	bare, _ := ghttp.SignRequest(e.ukOps.S, "POST", "/v1/webhooks", time.Now())
	if code := post(bare, good); code != http.StatusUnauthorized {
		t.Fatalf("no body digest: %d", code)
	}
	if code := post(h, good); code != http.StatusCreated {
		t.Fatalf("the signed body: %d", code)
	}
}

// TestWebhooksToPrivateAddressesAreTheOperatorsCall: without
// WithPrivateWebhooks, a guarantor's key cannot point alerts at a local
// or private address; an operator's can.
func TestWebhooksToPrivateAddressesAreTheOperatorsCall(t *testing.T) {
	e := newAlertEnv(t)
	info := ghttp.Info{Origin: "test.log", LogVKey: e.logK.VKey, AuthorityVKey: e.auth.VKey}
	strict := httptest.NewServer(ghttp.NewServer(e.node, info, nil, slog.New(slog.DiscardHandler), ghttp.WithAlerts(e.alerts)))
	defer strict.Close()
	post := func(k key, body string) (int, ghttp.Problem) {
		req, _ := http.NewRequest("POST", strict.URL+"/v1/webhooks", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		h, _ := ghttp.SignRequestBody(k.S, "POST", "/v1/webhooks", time.Now(), []byte(body))
		req.Header.Set("Authorization", h)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var p ghttp.Problem
		_ = json.NewDecoder(resp.Body).Decode(&p)
		return resp.StatusCode, p
	}
	for _, u := range []string{"http://127.0.0.1:9/hook", "http://10.1.2.3/hook", "http://[::1]/hook", "http://169.254.169.254/latest/meta-data", "http://localhost:8080/x"} {
		if code, p := post(e.ukOps, fmt.Sprintf(`{"url":%q}`, u)); code != http.StatusForbidden || p.Field != "url" {
			t.Fatalf("guarantor to %s: %d %+v", u, code, p)
		}
	}
	if code, p := post(e.op, `{"url":"http://10.1.2.3/hook","who":"guarantor:UK"}`); code != http.StatusCreated {
		t.Fatalf("operator to a private address: %d %+v", code, p)
	}
}
