package alert

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/internal/sqlitemigrate"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// timeLayout stores times in UTC with fixed-width nanoseconds, so that
// text order is time order.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// SecretBytes is how many random bytes a subscription's secret holds; its
// text is their hex.
const SecretBytes = 32

// Store keeps subscriptions, events and deliveries in a SQLite database
// of their own. It is safe for concurrent use; it runs on one connection,
// so every call is serialised (the traffic is small).
type Store struct {
	db *sql.DB
	// Now is the clock that stamps subscriptions and redeliveries; nil
	// means time.Now.
	Now func() time.Time
	// wake is signalled when a delivery becomes due now (a redelivery), so
	// that a running Dispatcher sends it without waiting for its poll.
	wake chan struct{}
}

// Open opens or creates the alert database at path and applies any
// pending migrations. It runs in WAL mode with foreign keys on and
// synchronous=FULL: a subscription acknowledged survives a power loss.
// The database holds the webhook secrets, so a new one is created with
// mode 0600 (SQLite gives its -wal and -shm files the same mode).
func Open(ctx context.Context, path string) (*Store, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("alert: open %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("alert: open %s: %w", path, err)
	}
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(FULL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("alert: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	s := &Store{db: db, wake: make(chan struct{}, 1)}
	if err := s.migrate(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("alert: open %s: %w", path, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// migrate applies the embedded migrations newer than the database.
func (s *Store) migrate(ctx context.Context) error {
	return sqlitemigrate.Apply(ctx, s.db, migrations, "migrations")
}

// tx runs fn in a transaction, committed if fn returns nil.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) { return time.Parse(timeLayout, s) }

// parseTimePtr parses a nullable time column.
func parseTimePtr(s sql.NullString) (*time.Time, error) {
	if !s.Valid {
		return nil, nil
	}
	t, err := parseTime(s.String)
	return &t, err
}

// Subscribe stores a new subscription from sub's Who, URL, Owner and
// CreatedBy, after checking Who and URL, with a new random secret. It
// returns the subscription with its id, creation time and secret: the
// only time the secret leaves the store.
func (s *Store) Subscribe(ctx context.Context, sub Subscription) (Subscription, error) {
	if err := CheckWho(sub.Who); err != nil {
		return Subscription{}, err
	}
	if err := CheckURL(sub.URL); err != nil {
		return Subscription{}, err
	}
	if sub.Owner == "" {
		return Subscription{}, guarantor.Errorf(guarantor.EInvalid, "owner", "a subscription needs an owner role")
	}
	secret := make([]byte, SecretBytes)
	_, _ = rand.Read(secret) // never fails (crypto/rand)
	sub.Secret = hex.EncodeToString(secret)
	sub.Created = s.now().UTC()
	res, err := s.db.ExecContext(ctx, `INSERT INTO subscriptions (who, url, secret, owner, created_by, created) VALUES (?, ?, ?, ?, ?, ?)`,
		sub.Who, sub.URL, sub.Secret, sub.Owner, sub.CreatedBy, fmtTime(sub.Created))
	if err != nil {
		return Subscription{}, fmt.Errorf("alert: subscribe: %w", err)
	}
	if sub.ID, err = res.LastInsertId(); err != nil {
		return Subscription{}, fmt.Errorf("alert: subscribe: %w", err)
	}
	sub.Created, _ = parseTime(fmtTime(sub.Created)) // as stored
	return sub, nil
}

const subscriptionColumns = "id, who, url, owner, created_by, created"

func scanSubscription(row interface{ Scan(...any) error }) (Subscription, error) {
	var sub Subscription
	var created string
	if err := row.Scan(&sub.ID, &sub.Who, &sub.URL, &sub.Owner, &sub.CreatedBy, &created); err != nil {
		return sub, err
	}
	var err error
	sub.Created, err = parseTime(created)
	return sub, err
}

// Subscription returns subscription id, without its secret; a
// guarantor.ENotFound error if there is none.
func (s *Store) Subscription(ctx context.Context, id int64) (Subscription, error) {
	sub, err := scanSubscription(s.db.QueryRowContext(ctx, "SELECT "+subscriptionColumns+" FROM subscriptions WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return sub, guarantor.Errorf(guarantor.ENotFound, "id", "no webhook %d", id)
	}
	if err != nil {
		return sub, fmt.Errorf("alert: read subscription %d: %w", id, err)
	}
	return sub, nil
}

// Subscriptions returns, by id, the subscriptions owned by owner, or
// every one when owner is "", without their secrets.
func (s *Store) Subscriptions(ctx context.Context, owner string) ([]Subscription, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+subscriptionColumns+" FROM subscriptions WHERE ? = '' OR owner = ? ORDER BY id", owner, owner)
	if err != nil {
		return nil, fmt.Errorf("alert: list subscriptions: %w", err)
	}
	defer rows.Close()
	list := []Subscription{}
	for rows.Next() {
		sub, err := scanSubscription(rows)
		if err != nil {
			return nil, fmt.Errorf("alert: list subscriptions: %w", err)
		}
		list = append(list, sub)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("alert: list subscriptions: %w", err)
	}
	return list, nil
}

// Unsubscribe deletes subscription id and its delivery log; a
// guarantor.ENotFound error if there is none.
func (s *Store) Unsubscribe(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, "DELETE FROM subscriptions WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("alert: delete subscription %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return guarantor.Errorf(guarantor.ENotFound, "id", "no webhook %d", id)
	}
	return nil
}

const deliveryColumns = `id, subscription, event, type, payload, attempts, next_attempt, status, last_status_code, last_error, created, delivered_at`

func scanDelivery(row interface{ Scan(...any) error }) (Delivery, error) {
	var d Delivery
	var next, delivered sql.NullString
	var created string
	if err := row.Scan(&d.ID, &d.Subscription, &d.Event, &d.Type, &d.Payload, &d.Attempts, &next, &d.Status, &d.LastStatusCode, &d.LastError, &created, &delivered); err != nil {
		return d, err
	}
	var err, err2, err3 error
	d.Created, err = parseTime(created)
	d.NextAttempt, err2 = parseTimePtr(next)
	d.DeliveredAt, err3 = parseTimePtr(delivered)
	return d, errors.Join(err, err2, err3)
}

// Deliveries returns the delivery log of subscription sub, newest first,
// at most limit (0: all).
func (s *Store) Deliveries(ctx context.Context, sub int64, limit int) ([]Delivery, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.db.QueryContext(ctx, "SELECT "+deliveryColumns+" FROM deliveries WHERE subscription = ? ORDER BY id DESC LIMIT ?", sub, limit)
	if err != nil {
		return nil, fmt.Errorf("alert: list deliveries of %d: %w", sub, err)
	}
	defer rows.Close()
	list := []Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("alert: list deliveries of %d: %w", sub, err)
		}
		list = append(list, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("alert: list deliveries of %d: %w", sub, err)
	}
	return list, nil
}

// Delivery returns delivery id of subscription sub; a
// guarantor.ENotFound error if there is none.
func (s *Store) Delivery(ctx context.Context, sub, id int64) (Delivery, error) {
	d, err := scanDelivery(s.db.QueryRowContext(ctx, "SELECT "+deliveryColumns+" FROM deliveries WHERE id = ? AND subscription = ?", id, sub))
	if errors.Is(err, sql.ErrNoRows) {
		return d, guarantor.Errorf(guarantor.ENotFound, "delivery", "webhook %d has no delivery %d", sub, id)
	}
	if err != nil {
		return d, fmt.Errorf("alert: read delivery %d: %w", id, err)
	}
	return d, nil
}

// Redeliver queues delivery id of subscription sub again, due now, with
// its attempts counted afresh, whatever its status; a running Dispatcher
// is woken to send it. It returns the delivery as queued.
func (s *Store) Redeliver(ctx context.Context, sub, id int64) (Delivery, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt = ?, delivered_at = NULL
		WHERE id = ? AND subscription = ?`, fmtTime(s.now()), id, sub)
	if err != nil {
		return Delivery{}, fmt.Errorf("alert: redeliver %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return Delivery{}, guarantor.Errorf(guarantor.ENotFound, "delivery", "webhook %d has no delivery %d", sub, id)
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return s.Delivery(ctx, sub, id)
}

// revision is an obligation revision read from the log.
type revision struct {
	index uint64
	o     *entry.Obligation
}

// cursor returns the index of the next log entry to follow.
func (s *Store) cursor(ctx context.Context) (uint64, error) {
	var next int64
	if err := s.db.QueryRowContext(ctx, "SELECT next_index FROM cursor").Scan(&next); err != nil {
		return 0, fmt.Errorf("alert: read cursor: %w", err)
	}
	return uint64(next), nil
}

// follow records, in one transaction, the events the revisions raise (and
// their deliveries), the watch on obligations still open, and next as the
// cursor: a crash leaves either all or none of it.
func (s *Store) follow(ctx context.Context, revs []revision, next uint64, now time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, r := range revs {
			for _, ev := range revisionEvents(r.o, r.index) {
				if err := emit(ctx, tx, ev, now); err != nil {
					return err
				}
			}
			if r.o.Status != entry.ObligationOpen {
				if _, err := tx.ExecContext(ctx, "DELETE FROM watch WHERE obligation = ?", int64(r.o.ID)); err != nil {
					return fmt.Errorf("alert: unwatch obligation %d: %w", r.o.ID, err)
				}
				continue
			}
			b, err := json.Marshal(r.o)
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO watch (obligation, who, due_at, deadline, log_index, revision) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (obligation) DO UPDATE SET who = excluded.who, due_at = excluded.due_at, deadline = excluded.deadline,
				log_index = excluded.log_index, revision = excluded.revision`,
				int64(r.o.ID), r.o.Who, fmtTime(DueAt(r.o.Opened, r.o.Deadline)), fmtTime(r.o.Deadline), int64(r.index), b)
			if err != nil {
				return fmt.Errorf("alert: watch obligation %d: %w", r.o.ID, err)
			}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE cursor SET next_index = ?", int64(next)); err != nil {
			return fmt.Errorf("alert: move cursor: %w", err)
		}
		return nil
	})
}

// emit records ev unless an event with its id was emitted before, and
// then queues a delivery, due now, to every subscription following its
// debtor.
func emit(ctx context.Context, tx *sql.Tx, ev event, now time.Time) error {
	p := ev.payload
	res, err := tx.ExecContext(ctx, `INSERT INTO events (id, type, obligation, who, log_index, created) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`, p.ID, p.Event, int64(p.Obligation.ID), ev.who, int64(p.LogIndex), fmtTime(now))
	if err != nil {
		return fmt.Errorf("alert: record event %s: %w", p.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err
	}
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO deliveries (subscription, event, type, payload, attempts, next_attempt, status, created)
		SELECT id, ?, ?, ?, 0, ?, 'pending', ? FROM subscriptions WHERE who = ? OR who = '*'
		ON CONFLICT (subscription, event) DO NOTHING`, p.ID, p.Event, b, fmtTime(now), fmtTime(now), ev.who)
	if err != nil {
		return fmt.Errorf("alert: queue event %s: %w", p.ID, err)
	}
	return nil
}

// dueSoon emits the due-soon event of every watched obligation whose
// due-soon moment has come by now and whose deadline has not, and stops
// watching those and the ones past their deadline (the engine will settle
// them as missed). It returns how many events it emitted.
func (s *Store) dueSoon(ctx context.Context, now time.Time) (int, error) {
	n := 0
	err := s.tx(ctx, func(tx *sql.Tx) error {
		n = 0
		rows, err := tx.QueryContext(ctx, "SELECT obligation, who, deadline, log_index, revision FROM watch WHERE due_at <= ? ORDER BY due_at, obligation", fmtTime(now))
		if err != nil {
			return err
		}
		type due struct {
			id       int64
			who      string
			deadline string
			index    int64
			rev      []byte
		}
		var list []due
		for rows.Next() {
			var d due
			if err := rows.Scan(&d.id, &d.who, &d.deadline, &d.index, &d.rev); err != nil {
				rows.Close()
				return err
			}
			list = append(list, d)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		for _, d := range list {
			if d.deadline > fmtTime(now) {
				var o entry.Obligation
				if err := json.Unmarshal(d.rev, &o); err != nil {
					return fmt.Errorf("watched obligation %d: %w", d.id, err)
				}
				ev := event{payload: Payload{Event: EventDueSoon, ID: dueSoonID(o.ID), Obligation: o, LogIndex: uint64(d.index)}, who: d.who}
				if err := emit(ctx, tx, ev, now); err != nil {
					return err
				}
				n++
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM watch WHERE obligation = ?", d.id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("alert: due-soon check: %w", err)
	}
	return n, nil
}

// job is a delivery due to be sent, with where to and the key to sign
// it.
type job struct {
	id       int64
	sub      int64
	typ      string
	payload  []byte
	attempts int
	url      string
	secret   string
}

// due returns at most limit pending deliveries due by now, the earliest
// first.
func (s *Store) due(ctx context.Context, now time.Time, limit int) ([]job, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT d.id, d.subscription, d.type, d.payload, d.attempts, s.url, s.secret
		FROM deliveries d JOIN subscriptions s ON s.id = d.subscription
		WHERE d.status = 'pending' AND d.next_attempt <= ? ORDER BY d.next_attempt, d.id LIMIT ?`, fmtTime(now), limit)
	if err != nil {
		return nil, fmt.Errorf("alert: read due deliveries: %w", err)
	}
	defer rows.Close()
	var jobs []job
	for rows.Next() {
		var j job
		if err := rows.Scan(&j.id, &j.sub, &j.typ, &j.payload, &j.attempts, &j.url, &j.secret); err != nil {
			return nil, fmt.Errorf("alert: read due deliveries: %w", err)
		}
		jobs = append(jobs, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("alert: read due deliveries: %w", err)
	}
	return jobs, nil
}

// outcome is the result of one attempt at a delivery.
type outcome struct {
	status     string     // StatusPending (retry), StatusDelivered or StatusFailed
	next       *time.Time // the next attempt, when pending
	statusCode int        // 0: no answer
	err        string
	at         time.Time
}

// attempted records one more attempt at delivery id and its outcome. A
// delivery deleted (with its subscription) or redelivered meanwhile is
// left alone: the attempt counted is the one it was sent as.
func (s *Store) attempted(ctx context.Context, id int64, attempts int, o outcome) error {
	var next, delivered any
	if o.next != nil {
		next = fmtTime(*o.next)
	}
	if o.status == StatusDelivered {
		delivered = fmtTime(o.at)
	}
	_, err := s.db.ExecContext(ctx, `UPDATE deliveries SET attempts = attempts + 1, status = ?, next_attempt = ?, last_status_code = ?, last_error = ?, delivered_at = ?
		WHERE id = ? AND attempts = ? AND status = 'pending'`, o.status, next, o.statusCode, o.err, delivered, id, attempts)
	if err != nil {
		return fmt.Errorf("alert: record attempt at delivery %d: %w", id, err)
	}
	return nil
}
