// Package alert tells subscribers when an obligation opens, nears its
// deadline or is settled, by signed webhooks.
//
// Subscriptions are operator configuration, not log content: a Store
// keeps them, with the events emitted and the delivery log, in its own
// SQLite database beside the projection, so that rebuilding the
// projection loses none of them. A Dispatcher follows the projection by
// log index, turns obligation revisions into events, enqueues one
// delivery per matching subscription and sends it:
//
//	POST <url>
//	Content-Type: application/json
//	Guarantor-Event: obligation.opened
//	Guarantor-Delivery: 17
//	Guarantor-Signature: sha256=<hex HMAC-SHA-256 of the body, keyed by the secret>
//
//	{"event":"obligation.opened","id":"obligation-412-r1","obligation":{...},"log_index":1234}
//
// A 2xx answer delivers it; anything else is retried with exponential
// backoff until Config.MaxAttempts, then the delivery fails (it can be
// redelivered). Delivery is at least once: a receiver dedupes by the
// event id. Payloads hold obligations only, which carry no personal data.
package alert

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
)

// Event types.
const (
	// EventOpened: an obligation's first revision, open.
	EventOpened = "obligation.opened"
	// EventSettled: a revision whose status is not open (fulfilled, late,
	// missed, declined or amended).
	EventSettled = "obligation.settled"
	// EventDueSoon: an obligation still open once DueSoonFraction of the
	// time from its opening to its deadline has passed, by the
	// dispatcher's clock, and the deadline has not. Emitted once per
	// obligation.
	EventDueSoon = "obligation.due_soon"
)

// DueSoonFraction is the share of the time from an obligation's opening to
// its deadline after which it is due soon.
const DueSoonFraction = 0.8

// All is the Who of a subscription to every obligation.
const All = "*"

// Delivery statuses.
const (
	StatusPending   = "pending"
	StatusDelivered = "delivered"
	StatusFailed    = "failed"
)

// Headers of a webhook request.
const (
	HeaderEvent     = "Guarantor-Event"
	HeaderDelivery  = "Guarantor-Delivery"
	HeaderSignature = "Guarantor-Signature"
)

// MaxURLLength bounds a subscription's URL.
const MaxURLLength = 2048

// debtorRole is the form of the role an obligation is owed by.
var debtorRole = regexp.MustCompile(`^(party|guarantor):[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Subscription is one webhook: where to send the events about the
// obligations of Who.
type Subscription struct {
	ID  int64  `json:"id"`
	Who string `json:"who"` // the debtor role followed ("guarantor:UK"), or All
	URL string `json:"url"`
	// Owner is the role of the key that subscribed: keys of that role (and
	// operators) may list, delete and redeliver it.
	Owner     string    `json:"owner"`
	CreatedBy string    `json:"created_by"` // name+hash of that key
	Created   time.Time `json:"created"`
	// Secret keys the HMAC-SHA-256 signature of every request: its text,
	// as bytes, is the key. Only Subscribe returns it.
	Secret string `json:"secret,omitempty"`
}

// Delivery is one event sent, or to be sent, to one subscription.
type Delivery struct {
	ID           int64  `json:"id"`
	Subscription int64  `json:"subscription"`
	Event        string `json:"event"` // the event id
	Type         string `json:"type"`  // EventOpened, EventSettled or EventDueSoon
	// Payload is the exact body sent (and signed).
	Payload        json.RawMessage `json:"payload"`
	Attempts       int             `json:"attempts"`
	NextAttempt    *time.Time      `json:"next_attempt,omitempty"` // when pending
	Status         string          `json:"status"`
	LastStatusCode int             `json:"last_status_code,omitempty"` // of the last answer, if any
	LastError      string          `json:"last_error,omitempty"`
	Created        time.Time       `json:"created"`
	DeliveredAt    *time.Time      `json:"delivered_at,omitempty"`
}

// Payload is the JSON body of a webhook request.
type Payload struct {
	Event string `json:"event"` // the event type
	ID    string `json:"id"`    // the event id, stable: the receiver dedupes by it
	// Obligation is the revision the event is about: for EventDueSoon the
	// latest revision, open, when the dispatcher saw it due.
	Obligation entry.Obligation `json:"obligation"`
	LogIndex   uint64           `json:"log_index"` // of that revision
}

// Sign returns the Guarantor-Signature header value of body under secret:
// "sha256=" and the hex HMAC-SHA-256.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether header is the signature of body under secret,
// in constant time. Receivers written in Go may use it.
func Verify(secret string, body []byte, header string) bool {
	want := Sign(secret, body)
	return hmac.Equal([]byte(header), []byte(want))
}

// event is one event about one revision.
type event struct {
	payload Payload
	who     string
}

// revisionEvents returns the events one logged revision raises: opened
// for a first revision that is open, settled for one that is not open.
// Revisions that stay open (an acknowledgement) raise none.
func revisionEvents(o *entry.Obligation, index uint64) []event {
	var typ, id string
	switch {
	case o.Status == entry.ObligationOpen && o.Revision == 1:
		typ, id = EventOpened, fmt.Sprintf("obligation-%d-r1", o.ID)
	case o.Status != entry.ObligationOpen:
		typ, id = EventSettled, fmt.Sprintf("obligation-%d-r%d", o.ID, o.Revision)
	default:
		return nil
	}
	return []event{{payload: Payload{Event: typ, ID: id, Obligation: *o, LogIndex: index}, who: o.Who}}
}

// dueSoonID is the id of an obligation's due-soon event.
func dueSoonID(id uint64) string { return fmt.Sprintf("obligation-%d-due-soon", id) }

// DueAt returns when an obligation opened at opened with the given
// deadline becomes due soon.
func DueAt(opened, deadline time.Time) time.Time {
	d := deadline.Sub(opened)
	if d <= 0 {
		return opened
	}
	return opened.Add(time.Duration(float64(d) * DueSoonFraction))
}

// CheckWho checks the Who of a subscription: All or a debtor role like
// guarantor:UK or party:RU.
func CheckWho(who string) error {
	if who != All && !debtorRole.MatchString(who) {
		return guarantor.Errorf(guarantor.EInvalid, "who", "who %q is not a role like guarantor:UK or party:RU, nor %q", who, All)
	}
	return nil
}

// CheckURL checks a subscription's URL: absolute http or https, with a
// host, no user name or password (the signature authenticates the
// server; credentials in a URL would be shown in every listing) and no
// fragment.
func CheckURL(raw string) error {
	if len(raw) > MaxURLLength {
		return guarantor.Errorf(guarantor.EInvalid, "url", "url is longer than %d bytes", MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return guarantor.Errorf(guarantor.EInvalid, "url", "url does not parse: %v", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return guarantor.Errorf(guarantor.EInvalid, "url", "url %q is not an absolute http or https URL", raw)
	case u.Host == "" || u.Hostname() == "" || u.Opaque != "":
		return guarantor.Errorf(guarantor.EInvalid, "url", "url %q has no host", raw)
	case u.User != nil:
		return guarantor.Errorf(guarantor.EInvalid, "url", "url must carry no user name or password: requests are authenticated by their signature")
	case u.Fragment != "" || strings.HasSuffix(raw, "#"):
		return guarantor.Errorf(guarantor.EInvalid, "url", "url %q has a fragment", raw)
	}
	return nil
}
