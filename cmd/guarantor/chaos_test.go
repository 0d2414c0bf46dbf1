package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/guarantor/guarantor"
	ghttp "github.com/guarantor/guarantor/http"
	"github.com/guarantor/guarantor/internal/mysqltest"
	"github.com/guarantor/guarantor/ledger"
	"github.com/guarantor/guarantor/node"
	tclient "github.com/transparency-dev/tessera/client"
)

// chaosCycles is how many times a frontend is killed with SIGKILL.
const chaosCycles = 20

// chaosSetup is what differs between the cluster modes of TestChaos.
type chaosSetup struct {
	fixture   *fixture
	frontends []*frontend

	workers int     // concurrent clients
	rate    float64 // new entries per second, all clients together
	step    int     // acknowledgements to wait for between chaos steps (plus up to as many again)
	// quiet is how long the frontends must show the same state to have
	// converged: a few checkpoint intervals.
	quiet time.Duration

	// verifyArgs says where guarantor verify reads the log served at url.
	verifyArgs func(url string) []string
	// rebuilt returns the export of a projection built afresh from the
	// log of the given size; every frontend is stopped.
	rebuilt func(t *testing.T, size uint64) []byte
	// killConns, if set, kills every database connection of the
	// frontends and returns how many it killed.
	killConns func(t *testing.T) int
}

// chaosFlags keeps the engine from ticking during the test (its ticks
// would make the log grow by the wall clock) and shortens batches.
var chaosFlags = []string{"--tick", "24h", "--batch-age", "10ms"}

// TestChaos kills frontends with SIGKILL under a steady load, at least 20
// times (and, on a shared log, their database connections), and proves
// that no acknowledged entry is lost, that each is acknowledged at the
// one index where the log accepted it, that the log verifies, and that
// every projection converges to the one a rebuild from the log gives.
// Skipped under -short: it builds the binary and runs for one to two
// minutes.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills servers for one to two minutes")
	}
	t.Run("embedded", func(t *testing.T) { runChaos(t, embeddedSetup(t)) })
	t.Run("mariadb", func(t *testing.T) { runChaos(t, mariadbSetup(t)) })
}

// embeddedSetup is one frontend on one data directory: the log in
// DATA/log, the projection in DATA/projection.db.
func embeddedSetup(t *testing.T) chaosSetup {
	f := newFixture(t, "monitor.chaos")
	fe := &frontend{name: "a", data: f.data, flags: append([]string{"--checkpoint-interval", "100ms"}, chaosFlags...)}
	return chaosSetup{
		fixture: f, frontends: []*frontend{fe},
		workers: 32, rate: 200, step: 40, quiet: 500 * time.Millisecond,
		verifyArgs: func(string) []string { return []string{"--data", f.data} },
		rebuilt: func(t *testing.T, _ uint64) []byte {
			guarantorCmd(t, "rebuild", "--data", f.data)
			return export(t, f.data)
		},
	}
}

// mariadbSetup is two frontends sharing one log in a MySQL or MariaDB
// database (init --mysql, then init --join for the second), each with
// its own data directory and SQLite projection. It skips the test
// unless serve has --mysql and mysqltest has a server.
func mariadbSetup(t *testing.T) chaosSetup {
	help, _ := exec.Command(binary(t), "serve", "-h").CombinedOutput()
	if !bytes.Contains(help, []byte("-mysql")) {
		t.Skip("guarantor serve has no --mysql flag: no log in MySQL/MariaDB to share between frontends")
	}
	dsn := mysqltest.DSN(t)
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureIn(t, filepath.Join(t.TempDir(), "a"), "monitor.chaos-mariadb", "--mysql", dsn)
	join := func(name string) string {
		dir := filepath.Join(t.TempDir(), name)
		guarantorCmd(t, "init", "--join", f.data, "--data", dir)
		return dir
	}
	flags := append([]string{"--mysql", dsn, "--checkpoint-interval", "1s"}, chaosFlags...)
	const quiet = 3 * time.Second
	return chaosSetup{
		fixture: f,
		frontends: []*frontend{
			{name: "a", data: f.data, flags: flags},
			{name: "b", data: join("b"), flags: flags},
		},
		// Checkpoints at most once a second: receipts take a second or
		// two, so more clients are needed for less throughput.
		workers: 64, rate: 100, step: 10, quiet: quiet,
		verifyArgs: func(url string) []string { return []string{"--server", url} },
		rebuilt: func(t *testing.T, size uint64) []byte {
			// A fresh frontend projects the log from its first entry.
			fresh := &frontend{name: "fresh", data: join("fresh"), flags: flags}
			c := newCluster(t, fresh)
			c.start(fresh)
			if _, err := converge(c, 60*time.Second, quiet, size); err != nil {
				t.Fatalf("a fresh frontend did not project the log: %v", err)
			}
			c.stop(fresh)
			return export(t, fresh.data)
		},
		killConns: func(t *testing.T) int {
			return killConnections(t, mysqltest.Admin(), cfg.DBName)
		},
	}
}

// killConnections kills every connection to database db, with the admin
// DSN, and returns how many it killed.
func killConnections(t *testing.T, admin, db string) int {
	t.Helper()
	conn, err := sql.Open("mysql", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	rows, err := conn.QueryContext(ctx, "SELECT id FROM information_schema.PROCESSLIST WHERE db = ?", db)
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	for rows.Next() {
		var id uint64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	killed := 0
	for _, id := range ids {
		// A connection may have closed meanwhile: "Unknown thread id".
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("KILL CONNECTION %d", id)); err == nil {
			killed++
		}
	}
	return killed
}

// export returns the export of the SQLite projection in data.
func export(t *testing.T, data string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := exportProjection(context.Background(), dataDir(data).projection(), &b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// logSize returns the size of the log's published checkpoint.
func logSize(ctx context.Context, cl *client) (uint64, error) {
	var v struct {
		Size uint64 `json:"size"`
	}
	err := cl.getJSON(ctx, "/v1/log", &v)
	return v.Size, err
}

// converge waits until every frontend of c that is up has projected its
// whole published log, all of the same size (no less than least), with
// nothing pending in its engine, and nothing has changed for quiet (an
// entry still in a batch, or integrated but not yet published, shows
// within that time). It returns that size.
func converge(c *cluster, within, quiet time.Duration, least uint64) (uint64, error) {
	var size uint64
	var last string
	var since time.Time
	err := pollUntil(context.Background(), within, 50*time.Millisecond, func(ctx context.Context) (bool, error) {
		var state strings.Builder
		settled := true
		var sizes []uint64
		for _, f := range c.frontends {
			if f.srv == nil {
				continue
			}
			h, err := getHealth(ctx, f.client)
			if err != nil {
				return false, err
			}
			if h.Engine != nil && h.Engine.Halted != "" {
				return false, fmt.Errorf("frontend %s: engine halted: %s", f.name, h.Engine.Halted)
			}
			n, err := logSize(ctx, f.client)
			if err != nil {
				return false, err
			}
			pending := 0
			if h.Engine != nil {
				pending = h.Engine.Pending
			}
			fmt.Fprintf(&state, "%s: applied %d of %d, engine pending %d; ", f.name, h.Applied, n, pending)
			settled = settled && h.Applied == n && pending == 0 && n >= least && (len(sizes) == 0 || n == sizes[0])
			sizes = append(sizes, n)
		}
		if len(sizes) == 0 {
			return false, errors.New("no frontend is up")
		}
		if !settled || state.String() != last {
			since = time.Now()
		}
		last, size = state.String(), sizes[0]
		return settled && time.Since(since) >= quiet, fmt.Errorf("%s", state.String())
	})
	return size, err
}

// runChaos runs the load and the kill cycles on the setup's frontends,
// then checks the log and the projections.
func runChaos(t *testing.T, s chaosSetup) {
	began := time.Now()
	c := newCluster(t, s.frontends...)
	for _, f := range s.frontends {
		c.start(f)
	}
	s.fixture.registerMonitor(t, s.frontends[0].client)

	// Enough notes for the load to run at its full rate for two minutes,
	// longer than the whole test may take.
	notes := make([][]byte, int(s.rate*120))
	for i := range notes {
		notes[i] = observation(t, s.fixture.monitor, fmt.Sprintf("chaos-%06d", i))
	}
	l := newLoad(notes)
	loadBegan := time.Now()
	stopLoad := l.run(c, s.workers, s.rate)
	defer stopLoad()

	// Each cycle: some progress with every frontend up (a random number
	// of acknowledgements, so that kills fall at different moments of
	// the batches); every third cycle, the database connections killed
	// and more progress; the victim killed with SIGKILL (the frontends
	// in turn); more progress if another frontend is still up; the
	// victim restarted and healthy.
	progress := func(what string) {
		t.Helper()
		acks, _ := l.acked()
		if err := l.waitAcks(len(acks)+s.step+rand.IntN(s.step+1), 30*time.Second); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	connKills := 0
	for cycle := range chaosCycles {
		progress(fmt.Sprintf("cycle %d, before the kill", cycle))
		if s.killConns != nil && cycle%3 == 1 {
			connKills += s.killConns(t)
			progress(fmt.Sprintf("cycle %d, after killing the database connections", cycle))
		}
		victim := s.frontends[cycle%len(s.frontends)]
		c.kill(victim)
		if c.live() > 0 {
			progress(fmt.Sprintf("cycle %d, with %s down", cycle, victim.name))
		}
		c.restart(victim)
	}
	progress("after the last cycle")
	stopLoad()
	chaosTime := time.Since(loadBegan)
	acks, err := l.acked()
	if err != nil {
		t.Fatal(err)
	}
	size, err := converge(c, 60*time.Second, s.quiet, 0)
	if err != nil {
		t.Fatalf("the frontends did not converge: %v", err)
	}
	copies := checkAcks(t, c, s.fixture, acks, size, len(s.frontends) > 1)

	out := guarantorCmd(t, append([]string{"verify"}, s.verifyArgs(s.frontends[0].client.base)...)...)
	t.Logf("guarantor verify: %s", strings.TrimSpace(out))

	// Every frontend's projection, and one built afresh from the log,
	// export the same bytes.
	exports := map[string][]byte{}
	for _, f := range s.frontends {
		c.stop(f)
		exports[f.name] = export(t, f.data)
	}
	exports["rebuilt"] = s.rebuilt(t, size)
	want := exports[s.frontends[0].name]
	if len(want) < len(acks)*100 {
		t.Fatalf("the projection exports only %d bytes for %d acknowledged entries", len(want), len(acks))
	}
	for name, got := range exports {
		if !bytes.Equal(got, want) {
			t.Errorf("the projection of %s differs from %s's (%d vs %d bytes)", name, s.frontends[0].name, len(got), len(want))
		}
	}

	created := 0
	for _, a := range acks {
		if a.created {
			created++
		}
	}
	var restartMax, restartSum time.Duration
	for _, d := range c.restarts {
		restartSum += d
		restartMax = max(restartMax, d)
	}
	t.Logf("%d kill cycles over %d frontend(s), %d database connections killed; %d entries acknowledged (%d answered 200: logged by an attempt cut short), %d retries; log size %d, %d of its entries later copies of others (rejected); restarts took %s on average, %s at most; chaos %s, total %s",
		chaosCycles, len(s.frontends), connKills, len(acks), len(acks)-created, l.retries.Load(), size, copies,
		(restartSum / time.Duration(len(c.restarts))).Round(time.Millisecond), restartMax.Round(time.Millisecond),
		chaosTime.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
}

// checkAcks proves that every acknowledged entry is in the log of the
// given size at its receipt's index, with the same bytes, the first copy
// of them, and served there by the first frontend's API as accepted; and
// that its receipt verifies. On a log only one server appends to, no
// entry is in the log twice. On a shared log two frontends can log the
// same bytes (the first died before answering and the client retried on
// the second, which had not yet read the first copy): every later copy
// must be recorded as rejected. It returns how many later copies there
// are.
func checkAcks(t *testing.T, c *cluster, f *fixture, acks []ack, size uint64, shared bool) (copies int) {
	t.Helper()
	ctx := context.Background()
	cl := c.frontends[0].client
	u, err := url.Parse(cl.base + "/log/")
	if err != nil {
		t.Fatal(err)
	}
	tiles, err := tclient.NewHTTPFetcher(u, cl.http)
	if err != nil {
		t.Fatal(err)
	}
	logged := make([][]byte, 0, size)
	first := map[string]uint64{} // leaf hash -> index of its first copy
	var later []uint64           // indexes of later copies
	for e, err := range ledger.ReadEntries(ctx, tiles.ReadEntryBundle, 0, size) {
		if err != nil {
			t.Fatalf("read the log: %v", err)
		}
		leaf := string(guarantor.LeafHash(e.Entry))
		if prev, ok := first[leaf]; ok {
			if !shared {
				t.Errorf("the log holds the same entry at %d and %d", prev, e.Index)
			}
			later = append(later, e.Index)
		} else {
			first[leaf] = e.Index
		}
		logged = append(logged, e.Entry)
	}
	if uint64(len(logged)) != size {
		t.Fatalf("read %d entries of a log of size %d", len(logged), size)
	}
	byIndex := map[uint64][]byte{}
	for _, a := range acks {
		i := a.rc.Index
		if prev, ok := byIndex[i]; ok && !bytes.Equal(prev, a.raw) {
			t.Fatalf("two different entries were acknowledged at index %d", i)
		}
		byIndex[i] = a.raw
		leaf := guarantor.LeafHash(a.raw)
		if !bytes.Equal(a.rc.LeafHash, leaf) {
			t.Fatalf("the receipt for index %d names another leaf hash than its entry's", i)
		}
		if _, err := a.rc.Verify(f.logV, a.raw); err != nil {
			t.Fatalf("the receipt for index %d does not verify: %v", i, err)
		}
		if i >= size || !bytes.Equal(logged[i], a.raw) {
			t.Fatalf("the log (size %d) does not hold the entry acknowledged at %d: lost", size, i)
		}
		if at := first[string(leaf)]; at != i {
			size, _ := node.CheckpointSize([]byte(a.rc.Checkpoint))
			t.Errorf("%s acknowledged an entry at %d (created %v, checkpoint size %d), a later copy of the one at %d", c.who(a.by), i, a.created, size, at)
		}
	}
	// The API serves each from the projection; eight requests at a time.
	checks := map[uint64][]func(ghttp.EntryView) error{}
	for i, raw := range byIndex {
		checks[i] = append(checks[i], func(ev ghttp.EntryView) error {
			if ev.Note != string(raw) || !bytes.Equal(ev.LeafHash, guarantor.LeafHash(raw)) || ev.Rejected != "" {
				return fmt.Errorf("GET /v1/entries/%d does not serve the entry acknowledged there as accepted (rejected: %q)", i, ev.Rejected)
			}
			return nil
		})
	}
	for _, i := range later {
		checks[i] = append(checks[i], func(ev ghttp.EntryView) error {
			if ev.Rejected == "" {
				return fmt.Errorf("entry %d is a later copy of entry %d but the projection accepted it", i, first[string(guarantor.LeafHash(logged[i]))])
			}
			return nil
		})
	}
	errs := make(chan error, len(checks))
	sem := make(chan struct{}, 8)
	for i, fs := range checks {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			var ev ghttp.EntryView
			if err := cl.getJSON(ctx, fmt.Sprintf("/v1/entries/%d", i), &ev); err != nil {
				errs <- fmt.Errorf("entry %d: %w", i, err)
				return
			}
			var err error
			for _, check := range fs {
				err = errors.Join(err, check(ev))
			}
			errs <- err
		}()
	}
	for range checks {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	return len(later)
}
