package alert_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/alert"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
)

var t0 = time.Date(2026, 11, 28, 18, 0, 0, 0, time.UTC)

// source is an in-memory projection.
type source struct {
	mu   sync.Mutex
	recs []node.Record
}

// add appends an entry of kind with body and returns its index.
func (s *source) add(kind entry.Kind, body any) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := uint64(len(s.recs))
	s.recs = append(s.recs, node.Record{Index: i, Kind: kind, Body: body})
	return i
}

func (s *source) Applied(context.Context) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return uint64(len(s.recs)), nil
}

func (s *source) Records(_ context.Context, from, to uint64, fn func(node.Record) error) error {
	s.mu.Lock()
	recs := slices.Clone(s.recs[from:min(to, uint64(len(s.recs)))])
	s.mu.Unlock()
	for _, r := range recs {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// ob returns revision rev of obligation id owed by who, opened at opened
// and due within d.
func ob(id uint64, rev int, who, status string, opened time.Time, d time.Duration) *entry.Obligation {
	o := &entry.Obligation{Seq: id + uint64(rev) - 1, ID: id, Revision: rev, Determination: 1, Agreement: "framework-2025", Version: 1,
		Trigger: "attack-on-one", Who: who, Action: "consult", Opened: opened, Deadline: opened.Add(d), Status: status,
		Inputs: []entry.Ref{{Index: 1, LeafHash: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}}
	if status != entry.ObligationOpen {
		at := opened.Add(d / 2)
		o.Settled = &at
	}
	return o
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// received is one request a receiver got.
type received struct {
	header http.Header
	body   []byte
}

// receiver is a webhook endpoint answering status(n) to its n-th request
// (from 1); 200 when status is nil.
type receiver struct {
	t      *testing.T
	mu     sync.Mutex
	got    []received
	status func(n int) int
	srv    *httptest.Server
}

func newReceiver(t *testing.T, status func(n int) int) *receiver {
	t.Helper()
	r := &receiver{t: t, status: status}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{req.Header.Clone(), b})
		n := len(r.got)
		r.mu.Unlock()
		code := 200
		if r.status != nil {
			code = r.status(n)
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func openStore(t *testing.T, path string) *alert.Store {
	t.Helper()
	st, err := alert.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func subscribe(t *testing.T, st *alert.Store, who, url string) alert.Subscription {
	t.Helper()
	owner := who
	if who == alert.All {
		owner = "operator"
	}
	sub, err := st.Subscribe(context.Background(), alert.Subscription{Who: who, URL: url, Owner: owner, CreatedBy: "test+00000000"})
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

func dispatcher(t *testing.T, cfg alert.Config) *alert.Dispatcher {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	d, err := alert.NewDispatcher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// events returns the event ids of sub's deliveries, oldest first.
func events(t *testing.T, st *alert.Store, sub int64) []string {
	t.Helper()
	ds, err := st.Deliveries(context.Background(), sub, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range slices.Backward(ds) {
		ids = append(ids, d.Event)
	}
	return ids
}

func TestEnqueueOncePerEventAcrossRestarts(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "alerts.db")
	st := openStore(t, path)
	uk := subscribe(t, st, "guarantor:UK", "https://uk.example/hook")
	fr := subscribe(t, st, "guarantor:FR", "https://fr.example/hook")
	all := subscribe(t, st, alert.All, "https://ops.example/hook")

	src := &source{}
	src.add(entry.KindObservation, &entry.Observation{ID: "o1"})
	src.add(entry.KindObligation, ob(412, 1, "guarantor:UK", "open", t0, 24*time.Hour))
	src.add(entry.KindObligation, ob(413, 1, "guarantor:FR", "open", t0, 24*time.Hour))
	src.recs = append(src.recs, node.Record{Index: 3, Kind: entry.KindObligation, Rejected: "not signed by the engine"})
	ack := ob(412, 2, "guarantor:UK", "open", t0, 24*time.Hour)
	src.add(entry.KindObligation, ack) // stays open: no event
	src.add(entry.KindObligation, ob(412, 3, "guarantor:UK", "fulfilled", t0, 24*time.Hour))

	clk := &clock{t: t0}
	follow := func(st *alert.Store) {
		t.Helper()
		if err := dispatcher(t, alert.Config{Store: st, Source: src, Now: clk.Now}).Follow(ctx); err != nil {
			t.Fatal(err)
		}
	}
	want := map[int64][]string{
		uk.ID:  {"obligation-412-r1", "obligation-412-r3"},
		fr.ID:  {"obligation-413-r1"},
		all.ID: {"obligation-412-r1", "obligation-413-r1", "obligation-412-r3"},
	}
	check := func(st *alert.Store, when string) {
		t.Helper()
		for sub, w := range want {
			if got := events(t, st, sub); !slices.Equal(got, w) {
				t.Errorf("%s: subscription %d has deliveries %q, want %q", when, sub, got, w)
			}
		}
	}
	follow(st)
	check(st, "first follow")
	if next, _ := st.Cursor(ctx); next != 6 {
		t.Fatalf("cursor = %d, want 6", next)
	}

	// A restart reads nothing again; new entries are read once.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = openStore(t, path)
	follow(st)
	check(st, "after a restart")
	src.add(entry.KindObligation, ob(414, 1, "party:RU", "open", t0, 72*time.Hour))
	src.add(entry.KindObligation, ob(413, 2, "guarantor:FR", "missed", t0, 24*time.Hour))
	follow(st)
	want[fr.ID] = append(want[fr.ID], "obligation-413-r2")
	want[all.ID] = append(want[all.ID], "obligation-414-r1", "obligation-413-r2")
	check(st, "after new entries")

	// Even following the whole log again enqueues nothing twice.
	if err := st.SetCursor(ctx, 0); err != nil {
		t.Fatal(err)
	}
	follow(st)
	check(st, "after following again from 0")

	// Each payload is the revision, with its log index.
	ds, _ := st.Deliveries(ctx, uk.ID, 0)
	var p alert.Payload
	if err := json.Unmarshal(ds[0].Payload, &p); err != nil {
		t.Fatal(err)
	}
	if p.Event != alert.EventSettled || p.ID != "obligation-412-r3" || p.LogIndex != 5 || p.Obligation.ID != 412 || p.Obligation.Revision != 3 ||
		p.Obligation.Status != "fulfilled" || ds[0].Type != alert.EventSettled || ds[0].Status != alert.StatusPending || ds[0].Attempts != 0 ||
		ds[0].NextAttempt == nil || !ds[0].NextAttempt.Equal(t0) {
		t.Errorf("delivery = %+v, payload %+v", ds[0], p)
	}

	// A subscription added later gets only later events.
	late := subscribe(t, st, "guarantor:UK", "https://uk2.example/hook")
	follow(st)
	if got := events(t, st, late.ID); len(got) != 0 {
		t.Errorf("a later subscription got %q", got)
	}
}

func TestDueSoon(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "alerts.db"))
	rcv := newReceiver(t, nil)
	sub := subscribe(t, st, alert.All, rcv.srv.URL)
	clk := &clock{t: t0}
	src := &source{}
	d := dispatcher(t, alert.Config{Store: st, Source: src, Now: clk.Now})
	step := func(at time.Time) {
		t.Helper()
		clk.Set(at)
		if err := d.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// 412: ten hours to answer, so due soon after eight. 413: settled
	// before its time. 414: already past its deadline when first seen.
	src.add(entry.KindObligation, ob(412, 1, "guarantor:UK", "open", t0, 10*time.Hour))
	src.add(entry.KindObligation, ob(413, 1, "guarantor:FR", "open", t0, 10*time.Hour))
	src.add(entry.KindObligation, ob(414, 1, "party:RU", "open", t0.Add(-48*time.Hour), 24*time.Hour))
	step(t0)
	step(t0.Add(7 * time.Hour))
	src.add(entry.KindObligation, ob(413, 2, "guarantor:FR", "fulfilled", t0, 10*time.Hour))
	step(t0.Add(8*time.Hour - time.Second))
	want := []string{"obligation-412-r1", "obligation-413-r1", "obligation-414-r1", "obligation-413-r2"}
	if got := events(t, st, sub.ID); !slices.Equal(got, want) {
		t.Fatalf("before 80%%: %q, want %q", got, want)
	}
	step(t0.Add(8 * time.Hour))
	want = append(want, "obligation-412-due-soon")
	if got := events(t, st, sub.ID); !slices.Equal(got, want) {
		t.Fatalf("at 80%%: %q, want %q", got, want)
	}
	// An acknowledgement (a revision that stays open) does not raise it
	// again, nor does time passing.
	src.add(entry.KindObligation, ob(412, 2, "guarantor:UK", "open", t0, 10*time.Hour))
	step(t0.Add(9 * time.Hour))
	step(t0.Add(9*time.Hour + 30*time.Minute))
	if got := events(t, st, sub.ID); !slices.Equal(got, want) {
		t.Fatalf("later: %q, want %q", got, want)
	}
	reqs := rcv.requests()
	if len(reqs) != len(want) {
		t.Fatalf("receiver got %d requests, want %d", len(reqs), len(want))
	}
	last := reqs[len(reqs)-1]
	var p alert.Payload
	if err := json.Unmarshal(last.body, &p); err != nil {
		t.Fatal(err)
	}
	if last.header.Get(alert.HeaderEvent) != alert.EventDueSoon || p.Event != alert.EventDueSoon || p.ID != "obligation-412-due-soon" ||
		p.Obligation.ID != 412 || p.Obligation.Status != "open" || p.LogIndex != 0 {
		t.Errorf("due-soon request: %v %+v", last.header, p)
	}
	if got, want := alert.DueAt(t0, t0.Add(10*time.Hour)), t0.Add(8*time.Hour); !got.Equal(want) {
		t.Errorf("DueAt = %s, want %s", got, want)
	}
}

func TestSignatureVerifiableByReceiver(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "alerts.db"))
	rcv := newReceiver(t, nil)
	sub := subscribe(t, st, "guarantor:UK", rcv.srv.URL+"/hook?team=a")
	if len(sub.Secret) != 2*alert.SecretBytes {
		t.Fatalf("secret %d characters, want %d", len(sub.Secret), 2*alert.SecretBytes)
	}
	src := &source{}
	src.add(entry.KindObligation, ob(412, 1, "guarantor:UK", "open", t0, 24*time.Hour))
	if err := dispatcher(t, alert.Config{Store: st, Source: src, Now: func() time.Time { return t0 }}).Step(ctx); err != nil {
		t.Fatal(err)
	}
	reqs := rcv.requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	// What a receiver in any language does: HMAC-SHA-256 of the raw body
	// keyed by the secret's text, hex, after "sha256=".
	m := hmac.New(sha256.New, []byte(sub.Secret))
	m.Write(r.body)
	want := "sha256=" + hex.EncodeToString(m.Sum(nil))
	if got := r.header.Get(alert.HeaderSignature); got != want {
		t.Errorf("signature %q, want %q", got, want)
	}
	if !alert.Verify(sub.Secret, r.body, r.header.Get(alert.HeaderSignature)) {
		t.Error("Verify refuses the signature")
	}
	if alert.Verify(sub.Secret, append(r.body, ' '), r.header.Get(alert.HeaderSignature)) || alert.Verify("other", r.body, r.header.Get(alert.HeaderSignature)) {
		t.Error("Verify accepts a changed body or another secret")
	}
	ds, _ := st.Deliveries(ctx, sub.ID, 0)
	if r.header.Get("Content-Type") != "application/json" || r.header.Get(alert.HeaderEvent) != alert.EventOpened ||
		r.header.Get(alert.HeaderDelivery) != strconv.FormatInt(ds[0].ID, 10) {
		t.Errorf("headers %v", r.header)
	}
	var p map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	if string(p["event"]) != `"obligation.opened"` || string(p["id"]) != `"obligation-412-r1"` || string(p["log_index"]) != "0" || len(p) != 4 {
		t.Errorf("payload %s", r.body)
	}
	if ds[0].Status != alert.StatusDelivered || ds[0].Attempts != 1 || ds[0].LastStatusCode != 200 || ds[0].DeliveredAt == nil || ds[0].NextAttempt != nil {
		t.Errorf("delivery %+v", ds[0])
	}
	// Listings never show the secret.
	list, _ := st.Subscriptions(ctx, "")
	one, _ := st.Subscription(ctx, sub.ID)
	if len(list) != 1 || list[0].Secret != "" || one.Secret != "" || one.URL != sub.URL || one.Who != "guarantor:UK" || !one.Created.Equal(sub.Created) {
		t.Errorf("listing %+v, one %+v", list, one)
	}
}

func TestRetriesWithBackoff(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "alerts.db"))
	rcv := newReceiver(t, func(n int) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	sub := subscribe(t, st, "guarantor:UK", rcv.srv.URL)
	src := &source{}
	src.add(entry.KindObligation, ob(412, 1, "guarantor:UK", "open", t0, 24*time.Hour))
	clk := &clock{t: t0}
	d := dispatcher(t, alert.Config{Store: st, Source: src, Now: clk.Now})
	steps := []struct {
		after    time.Duration
		requests int
		status   string
		attempts int
		next     time.Duration // from t0; -1 for none
	}{
		{0, 1, alert.StatusPending, 1, time.Second},
		{500 * time.Millisecond, 1, alert.StatusPending, 1, time.Second},
		{time.Second, 2, alert.StatusPending, 2, 3 * time.Second},
		{2900 * time.Millisecond, 2, alert.StatusPending, 2, 3 * time.Second},
		{3 * time.Second, 3, alert.StatusDelivered, 3, -1},
		{time.Hour, 3, alert.StatusDelivered, 3, -1},
	}
	for _, s := range steps {
		clk.Set(t0.Add(s.after))
		if err := d.Step(ctx); err != nil {
			t.Fatal(err)
		}
		ds, _ := st.Deliveries(ctx, sub.ID, 0)
		dl := ds[0]
		if n := len(rcv.requests()); n != s.requests || dl.Status != s.status || dl.Attempts != s.attempts ||
			(s.next < 0) != (dl.NextAttempt == nil) || s.next >= 0 && !dl.NextAttempt.Equal(t0.Add(s.next)) {
			t.Fatalf("at +%s: %d requests, delivery %+v; want %d requests, %s after %d attempts, next at +%s", s.after, n, dl, s.requests, s.status, s.attempts, s.next)
		}
	}
	reqs := rcv.requests()
	for _, r := range reqs[1:] {
		if string(r.body) != string(reqs[0].body) || r.header.Get(alert.HeaderSignature) != reqs[0].header.Get(alert.HeaderSignature) ||
			r.header.Get(alert.HeaderDelivery) != reqs[0].header.Get(alert.HeaderDelivery) {
			t.Errorf("a retry differs from the first attempt: %v %s", r.header, r.body)
		}
	}
	ds, _ := st.Deliveries(ctx, sub.ID, 0)
	if ds[0].LastStatusCode != 204 || ds[0].LastError != "" || ds[0].DeliveredAt == nil || !ds[0].DeliveredAt.Equal(t0.Add(3*time.Second)) {
		t.Errorf("delivered %+v", ds[0])
	}
}

func TestBackoff(t *testing.T) {
	d := dispatcher(t, alert.Config{Store: &alert.Store{}, Source: &source{}})
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}
	for i, w := range want {
		if got := d.Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d) = %s, want %s", i+1, got, w)
		}
	}
	for _, n := range []int{13, 20, 100, 1000} {
		if got := d.Backoff(n); got != time.Hour {
			t.Errorf("Backoff(%d) = %s, want 1h", n, got)
		}
	}
	if got := d.Backoff(12); got != 2048*time.Second {
		t.Errorf("Backoff(12) = %s, want 2048s", got)
	}
}

func TestGiveUpAndRedeliver(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "alerts.db"))
	var mu sync.Mutex
	code := http.StatusServiceUnavailable
	rcv := newReceiver(t, func(int) int { mu.Lock(); defer mu.Unlock(); return code })
	sub := subscribe(t, st, "guarantor:UK", rcv.srv.URL)
	other := subscribe(t, st, "guarantor:FR", rcv.srv.URL)
	src := &source{}
	src.add(entry.KindObligation, ob(412, 1, "guarantor:UK", "open", t0, 72*time.Hour))
	clk := &clock{t: t0}
	st.Now = clk.Now
	d := dispatcher(t, alert.Config{Store: st, Source: src, Now: clk.Now, MaxAttempts: 3})
	for i := range 10 {
		clk.Set(t0.Add(time.Duration(i) * time.Hour))
		if err := d.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	ds, _ := st.Deliveries(ctx, sub.ID, 0)
	if n := len(rcv.requests()); n != 3 || ds[0].Status != alert.StatusFailed || ds[0].Attempts != 3 || ds[0].NextAttempt != nil ||
		ds[0].LastStatusCode != 503 || ds[0].LastError != "Service Unavailable" || ds[0].DeliveredAt != nil {
		t.Fatalf("%d requests, delivery %+v; want 3 and failed", n, ds[0])
	}

	// Redelivery queues it now, with attempts afresh; the next round sends it.
	mu.Lock()
	code = http.StatusOK
	mu.Unlock()
	clk.Set(t0.Add(20 * time.Hour))
	if _, err := st.Redeliver(ctx, other.ID, ds[0].ID); guarantor.ErrorCode(err) != guarantor.ENotFound {
		t.Errorf("redelivering another subscription's delivery: %v", err)
	}
	q, err := st.Redeliver(ctx, sub.ID, ds[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if q.Status != alert.StatusPending || q.Attempts != 0 || q.NextAttempt == nil || !q.NextAttempt.Equal(clk.Now()) || q.LastStatusCode != 503 {
		t.Errorf("queued %+v", q)
	}
	if err := d.Step(ctx); err != nil {
		t.Fatal(err)
	}
	ds, _ = st.Deliveries(ctx, sub.ID, 0)
	if n := len(rcv.requests()); n != 4 || ds[0].Status != alert.StatusDelivered || ds[0].Attempts != 1 || ds[0].LastStatusCode != 200 {
		t.Fatalf("%d requests, delivery %+v; want 4 and delivered", n, ds[0])
	}
	// A delivered one can be sent again too.
	if _, err := st.Redeliver(ctx, sub.ID, ds[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := d.Step(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(rcv.requests()); n != 5 {
		t.Fatalf("%d requests after redelivering a delivered one, want 5", n)
	}
}

func TestRedirectIsAFailure(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "alerts.db"))
	target := newReceiver(t, nil)
	redirect := httptest.NewServer(http.RedirectHandler(target.srv.URL, http.StatusTemporaryRedirect))
	t.Cleanup(redirect.Close)
	sub := subscribe(t, st, "guarantor:UK", redirect.URL)
	src := &source{}
	src.add(entry.KindObligation, ob(412, 1, "guarantor:UK", "open", t0, 24*time.Hour))
	if err := dispatcher(t, alert.Config{Store: st, Source: src, Now: func() time.Time { return t0 }}).Step(ctx); err != nil {
		t.Fatal(err)
	}
	ds, _ := st.Deliveries(ctx, sub.ID, 0)
	if len(target.requests()) != 0 || ds[0].Status != alert.StatusPending || ds[0].LastStatusCode != 307 {
		t.Errorf("redirect followed or counted as delivered: %+v", ds[0])
	}
}

func TestUnreachableReceiverErrorKeepsNoURL(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "alerts.db"))
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL + "/hook?token=s3cr3t"
	dead.Close()
	sub := subscribe(t, st, "guarantor:UK", url)
	src := &source{}
	src.add(entry.KindObligation, ob(412, 1, "guarantor:UK", "open", t0, 24*time.Hour))
	if err := dispatcher(t, alert.Config{Store: st, Source: src, Now: func() time.Time { return t0 }}).Step(ctx); err != nil {
		t.Fatal(err)
	}
	ds, _ := st.Deliveries(ctx, sub.ID, 0)
	if ds[0].Status != alert.StatusPending || ds[0].LastStatusCode != 0 || ds[0].LastError == "" || strings.Contains(ds[0].LastError, "s3cr3t") {
		t.Errorf("delivery %+v", ds[0])
	}
}

func TestRunStopsWithItsContext(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "alerts.db"))
	// A receiver that hangs until the test ends: Run must not wait for it.
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); hang.Close() })
	sub := subscribe(t, st, "guarantor:UK", hang.URL)
	src := &source{}
	src.add(entry.KindObligation, ob(412, 1, "guarantor:UK", "open", time.Now(), 24*time.Hour))
	d := dispatcher(t, alert.Config{Store: st, Source: src, Poll: 10 * time.Millisecond, Timeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		evs := events(t, st, sub.ID)
		if len(evs) == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // let the request start
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	// The attempt cut short is not counted: the delivery is still due.
	ds, _ := st.Deliveries(context.Background(), sub.ID, 0)
	if len(ds) != 1 || ds[0].Status != alert.StatusPending || ds[0].Attempts != 0 {
		t.Errorf("deliveries %+v", ds)
	}
}

func TestSubscriptions(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "alerts.db")
	st := openStore(t, path)
	// It holds the secrets: only its owner may read it.
	for _, suffix := range []string{"", "-wal"} {
		fi, err := os.Stat(path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", path+suffix, fi.Mode().Perm())
		}
	}
	for _, c := range []struct{ who, url, field string }{
		{"guarantor:UK", "ftp://example.org/x", "url"},
		{"guarantor:UK", "/relative", "url"},
		{"guarantor:UK", "https://", "url"},
		{"guarantor:UK", "https://user:pw@example.org/x", "url"},
		{"guarantor:UK", "https://example.org/x#frag", "url"},
		{"guarantor:UK", "mailto:a@example.org", "url"},
		{"guarantor:UK", "https://example.org/" + string(make([]byte, alert.MaxURLLength)), "url"},
		{"UK", "https://example.org/x", "who"},
		{"monitor", "https://example.org/x", "who"},
		{"", "https://example.org/x", "who"},
	} {
		_, err := st.Subscribe(ctx, alert.Subscription{Who: c.who, URL: c.url, Owner: "operator"})
		var ge *guarantor.Error
		if !errors.As(err, &ge) || ge.Code != guarantor.EInvalid || ge.Field != c.field {
			t.Errorf("Subscribe(%q, %.40q) = %v, want invalid %s", c.who, c.url, err, c.field)
		}
	}
	a := subscribe(t, st, "guarantor:UK", "https://uk.example/a")
	b := subscribe(t, st, alert.All, "http://ops.example:8080/b?x=1")
	c := subscribe(t, st, "party:RU", "https://ru.example/c")
	if a.Secret == b.Secret || a.ID == b.ID {
		t.Fatal("two subscriptions share a secret or an id")
	}
	for owner, want := range map[string][]int64{"": {a.ID, b.ID, c.ID}, "guarantor:UK": {a.ID}, "operator": {b.ID}, "guarantor:FR": {}} {
		list, err := st.Subscriptions(ctx, owner)
		if err != nil {
			t.Fatal(err)
		}
		got := []int64{}
		for _, s := range list {
			got = append(got, s.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("Subscriptions(%q) = %v, want %v", owner, got, want)
		}
	}
	// Unsubscribing deletes the delivery log too.
	src := &source{}
	src.add(entry.KindObligation, ob(412, 1, "guarantor:UK", "open", t0, 24*time.Hour))
	if err := dispatcher(t, alert.Config{Store: st, Source: src, Now: func() time.Time { return t0 }}).Follow(ctx); err != nil {
		t.Fatal(err)
	}
	if got := events(t, st, a.ID); len(got) != 1 {
		t.Fatalf("deliveries %q", got)
	}
	if err := st.Unsubscribe(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if got := events(t, st, a.ID); len(got) != 0 {
		t.Errorf("deliveries after unsubscribing: %q", got)
	}
	for name, err := range map[string]error{
		"unsubscribe again": st.Unsubscribe(ctx, a.ID),
		"read deleted":      second(st.Subscription(ctx, a.ID)),
		"redeliver deleted": second(st.Redeliver(ctx, a.ID, 1)),
	} {
		if guarantor.ErrorCode(err) != guarantor.ENotFound {
			t.Errorf("%s: %v, want not found", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// Example_receiver shows how a receiver checks a webhook request.
func Example_receiver() {
	secret := "the secret shown once by POST /v1/webhooks"
	body := []byte(`{"event":"obligation.opened","id":"obligation-412-r1","obligation":{},"log_index":1234}`)
	header := alert.Sign(secret, body) // what Guarantor-Signature carries
	fmt.Println(alert.Verify(secret, body, header))
	// Output: true
}
