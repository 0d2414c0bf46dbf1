package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/internal/c2spcheck"
	"github.com/guarantor/guarantor/store/postgres"
	"github.com/jackc/pgx/v5"
)

// fillLog registers the fixture's monitor and submits n observations and
// a revocation of a second monitor through the API of a running server.
func fillLog(t *testing.T, f *fixture, s *server, n int) {
	t.Helper()
	c := newClient(s.url)
	f.registerMonitor(t, c)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, _, err := c.submit(context.Background(), observation(t, f.monitor, fmt.Sprintf("fill-%05d", i))); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rev := fmt.Sprintf(`{"key":%q,"reason":"rotated","effective":"2030-01-01T00:00:00Z"}`, entry.KeyID(f.monitor.Name(), f.monitor.KeyHash()))
	raw, err := entry.Sign(entry.KindRevocation, []byte(rev), f.auth)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.submit(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
}

// TestOutsideCheckerAuditsTheServedLog runs the checker that knows only
// C2SP formats and golang.org/x/mod against a real server.
func TestOutsideCheckerAuditsTheServedLog(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	f := newFixture(t, "monitor.outside")
	s := startServer(t, f.data)
	defer s.term(t)
	fillLog(t, f, s, 300)
	resp, err := http.Post(s.url+"/v1/testimony", "application/json", strings.NewReader(`{"text":"Heavy shelling overnight near Zolote.","contact":"ngo@example.org"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("testimony: %s", resp.Status)
	}
	res, err := c2spcheck.Check(context.Background(), s.url+"/log", f.info.LogVKey, f.info.AuthorityVKey)
	if err != nil {
		t.Fatalf("outside checker: %v", err)
	}
	if res.Size != int64(300+initKeys+3+res.ByKind["incident"]+res.ByKind["tick"]) || res.ByKind["observation"] != 300 || res.ByKind["key"] != initKeys+1 || res.ByKind["revocation"] != 1 || res.ByKind["testimony"] != 1 || res.ByKind["incident"] == 0 {
		t.Fatalf("checker saw %+v", res)
	}
}

// TestRebuildEqualsLive proves the projection is a pure function of the
// log: deleting it and replaying the log gives identical exports.
func TestRebuildEqualsLive(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	f := newFixture(t, "monitor.rebuild")
	s := startServer(t, f.data)
	fillLog(t, f, s, 500)
	s.term(t)
	ctx := context.Background()
	d := dataDir(f.data)
	var live, rebuilt bytes.Buffer
	if err := exportProjection(ctx, d.projection(), &live); err != nil {
		t.Fatal(err)
	}
	e := &env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	if code := run(ctx, e, []string{"rebuild", "--data", f.data}); code != 0 {
		t.Fatalf("rebuild exited %d: %s", code, e.stderr)
	}
	if err := exportProjection(ctx, filepath.Join(f.data, "projection.db"), &rebuilt); err != nil {
		t.Fatal(err)
	}
	if live.Len() < 500*100 {
		t.Fatalf("live export is only %d bytes", live.Len())
	}
	if !bytes.Equal(live.Bytes(), rebuilt.Bytes()) {
		t.Fatalf("rebuilt projection differs from the live one (%d vs %d bytes)", rebuilt.Len(), live.Len())
	}

	// The same log rebuilt into PostgreSQL exports the same bytes.
	dsn := os.Getenv("GUARANTOR_TEST_POSTGRES")
	if dsn == "" {
		t.Log("GUARANTOR_TEST_POSTGRES not set: no PostgreSQL server to rebuild into (skipped that part)")
		return
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("guarantor_cli_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "DROP SCHEMA "+schema+" CASCADE")
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	dsn += sep + "search_path=" + schema
	e = &env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	if code := run(ctx, e, []string{"rebuild", "--data", f.data, "--postgres", dsn}); code != 0 {
		t.Fatalf("rebuild --postgres exited %d: %s", code, e.stderr)
	}
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var pg bytes.Buffer
	if err := st.Export(ctx, &pg); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(live.Bytes(), pg.Bytes()) {
		t.Fatalf("the PostgreSQL projection rebuilt from the log differs from the live SQLite one (%d vs %d bytes)", pg.Len(), live.Len())
	}
}
