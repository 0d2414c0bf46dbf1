package http

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/alert"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
)

// Alerts: webhooks that tell a guarantor or party when its obligations
// open, near their deadline or are settled (package alert sends them),
// and a public Atom feed of each debtor's obligation revisions.

// WithAlerts serves the webhook routes from st. Without it they answer
// 503; the Atom feeds need no alert store.
func WithAlerts(st *alert.Store) Option { return func(s *Server) { s.alerts = st } }

// WithPrivateWebhooks lets guarantor and party keys point webhooks at
// loopback and private addresses (tests, closed networks). Without it
// only an operator may, so that a party's key cannot make the server
// probe the mission's internal network.
func WithPrivateWebhooks() Option { return func(s *Server) { s.privateWebhooks = true } }

// publicURL refuses, for callers other than an operator, a webhook URL
// whose host is or resolves to a loopback, private, link-local,
// unspecified or multicast address. (Delivery does not re-check, so a
// name that later resolves elsewhere is the operator's to police.)
func (s *Server) publicURL(ctx context.Context, c *caller, raw string) error {
	if c.Role == guarantor.RoleOperator || s.privateWebhooks {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return guarantor.Errorf(guarantor.EInvalid, "url", "url does not parse: %v", err)
	}
	host := u.Hostname()
	var ips []net.IP
	if ip := net.ParseIP(host); ip != nil {
		ips = []net.IP{ip}
	} else {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
		if err != nil {
			return guarantor.Errorf(guarantor.EInvalid, "url", "url host %q does not resolve: %v", host, err)
		}
		for _, a := range addrs {
			ips = append(ips, a.IP)
		}
	}
	for _, ip := range ips {
		if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified() || ip.IsMulticast() {
			return guarantor.Errorf(guarantor.EForbidden, "url", "url host %q is a local or private address (%s); only an operator key may send alerts there", host, ip)
		}
	}
	return nil
}

// FeedEntries is how many obligation revisions an Atom feed lists, the
// newest first.
const FeedEntries = 100

// Delivery log limits: GET /v1/webhooks/{id}/deliveries answers the
// newest DefaultDeliveryLimit deliveries unless limit asks for more, up
// to MaxDeliveryLimit.
const (
	DefaultDeliveryLimit = 100
	MaxDeliveryLimit     = 1000
)

// maxSubscribeBody bounds the body of POST /v1/webhooks.
const maxSubscribeBody = 8 << 10

// subscribers may subscribe to webhooks: guarantors and parties to their
// own obligations, operators to anyone's.
func subscribers(r guarantor.Role) bool {
	return r == guarantor.RoleOperator || debtorRole.MatchString(string(r))
}

// SubscribeRequest is the body of POST /v1/webhooks.
type SubscribeRequest struct {
	URL string `json:"url"`
	// Who is the debtor role whose obligations to follow, or "*" for all.
	// A guarantor or party may only follow its own (the default); an
	// operator may follow anyone's (default "*").
	Who string `json:"who,omitempty"`
}

// alertStore returns the alert store, or writes 503 and returns nil.
func (s *Server) alertStore(w http.ResponseWriter, r *http.Request) *alert.Store {
	if s.alerts == nil {
		s.problem(w, r, guarantor.Errorf(guarantor.EUnavailable, "", "this server sends no webhooks (no alert store is configured)"))
	}
	return s.alerts
}

// handleSubscribe serves POST /v1/webhooks: a signed request by a
// guarantor, party or operator key; the body is a SubscribeRequest. It
// answers 201 with the alert.Subscription, secret included: the only
// time the secret is shown.
func (s *Server) handleSubscribe(w http.ResponseWriter, r *http.Request) {
	st := s.alertStore(w, r)
	if st == nil {
		return
	}
	c := s.requireRole(w, r, subscribers, "subscribe to webhooks")
	if c == nil {
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			s.problem(w, r, guarantor.Errorf(guarantor.EUnsupported, "Content-Type", "send the subscription as application/json (got %q)", ct))
			return
		}
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSubscribeBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.problem(w, r, guarantor.Errorf(guarantor.ETooLarge, "", "the subscription exceeds %d bytes", maxSubscribeBody))
			return
		}
		s.problem(w, r, guarantor.Errorf(guarantor.EInvalid, "", "read the body: %v", err))
		return
	}
	// The body decides where the alerts go: the signature must cover it.
	if err := checkBody(c, raw); err != nil {
		s.problem(w, r, err)
		return
	}
	var req SubscribeRequest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		s.problem(w, r, guarantor.Errorf(guarantor.EInvalid, "", "the body is not a JSON object {\"url\": ..., \"who\": ...}: %v", err))
		return
	}
	if dec.More() {
		s.problem(w, r, guarantor.Errorf(guarantor.EInvalid, "", "the body holds more than one JSON value"))
		return
	}
	if err := alert.CheckURL(req.URL); err != nil {
		s.problem(w, r, err)
		return
	}
	if err := s.publicURL(r.Context(), c, req.URL); err != nil {
		s.problem(w, r, err)
		return
	}
	switch {
	case c.Role == guarantor.RoleOperator && req.Who == "":
		req.Who = alert.All
	case c.Role != guarantor.RoleOperator && req.Who == "":
		req.Who = string(c.Role)
	case c.Role != guarantor.RoleOperator && req.Who != string(c.Role):
		s.problem(w, r, guarantor.Errorf(guarantor.EForbidden, "who", "key %s has role %s, which may follow only its own obligations (who %q), not %q", c.ID, c.Role, c.Role, req.Who))
		return
	}
	sub, err := st.Subscribe(r.Context(), alert.Subscription{Who: req.Who, URL: req.URL, Owner: string(c.Role), CreatedBy: c.ID})
	if err != nil {
		s.problem(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, sub)
}

// handleWebhooks serves GET /v1/webhooks: {"webhooks": [alert.Subscription,
// ...]} without secrets, by id: every one to an operator, a guarantor's
// or party's own to it.
func (s *Server) handleWebhooks(w http.ResponseWriter, r *http.Request) {
	st := s.alertStore(w, r)
	if st == nil {
		return
	}
	c := s.requireRole(w, r, subscribers, "list webhooks")
	if c == nil {
		return
	}
	owner := string(c.Role)
	if c.Role == guarantor.RoleOperator {
		owner = ""
	}
	list, err := st.Subscriptions(r.Context(), owner)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "private, no-store")
	writeJSON(w, http.StatusOK, struct {
		Webhooks []alert.Subscription `json:"webhooks"`
	}{list})
}

// ownedSubscription authenticates the request and returns the
// subscription named by {id} if the caller owns it (its key has the
// role that subscribed) or is an operator. It writes the problem and
// returns ok=false if not.
func (s *Server) ownedSubscription(w http.ResponseWriter, r *http.Request, st *alert.Store, what string) (alert.Subscription, bool) {
	c := s.requireRole(w, r, subscribers, what)
	if c == nil {
		return alert.Subscription{}, false
	}
	id, err := pathID(r, "id")
	if err != nil {
		s.problem(w, r, err)
		return alert.Subscription{}, false
	}
	sub, err := st.Subscription(r.Context(), id)
	if err != nil {
		s.problem(w, r, err)
		return alert.Subscription{}, false
	}
	if c.Role != guarantor.RoleOperator && string(c.Role) != sub.Owner {
		s.problem(w, r, guarantor.Errorf(guarantor.EForbidden, "Authorization", "key %s has role %s, which may not %s: webhook %d belongs to %s", c.ID, c.Role, what, id, sub.Owner))
		return alert.Subscription{}, false
	}
	return sub, true
}

// pathID parses the positive integer path value name.
func pathID(r *http.Request, name string) (int64, error) {
	v := r.PathValue(name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		return 0, guarantor.Errorf(guarantor.EInvalid, name, "%s %q is not a positive integer", name, v)
	}
	return id, nil
}

// handleUnsubscribe serves DELETE /v1/webhooks/{id}: the owner or an
// operator; 204. The delivery log goes with it.
func (s *Server) handleUnsubscribe(w http.ResponseWriter, r *http.Request) {
	st := s.alertStore(w, r)
	if st == nil {
		return
	}
	sub, ok := s.ownedSubscription(w, r, st, "delete webhooks")
	if !ok {
		return
	}
	if err := st.Unsubscribe(r.Context(), sub.ID); err != nil {
		s.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleDeliveries serves GET /v1/webhooks/{id}/deliveries: the owner or
// an operator; {"deliveries": [alert.Delivery, ...]}, newest first, at
// most limit (default DefaultDeliveryLimit, at most MaxDeliveryLimit).
func (s *Server) handleDeliveries(w http.ResponseWriter, r *http.Request) {
	st := s.alertStore(w, r)
	if st == nil {
		return
	}
	sub, ok := s.ownedSubscription(w, r, st, "read webhook deliveries")
	if !ok {
		return
	}
	limit, err := parseLimit(r.URL.Query(), DefaultDeliveryLimit, MaxDeliveryLimit)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	list, err := st.Deliveries(r.Context(), sub.ID, limit)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "private, no-store")
	writeJSON(w, http.StatusOK, struct {
		Deliveries []alert.Delivery `json:"deliveries"`
	}{list})
}

// handleRedeliver serves POST /v1/webhooks/{id}/deliveries/{delivery}/redeliver:
// the owner or an operator; the delivery is queued again, due now, and
// answered with 202 as queued.
func (s *Server) handleRedeliver(w http.ResponseWriter, r *http.Request) {
	st := s.alertStore(w, r)
	if st == nil {
		return
	}
	sub, ok := s.ownedSubscription(w, r, st, "redeliver webhook deliveries")
	if !ok {
		return
	}
	id, err := pathID(r, "delivery")
	if err != nil {
		s.problem(w, r, err)
		return
	}
	d, err := st.Redeliver(r.Context(), sub.ID, id)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, d)
}

// Atom (RFC 4287) feeds of obligation revisions.

// atomFeed and the types below are the parts of Atom 1.0 the feeds use.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Author  atomPerson  `xml:"author"`
	Links   []atomLink  `xml:"link"`
	Gen     string      `xml:"generator"`
	Entries []atomEntry `xml:"entry"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

type atomEntry struct {
	ID         string         `xml:"id"`
	Title      string         `xml:"title"`
	Updated    string         `xml:"updated"`
	Published  string         `xml:"published"`
	Links      []atomLink     `xml:"link"`
	Categories []atomCategory `xml:"category"`
	Summary    atomText       `xml:"summary"`
}

// handleGuarantorFeed serves GET /v1/guarantors/{who}/feed.atom: the Atom
// feed of guarantor:{who}'s obligation revisions.
func (s *Server) handleGuarantorFeed(w http.ResponseWriter, r *http.Request) {
	s.serveFeed(w, r, "guarantor")
}

// handlePartyFeed serves GET /v1/parties/{who}/feed.atom: the Atom feed
// of party:{who}'s obligation revisions.
func (s *Server) handlePartyFeed(w http.ResponseWriter, r *http.Request) {
	s.serveFeed(w, r, "party")
}

// serveFeed writes the Atom feed of the newest FeedEntries revisions of
// the obligations owed by kind:{who}, newest (highest log index) first:
// one entry per revision. A debtor that owes nothing has an empty feed,
// so that a reader may subscribe before its first obligation.
//
// The projection serves every revision of one obligation, or the latest
// of each: the feed reads the latest of each (one query, a row per
// obligation the debtor owes), and then every revision of the
// obligations whose latest revision is among the newest, newest first,
// until no older obligation can place a revision in the feed: at most
// about FeedEntries queries of a few rows each.
func (s *Server) serveFeed(w http.ResponseWriter, r *http.Request, kind string) {
	ctx := r.Context()
	who := r.PathValue("who")
	if !actorName.MatchString(who) {
		s.problem(w, r, guarantor.Errorf(guarantor.EInvalid, "who", "%q is not a %s id like UK or RU", who, kind))
		return
	}
	role := kind + ":" + who
	st := s.node.Store()
	var latest []node.ObligationRow
	err := st.Obligations(ctx, node.ObligationFilter{Who: role}, func(row node.ObligationRow) error {
		latest = append(latest, row)
		return nil
	})
	if err != nil {
		s.problem(w, r, err)
		return
	}
	byIndexDesc := func(a, b node.ObligationRow) int { return cmp.Compare(b.Index, a.Index) }
	slices.SortFunc(latest, byIndexDesc)
	var revs []node.ObligationRow
	for _, l := range latest {
		if len(revs) >= FeedEntries && revs[FeedEntries-1].Index > l.Index {
			break
		}
		rows, err := st.Obligation(ctx, l.Obligation.ID)
		if err != nil {
			s.problem(w, r, err)
			return
		}
		revs = append(revs, rows...)
		slices.SortFunc(revs, byIndexDesc)
		revs = revs[:min(len(revs), FeedEntries)]
	}

	self := "/v1/" + map[string]string{"guarantor": "guarantors", "party": "parties"}[kind] + "/" + who + "/feed.atom"
	feed := atomFeed{
		ID:     s.tagURI("feed/" + role),
		Title:  "Obligations of " + role,
		Author: atomPerson{Name: s.info.Origin},
		Links: []atomLink{
			{Rel: "self", Type: "application/atom+xml", Href: self},
			{Rel: "alternate", Type: "application/json", Href: "/v1/obligations?who=" + url.QueryEscape(role)},
		},
		Gen:     "guarantor",
		Entries: []atomEntry{},
	}
	var newest time.Time
	for _, row := range revs {
		e := feedEntry(s, row)
		feed.Entries = append(feed.Entries, e)
		if u := revisionUpdated(&row.Obligation); u.After(newest) {
			newest = u
		}
	}
	if newest.IsZero() {
		newest = s.now()
	}
	feed.Updated = newest.UTC().Format(time.RFC3339)
	w.Header().Set("Content-Type", "application/atom+xml")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, xml.Header)
	enc := xml.NewEncoder(w)
	enc.Indent("", " ")
	if err := enc.Encode(feed); err != nil {
		s.logger.ErrorContext(ctx, "write atom feed", "path", r.URL.Path, "err", err)
	}
	_, _ = io.WriteString(w, "\n")
}

// revisionUpdated is when a revision happened: its settlement, else its
// acknowledgement, else the obligation's opening.
func revisionUpdated(o *entry.Obligation) time.Time {
	switch {
	case o.Settled != nil:
		return *o.Settled
	case o.Acknowledged != nil:
		return *o.Acknowledged
	}
	return o.Opened
}

// feedEntry is the Atom entry of one obligation revision.
func feedEntry(s *Server, row node.ObligationRow) atomEntry {
	o := &row.Obligation
	rfc := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	var b strings.Builder
	fmt.Fprintf(&b, "Revision %d of obligation %d, owed by %s", o.Revision, o.ID, o.Who)
	if o.Group != "" {
		fmt.Fprintf(&b, " as a member of %s", o.Group)
	}
	if o.OnRequestOf != "" {
		fmt.Fprintf(&b, " on request of %s", o.OnRequestOf)
	}
	fmt.Fprintf(&b, ": %s under agreement %s version %d, trigger %s (determination %d). Opened %s, due %s. Status %s",
		o.Action, o.Agreement, o.Version, o.Trigger, o.Determination, rfc(o.Opened), rfc(o.Deadline), o.Status)
	if o.Acknowledged != nil {
		fmt.Fprintf(&b, ", acknowledged %s", rfc(*o.Acknowledged))
	}
	if o.Settled != nil {
		fmt.Fprintf(&b, ", settled %s", rfc(*o.Settled))
	}
	b.WriteString(".")
	if o.Reason != "" {
		fmt.Fprintf(&b, " Reason: %s.", o.Reason)
	}
	if o.Text != "" {
		fmt.Fprintf(&b, " %s", o.Text)
	}
	fmt.Fprintf(&b, " Log entry %d.", row.Index)
	return atomEntry{
		ID: s.tagURI(fmt.Sprintf("obligation/%d/revision/%d", o.ID, o.Revision)),
		Title: fmt.Sprintf("Obligation %d (%s, agreement %s trigger %s): %s, due %s",
			o.ID, o.Action, o.Agreement, o.Trigger, o.Status, rfc(o.Deadline)),
		Updated:   rfc(revisionUpdated(o)),
		Published: rfc(o.Opened),
		Links: []atomLink{
			{Rel: "alternate", Type: "application/json", Href: "/v1/obligations/" + strconv.FormatUint(o.ID, 10)},
			{Rel: "related", Type: "application/json", Href: "/v1/entries/" + strconv.FormatUint(row.Index, 10)},
		},
		Categories: []atomCategory{{Term: o.Status}, {Term: o.Action}},
		Summary:    atomText{Type: "text", Text: b.String()},
	}
}

// dnsName is the form of a host name that may name a tag URI's authority.
var dnsName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)

// tagURI returns a tag URI (RFC 4151) for something of this log: the
// authority is the host name the log's origin starts with
// ("guarantor.local" for "guarantor.local/log"), or guarantor.invalid;
// the specific part is the origin, then specific. The date is fixed: a
// tag never changes.
func (s *Server) tagURI(specific string) string {
	host, _, _ := strings.Cut(s.info.Origin, "/")
	if !dnsName.MatchString(host) || !strings.Contains(host, ".") {
		host = "guarantor.invalid"
	}
	segs := strings.Split(s.info.Origin, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	return "tag:" + strings.ToLower(host) + ",2025:" + strings.Join(segs, "/") + "/" + specific
}
