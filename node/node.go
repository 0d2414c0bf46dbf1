// Package node is one guarantor server process without its transport: the
// transparency log, the live key registry, the projection, and the intake
// that decides what may enter the log and acknowledges it only once it is
// durable and published.
//
// Intake rules, in order: parse the note strictly; validate the body
// against its kind's schema; deduplicate by leaf hash (identical bytes are
// the same entry); check every signature, role, validity window and
// revocation against the registry; refuse a second observation with the
// same id from the same signer; then append, wait until a published
// checkpoint covers the entry, and return a receipt.
//
// Registry changes (key and revocation entries) are serialised against
// every other entry: while one is in flight no other entry is checked, and
// it takes effect before the next check. So the order in which entries
// were checked is an order the log can replay, even though Tessera does
// not order entries within a batch.
package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/engine/agreement"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/ledger"
	"github.com/guarantor/guarantor/registry"
	"github.com/transparency-dev/tessera"
)

// Config configures a Node. Log, Store and AuthorityVKey are required.
type Config struct {
	Log           *ledger.Log
	Store         Store
	AuthorityVKey string

	// Logger receives operational logs. Optional. Default slog.Default().
	Logger *slog.Logger

	// Now is the wall clock, used only to refuse entries that claim a
	// time too far in the future. Optional. Default time.Now.
	Now func() time.Time

	// MaxClockSkew is how far in the future an entry's claimed time may
	// be. Optional. Default 10 minutes.
	MaxClockSkew time.Duration

	// Metrics receives intake metrics. Optional.
	Metrics *Metrics

	// Evidence, if set, holds the blobs observations may cite: an
	// observation naming evidence it lacks is refused. Optional.
	Evidence interface {
		Has(ctx context.Context, sha256 string) (bool, error)
	}

	// Engine, if set, runs the engine over the log (see EngineConfig).
	// Optional: without it the node logs and projects entries only.
	Engine *EngineConfig

	// Exchange, if set, is the neutral verifier's service of prisoner
	// exchanges on this server: an exchange-list or exchange-manifest part
	// is accepted only if it is exactly a part the service drafted (from
	// the party's upload; from the verifier's reconciliation). Optional.
	Exchange interface {
		CheckList(ctx context.Context, b *entry.ExchangeList) error
		CheckManifest(ctx context.Context, b *entry.ExchangeManifest) error
	}

	// Disk, if set, reports whether the disks under the log and the
	// projection can take more entries: nil, or an error wrapping
	// syscall.ENOSPC (full, or below a reserve kept for the entries in
	// flight) or syscall.EROFS (read-only). It must be cheap: Submit asks
	// it before handing each entry to the log, and refuses the entry with
	// EUnavailable while it fails; the node also asks it every quarter
	// second, and answers requests still waiting for their entries with
	// EUnavailable once a fault has lasted a few seconds. Optional.
	// Default: no check, so a full disk is met only when Tessera fails a
	// batch (refused the same way), and a read-only one panics Tessera.
	Disk func() error
}

// Node is a running server core. Its methods are safe for concurrent use.
type Node struct {
	cfg   Config
	log   *ledger.Log
	store Store

	// compiled caches LatestAgreement's compilations by the log index of
	// the agreement entry.
	compiledMu sync.Mutex
	compiled   map[uint64]*agreement.Compiled

	regMu sync.RWMutex
	reg   *registry.Registry
	// regVersion counts changes to reg. An entry checked at one version
	// and applied at another must be checked again: another server
	// sharing the log changed the registry in between.
	regVersion atomic.Uint64

	seen *seenFilter // leaf hashes and observation keys in the store

	disk diskWatch // what Config.Disk last said

	// gate serialises registry changes against every other entry's check.
	gate sync.RWMutex

	mu          sync.Mutex
	inflight    map[string]*pending // by leaf hash
	obsInflight map[string]string   // signer NUL id -> leaf hash
	keyPending  map[string]int      // key id -> key entries in flight

	applied   atomic.Uint64
	appliedMu sync.Mutex
	appliedCh chan struct{} // closed and replaced whenever applied grows
	nudge     chan struct{}

	stop     context.CancelFunc
	stopped  chan struct{}
	followMu sync.Mutex // one catch-up at a time

	engine  *engineRunner // nil without Config.Engine
	leading atomic.Bool   // holds the engine's lease (EngineConfig.Lease)
	workers sync.WaitGroup
}

// pending is an entry handed to the log whose fate is not yet settled.
type pending struct {
	done    chan struct{}
	index   uint64
	err     error
	entry   *entry.Entry
	body    any
	signers []string
	// regVersion is the registry's version when the entry was checked.
	regVersion uint64

	// What the follower found, under Node.mu: the index where these
	// bytes were first accepted (-1: not yet), or why the entry was not.
	acceptedAt int64
	rejected   string
}

// New restores the registry from the store, brings the store up to the
// log's integrated size, and starts following the log. Close it.
func New(ctx context.Context, cfg Config) (*Node, error) {
	if cfg.Log == nil || cfg.Store == nil || cfg.AuthorityVKey == "" {
		return nil, errors.New("node: Config.Log, Config.Store and Config.AuthorityVKey are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxClockSkew == 0 {
		cfg.MaxClockSkew = 10 * time.Minute
	}
	reg, err := registry.New(cfg.AuthorityVKey)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	n := &Node{
		cfg: cfg, log: cfg.Log, store: cfg.Store, reg: reg,
		inflight:    make(map[string]*pending),
		obsInflight: make(map[string]string),
		keyPending:  make(map[string]int),
		appliedCh:   make(chan struct{}),
		nudge:       make(chan struct{}, 1),
		stopped:     make(chan struct{}),
	}
	if err := n.restore(ctx); err != nil {
		return nil, err
	}
	if n.seen, err = newSeenFilter(ctx, n.store, n.applied.Load()); err != nil {
		return nil, err
	}
	if cfg.Engine != nil {
		if cfg.Engine.Signer == nil {
			return nil, errors.New("node: Config.Engine.Signer is required")
		}
		n.engine = newEngineRunner(*cfg.Engine, cfg.Logger)
		// The engine keeps its state in memory: run it over everything
		// the projection already holds.
		err := n.store.Records(ctx, 0, n.applied.Load(), func(rec Record) error {
			n.engine.feed(rec, cfg.Metrics)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("node: run the engine over the projection: %w", err)
		}
	}
	if err := n.catchUp(ctx); err != nil {
		return nil, fmt.Errorf("node: catch up with the log: %w", err)
	}
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	n.stop = cancel
	go n.follow(fctx)
	if cfg.Disk != nil {
		n.workers.Go(func() { n.watchDisk(fctx) })
	}
	if n.engine != nil {
		n.workers.Go(func() { n.lead(fctx) })
	}
	return n, nil
}

func (n *Node) restore(ctx context.Context) error {
	applied, err := n.store.Applied(ctx)
	if err != nil {
		return fmt.Errorf("node: read projection state: %w", err)
	}
	keys, err := n.store.Keys(ctx)
	if err != nil {
		return fmt.Errorf("node: read keys from projection: %w", err)
	}
	reg, err := registry.New(n.cfg.AuthorityVKey)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	for _, k := range keys {
		if err := reg.Restore(k); err != nil {
			return fmt.Errorf("node: %w", err)
		}
	}
	n.regMu.Lock()
	n.reg = reg
	n.regVersion.Add(1)
	n.regMu.Unlock()
	n.setApplied(applied)
	return nil
}

// Close stops following the log. It does not close the log or the store,
// which the caller opened.
func (n *Node) Close() {
	n.stop()
	<-n.stopped
	n.workers.Wait()
}

// Result is the outcome of a successful Submit.
type Result struct {
	Receipt guarantor.Receipt
	// Created is false when the same bytes were already in the log (or in
	// flight): the receipt then names the original index.
	Created bool
	Kind    entry.Kind
}

// Submit decides whether raw may enter the log and, if so, appends it and
// returns its receipt once a published checkpoint covers it. Errors are
// *guarantor.Error with a code and the field at fault; a rejected entry
// changes nothing.
func (n *Node) Submit(ctx context.Context, raw []byte) (*Result, error) {
	return n.submit(ctx, raw, nil, false)
}

// submit is Submit; handed, if set, is called exactly once, as soon as the
// entry has been handed to the log (or once it is clear it will not be:
// refused, or already logged), so that a caller can hand entries to the
// log in an order of its choosing without waiting for each receipt. With
// integrated, it returns once the entry is integrated and applied, with
// a receipt that carries only its index and leaf hash: the engine's writer
// needs no checkpoint, and waiting for one would cap its rate.
func (n *Node) submit(ctx context.Context, raw []byte, handed func(), integrated bool) (res *Result, err error) {
	if handed != nil {
		var once sync.Once
		f := handed
		handed = func() { once.Do(f) }
		defer handed()
	} else {
		handed = func() {}
	}
	start := time.Now()
	defer func() { n.cfg.Metrics.observeSubmit(res, err, time.Since(start)) }()

	e, err := entry.Parse(raw)
	if err != nil {
		return nil, err
	}
	var body any
	if integrated {
		body, err = e.DecodeValidated() // the engine's own output
	} else {
		body, err = e.Validate()
	}
	if err != nil {
		return nil, err
	}
	if at, ok := entry.Time(body); ok && at.After(n.cfg.Now().Add(n.cfg.MaxClockSkew)) {
		return nil, guarantor.Errorf(guarantor.EInvalid, "/observed_at", "time %s is in the future (more than %s ahead of the server clock)", at.Format(time.RFC3339), n.cfg.MaxClockSkew)
	}
	if err := n.checkEvidence(ctx, body); err != nil {
		return nil, err
	}
	switch b := body.(type) {
	case *entry.Verification:
		if err := n.checkVerified(ctx, b); err != nil {
			return nil, err
		}
	case *entry.Agreement:
		// Triggers, geometry and references are checked now, so that a
		// bad agreement never reaches the engine.
		if _, err := agreement.Compile(b); err != nil {
			return nil, err
		}
	case *entry.Amendment:
		if _, err := agreement.Compile(&b.Agreement); err != nil {
			if ge, ok := err.(*guarantor.Error); ok {
				ge.Field = "/agreement" + ge.Field
			}
			return nil, err
		}
	}
	leaf := guarantor.LeafHash(raw)

	p, owner := n.claim(string(leaf))
	if !owner {
		return n.awaitOther(ctx, p, leaf, e.Kind)
	}
	added := false
	defer func() {
		if !added {
			n.release(p, string(leaf), "", err)
		}
	}()

	if !n.seen.mayHaveLeaf(leaf) {
		// Certainly new.
	} else if idx, ok, err := n.store.IndexByLeafHash(ctx, leaf); err != nil {
		return nil, fmt.Errorf("node: look up leaf hash: %w", err)
	} else if ok {
		p.index = idx
		if integrated {
			return &Result{Receipt: guarantor.Receipt{Index: idx, LeafHash: leaf}, Created: false, Kind: e.Kind}, nil
		}
		rc, err := n.receipt(ctx, idx, leaf)
		if err != nil {
			return nil, err
		}
		return &Result{Receipt: *rc, Created: false, Kind: e.Kind}, nil
	}

	// Asked here, before the gate (a registry change stuck on the disk
	// would hold it), and again just before the entry is handed to the
	// log.
	if err := n.checkDisk(); err != nil {
		return nil, err
	}
	registryChange := e.Kind == entry.KindKey || e.Kind == entry.KindRevocation
	var keyID string
	if kb, ok := body.(*entry.KeyBody); ok {
		keyID, _ = entry.VKeyID(kb.VKey) // validated above
		n.mu.Lock()
		n.keyPending[keyID]++
		n.mu.Unlock()
		defer func() {
			n.mu.Lock()
			if n.keyPending[keyID]--; n.keyPending[keyID] <= 0 {
				delete(n.keyPending, keyID)
			}
			n.mu.Unlock()
		}()
	}
	unlockGate := n.lockGate(registryChange)
	defer func() {
		if !added {
			unlockGate()
		}
	}()

	n.regMu.RLock()
	regVersion := n.regVersion.Load()
	var signers []*registry.Key
	if integrated {
		signers, err = n.reg.CheckOwn(e, body)
	} else {
		signers, err = n.reg.Check(e, body)
	}
	n.regMu.RUnlock()
	if err != nil {
		if guarantor.ErrorCode(err) == guarantor.EUnknownKey {
			if id := n.pendingSigner(e); id != "" {
				return nil, guarantor.Errorf(guarantor.ETooEarly, "signature", "the key entry for %s is submitted but not yet integrated; resubmit after its receipt", id)
			}
		}
		return nil, err
	}
	if a, ok := body.(*entry.Amendment); ok {
		if err := n.checkAmendment(ctx, a, signers); err != nil {
			return nil, err
		}
	}
	if r, ok := body.(*entry.Response); ok {
		if err := n.checkResponse(ctx, r, signers); err != nil {
			return nil, err
		}
	}
	if err := n.checkExchange(ctx, body, signers); err != nil {
		return nil, err
	}
	if err := n.checkPatrol(ctx, body, signers); err != nil {
		return nil, err
	}
	if pl, ok := body.(*entry.Pledge); ok {
		if err := n.checkPledge(ctx, pl, signers); err != nil {
			return nil, err
		}
	}
	if o, ok := body.(*entry.Observation); ok && o.Confirms != nil && n.engine != nil {
		if err := n.engine.checkSighting(o.Confirms, o.ObservedAt); err != nil {
			return nil, guarantor.Errorf(guarantor.EInvalid, "/confirms", "%v", err)
		}
	}
	if d, ok := body.(*entry.Deployment); ok && n.engine != nil {
		for _, k := range signers {
			if !n.engine.hasPledge(string(k.Role), d.Pledge) {
				return nil, guarantor.Errorf(guarantor.EInvalid, "/pledge", "%s has made no pledge %q; report deployments of your own pledges", k.Role, d.Pledge)
			}
		}
	}
	ids := make([]string, 0, len(signers))
	for _, k := range signers {
		ids = append(ids, k.ID)
	}
	if len(ids) == 0 {
		ids = []string{entry.KeyID(e.Sigs[0].Name, e.Sigs[0].Hash)} // the authority
	}
	n.mu.Lock()
	p.entry, p.body, p.signers, p.regVersion = e, body, ids, regVersion
	n.mu.Unlock()

	obsKey := ""
	if ob, ok := body.(*entry.Observation); ok {
		obsKey = ids[0] + "\x00" + ob.ID
		if err := n.claimObservation(ctx, obsKey, string(leaf), ids[0], ob.ID); err != nil {
			return nil, err
		}
		defer func() {
			if !added {
				n.mu.Lock()
				delete(n.obsInflight, obsKey)
				n.mu.Unlock()
			}
		}()
	}

	if err := n.checkDisk(); err != nil {
		return nil, err
	}
	fut := n.log.Add(ctx, raw)
	added = true
	handed()
	go n.settle(p, fut, string(leaf), obsKey, unlockGate)

	wctx, stopWait := n.disk.bound(ctx)
	defer stopWait()
	select {
	case <-p.done:
	case <-wctx.Done():
		if context.Cause(wctx) == errDiskStalled {
			return nil, diskRefusal(n.disk.lastFault(), true)
		}
		return nil, guarantor.Errorf(guarantor.EUnavailable, "", "request ended before the entry was logged; it may still be: resubmit the same bytes to get its receipt")
	}
	if p.err != nil {
		return nil, p.err
	}
	if integrated {
		return &Result{Receipt: guarantor.Receipt{Index: p.index, LeafHash: leaf}, Created: true, Kind: e.Kind}, nil
	}
	rc, err := n.receipt(ctx, p.index, leaf)
	if err != nil {
		return nil, err
	}
	return &Result{Receipt: *rc, Created: true, Kind: e.Kind}, nil
}

// checkAmendment refuses an amendment that does not make the next
// version of a logged agreement, or whose signers fall short of the
// quorum the version it amends requires.
func (n *Node) checkAmendment(ctx context.Context, a *entry.Amendment, signers []*registry.Key) error {
	rows, err := n.store.Agreements(ctx)
	if err != nil {
		return fmt.Errorf("node: read agreements: %w", err)
	}
	var prior *entry.Agreement
	latest := 0
	for i := range rows {
		if d := &rows[i].Agreement; d.ID == a.Agreement.ID {
			latest = max(latest, d.Version)
			if d.Version == a.Agreement.Version-1 && prior == nil {
				prior = d
			}
		}
	}
	if latest == 0 {
		return guarantor.Errorf(guarantor.EInvalid, "/agreement/id", "no agreement %q is logged to amend", a.Agreement.ID)
	}
	if prior == nil || latest >= a.Agreement.Version {
		return guarantor.Errorf(guarantor.EConflict, "/agreement/version", "agreement %s is at version %d; an amendment makes version %d", a.Agreement.ID, latest, latest+1)
	}
	roles := make([]string, 0, len(signers))
	for _, k := range signers {
		roles = append(roles, string(k.Role))
	}
	if ok, missing := prior.Quorum(roles); !ok {
		return guarantor.Errorf(guarantor.EForbidden, "signature", "amending %s version %d needs the co-signature of %s", prior.ID, prior.Version, missing)
	}
	return nil
}

// checkResponse refuses an answer to an obligation that is not logged,
// not owed by the signer, or already settled for good (a missed
// obligation can still be fulfilled late).
func (n *Node) checkResponse(ctx context.Context, r *entry.Response, signers []*registry.Key) error {
	revs, err := n.store.Obligation(ctx, r.Obligation)
	if err != nil {
		return fmt.Errorf("node: look up obligation %d: %w", r.Obligation, err)
	}
	if len(revs) == 0 {
		return guarantor.Errorf(guarantor.EInvalid, "/obligation", "no obligation %d is logged; see GET /v1/obligations", r.Obligation)
	}
	o := revs[len(revs)-1].Obligation
	for _, k := range signers {
		if string(k.Role) != o.Who {
			return guarantor.Errorf(guarantor.EForbidden, "signature", "obligation %d is owed by %s; key %s has role %s", o.ID, o.Who, k.ID, k.Role)
		}
	}
	switch {
	case o.Status == entry.ObligationOpen:
	case o.Status == entry.ObligationMissed && r.Answer == entry.AnswerFulfilled:
	default:
		return guarantor.Errorf(guarantor.EConflict, "/answer", "obligation %d is %s; a %s answer changes nothing", o.ID, o.Status, r.Answer)
	}
	return nil
}

// checkPledge refuses a pledge to an agreement that is not logged, by a
// state that is not a member of its coalition, of a capability neither
// built in nor defined by it, for a sector it does not define, outside
// its period, or without the currency an economic capability needs.
func (n *Node) checkPledge(ctx context.Context, p *entry.Pledge, signers []*registry.Key) error {
	rows, err := n.store.Agreements(ctx)
	if err != nil {
		return fmt.Errorf("node: read agreements: %w", err)
	}
	var a *entry.Agreement
	for i := range rows {
		if d := &rows[i].Agreement; d.ID == p.Agreement && (a == nil || d.Version > a.Version) {
			a = d
		}
	}
	if a == nil {
		return guarantor.Errorf(guarantor.EInvalid, "/agreement", "no agreement %q is logged", p.Agreement)
	}
	if a.Coalition == "" {
		return guarantor.Errorf(guarantor.EInvalid, "/agreement", "agreement %s has no coalition to pledge to", a.ID)
	}
	members, _ := a.Debtors(a.Coalition)
	for _, k := range signers {
		if !slices.Contains(members, string(k.Role)) {
			return guarantor.Errorf(guarantor.EForbidden, "signature", "key %s has role %s, which is not a member of %s's coalition %s (%s)", k.ID, k.Role, a.ID, a.Coalition, strings.Join(members, ", "))
		}
	}
	c, ok := a.Capability(p.Capability)
	if !ok {
		return guarantor.Errorf(guarantor.EInvalid, "/capability", "capability %q is neither built in nor defined by agreement %s", p.Capability, a.ID)
	}
	if c.Economic && p.Currency == "" {
		return guarantor.Errorf(guarantor.EInvalid, "/currency", "%s is economic support: give the amount's currency (ISO 4217, e.g. EUR)", c.ID)
	}
	if !c.Economic && p.Currency != "" {
		return guarantor.Errorf(guarantor.EInvalid, "/currency", "%s is counted in %s, not in money", c.ID, c.Unit)
	}
	if _, ok := a.Convert(1, p.Currency, c.Unit); c.Economic && !ok {
		return guarantor.Errorf(guarantor.EInvalid, "/currency", "agreement %s declares no rate from %s to %s, the unit of %s: pledge in %s, or amend the agreement's rates", a.ID, p.Currency, c.Unit, c.ID, c.Unit)
	}
	known := false
	var zones []string
	for _, z := range a.Zones {
		zones = append(zones, z.ID)
		known = known || z.ID == p.Sector
	}
	if !known {
		return guarantor.Errorf(guarantor.EInvalid, "/sector", "sector %q is not a zone of agreement %s (%s)", p.Sector, a.ID, strings.Join(zones, ", "))
	}
	if p.From.Before(a.Effective) || (a.Expires != nil && p.To.After(*a.Expires)) {
		end := "open-ended"
		if a.Expires != nil {
			end = a.Expires.Format(time.RFC3339)
		}
		return guarantor.Errorf(guarantor.EInvalid, "/from", "the pledge's period %s to %s lies outside agreement %s's, %s to %s", p.From.Format(time.RFC3339), p.To.Format(time.RFC3339), a.ID, a.Effective.Format(time.RFC3339), end)
	}
	return nil
}

// checkVerified refuses a verification of an incident revision the
// projection does not hold: an analyst judges what the engine logged.
func (n *Node) checkVerified(ctx context.Context, v *entry.Verification) error {
	revs, err := n.store.Incident(ctx, v.Incident)
	if err != nil {
		return fmt.Errorf("node: look up incident %d: %w", v.Incident, err)
	}
	for _, r := range revs {
		if r.Incident.Revision == v.Revision {
			return nil
		}
	}
	if len(revs) == 0 {
		return guarantor.Errorf(guarantor.EInvalid, "/incident", "no incident %d is logged; see GET /v1/incidents for the ids", v.Incident)
	}
	return guarantor.Errorf(guarantor.EInvalid, "/revision", "incident %d has no revision %d (its latest is %d)", v.Incident, v.Revision, revs[len(revs)-1].Incident.Revision)
}

// checkEvidence refuses an entry citing evidence not stored.
func (n *Node) checkEvidence(ctx context.Context, body any) error {
	var evidence []entry.Evidence
	switch b := body.(type) {
	case *entry.Observation:
		evidence = b.Evidence
	case *entry.Testimony:
		evidence = b.Evidence
	}
	if n.cfg.Evidence == nil {
		return nil
	}
	for i, ev := range evidence {
		has, err := n.cfg.Evidence.Has(ctx, ev.SHA256)
		if err != nil {
			return fmt.Errorf("node: look up evidence: %w", err)
		}
		if !has {
			return guarantor.Errorf(guarantor.EInvalid, fmt.Sprintf("/evidence/%d/sha256", i), "evidence %s is not stored; PUT it to /v1/blobs/%s first", ev.SHA256, ev.SHA256)
		}
	}
	return nil
}

// claim registers leaf as in flight and reports whether the caller owns
// it; otherwise it returns the owner's pending entry.
func (n *Node) claim(leaf string) (*pending, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if p, ok := n.inflight[leaf]; ok {
		return p, false
	}
	p := &pending{done: make(chan struct{}), acceptedAt: -1}
	n.inflight[leaf] = p
	return p, true
}

// release settles p and forgets it.
func (n *Node) release(p *pending, leaf, obsKey string, err error) {
	n.mu.Lock()
	delete(n.inflight, leaf)
	if obsKey != "" {
		delete(n.obsInflight, obsKey)
	}
	n.mu.Unlock()
	p.err = err
	close(p.done)
}

func (n *Node) awaitOther(ctx context.Context, p *pending, leaf []byte, kind entry.Kind) (*Result, error) {
	wctx, stopWait := n.disk.bound(ctx)
	defer stopWait()
	select {
	case <-p.done:
	case <-wctx.Done():
		if context.Cause(wctx) == errDiskStalled {
			return nil, diskRefusal(n.disk.lastFault(), true)
		}
		return nil, guarantor.Errorf(guarantor.EUnavailable, "", "request ended while the same entry was being logged; resubmit to get its receipt")
	}
	if p.err != nil {
		return nil, p.err
	}
	rc, err := n.receipt(ctx, p.index, leaf)
	if err != nil {
		return nil, err
	}
	return &Result{Receipt: *rc, Created: false, Kind: kind}, nil
}

func (n *Node) lockGate(exclusive bool) func() {
	var once sync.Once
	if exclusive {
		n.gate.Lock()
		return func() { once.Do(n.gate.Unlock) }
	}
	n.gate.RLock()
	return func() { once.Do(n.gate.RUnlock) }
}

// pendingSigner returns the id of a signer of e whose key entry is in
// flight, or "".
func (n *Node) pendingSigner(e *entry.Entry) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, s := range e.Sigs {
		if id := entry.KeyID(s.Name, s.Hash); n.keyPending[id] > 0 {
			return id
		}
	}
	return ""
}

func (n *Node) claimObservation(ctx context.Context, key, leaf, signer, id string) error {
	n.mu.Lock()
	other, busy := n.obsInflight[key]
	if !busy {
		n.obsInflight[key] = leaf
	}
	n.mu.Unlock()
	if busy && other != leaf {
		return guarantor.Errorf(guarantor.EConflict, "/id", "observation id %q from %s is already being logged with different content", id, signer)
	}
	if !n.seen.mayHaveObservation(key) {
		return nil // certainly new
	}
	idx, prev, ok, err := n.store.ObservationByID(ctx, signer, id)
	if err == nil && ok && !bytes.Equal(prev, []byte(leaf)) {
		err = guarantor.Errorf(guarantor.EConflict, "/id", "observation id %q from %s is already logged at index %d with different content", id, signer, idx)
	}
	if err != nil {
		n.mu.Lock()
		delete(n.obsInflight, key)
		n.mu.Unlock()
		return err
	}
	return nil
}

// settle waits for the entry to be integrated and applied to the
// projection, then releases the gate and the in-flight claims.
func (n *Node) settle(p *pending, fut tessera.IndexFuture, leaf, obsKey string, unlockGate func()) {
	idx, err := fut()
	if err != nil {
		unlockGate()
		if errors.Is(err, tessera.ErrPushback) {
			err = &guarantor.Error{Code: guarantor.EUnavailable, Message: "the log is busy; retry shortly", Err: err}
		} else if diskTrouble(err) != "" {
			// The batch failed, so the tree did not grow: not logged.
			err = diskRefusal(err, false)
		} else {
			err = &guarantor.Error{Code: guarantor.EUnavailable, Message: "the log could not take the entry; retry", Err: err}
		}
		n.release(p, leaf, obsKey, err)
		return
	}
	p.index = idx.Index
	n.kick()
	// The entry must be in the projection before its claims are dropped,
	// so that a resubmission finds it there; a registry change must be in
	// the registry before the next check.
	if err := n.waitApplied(context.Background(), idx.Index+1); err != nil {
		n.cfg.Logger.Error("entry integrated but projection stopped", "index", idx.Index, "err", err)
	}
	// Where several servers share the log, another may have logged the
	// same bytes first (the receipt names that index), or logged an entry
	// that makes this one fail the rules on replay (it is in the log, but
	// recorded as rejected, and must not be acknowledged).
	n.mu.Lock()
	at, why := p.acceptedAt, p.rejected
	n.mu.Unlock()
	err = nil
	switch {
	case at >= 0:
		p.index = uint64(at)
	case why != "":
		err = guarantor.Errorf(guarantor.EConflict, "", "the entry reached the log at index %d but does not pass the rules in log order: %s", idx.Index, why)
	}
	unlockGate()
	n.release(p, leaf, obsKey, err)
}

// receipt waits until a published checkpoint covers index and returns the
// receipt at that checkpoint.
func (n *Node) receipt(ctx context.Context, index uint64, leaf []byte) (*guarantor.Receipt, error) {
	resolved := func() (tessera.Index, error) { return tessera.Index{Index: index}, nil }
	wctx, stopWait := n.disk.bound(ctx)
	defer stopWait()
	_, cp, err := n.log.Await(wctx, resolved)
	if err != nil && context.Cause(wctx) == errDiskStalled {
		// Await fails on an ended context even when the entry is
		// published: look once more before refusing.
		if cp, err = n.log.ReadCheckpoint(ctx); err == nil {
			if size, serr := CheckpointSize(cp); serr != nil || size <= index {
				err = errDiskStalled
			}
		}
		if err != nil {
			return nil, diskRefusal(n.disk.lastFault(), true)
		}
	}
	if err != nil {
		return nil, &guarantor.Error{Code: guarantor.EUnavailable, Message: "waiting for a published checkpoint failed; resubmit to get the receipt", Err: err}
	}
	size, err := CheckpointSize(cp)
	if err != nil {
		return nil, err
	}
	proof, err := n.log.InclusionProof(ctx, index, size)
	if err != nil {
		return nil, err
	}
	return &guarantor.Receipt{Index: index, LeafHash: leaf, Checkpoint: string(cp), InclusionProof: proof}, nil
}

// CheckpointSize reads the tree size from a signed checkpoint without
// verifying it (for the log's own checkpoints).
func CheckpointSize(cp []byte) (uint64, error) {
	lines := bytes.SplitN(cp, []byte("\n"), 3)
	if len(lines) < 3 {
		return 0, fmt.Errorf("malformed checkpoint")
	}
	size, err := strconv.ParseUint(string(lines[1]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("malformed checkpoint size: %w", err)
	}
	return size, nil
}

// Applied returns how many log entries the projection holds.
func (n *Node) Applied() uint64 { return n.applied.Load() }

// Registry calls f with the live registry, read-locked.
func (n *Node) Registry(f func(*registry.Registry)) {
	n.regMu.RLock()
	defer n.regMu.RUnlock()
	f(n.reg)
}

// Store returns the projection.
func (n *Node) Store() Store { return n.store }

// Log returns the transparency log.
func (n *Node) Log() *ledger.Log { return n.log }
