package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guarantor/guarantor"
)

// frontend is one server of a cluster under test: a serve command line
// that can be started, killed with SIGKILL and started again. Each start
// listens on a fresh port. Only the test goroutine starts and stops it.
type frontend struct {
	name  string
	data  string   // its data directory
	flags []string // serve flags besides --data, --addr and --log-level

	srv    *server // nil while down
	client *client // for the current start
	starts int
}

// cluster runs frontends and hands their clients to load goroutines,
// round robin over those that are up.
type cluster struct {
	t         *testing.T
	frontends []*frontend

	mu      sync.Mutex
	up      map[*frontend]bool
	changed chan struct{} // closed and replaced whenever a frontend starts or stops
	next    atomic.Uint64 // round robin

	restarts []time.Duration   // how long each restart took, until healthy
	names    map[string]string // URL -> "name#start", for messages
}

func newCluster(t *testing.T, frontends ...*frontend) *cluster {
	c := &cluster{t: t, frontends: frontends, up: map[*frontend]bool{}, changed: make(chan struct{}), names: map[string]string{}}
	t.Cleanup(func() {
		for _, f := range c.frontends {
			if f.srv != nil {
				f.srv.kill(t)
				f.srv = nil
			}
		}
	})
	return c
}

// httpClient returns a client for base whose connection pool fits the
// load's concurrency.
func httpClient(base string) *client {
	c := newClient(base)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 128
	c.http = &http.Client{Timeout: 30 * time.Second, Transport: tr}
	return c
}

// start starts f, waits until it answers /healthz and lets the load use
// it. It returns how long that took.
func (c *cluster) start(f *frontend) time.Duration {
	c.t.Helper()
	if f.srv != nil {
		c.t.Fatalf("frontend %s is already up", f.name)
	}
	began := time.Now()
	f.srv = startServer(c.t, f.data, f.flags...)
	f.client = httpClient(f.srv.url)
	f.starts++
	c.names[f.client.base] = fmt.Sprintf("%s#%d", f.name, f.starts)
	c.waitHealthy(f)
	took := time.Since(began)
	c.setUp(f, true)
	return took
}

// restart starts f again after a kill and records how long it took.
func (c *cluster) restart(f *frontend) {
	c.t.Helper()
	c.restarts = append(c.restarts, c.start(f))
}

// kill takes f out of the round robin, then kills it with SIGKILL and
// waits until it has exited.
func (c *cluster) kill(f *frontend) {
	c.t.Helper()
	c.setUp(f, false)
	f.srv.kill(c.t)
	f.srv = nil
	f.client.http.CloseIdleConnections()
}

// stop takes f out of the round robin and stops it with SIGTERM; it must
// exit cleanly.
func (c *cluster) stop(f *frontend) {
	c.t.Helper()
	c.setUp(f, false)
	f.srv.term(c.t)
	f.srv = nil
	f.client.http.CloseIdleConnections()
}

func (c *cluster) setUp(f *frontend, up bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.up[f] = up
	close(c.changed)
	c.changed = make(chan struct{})
}

// live returns how many frontends are up.
func (c *cluster) live() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, up := range c.up {
		if up {
			n++
		}
	}
	return n
}

// pick returns the client of the next frontend that is up, round robin,
// or nil when none is; changed is closed at the next start or stop.
func (c *cluster) pick() (cl *client, changed <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := uint64(len(c.frontends))
	for range n {
		f := c.frontends[c.next.Add(1)%n]
		if c.up[f] {
			return f.client, c.changed
		}
	}
	return nil, c.changed
}

// who names the frontend start that served base.
func (c *cluster) who(base string) string {
	if name, ok := c.names[base]; ok {
		return name
	}
	return base
}

// health is what /healthz says of a frontend.
type health struct {
	Status  string `json:"status"`
	Applied uint64 `json:"applied"`
	Engine  *struct {
		Pending int    `json:"pending"`
		Halted  string `json:"halted"`
	} `json:"engine"`
}

// getHealth reads /healthz, whatever its status code.
func getHealth(ctx context.Context, cl *client) (health, error) {
	var h health
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cl.base+"/healthz", nil)
	if err != nil {
		return h, err
	}
	resp, err := cl.http.Do(req)
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return h, fmt.Errorf("/healthz answered %s: %w", resp.Status, err)
	}
	return h, nil
}

// pollUntil calls cond every interval until it returns true, an error, or
// the deadline passes.
func pollUntil(ctx context.Context, within, interval time.Duration, cond func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var last error
	for {
		ok, err := cond(ctx)
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return errors.Join(fmt.Errorf("not within %s", within), last)
		case <-tick.C:
		}
	}
}

// waitHealthy polls f's /healthz until it answers ok.
func (c *cluster) waitHealthy(f *frontend) {
	c.t.Helper()
	err := pollUntil(context.Background(), 30*time.Second, 10*time.Millisecond, func(ctx context.Context) (bool, error) {
		h, err := getHealth(ctx, f.client)
		return err == nil && h.Status == "ok", err
	})
	if err != nil {
		c.t.Fatalf("frontend %s is not healthy: %v", f.name, err)
	}
}

// ack is one acknowledged submission.
type ack struct {
	raw     []byte
	rc      guarantor.Receipt
	created bool   // 201; false: 200, the entry was already logged
	by      string // the URL of the frontend that acknowledged it
}

// load submits pre-signed notes to a cluster at a steady rate, retrying
// each failed submission with the same bytes until it is acknowledged.
type load struct {
	notes  [][]byte
	next   atomic.Int64 // the next note to send
	tokens chan struct{}

	retries atomic.Int64 // failed attempts that were retried

	mu   sync.Mutex
	acks []ack
	grew chan struct{} // closed and replaced at every ack
	err  error         // the first submission that failed for good
}

func newLoad(notes [][]byte) *load {
	return &load{notes: notes, grew: make(chan struct{})}
}

// run starts workers goroutines that take a token, paced by a ticker at
// rate per second, before each new note. stop ends the load and waits
// for the workers; submissions in flight are abandoned.
func (l *load) run(c *cluster, workers int, rate float64) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	l.tokens = make(chan struct{}, max(1, int(rate/10)))
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			select {
			case l.tokens <- struct{}{}:
			default: // the workers are behind: the bucket is full
			}
		}
	})
	for range workers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-l.tokens:
				}
				i := int(l.next.Add(1)) - 1
				if i >= len(l.notes) {
					l.fail(fmt.Errorf("all %d pre-signed notes sent; sign more", len(l.notes)))
					return
				}
				l.deliver(ctx, c, l.notes[i])
			}
		})
	}
	return func() { cancel(); wg.Wait() }
}

// retryPause is how long a worker waits before retrying on a frontend
// that is still up (it answered 503, or its connection failed).
const retryPause = 20 * time.Millisecond

// deliver submits raw until some frontend acknowledges it or ctx ends. A
// refusal other than 429 and 5xx is a failure: the notes are valid.
func (l *load) deliver(ctx context.Context, c *cluster, raw []byte) {
	for {
		cl, changed := c.pick()
		if cl == nil {
			select {
			case <-changed:
				continue
			case <-ctx.Done():
				return
			}
		}
		rc, created, err := cl.submit(ctx, raw)
		if err == nil {
			l.record(ack{raw: raw, rc: *rc, created: created, by: cl.base})
			return
		}
		if ctx.Err() != nil {
			return
		}
		var p *problemError
		if errors.As(err, &p) && p.p.Status < 500 && p.p.Status != http.StatusTooManyRequests {
			l.fail(fmt.Errorf("%s refused a valid entry: %w", cl.base, err))
			return
		}
		l.retries.Add(1)
		select {
		case <-changed:
		case <-time.After(retryPause):
		case <-ctx.Done():
			return
		}
	}
}

func (l *load) record(a ack) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.acks = append(l.acks, a)
	close(l.grew)
	l.grew = make(chan struct{})
}

func (l *load) fail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		l.err = err
	}
}

// acked returns the acknowledgements so far and the first failure.
func (l *load) acked() ([]ack, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.acks, l.err
}

// waitAcks blocks until n entries are acknowledged, the load fails, or
// within passes.
func (l *load) waitAcks(n int, within time.Duration) error {
	timeout := time.After(within)
	for {
		l.mu.Lock()
		got, err, grew := len(l.acks), l.err, l.grew
		l.mu.Unlock()
		switch {
		case err != nil:
			return err
		case got >= n:
			return nil
		}
		select {
		case <-grew:
		case <-timeout:
			return fmt.Errorf("%d of %d acknowledgements after %s", got, n, within)
		}
	}
}

// guarantorCmd runs the guarantor binary and returns its stdout; a
// non-zero exit fails the test with both outputs.
func guarantorCmd(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("guarantor %v: %v\n%s%s", args, err, out, stderr)
	}
	return string(out)
}
