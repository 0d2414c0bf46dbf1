package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/engine"
	"github.com/guarantor/guarantor/entry"
	"golang.org/x/mod/sumdb/note"
)

// EngineConfig turns on the engine: the node feeds it every accepted
// entry in log order, signs what it derives with Signer and appends it to
// the log, and appends a tick every TickEvery.
type EngineConfig struct {
	// Rules is the engine's configuration (engine.DefaultConfig()).
	Rules engine.Config
	// Signer is the engine key; its key entry must be in the log.
	Signer note.Signer
	// TickEvery is how often, by the wall clock, a tick entry is appended.
	// Zero means every minute; negative, never (tests).
	TickEvery time.Duration

	// Lease, if set, decides which of several servers sharing one log
	// writes: each runs the engine over the log and checks what the
	// writer appends, but only the holder of the lease appends derived
	// entries and ticks. Optional: nil means this server always writes.
	Lease Lease
}

// Lease is a write lease shared by the servers of one log. Acquire blocks
// until the caller holds it (or ctx ends) and returns a context that ends
// when the lease is lost, and a function that gives it up.
type Lease interface {
	Acquire(ctx context.Context) (held context.Context, release func(), err error)
}

// engineRunner drives the engine inside a node: the follower feeds it,
// a writer appends its derived entries, a scheduler appends ticks.
type engineRunner struct {
	cfg    EngineConfig
	logger interface {
		Error(msg string, args ...any)
	}

	mu        sync.Mutex
	rep       *engine.Replayer
	halted    error  // the first divergence; the engine stops there
	submitted uint64 // derived seqs below this were handed to the log
	wake      chan struct{}
	deadlines chan struct{} // signalled when obligations open
}

func newEngineRunner(cfg EngineConfig, logger interface{ Error(string, ...any) }) *engineRunner {
	if cfg.TickEvery == 0 {
		cfg.TickEvery = time.Minute
	}
	return &engineRunner{cfg: cfg, logger: logger, rep: engine.NewReplayer(cfg.Rules), wake: make(chan struct{}, 1), deadlines: make(chan struct{}, 1)}
}

// feed gives the engine one applied record. Records must come in log
// order, each exactly once.
func (r *engineRunner) feed(rec Record, m *Metrics) {
	if rec.Rejected != "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.halted != nil {
		return
	}
	text := ""
	if entry.Derived(rec.Kind) {
		e, err := entry.Parse(rec.Raw)
		if err != nil {
			r.halt(fmt.Errorf("engine: derived entry %d does not parse: %w", rec.Index, err), m)
			return
		}
		text = e.Text
	}
	in := engine.Input{Index: rec.Index, LeafHash: rec.LeafHash, Kind: rec.Kind, Signers: rec.Signers, Body: rec.Body}
	out, err := r.rep.Next(in, text)
	if err != nil {
		r.halt(err, m)
		return
	}
	if len(out) > 0 {
		select {
		case r.wake <- struct{}{}:
		default:
		}
		for _, d := range out {
			if d.Kind == entry.KindObligation {
				select {
				case r.deadlines <- struct{}{}:
				default:
				}
				break
			}
		}
	}
	m.setEngine(r.rep.Engine().Seq(), r.rep.Matched(), r.rep.Engine().Open())
}

func (r *engineRunner) halt(err error, m *Metrics) {
	r.halted = err
	r.logger.Error("engine halted: the log no longer replays as this engine runs it; derived entries are no longer written", "err", err)
	m.setEngineHalted()
}

// nextDeadline returns the earliest deadline of an open obligation.
func (r *engineRunner) nextDeadline() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rep.Engine().NextDeadline()
}

// hasPledge reports whether the contributor made the pledge, as far as
// the engine has applied the log.
func (r *engineRunner) hasPledge(contributor, id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rep.Engine().HasPledge(contributor, id)
}

// checkSighting says why a sighting would confirm nothing, as far as the
// engine has applied the log.
func (r *engineRunner) checkSighting(c *entry.Confirmation, at time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rep.Engine().CheckSighting(c.Contributor, c.Deployment, at)
}

// Halted returns why the engine stopped, or nil while it runs.
func (r *engineRunner) Halted() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.halted
}

// resubmit forgets which derived entries were handed to the log: a new
// writer appends every pending one not yet found in the log.
func (r *engineRunner) resubmit() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.submitted = 0
}

// lead writes the engine's entries and ticks until ctx ends: always
// without a lease, else whenever this server holds it.
func (n *Node) lead(ctx context.Context) {
	run := func(ctx context.Context) {
		var wg sync.WaitGroup
		wg.Go(func() { n.write(ctx) })
		if n.engine.cfg.TickEvery > 0 {
			wg.Go(func() { n.tick(ctx) })
		}
		wg.Wait()
	}
	lease := n.engine.cfg.Lease
	if lease == nil {
		run(ctx)
		return
	}
	for ctx.Err() == nil {
		held, release, err := lease.Acquire(ctx)
		if err != nil {
			return // ctx ended
		}
		n.cfg.Logger.Info("engine lease taken: this server writes the engine's entries")
		n.leading.Store(true)
		// What the previous holder wrote must be applied first, so that
		// it is matched rather than written again.
		err = n.catchUp(held)
		if err == nil {
			n.engine.resubmit()
			run(held)
		}
		n.leading.Store(false)
		release()
		if err != nil && ctx.Err() == nil {
			// Let the lease go to a server that can read the log, and try
			// again a little later.
			n.cfg.Logger.Error("engine lease: catch up with the log before writing", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
		if ctx.Err() == nil {
			n.cfg.Logger.Warn("engine lease lost: another server may write the engine's entries now")
		}
	}
}

// Leading reports whether this server writes the engine's entries: it
// runs an engine and, where servers share the log, holds the lease.
func (n *Node) Leading() bool {
	return n.engine != nil && (n.engine.cfg.Lease == nil || n.leading.Load())
}

// next returns the derived entries to append next: at most one window,
// in seq order, not handed to the log before.
func (r *engineRunner) next() []engine.Derived {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.halted != nil {
		return nil
	}
	var out []engine.Derived
	for _, d := range r.rep.Pending() {
		if d.Seq >= r.submitted && len(out) < engine.Window {
			out = append(out, d)
		}
	}
	return out
}

// write appends derived entries until ctx ends, in seq order, one window
// at a time, each window integrated before the next is added. Tessera
// sequences entries in the order they are handed to it, so they land in
// seq order; its documentation does not promise that within a batch,
// which is why replay tolerates disorder within a window and no more.
func (n *Node) write(ctx context.Context) {
	r := n.engine
	for {
		batch := r.next()
		if len(batch) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-r.wake:
				continue
			}
		}
		// Each entry is handed to the log before the next is submitted, so
		// they are sequenced in seq order; their receipts are awaited
		// together.
		errs := make([]error, len(batch))
		var wg sync.WaitGroup
		for i, d := range batch {
			raw, err := note.Sign(&note.Note{Text: d.Text}, r.cfg.Signer)
			if err != nil {
				errs[i] = err
				continue
			}
			handed := make(chan struct{})
			wg.Go(func() {
				_, errs[i] = n.submit(ctx, raw, func() { close(handed) }, true)
			})
			<-handed
		}
		wg.Wait()
		if ctx.Err() != nil {
			return
		}
		if err := errors.Join(errs...); err != nil {
			// Busy logs clear; anything else is logged and retried, since
			// the engine's word must reach the log.
			n.cfg.Logger.Error("append derived entries; retrying", "first_seq", batch[0].Seq, "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		r.mu.Lock()
		r.submitted = batch[len(batch)-1].Seq + 1
		r.mu.Unlock()
	}
}

// tick appends a tick entry every TickEvery, and just after each open
// obligation's deadline, until ctx ends.
func (n *Node) tick(ctx context.Context) {
	r := n.engine
	last := n.cfg.Now()
	for {
		due := last.Add(r.cfg.TickEvery)
		if d := r.nextDeadline(); !d.IsZero() && d.Add(time.Second).Before(due) {
			due = d.Add(time.Second) // ticks carry whole seconds
		}
		timer := time.NewTimer(max(0, due.Sub(n.cfg.Now())))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-r.deadlines:
			timer.Stop()
			continue // a new obligation: recompute when to tick
		case <-timer.C:
		}
		// Tick returns once the tick is applied, so the engine has settled
		// what it made due before the next deadline is asked for.
		if _, err := n.Tick(ctx); err != nil && ctx.Err() == nil {
			n.cfg.Logger.Error("append tick", "err", err)
		}
		last = n.cfg.Now()
	}
}

// Tick appends a tick entry at the wall clock's current second, signed by
// the engine key, and returns its receipt.
func (n *Node) Tick(ctx context.Context) (*Result, error) {
	if n.engine == nil {
		return nil, guarantor.Errorf(guarantor.EUnsupported, "", "this node runs no engine")
	}
	body, err := entry.MarshalBody(entry.Tick{At: n.cfg.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return nil, err
	}
	raw, err := entry.Sign(entry.KindTick, body, n.engine.cfg.Signer)
	if err != nil {
		return nil, err
	}
	return n.Submit(ctx, raw)
}

// EngineStatus says how far the engine has got.
type EngineStatus struct {
	Seq     uint64 // the next derived seq
	Matched uint64 // derived entries found in the log and checked
	Pending int    // derived entries emitted, not yet in the log
	Open    int    // open incidents
	// OpenObligations counts obligations not yet settled; NextDeadline is
	// the earliest of their deadlines (zero when none is open).
	OpenObligations int
	NextDeadline    time.Time
	Halted          error // why the engine stopped, if it did
}

// Engine reports the engine's state; ok is false when the node runs none.
func (n *Node) Engine() (st EngineStatus, ok bool) {
	if n.engine == nil {
		return st, false
	}
	r := n.engine
	r.mu.Lock()
	defer r.mu.Unlock()
	eng := r.rep.Engine()
	return EngineStatus{Seq: eng.Seq(), Matched: r.rep.Matched(), Pending: r.rep.PendingCount(), Open: eng.Open(),
		OpenObligations: eng.OpenObligations(), NextDeadline: eng.NextDeadline(), Halted: r.halted}, true
}

// WaitDerived blocks until every derived entry the engine has emitted
// for the entries applied so far is in the log and applied, or the engine
// halted. Tests and the demo use it to wait for the engine to settle.
func (n *Node) WaitDerived(ctx context.Context) error {
	for {
		st, ok := n.Engine()
		if !ok {
			return nil
		}
		if st.Halted != nil {
			return st.Halted
		}
		if st.Pending == 0 {
			return nil
		}
		n.appliedMu.Lock()
		ch := n.appliedCh
		n.appliedMu.Unlock()
		if st2, _ := n.Engine(); st2.Pending == 0 || st2.Matched != st.Matched {
			continue
		}
		select {
		case <-ch:
		case <-n.stopped:
			return errors.New("node stopped while derived entries were pending")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
