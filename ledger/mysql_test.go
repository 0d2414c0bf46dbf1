package ledger_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guarantor/guarantor/internal/mysqltest"
	"github.com/guarantor/guarantor/ledger"
	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/api/layout"
	"github.com/transparency-dev/tessera/client"
	"golang.org/x/mod/sumdb/note"
)

// TestMySQLTwoFrontends opens one log in MariaDB/MySQL from two Log
// values, as two servers would, adds interleaved entries through both, and
// checks that they serve one log: every entry once, at the index its
// future named, with inclusion proofs against either's checkpoint, and
// partial tiles exactly as wide as asked.
func TestMySQLTwoFrontends(t *testing.T) {
	dsn := mysqltest.DSN(t)
	ctx := context.Background()
	skey, vkey, _ := note.GenerateKey(rand.Reader, "test.mysql/log")
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	if ok, err := ledger.MySQLExists(ctx, dsn); err != nil || ok {
		t.Fatalf("MySQLExists on an empty database = %v, %v; want false", ok, err)
	}
	var logs [2]*ledger.Log
	for i := range logs {
		lg, err := ledger.Open(ctx, ledger.Config{MySQL: dsn, Signer: s, BatchMaxAge: 5 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer lg.Close(ctx)
		if !lg.Shared() {
			t.Fatal("a MySQL log says it is not shared")
		}
		logs[i] = lg
	}
	const perFrontend = 300
	var mu sync.Mutex
	got := map[uint64][]byte{}
	var wg sync.WaitGroup
	for f, lg := range logs {
		wg.Go(func() {
			var futs []tessera.IndexFuture
			var datas [][]byte
			for i := range perFrontend {
				d := []byte(fmt.Sprintf("frontend %d entry %d", f, i))
				futs = append(futs, lg.Add(ctx, d))
				datas = append(datas, d)
			}
			for k, fut := range futs {
				idx, _, err := lg.Await(ctx, fut)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if prev, dup := got[idx]; dup {
					t.Errorf("index %d given to %q and %q", idx, prev, datas[k])
				}
				got[idx] = datas[k]
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(got) != 2*perFrontend {
		t.Fatalf("%d distinct indexes, want %d", len(got), 2*perFrontend)
	}
	if ok, err := ledger.MySQLExists(ctx, dsn); err != nil || !ok {
		t.Fatalf("MySQLExists after writes = %v, %v; want true", ok, err)
	}
	size, err := logs[1].IntegratedSize(ctx)
	if err != nil || size != 2*perFrontend {
		t.Fatalf("integrated size %d, %v; want %d", size, err, 2*perFrontend)
	}
	// Both frontends read the same entries back.
	for _, lg := range logs {
		i := uint64(0)
		for ent, err := range lg.Entries(ctx, 0, size) {
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ent.Entry, got[i]) {
				t.Fatalf("entry %d reads %q, was added as %q", i, ent.Entry, got[i])
			}
			i++
		}
	}
	// Proofs from either frontend verify against the other's checkpoint.
	cpRaw, err := logs[0].ReadCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cp, _, _, err := log.ParseCheckpoint(cpRaw, v.Name(), v)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []uint64{0, 1, 255, 256, 299, cp.Size - 1} {
		p, err := logs[1].InclusionProof(ctx, i, cp.Size)
		if err != nil {
			t.Fatal(err)
		}
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, i, cp.Size, rfc6962.DefaultHasher.HashLeaf(got[i]), p, cp.Hash); err != nil {
			t.Fatalf("inclusion of %d at %d: %v", i, cp.Size, err)
		}
	}
	// Partial resources are exactly as wide as their path says, over HTTP
	// too, so that C2SP clients can check them.
	srv := httptest.NewServer(http.StripPrefix("/", logs[1].Handler()))
	defer srv.Close()
	partial := size % layout.TileWidth
	for _, c := range []struct {
		path string
		want int
	}{
		{layout.TilePath(0, size/layout.TileWidth, uint8(partial)), int(partial) * 32},
		{layout.TilePath(0, size/layout.TileWidth, 3), 3 * 32},
		{layout.TilePath(0, 0, 0), 256 * 32},
	} {
		b := httpGet(t, srv.URL+"/"+c.path)
		if len(b) != c.want {
			t.Errorf("GET %s: %d bytes, want %d", c.path, len(b), c.want)
		}
	}
	b := httpGet(t, srv.URL+"/"+layout.EntriesPath(1, 2))
	if want := entryBundle(got[256], got[257]); !bytes.Equal(b, want) {
		t.Errorf("GET %s = %q, want %q", layout.EntriesPath(1, 2), b, want)
	}
	if b := httpGet(t, srv.URL+"/checkpoint"); !bytes.HasPrefix(b, []byte(v.Name()+"\n")) {
		t.Errorf("GET checkpoint = %q", b)
	}
	// An outside client rebuilds the same tree from the served tiles.
	fetch := func(ctx context.Context, path string) ([]byte, error) { return httpGetErr(srv.URL + "/" + path) }
	pb, err := client.NewProofBuilder(ctx, cp.Size, func(ctx context.Context, l, i uint64, p uint8) ([]byte, error) {
		return fetch(ctx, layout.TilePath(l, i, p))
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pb.InclusionProof(ctx, cp.Size-1); err != nil {
		t.Fatalf("proof from served tiles: %v", err)
	}
}

func entryBundle(es ...[]byte) []byte {
	var b []byte
	for _, e := range es {
		b = append(b, byte(len(e)>>8), byte(len(e)))
		b = append(b, e...)
	}
	return b
}

func httpGet(t *testing.T, url string) []byte {
	t.Helper()
	b, err := httpGetErr(url)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func httpGetErr(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(b)))
	}
	return b, err
}

// TestMySQLEngineLease checks that one holder at a time has the engine
// lease, that releasing it hands it over, and that a holder whose
// database connection is killed loses it.
func TestMySQLEngineLease(t *testing.T) {
	dsn := mysqltest.DSN(t)
	ctx := context.Background()
	skey, _, _ := note.GenerateKey(rand.Reader, "test.lease/log")
	s, _ := note.NewSigner(skey)
	var logs [2]*ledger.Log
	for i := range logs {
		lg, err := ledger.Open(ctx, ledger.Config{MySQL: dsn, Signer: s})
		if err != nil {
			t.Fatal(err)
		}
		defer lg.Close(ctx)
		logs[i] = lg
	}
	held0, release0, err := logs[0].EngineLease().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The second cannot take it while the first holds it.
	tctx, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	_, _, err = logs[1].EngineLease().Acquire(tctx)
	cancel()
	if err == nil {
		t.Fatal("two holders of the engine lease at once")
	}
	release0()
	if held0.Err() == nil {
		t.Fatal("released lease's context not cancelled")
	}
	held1, release1, err := logs[1].EngineLease().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer release1()
	// Kill the holder's connection, as a database restart or a network
	// cut would: the holder must notice.
	admin, err := sql.Open("mysql", mysqltest.Admin())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var owner int64
	if err := admin.QueryRowContext(ctx, "SELECT IS_USED_LOCK(name) FROM (SELECT CONCAT('guarantor.engine.', LEFT(SHA2(?, 256), 32)) AS name) n", dbName(t, dsn)).Scan(&owner); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecContext(ctx, fmt.Sprintf("KILL CONNECTION %d", owner)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-held1.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the holder did not notice its connection was killed")
	}
	// And the other may now take it.
	_, release2, err := logs[0].EngineLease().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	release2()
}

func dbName(t *testing.T, dsn string) string {
	t.Helper()
	i := strings.LastIndex(dsn, "/")
	name, _, _ := strings.Cut(dsn[i+1:], "?")
	return name
}
