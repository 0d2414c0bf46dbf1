package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/audit"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/keyfile"
	"github.com/guarantor/guarantor/ledger"
	"golang.org/x/mod/sumdb/note"
)

// loadReport is what loadgen measures; every rate has its baseline from
// the same run beside it.
type loadReport struct {
	N           int     `json:"n"`
	Concurrency int     `json:"concurrency"`
	Servers     int     `json:"servers"`
	Rate        float64 `json:"open_loop_rate,omitempty"`
	EntryBytes  int     `json:"entry_bytes"`
	VerifyRate  float64 `json:"ed25519_verify_per_s_one_core"`
	BareRate    float64 `json:"bare_tessera_published_per_s"`
	BareP50     float64 `json:"bare_tessera_p50_ms"`
	BareP99     float64 `json:"bare_tessera_p99_ms"`
	IngestRate  float64 `json:"ingest_per_s"`
	IngestRatio float64 `json:"ingest_vs_bare"`
	P50         float64 `json:"receipt_p50_ms"`
	P90         float64 `json:"receipt_p90_ms"`
	P99         float64 `json:"receipt_p99_ms"`
	Max         float64 `json:"receipt_max_ms"`
	AuditSize   uint64  `json:"audit_log_size,omitempty"`
	AuditRate   float64 `json:"audit_entries_per_s,omitempty"`
	AuditRatio  float64 `json:"audit_vs_verify,omitempty"`
}

func runLoadgen(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "loadgen")
	server := fs.String("server", "", "server URL (required); several servers of one shared log, comma-separated, take the entries in turn")
	data := fs.String("data", "", "the server's data directory, for its authority key and log key (required)")
	n := fs.Int("n", 10000, "observations to submit")
	conc := fs.Int("concurrency", 64, "concurrent clients (closed loop: each sends its next entry when the last is acknowledged)")
	rate := fs.Float64("rate", 0, "if set, send at this steady rate per second instead (open loop, at most --concurrency in flight)")
	baseDir := fs.String("baseline-dir", "", "directory for the bare Tessera baseline log (default: beside --data, same disk)")
	skipBare := fs.Bool("skip-baseline", false, "do not measure the bare Tessera baseline")
	doAudit := fs.Bool("audit", true, "run the auditor over the whole log afterwards and report its rate")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *server == "" || *data == "" || *n <= 0 || *conc <= 0 {
		return usagef("give --server URL --data DIR, and positive --n and --concurrency")
	}
	d := dataDir(*data)
	info, err := d.readInfo()
	if err != nil {
		return err
	}
	auth, err := keyfile.Signer(d.key("authority"))
	if err != nil {
		return fmt.Errorf("loadgen registers its own monitor key and needs the authority key: %w", err)
	}
	servers := strings.Split(*server, ",")
	rep := loadReport{N: *n, Concurrency: *conc, Rate: *rate, Servers: len(servers)}

	// The load: n observations from one fresh monitor, signed up front so
	// signing is not measured.
	skey, vkey, err := note.GenerateKey(rand.Reader, fmt.Sprintf("monitor.loadgen-%d", time.Now().UnixNano()))
	if err != nil {
		return err
	}
	mon, _ := note.NewSigner(skey)
	monV, _ := note.NewVerifier(vkey)
	notes := make([][]byte, *n)
	now := time.Now().UTC().Add(-time.Minute)
	for i := range notes {
		body, _ := json.Marshal(entry.Observation{
			ID: fmt.Sprintf("lg-%08d", i), ObservedAt: now.Add(-time.Duration(i) * time.Millisecond).Truncate(time.Millisecond),
			Location: entry.Point{Type: "Point", Coordinates: [2]float64{37.5 + float64(i%1000)/1000, 48.0 + float64(i%700)/1000}},
			Category: "explosion_heard", SourceType: "acoustic",
			Text: "load generator: explosions heard to the south-east, counted by an acoustic sensor",
		})
		if notes[i], err = entry.Sign(entry.KindObservation, body, mon); err != nil {
			return err
		}
	}
	rep.EntryBytes = len(notes[0])

	// (b) one core's ed25519 verification rate, the unit every auditor pays.
	m := min(len(notes), 20000)
	start := time.Now()
	for _, raw := range notes[:m] {
		if _, err := note.Open(raw, note.VerifierList(monV)); err != nil {
			return err
		}
	}
	rep.VerifyRate = float64(m) / time.Since(start).Seconds()

	// Baseline: bare Tessera on the same disk, same concurrency, each
	// writer waiting for publication as the server does.
	if !*skipBare {
		dir := *baseDir
		if dir == "" {
			dir = filepath.Join(filepath.Dir(filepath.Clean(*data)), ".loadgen-baseline")
		}
		rate, lat, err := bareBaseline(ctx, dir, notes, *conc, *rate)
		if err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		rep.BareRate, rep.BareP50, rep.BareP99 = rate, pct(lat, 50), pct(lat, 99)
	}

	// (a) and (c): the server's durable ingest and its receipt latency.
	clients := make([]*client, len(servers))
	for i, s := range servers {
		clients[i] = newClient(s)
	}
	keyRaw, err := keyEntry(auth, vkey, guarantor.RoleMonitor, "load generator", now.AddDate(0, 0, -1), now.AddDate(0, 0, 1))
	if err != nil {
		return err
	}
	keyRc, _, err := clients[0].submit(ctx, keyRaw)
	if err != nil {
		return fmt.Errorf("register the load generator's key: %w", err)
	}
	// Every server must have applied the key before it is sent entries
	// signed with it.
	for _, c := range clients[1:] {
		if err := awaitApplied(ctx, c, keyRc.Index+1); err != nil {
			return err
		}
	}
	var turn atomic.Uint64
	ingestRate, lat, err := drive(ctx, notes, *conc, *rate, func(ctx context.Context, raw []byte) error {
		c := clients[turn.Add(1)%uint64(len(clients))]
		_, created, err := c.submit(ctx, raw)
		if err == nil && !created {
			err = errors.New("server answered 200 for a new entry")
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	rep.IngestRate, rep.P50, rep.P90, rep.P99, rep.Max = ingestRate, pct(lat, 50), pct(lat, 90), pct(lat, 99), pct(lat, 100)
	if rep.BareRate > 0 {
		rep.IngestRatio = rep.IngestRate / rep.BareRate
	}

	// (d) the auditor over the whole log.
	if *doAudit {
		u, err := url.Parse(servers[0])
		if err != nil {
			return err
		}
		start := time.Now()
		r, err := audit.Verify(ctx, audit.Config{Server: u, LogVKey: info.LogVKey, AuthorityVKey: info.AuthorityVKey})
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		rep.AuditSize = r.Size
		rep.AuditRate = float64(r.Size) / time.Since(start).Seconds()
		rep.AuditRatio = rep.AuditRate / rep.VerifyRate
	}

	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(rep)
	}
	w := e.stdout
	if rep.Servers > 1 {
		fmt.Fprintf(w, "loadgen: %d servers of one log, taking the entries in turn\n", rep.Servers)
	}
	if rep.Rate > 0 {
		fmt.Fprintf(w, "loadgen: %d observations of %d bytes, open loop at %.0f/s (at most %d in flight)\n", rep.N, rep.EntryBytes, rep.Rate, rep.Concurrency)
	} else {
		fmt.Fprintf(w, "loadgen: %d observations of %d bytes, %d concurrent clients\n", rep.N, rep.EntryBytes, rep.Concurrency)
	}
	fmt.Fprintf(w, "  (b) ed25519 verify, one core:        %8.0f /s   (baseline for auditing)\n", rep.VerifyRate)
	if rep.BareRate > 0 {
		fmt.Fprintf(w, "      bare Tessera append+publish:      %8.0f /s   p50 %.0f ms, p99 %.0f ms (baseline for ingest)\n", rep.BareRate, rep.BareP50, rep.BareP99)
	}
	fmt.Fprintf(w, "  (a) POST /v1/entries, durable:        %8.0f /s   = %.2f x bare Tessera\n", rep.IngestRate, rep.IngestRatio)
	fmt.Fprintf(w, "  (c) receipt latency:                  p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms\n", rep.P50, rep.P90, rep.P99, rep.Max)
	if rep.AuditRate > 0 {
		fmt.Fprintf(w, "  (d) guarantor verify, %d entries:   %8.0f /s   = %.2f x one-core ed25519 verify\n", rep.AuditSize, rep.AuditRate, rep.AuditRatio)
	}
	return nil
}

// bareBaseline appends notes to a fresh Tessera POSIX log in dir with
// the server's default batching, conc writers each awaiting publication.
func bareBaseline(ctx context.Context, dir string, notes [][]byte, conc int, rate float64) (float64, []time.Duration, error) {
	if err := os.RemoveAll(dir); err != nil {
		return 0, nil, err
	}
	defer os.RemoveAll(dir)
	skey, _, err := note.GenerateKey(rand.Reader, "loadgen.baseline/log")
	if err != nil {
		return 0, nil, err
	}
	signer, _ := note.NewSigner(skey)
	lg, err := ledger.Open(ctx, ledger.Config{Dir: dir, Signer: signer})
	if err != nil {
		return 0, nil, err
	}
	got, lat, err := drive(ctx, notes, conc, rate, func(ctx context.Context, raw []byte) error {
		_, _, err := lg.Await(ctx, lg.Add(ctx, raw))
		return err
	})
	return got, lat, errors.Join(err, lg.Close(ctx))
}

// drive runs do over every note, closed loop with conc workers, or open
// loop at rate per second with at most conc in flight, and returns the
// achieved rate and each call's latency.
func drive(ctx context.Context, notes [][]byte, conc int, rate float64, do func(context.Context, []byte) error) (float64, []time.Duration, error) {
	if rate > 0 {
		return driveOpen(ctx, notes, conc, rate, do)
	}
	var next atomic.Int64
	lat := make([]time.Duration, len(notes))
	var firstErr error
	var once sync.Once
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(notes) || ctx.Err() != nil {
					return
				}
				t := time.Now()
				if err := do(ctx, notes[i]); err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
				lat[i] = time.Since(t)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return 0, nil, firstErr
	}
	return float64(len(notes)) / elapsed.Seconds(), lat, nil
}

// pct returns the p-th percentile of d in milliseconds.
func pct(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p / 100)
	return float64(s[i]) / float64(time.Millisecond)
}

func driveOpen(ctx context.Context, notes [][]byte, conc int, rate float64, do func(context.Context, []byte) error) (float64, []time.Duration, error) {
	lat := make([]time.Duration, len(notes))
	sem := make(chan struct{}, conc)
	var firstErr error
	var once sync.Once
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	interval := time.Duration(float64(time.Second) / rate)
	for i := range notes {
		// Send at start + i*interval, whatever the answers do.
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d) // pacing the load, not synchronisation
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			t := time.Now()
			if err := do(ctx, notes[i]); err != nil {
				once.Do(func() { firstErr = err; cancel() })
				return
			}
			lat[i] = time.Since(t)
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return 0, nil, firstErr
	}
	return float64(len(notes)) / time.Since(start).Seconds(), lat, nil
}

// awaitApplied polls the server's health until its projection holds size
// entries, for at most a minute.
func awaitApplied(ctx context.Context, c *client, size uint64) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		var h struct {
			Applied uint64 `json:"applied"`
		}
		if err := c.getJSON(ctx, "/healthz", &h); err == nil && h.Applied >= size {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not apply the load generator's key (entry %d) within a minute", c.base, size-1)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
