package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	xprogress "github.com/guarantor/guarantor/exchange/progress"
	"github.com/guarantor/guarantor/keyfile"
	"github.com/guarantor/guarantor/scenario"
	"github.com/guarantor/guarantor/ucdp"
	"golang.org/x/mod/sumdb/note"
)

// demoItem is one observation to submit and the index of the key that signs it.
type demoItem struct {
	signer int
	obs    entry.Observation
}

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "demo")
	data := fs.String("data", "", "data directory to create (default: a new temporary directory)")
	addr := fs.String("addr", "127.0.0.1:0", "address to serve on (port 0 picks a free port)")
	ucdpFile := fs.String("ucdp", "", "UCDP GED CSV file to import instead of the generated scenario (real events)")
	days := fs.Int("days", 14, "days of generated scenario")
	seed := fs.Int64("seed", 1, "seed of the generated scenario")
	monitors := fs.Int("monitors", 6, "monitor keys to register for the generated scenario")
	workers := fs.Int("concurrency", 32, "concurrent submissions")
	level := fs.String("log-level", "warn", "server log level: debug, info, warn or error")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	logger, err := newLogger(*level)
	if err != nil {
		return err
	}
	dir := *data
	if dir == "" {
		if dir, err = os.MkdirTemp("", "guarantor-demo-"); err != nil {
			return fmt.Errorf("create temporary data directory: %w", err)
		}
	}
	d := dataDir(dir)
	info, err := initDataDir(ctx, d, "guarantor.demo/log", "", time.Now(), "")
	if err != nil {
		return err
	}
	// The demo's server is also the exchange's neutral verifier.
	if err := initVerifier(d); err != nil {
		return err
	}

	// Load the observations first, so a bad file fails before anything runs.
	var items []demoItem
	var keyNames []string
	var notBefore, notAfter time.Time
	var partnerFile string     // the generated partner feed, imported like real data
	var echoes []scenario.Item // simulated monitors reporting the real events
	source := "generated scenario (SYNTHETIC)"
	if *ucdpFile != "" {
		if _, err := os.Stat(*ucdpFile); err != nil {
			return fmt.Errorf("--ucdp: %w", err)
		}
		keyNames = []string{"analyst.ucdp-import"}
		notBefore, notAfter = time.Date(1989, 1, 1, 0, 0, 0, 0, time.UTC), time.Now().AddDate(1, 0, 0)
		real, err := readUCDPObservations(*ucdpFile)
		if err != nil {
			return err
		}
		echoes = scenario.Echoes(*seed, real, *monitors)
		source = "UCDP GED events from " + filepath.Base(*ucdpFile) + " (real data, CC BY 4.0, credit: Uppsala Conflict Data Program)"
	} else {
		start := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -*days)
		cfg := scenario.Config{Seed: *seed, Start: start, Days: *days, Monitors: *monitors}
		for _, it := range scenario.Generate(cfg) {
			items = append(items, demoItem{signer: it.Monitor, obs: it.Observation})
		}
		partnerFile = filepath.Join(dir, "partner-feed-synthetic.csv")
		if err := writePartnerFeed(partnerFile, cfg); err != nil {
			return err
		}
		for i := range *monitors {
			keyNames = append(keyNames, fmt.Sprintf("monitor.team-%02d", i+1))
		}
		notBefore, notAfter = start.AddDate(0, 0, -1), time.Now().AddDate(1, 0, 0)
	}

	inst, err := openInstance(ctx, d, logTuning{}, logger)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return errors.Join(fmt.Errorf("listen on %s: %w", *addr, err), inst.Close(ctx))
	}
	url := "http://" + ln.Addr().String()
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- inst.serveOn(sctx, ln, logger) }()

	c := newClient(url)
	auth, err := keyfile.Signer(d.key("authority"))
	if err != nil {
		return err
	}
	signers := make([]note.Signer, len(keyNames))
	for i, name := range keyNames {
		path := d.key(name)
		vkey, err := keyfile.Generate(path, name)
		if err != nil {
			return err
		}
		if signers[i], err = keyfile.Signer(path); err != nil {
			return err
		}
		role := guarantor.RoleMonitor
		if *ucdpFile != "" {
			role = guarantor.RoleAnalyst
		}
		raw, err := keyEntry(auth, vkey, role, name, notBefore, notAfter)
		if err != nil {
			return err
		}
		if _, _, err := c.submit(ctx, raw); err != nil {
			return fmt.Errorf("register %s: %w", name, err)
		}
	}

	// The agreement goes in first, so that its triggers judge every
	// incident as it forms: the 2025 framework over the generated
	// scenario, Minsk II over the real 2016-2023 events.
	agreementName := "framework-2025"
	if *ucdpFile != "" {
		agreementName = "minsk-ii"
	}
	doc, partyKeys, err := demoAgreement(ctx, c, d, auth, agreementName, notBefore, notAfter)
	if err != nil {
		stop()
		return errors.Join(err, <-served)
	}
	if eu := partyKeys["guarantor:EU"]; eu != nil && *ucdpFile == "" {
		if err := demoSanction(ctx, c, eu, notBefore); err != nil {
			stop()
			return errors.Join(fmt.Errorf("sanction: %w", err), <-served)
		}
	}

	start := time.Now()
	var created, dup int
	total := len(items)
	if *ucdpFile != "" {
		// Real data goes through the real import path.
		stats, err := importFile(ctx, c, signers[0], "ucdp", *ucdpFile, importOptions{batch: 250, concurrency: 4, progress: "none"}, e.stderr)
		if err != nil {
			stop()
			return errors.Join(err, <-served)
		}
		created, dup = int(stats.created.Load()), int(stats.duplicates.Load())
		total = int(stats.read.Load())
	} else if created, dup, err = submitObservations(ctx, c, signers, items, *workers); err != nil {
		stop()
		return errors.Join(err, <-served)
	}
	elapsed := time.Since(start)
	if len(echoes) > 0 {
		// Simulated independent monitors report the same real events.
		ms := scenario.EchoMonitors(*monitors)
		es := make([]note.Signer, len(ms))
		for i, m := range ms {
			vkey, err := keyfile.Generate(d.key(m.Name), m.Name)
			if err == nil {
				es[i], err = keyfile.Signer(d.key(m.Name))
			}
			var raw []byte
			if err == nil {
				raw, err = keyEntry(auth, vkey, guarantor.RoleMonitor, m.Name+" (SYNTHETIC)", notBefore, notAfter)
			}
			if err == nil {
				_, _, err = c.submit(ctx, raw)
			}
			if err != nil {
				stop()
				return errors.Join(fmt.Errorf("register %s: %w", m.Name, err), <-served)
			}
		}
		items := make([]demoItem, len(echoes))
		for i, it := range echoes {
			items[i] = demoItem{signer: it.Monitor, obs: it.Observation}
		}
		if _, _, err := submitObservations(ctx, c, es, items, *workers); err != nil {
			stop()
			return errors.Join(fmt.Errorf("simulated monitors: %w", err), <-served)
		}
	}
	var partner *importStats
	if partnerFile != "" {
		// A partner's open-source feed goes through the real import path.
		partnerKey, err := keyfile.Generate(d.key("analyst.partner-feed"), "analyst.partner-feed")
		var ps note.Signer
		if err == nil {
			ps, err = keyfile.Signer(d.key("analyst.partner-feed"))
		}
		var raw []byte
		if err == nil {
			raw, err = keyEntry(auth, partnerKey, guarantor.RoleAnalyst, "partner open-source feed (SYNTHETIC)", notBefore, notAfter)
		}
		if err == nil {
			_, _, err = c.submit(ctx, raw)
		}
		if err == nil {
			partner, err = importFile(ctx, c, ps, "ucdp", partnerFile, importOptions{batch: 250, concurrency: 4, progress: "none"}, e.stderr)
		}
		if err != nil {
			stop()
			return errors.Join(fmt.Errorf("partner feed: %w", err), <-served)
		}
	}

	// Let the engine fuse everything and log its incidents before the
	// demo says it is ready, so that the verify command replays them all.
	if err := inst.node.WaitDerived(ctx); err != nil {
		stop()
		return errors.Join(fmt.Errorf("engine: %w", err), <-served)
	}
	verified := 0
	if *ucdpFile == "" {
		// A SYNTHETIC analyst verifies a few corroborated strikes.
		vkey, err := keyfile.Generate(d.key("analyst.demo"), "analyst.demo")
		var as note.Signer
		if err == nil {
			as, err = keyfile.Signer(d.key("analyst.demo"))
		}
		var raw []byte
		if err == nil {
			raw, err = keyEntry(auth, vkey, guarantor.RoleAnalyst, "demo analyst (SYNTHETIC)", notBefore, notAfter)
		}
		if err == nil {
			_, _, err = c.submit(ctx, raw)
		}
		if err == nil {
			verified, err = demoVerifications(ctx, c, as, 3, time.Now())
		}
		if err == nil {
			err = inst.node.WaitDerived(ctx)
		}
		if err != nil {
			stop()
			return errors.Join(fmt.Errorf("verifications: %w", err), <-served)
		}
	}
	pledges := 0
	if *ucdpFile == "" {
		// The coalition pledges against the framework's requirements: the
		// deployments come after each pledge is logged, as in life.
		var monitor note.Signer
		if len(signers) > 0 {
			monitor = signers[0]
		}
		pledges, err = demoPledges(ctx, c, doc, partyKeys, monitor, notBefore.AddDate(0, 0, 2), time.Now())
		if err == nil {
			err = inst.node.WaitDerived(ctx)
		}
		if err != nil {
			stop()
			return errors.Join(fmt.Errorf("pledges: %w", err), <-served)
		}
	}
	patrols := 0
	if *ucdpFile == "" {
		patrols, err = demoPatrols(ctx, c, doc, signers, *days, time.Now())
		if err == nil {
			err = inst.node.WaitDerived(ctx)
		}
		if err != nil {
			stop()
			return errors.Join(fmt.Errorf("patrols: %w", err), <-served)
		}
	}
	var exchanged *xprogress.Progress
	if *ucdpFile == "" {
		exchanged, err = demoExchange(ctx, c, d, auth, partyKeys, time.Now())
		if err != nil {
			stop()
			return errors.Join(fmt.Errorf("exchange: %w", err), <-served)
		}
	}
	responses, err := demoResponses(ctx, c, partyKeys, time.Now())
	if err == nil {
		err = inst.node.WaitDerived(ctx)
	}
	if err != nil {
		stop()
		return errors.Join(fmt.Errorf("responses: %w", err), <-served)
	}
	est, _ := inst.node.Engine()
	var dets struct {
		Determinations []json.RawMessage `json:"determinations"`
	}
	if err := c.getJSON(ctx, "/v1/determinations?limit=10000", &dets); err != nil {
		stop()
		return errors.Join(err, <-served)
	}

	w := e.stdout
	fmt.Fprintf(w, "guarantor demo: %s\n", source)
	fmt.Fprintf(w, "  data directory: %s\n", dir)
	fmt.Fprintf(w, "  submitted %d observations (%d new, %d already logged) from %d keys in %s (%.0f/s)\n",
		total, created, dup, len(keyNames), elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds())
	if len(echoes) > 0 {
		fmt.Fprintf(w, "  %d SYNTHETIC reports of the same events by %d simulated independent monitors, with position and time errors\n", len(echoes), *monitors)
	}
	if partner != nil {
		fmt.Fprintf(w, "  imported a partner's open-source feed (SYNTHETIC, UCDP layout) through the import path: %s\n", partner)
	}
	fmt.Fprintf(w, "  agreement: %s version %d (%s), co-signed by %d parties and guarantors\n", doc.ID, doc.Version, doc.Title, len(partyKeys))
	fmt.Fprintf(w, "  engine: %d derived entries logged, signed by the engine key; %d incidents open; %d SYNTHETIC analyst verifications; %d determinations; %d obligations open; %d SYNTHETIC responses by guarantors\n",
		est.Matched, est.Open, verified, len(dets.Determinations), est.OpenObligations, responses)
	fmt.Fprintf(w, "  serving on %s\n", url)
	fmt.Fprintf(w, "  web pages: %s/ (map: %s/map)\n", url, url)
	fmt.Fprintf(w, "  log:        %s/v1/log\n", url)
	fmt.Fprintf(w, "  checkpoint: %s/log/checkpoint\n", url)
	fmt.Fprintf(w, "  incidents:  %s/v1/incidents\n", url)
	fmt.Fprintf(w, "  obligations and who kept their word: %s/v1/obligations, %s/v1/guarantors.csv\n", url, url)
	fmt.Fprintf(w, "  sanctions (FollowTheMoney): %s/v1/sanctions.ftm.jsonl\n", url)
	if patrols > 0 {
		fmt.Fprintf(w, "  patrols: %d SYNTHETIC patrol reports (tracks, a camera's up hours, restrictions at checkpoints): %s/v1/patrols.geojson, %s/v1/patrols/restrictions.csv\n", patrols, url, url)
	}
	if exchanged != nil {
		fmt.Fprintf(w, "  exchange %s: %d SYNTHETIC people held on both sides' lists, %d in %d batches, %d released, %d received (%.1f%%): %s/v1/exchanges/%s\n",
			exchanged.Exchange, exchanged.Held, exchanged.InBatches, len(exchanged.Batches), exchanged.Released, exchanged.Received, 100*exchanged.Completeness, url, exchanged.Exchange)
	}
	if pledges > 0 {
		fmt.Fprintf(w, "  coalition: %d SYNTHETIC pledges; coverage and gaps: %s/v1/coalition/%s/coverage\n", pledges, url, doc.ID)
	}
	fmt.Fprintf(w, "audit it from another terminal (checks every signature and replays the engine):\n")
	fmt.Fprintf(w, "  go run ./cmd/guarantor verify --server %s --log-vkey %s\n", url, info.LogVKey)
	fmt.Fprintf(w, "press Ctrl-C to stop\n")
	if f, ok := w.(interface{ Sync() error }); ok {
		_ = f.Sync()
	}
	return <-served
}

// submitObservations signs and submits every item with workers
// concurrent requests, and returns how many were new and how many were
// already logged.
func submitObservations(ctx context.Context, c *client, signers []note.Signer, items []demoItem, workers int) (created, dup int, err error) {
	type result struct {
		created bool
		err     error
	}
	jobs := make(chan demoItem)
	results := make(chan result)
	var wg sync.WaitGroup
	for range max(1, workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range jobs {
				body, err := json.Marshal(it.obs)
				var raw []byte
				if err == nil {
					raw, err = entry.Sign(entry.KindObservation, body, signers[it.signer%len(signers)])
				}
				var isNew bool
				if err == nil {
					_, isNew, err = c.submit(ctx, raw)
				}
				if err != nil {
					err = fmt.Errorf("observation %s: %w", it.obs.ID, err)
				}
				results <- result{isNew, err}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for _, it := range items {
			select {
			case jobs <- it:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()
	for r := range results {
		switch {
		case r.err != nil && err == nil:
			err = r.err
		case r.created:
			created++
		case r.err == nil:
			dup++
		}
	}
	if err == nil {
		err = ctx.Err()
	}
	return created, dup, err
}

// writePartnerFeed writes the generated partner feed for cfg to path.
func writePartnerFeed(path string, cfg scenario.Config) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("partner feed: %w", err)
	}
	if _, err := scenario.WritePartnerCSV(f, cfg); err != nil {
		f.Close()
		return fmt.Errorf("partner feed: %w", err)
	}
	return f.Close()
}

// readUCDPObservations reads the observations a UCDP GED file holds,
// skipping rows the importer would refuse (it reports them itself).
func readUCDPObservations(path string) ([]entry.Observation, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--ucdp: %w", err)
	}
	defer f.Close()
	events, _, err := ucdp.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("--ucdp %s: %w", path, err)
	}
	out := make([]entry.Observation, len(events))
	for i, ev := range events {
		out[i] = ev.Observation()
	}
	return out, nil
}
