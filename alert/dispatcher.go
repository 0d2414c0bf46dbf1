package alert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
)

// Source is the projection the Dispatcher follows; node.Store is one.
type Source interface {
	// Applied returns how many log entries the projection holds.
	Applied(ctx context.Context) (uint64, error)
	// Records calls fn with every applied entry in [from, to), in log
	// order, decoded; it stops at fn's first error and returns it.
	Records(ctx context.Context, from, to uint64, fn func(node.Record) error) error
}

var _ Source = node.Store(nil)

// Config configures a Dispatcher. Store and Source are required; every
// other field is optional.
type Config struct {
	Store  *Store
	Source Source
	// Client sends the requests. Optional; the default follows no
	// redirects (a 3xx answer is a failed attempt).
	Client *http.Client
	// Now is the clock that decides due-soon events and backoff. Optional;
	// default time.Now.
	Now func() time.Time
	// Logger logs failures (never secrets nor payloads). Optional; default
	// slog.Default().
	Logger *slog.Logger
	// Poll is how often Run looks for new entries, due obligations and due
	// deliveries. Optional; default 1s.
	Poll time.Duration
	// Timeout bounds one request. Optional; default 10s.
	Timeout time.Duration
	// MinBackoff is the wait after the first failed attempt, doubled after
	// each further one up to MaxBackoff. Optional; defaults 1s and 1h.
	MinBackoff, MaxBackoff time.Duration
	// MaxAttempts is how many attempts a delivery gets before it fails.
	// Optional; default 16 (about seven hours with the default backoff).
	MaxAttempts int
	// Workers is how many requests are in flight at once. Optional;
	// default 4.
	Workers int
}

// Defaults of Config.
const (
	DefaultPoll        = time.Second
	DefaultTimeout     = 10 * time.Second
	DefaultMinBackoff  = time.Second
	DefaultMaxBackoff  = time.Hour
	DefaultMaxAttempts = 16
	DefaultWorkers     = 4
)

// followPage is how many log entries one transaction of the follower
// covers.
const followPage = 1024

// sendBatch is how many due deliveries one round reads at once.
const sendBatch = 64

// maxErrorLength bounds the error text kept for an attempt.
const maxErrorLength = 512

// Dispatcher follows the projection, emits events and sends deliveries.
type Dispatcher struct {
	cfg Config
}

// NewDispatcher checks cfg and fills in its defaults.
func NewDispatcher(cfg Config) (*Dispatcher, error) {
	if cfg.Store == nil || cfg.Source == nil {
		return nil, errors.New("alert: a dispatcher needs a Store and a Source")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		return nil, fmt.Errorf("alert: MaxBackoff %s is less than MinBackoff %s", cfg.MaxBackoff, cfg.MinBackoff)
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{
			Timeout: cfg.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	return &Dispatcher{cfg: cfg}, nil
}

// Run calls Step every Poll interval, or sooner when a redelivery is
// queued, until ctx is done; then it returns nil, once no request is in
// flight. A failing Step is logged and tried again at the next round.
func (d *Dispatcher) Run(ctx context.Context) error {
	t := time.NewTicker(d.cfg.Poll)
	defer t.Stop()
	for {
		if err := d.Step(ctx); err != nil && ctx.Err() == nil {
			d.cfg.Logger.ErrorContext(ctx, "alert dispatcher", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-d.cfg.Store.wake:
		}
	}
}

// Step does one round: it follows the projection up to its end, emits
// the due-soon events that have come, and sends every delivery due, each
// at most once. It returns when all of that is done.
func (d *Dispatcher) Step(ctx context.Context) error {
	err := d.Follow(ctx)
	if _, e := d.cfg.Store.dueSoon(ctx, d.cfg.Now()); e != nil {
		err = errors.Join(err, e)
	}
	return errors.Join(err, d.send(ctx))
}

// Follow reads the projection from where it last stopped to its end and
// records the events of every obligation revision in it. Each page of
// entries is recorded together with the new position, so a restart
// neither repeats nor skips one. (Records decodes every entry, not only
// obligations: the cost is paid once per entry.)
func (d *Dispatcher) Follow(ctx context.Context) error {
	st := d.cfg.Store
	next, err := st.cursor(ctx)
	if err != nil {
		return err
	}
	applied, err := d.cfg.Source.Applied(ctx)
	if err != nil {
		return fmt.Errorf("alert: read the projection's size: %w", err)
	}
	for next < applied {
		to := min(applied, next+followPage)
		var revs []revision
		err := d.cfg.Source.Records(ctx, next, to, func(r node.Record) error {
			if r.Kind != entry.KindObligation || r.Rejected != "" {
				return nil
			}
			o, ok := r.Body.(*entry.Obligation)
			if !ok {
				return fmt.Errorf("alert: obligation entry %d has a %T body", r.Index, r.Body)
			}
			revs = append(revs, revision{index: r.Index, o: o})
			return nil
		})
		if err != nil {
			return fmt.Errorf("alert: read entries [%d, %d): %w", next, to, err)
		}
		if err := st.follow(ctx, revs, to, d.cfg.Now()); err != nil {
			return err
		}
		next = to
	}
	return nil
}

// send sends the deliveries due until none is due: the deliveries of one
// subscription one after the other, in the order their events were
// emitted, those of Workers subscriptions at once.
func (d *Dispatcher) send(ctx context.Context) error {
	for ctx.Err() == nil {
		jobs, err := d.cfg.Store.due(ctx, d.cfg.Now(), sendBatch)
		if err != nil {
			return err
		}
		if len(jobs) == 0 {
			return nil
		}
		var groups [][]job
		at := map[int64]int{} // subscription -> its group
		for _, j := range jobs {
			g, ok := at[j.sub]
			if !ok {
				g = len(groups)
				at[j.sub] = g
				groups = append(groups, nil)
			}
			groups[g] = append(groups[g], j)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var errs error
		sem := make(chan struct{}, d.cfg.Workers)
		for _, g := range groups {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				for _, j := range g {
					if err := d.deliver(ctx, j); err != nil {
						mu.Lock()
						errs = errors.Join(errs, err)
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		if errs != nil {
			return errs
		}
		if len(jobs) < sendBatch {
			return nil
		}
	}
	return nil
}

// deliver makes one attempt at j and records its outcome. An attempt cut
// short because ctx ended is not recorded: the delivery stays due.
func (d *Dispatcher) deliver(ctx context.Context, j job) error {
	rctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, j.url, bytes.NewReader(j.payload))
	var code int
	var errText string
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "guarantor-webhook/1")
		req.Header.Set(HeaderEvent, j.typ)
		req.Header.Set(HeaderDelivery, strconv.FormatInt(j.id, 10))
		req.Header.Set(HeaderSignature, Sign(j.secret, j.payload))
		var resp *http.Response
		resp, err = d.cfg.Client.Do(req)
		if err == nil {
			// Drain a little so the connection can be reused; the answer's
			// body is never kept.
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
			code = resp.StatusCode
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		// A *url.Error repeats the URL, which may carry a token in its
		// query: keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		errText = err.Error()
		if len(errText) > maxErrorLength {
			errText = errText[:maxErrorLength]
		}
	} else if code < 200 || code > 299 {
		errText = http.StatusText(code)
		if errText == "" {
			errText = "status " + strconv.Itoa(code)
		}
	}
	now := d.cfg.Now()
	o := outcome{statusCode: code, err: errText, at: now}
	switch {
	case errText == "":
		o.status = StatusDelivered
	case j.attempts+1 >= d.cfg.MaxAttempts:
		o.status = StatusFailed
		d.cfg.Logger.WarnContext(ctx, "webhook delivery failed for good", "subscription", j.sub, "delivery", j.id, "attempts", j.attempts+1, "status", code, "err", errText)
	default:
		o.status = StatusPending
		next := now.Add(d.Backoff(j.attempts + 1))
		o.next = &next
	}
	return d.cfg.Store.attempted(ctx, j.id, j.attempts, o)
}

// Backoff returns the wait after the given number of failed attempts
// (1 or more): MinBackoff, doubled for each attempt after the first, at
// most MaxBackoff.
func (d *Dispatcher) Backoff(failed int) time.Duration {
	b := d.cfg.MinBackoff
	for i := 1; i < failed && b < d.cfg.MaxBackoff; i++ {
		b *= 2
	}
	return min(b, d.cfg.MaxBackoff)
}
