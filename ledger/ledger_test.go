package ledger_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/guarantor/guarantor/ledger"
	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/client"
	"golang.org/x/mod/sumdb/note"
	"pgregory.net/rapid"
)

// TestInclusionProofsMatchTessera grows a log in uneven steps and checks,
// at every checkpoint, that the ledger's cached proofs equal those of
// Tessera's own proof builder and verify against the checkpoint's root.
func TestInclusionProofsMatchTessera(t *testing.T) {
	ctx := context.Background()
	skey, vkey, _ := note.GenerateKey(rand.Reader, "test.log")
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	dir := t.TempDir()
	lg, err := ledger.Open(ctx, ledger.Config{Dir: dir, Signer: s, CheckpointInterval: 100 * time.Millisecond, BatchMaxAge: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close(ctx)
	n := 0
	byIndex := map[uint64][]byte{}
	for _, step := range []int{1, 2, 5, 250, 1, 7, 300, 64, 513} {
		// Entries of one step are added together, so their order within
		// the step is Tessera's; record which index each got.
		var futs []tessera.IndexFuture
		var datas [][]byte
		for range step {
			d := []byte(fmt.Sprintf("entry %d", n))
			n++
			futs = append(futs, lg.Add(ctx, d))
			datas = append(datas, d)
		}
		var cpRaw []byte
		for k, f := range futs {
			idx, cp, err := lg.Await(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			byIndex[idx] = datas[k]
			if cpRaw == nil || len(cp) > 0 {
				cpRaw = cp
			}
		}
		cp, _, _, err := log.ParseCheckpoint(cpRaw, v.Name(), v)
		if err != nil {
			t.Fatal(err)
		}
		pb, err := client.NewProofBuilder(ctx, cp.Size, lg.Reader().ReadTile)
		if err != nil {
			t.Fatal(err)
		}
		rapid.Check(t, func(rt *rapid.T) {
			i := rapid.Uint64Range(0, cp.Size-1).Draw(rt, "index")
			got, err := lg.InclusionProof(ctx, i, cp.Size)
			if err != nil {
				rt.Fatal(err)
			}
			want, err := pb.InclusionProof(ctx, i)
			if err != nil {
				rt.Fatal(err)
			}
			if len(got) != len(want) {
				rt.Fatalf("proof of %d at %d: %d hashes, Tessera %d", i, cp.Size, len(got), len(want))
			}
			for k := range got {
				if !bytes.Equal(got[k], want[k]) {
					rt.Fatalf("proof of %d at %d differs from Tessera's at %d", i, cp.Size, k)
				}
			}
			leaf := rfc6962.DefaultHasher.HashLeaf(byIndex[i])
			if err := proof.VerifyInclusion(rfc6962.DefaultHasher, i, cp.Size, leaf, got, cp.Hash); err != nil {
				rt.Fatal(err)
			}
		})
	}
}

func TestTileHandler(t *testing.T) {
	ctx := context.Background()
	skey, _, _ := note.GenerateKey(rand.Reader, "test.log")
	s, _ := note.NewSigner(skey)
	dir := t.TempDir()
	lg, err := ledger.Open(ctx, ledger.Config{Dir: dir, Signer: s, CheckpointInterval: 100 * time.Millisecond, BatchMaxAge: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close(ctx)
	for i := range 300 {
		lg.Add(ctx, []byte(fmt.Sprint(i)))
	}
	if _, _, err := lg.Await(ctx, lg.Add(ctx, []byte("last"))); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.StripPrefix("/log/", ledger.TileHandler(dir)))
	defer srv.Close()
	for path, want := range map[string]struct {
		status int
		cache  string
	}{
		"/log/checkpoint":            {200, "no-cache"},
		"/log/tile/0/000":            {200, "public, max-age=31536000, immutable"},
		"/log/tile/entries/000":      {200, "public, max-age=31536000, immutable"},
		"/log/tile/entries/001.p/45": {200, "public, max-age=60"},
		"/log/tile/0/001.p/45":       {200, "public, max-age=60"},
		"/log/tile/0/002":            {404, ""},
		"/log/tile/0/00":             {404, ""},
		"/log/tile/0/x000/000":       {404, ""},
		"/log/tile/0/000.p/0":        {404, ""},
		"/log/tile/0/000.p/256":      {404, ""},
		"/log/.state/treeState":      {404, ""},
		"/log/tile/../checkpoint":    {404, ""},
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want.status || resp.Header.Get("Cache-Control") != want.cache {
			t.Errorf("%s: %d %q, want %d %q", path, resp.StatusCode, resp.Header.Get("Cache-Control"), want.status, want.cache)
		}
	}
	resp, err := http.Post(srv.URL+"/log/checkpoint", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST checkpoint: %d", resp.StatusCode)
	}
}
