package node_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/guarantor/guarantor/engine"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
)

// BenchmarkDeterminationLatency submits observations at a steady rate
// (GUARANTOR_RATE per second, default 1,000) for GUARANTOR_SECONDS
// (default 5) to a node running the engine under an agreement whose
// trigger fires on one incident in GUARANTOR_FIRE_EVERY (default 10; 1 for
// every incident), and measures, for each observation that fires it, the
// time from its receipt (integrated and published) to the moment its
// determination is in the log and projected. Reports p50, p99 and the
// rate of durable entries the log took; the target is p99 < 1 s
// at 1,000 observations/s.
func BenchmarkDeterminationLatency(b *testing.B) {
	rate, seconds, every := 1000, 5, 10
	if s := os.Getenv("GUARANTOR_RATE"); s != "" {
		fmt.Sscan(s, &rate)
	}
	if s := os.Getenv("GUARANTOR_SECONDS"); s != "" {
		fmt.Sscan(s, &seconds)
	}
	if s := os.Getenv("GUARANTOR_FIRE_EVERY"); s != "" {
		fmt.Sscan(s, &every)
	}
	eng := newKey(b, "engine")
	f := &fixture{t: b, auth: newKey(b, "authority"), dir: b.TempDir(), engine: &node.EngineConfig{Rules: engine.DefaultConfig(), Signer: eng.S, TickEvery: time.Hour}, serverLog: true}
	f.open()
	b.Cleanup(f.close)
	ctx := context.Background()
	reg := func(k key, role string) {
		f.must(f.sign(entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":%q,"not_before":"2020-01-01T00:00:00Z","not_after":"2099-01-01T00:00:00Z"}`, k.VKey, role), f.auth))
	}
	reg(eng, "engine")
	ua, ru, mon := newKey(b, "party.UA"), newKey(b, "party.RU"), newKey(b, "monitor.bench")
	reg(ua, "party:UA")
	reg(ru, "party:RU")
	reg(mon, "monitor")
	doc := fmt.Sprintf(`{"id":"bench","version":1,"title":"Bench","effective":"2020-01-01T00:00:00Z","parties":[{"id":"UA","name":"Ukraine"},{"id":"RU","name":"Russia"}],`+
		`"zones":[{"id":"sz","kind":"security_zone","geometry":{"type":"Polygon","coordinates":[[[36,47],[40,47],[40,50],[36,50],[36,47]]]}}],`+
		`"triggers":[{"id":"any","title":"Any shelling in the zone","when":"incident.id %% %d == 0 && incident.category == 'shelling' && in_zone(incident, 'sz')","obligations":[{"who":"RU","action":"report","within":"1d"}]}]}`, every)
	raw := f.sign(entry.KindAgreement, doc, ua)
	raw, _ = entry.Cosign(raw, ru.S)
	f.must(raw)

	n := rate * seconds
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	notes := make([][]byte, n)
	for i := range notes {
		// Far apart (0.02° ≈ 1.5 km east each), so each is its own incident.
		body := fmt.Sprintf(`{"id":"b%d","observed_at":%q,"location":{"type":"Point","coordinates":[%.4f,%.4f]},"category":"shelling","accuracy_m":50}`,
			i, start.Add(time.Duration(i%3600)*time.Second).Format(time.RFC3339), 36.1+float64(i%190)*0.02, 47.1+float64(i/190%140)*0.02)
		notes[i] = f.sign(entry.KindObservation, body, mon)
	}
	var mu sync.Mutex
	received := map[uint64]time.Time{}   // observation index -> receipt
	var receipts []time.Duration         // submission to receipt: the baseline
	determined := map[uint64]time.Time{} // incident id -> determination projected
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() { // follows the projection for determinations
		defer close(watched)
		from, _ := f.store.Applied(ctx)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			to, _ := f.store.Applied(ctx)
			f.store.Records(ctx, from, to, func(rec node.Record) error {
				if d, ok := rec.Body.(*entry.Determination); ok {
					mu.Lock()
					determined[d.Incidents[0].ID] = time.Now()
					mu.Unlock()
				}
				return nil
			})
			from = to
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	b.ResetTimer()
	interval := time.Second / time.Duration(rate)
	t0 := time.Now()
	var wg sync.WaitGroup
	for i, note := range notes {
		if d := time.Until(t0.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d) // open loop: the schedule, not the server, sets the pace
		}
		wg.Go(func() {
			sub := time.Now()
			res, err := f.n.Submit(ctx, note)
			if err != nil {
				b.Error(err)
				return
			}
			mu.Lock()
			received[res.Receipt.Index] = time.Now()
			receipts = append(receipts, time.Since(sub))
			mu.Unlock()
		})
	}
	wg.Wait()
	sent := time.Since(t0)
	if err := f.n.WaitDerived(ctx); err != nil {
		b.Fatal(err)
	}
	want := 0
	mu.Lock()
	for idx := range received {
		if idx%uint64(every) == 0 {
			want++
		}
	}
	mu.Unlock()
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		done := len(determined) >= want
		mu.Unlock()
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	<-watched
	b.StopTimer()
	var lat []time.Duration
	for idx, at := range received {
		if d, ok := determined[idx]; ok {
			lat = append(lat, max(0, d.Sub(at)))
		}
	}
	if len(lat) < want || want == 0 {
		b.Fatalf("%d of %d observations got their determination", len(lat), want)
	}
	size, _ := f.store.Applied(ctx)
	slices.Sort(lat)
	slices.Sort(receipts)
	p99, base := lat[len(lat)*99/100], receipts[len(receipts)*99/100]
	b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(p99.Milliseconds()), "p99-ms")
	b.ReportMetric(float64(base.Milliseconds()), "receipt-p99-ms")
	b.ReportMetric(float64(p99)/float64(base), "p99/receipt-p99")
	b.ReportMetric(float64(n)/sent.Seconds(), "obs/s")
	b.ReportMetric(float64(size)/sent.Seconds(), "entries/s")
}
