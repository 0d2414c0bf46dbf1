package web_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/internal/testkeys"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/registry"
	"github.com/guarantor/guarantor/web"
	"github.com/guarantor/guarantor/witness"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// explorerFixture is fixture with real signed notes: observations o1, o2
// and o4 at entries 10, 11 and 13 by a registered monitor, incident 10's
// latest revision at entry 30, and entry 45, which the log's checkpoint (a
// real RFC 6962 tree of 40 leaves, signed by logKey) does not cover yet.
func explorerFixture(t *testing.T) (*memSource, fakeLog, testkeys.Key) {
	t.Helper()
	src := fixture()
	monitor, engine, logKey := testkeys.New(t, "monitor.team-7"), testkeys.New(t, "engine"), testkeys.New(t, "test.log")
	src.keys = []registry.Key{
		{ID: engine.ID, Role: "engine", Label: "the engine", Index: 1},
		{ID: monitor.ID, Role: "monitor", Label: "Team <i>7</i>", Index: 3, Revoked: &registry.Revocation{Index: 44, Effective: at("2026-02-01T00:00:00Z")}},
	}
	sign := func(idx uint64, kind entry.Kind, body any, k testkeys.Key) {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		raw := testkeys.Sign(t, kind, string(b), k)
		src.entries[idx] = node.Record{Index: idx, Kind: kind, Raw: raw, LeafHash: rfc6962.DefaultHasher.HashLeaf(raw), Signers: []string{k.ID}, Body: body}
	}
	for _, idx := range []uint64{10, 11, 13} {
		sign(idx, entry.KindObservation, src.entries[idx].Body, monitor)
	}
	for _, rv := range src.revisions {
		if rv.Index == 30 {
			sign(30, entry.KindIncident, &rv.Incident, engine)
		}
	}
	sign(45, entry.KindObservation, &entry.Observation{ID: "o9", ObservedAt: at("2026-01-10T12:00:00Z"), Location: pt(37.8, 48.0), Category: "mine", Text: hostileText}, monitor)
	leaves := make([][]byte, 40)
	for i := range leaves {
		if rec, ok := src.entries[uint64(i)]; ok {
			leaves[i] = rec.LeafHash
		} else {
			leaves[i] = rfc6962.DefaultHasher.HashLeaf([]byte(fmt.Sprint("entry ", i)))
		}
	}
	return src, fakeLog{leaves: leaves, signer: logKey.S}, logKey
}

func TestExplorer(t *testing.T) {
	src, lg, _ := explorerFixture(t)
	h := newUI(src, web.WithLog(lg))
	res, body := get(t, h, "/explorer")
	if res.StatusCode != 200 {
		t.Fatalf("status %s", res.Status)
	}
	mustContain(t, "explorer", body, "<h1>Log explorer</h1>", `aria-current="page">Log explorer</a>`,
		`<dd id="explorer-origin">test.log</dd>`, `<dd id="explorer-size">40</dd>`,
		`<dd id="explorer-signers"><code>test.log</code></dd>`,
		"The projection holds the first 46 entries of the log.",
		`<label for="q">Entry index, incident number or observation id</label>`,
		"The newest 2 entries, newest first", `<a href="/explorer/entries/45">45</a>`, `<a href="/explorer/entries/30">30</a>`,
		`href="/log/checkpoint"`)
	if strings.Contains(body, `id="search-results"`) {
		t.Error("results without a search")
	}

	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"10", []string{"Found 2 for &#34;10&#34;:", `<a href="/explorer/entries/10">Log entry 10</a>`, `<a href="/incidents/10">Incident 10</a>`}},
		{"16", []string{"Found 2 for", `<a href="/explorer/entries/16">Log entry 16</a>`, `<a href="/incidents/16">Incident 16</a>`}},
		{" o2 ", []string{"Found 1 for &#34;o2&#34;:", `<a href="/explorer/entries/11">Observation, log entry 11</a>`}},
		{"999", []string{"Nothing found for &#34;999&#34;."}},
		{"<script>x</script>", []string{"Nothing found for &#34;&lt;script&gt;x&lt;/script&gt;&#34;."}},
	} {
		res, body := get(t, h, "/explorer?q="+urlQuery(tc.q))
		if res.StatusCode != 200 {
			t.Errorf("q=%q: %s", tc.q, res.Status)
		}
		mustContain(t, "q="+tc.q, body, append(tc.want, `id="search-results" role="status"`)...)
		noRawHostile(t, "q="+tc.q, body)
	}
	for q, want := range map[string]string{"": "Type something to search for.", strings.Repeat("x", 129): "A search is at most 128 characters."} {
		res, body := get(t, h, "/explorer?q="+q)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("q=%.10q: %s", q, res.Status)
		}
		mustContain(t, "q", body, `role="alert"`, want)
	}
}

func TestExplorerEntry(t *testing.T) {
	src, lg, logKey := explorerFixture(t)
	h := newUI(src, web.WithLog(lg))
	res, body := get(t, h, "/explorer/entries/10")
	if res.StatusCode != 200 {
		t.Fatalf("status %s", res.Status)
	}
	leaf := src.entries[10].LeafHash
	mustContain(t, "entry 10", body, "<h1>Log entry 10</h1>", `<dd id="entry-kind">observation</dd>`,
		`<code class="hash" id="entry-leaf">`+strings.ReplaceAll(base64.StdEncoding.EncodeToString(leaf), "+", "&#43;")+`</code>`,
		`<a href="/explorer/entries/9" rel="prev">`, `<a href="/explorer/entries/11" rel="next">`,
		"<td>monitor</td><td>Team &lt;i&gt;7&lt;/i&gt;</td>", `<a href="/explorer/entries/3">entry 3</a> <strong>revoked from</strong>`,
		"<code>guarantor.v1/observation</code>", `&#34;id&#34;: &#34;o1&#34;,`, // the body, indented
		`\u003cscript\u003ealert`, // as json.Marshal wrote it in the signed body
		`<dd id="proof-size">40</dd>`, `<dd id="proof-verified" data-verified="true">`,
		"prove that leaf 10 is in the tree of size 40",
		`href="/explorer/entries/10/receipt.json"`, `href="/explorer/entries/10/note"`,
		"guarantor receipt verify --log-vkey")
	noRawHostile(t, "entry 10", body)
	if n := strings.Count(body, `<li><code class="hash">`); n != 6 { // ⌈log2 40⌉
		t.Errorf("%d proof hashes, want 6", n)
	}

	// The note and the receipt verify offline with the log's key, as
	// guarantor receipt verify checks them.
	_, raw := get(t, h, "/explorer/entries/10/note")
	if raw != string(src.entries[10].Raw) {
		t.Errorf("note %q", raw)
	}
	res, b := get(t, h, "/explorer/entries/10/receipt.json")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("receipt: %s %v", res.Status, res.Header)
	}
	var rc guarantor.Receipt
	if err := json.Unmarshal([]byte(b), &rc); err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(logKey.VKey)
	if err != nil {
		t.Fatal(err)
	}
	if cp, err := rc.Verify(v, []byte(raw)); err != nil || cp.Size != 40 {
		t.Errorf("receipt does not verify: %v", err)
	}

	// An incident revision links to its incident.
	_, body = get(t, h, "/explorer/entries/30")
	mustContain(t, "entry 30", body, `<dd id="entry-kind">incident</dd>`, `<a href="/incidents/10">Incident 10</a>`, "<td>engine</td>", `data-verified="true"`)

	// An entry after the checkpoint has no proof yet, nor a receipt.
	_, body = get(t, h, "/explorer/entries/45")
	mustContain(t, "entry 45", body, `id="proof-missing"`, "covers the first 40 entries only")
	if strings.Contains(body, `rel="next"`) {
		t.Error("the last entry links to the next")
	}
	if res, _ := get(t, h, "/explorer/entries/45/receipt.json"); res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("receipt of 45: %s", res.Status)
	}

	// A log whose proof does not lead to the root is flagged.
	bad := lg
	bad.leaves = append([][]byte(nil), lg.leaves...)
	bad.leaves[11] = rfc6962.DefaultHasher.HashLeaf([]byte("tampered"))
	_, body = get(t, newUI(src, web.WithLog(tamperedProofs{bad, lg})), "/explorer/entries/10")
	mustContain(t, "bad proof", body, `data-verified="false"`, "the proof does not lead to the checkpoint")

	// Without a log, the entry shows without its proof.
	_, body = get(t, newUI(src), "/explorer/entries/10")
	mustContain(t, "no log", body, `id="proof-missing"`, "The log&#39;s state is not available here")
	if res, _ := get(t, newUI(src), "/explorer/entries/10/receipt.json"); res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("receipt without a log: %s", res.Status)
	}
}

// tamperedProofs answers with proofs from one tree and the checkpoint of
// another.
type tamperedProofs struct{ proofs, checkpoint fakeLog }

func (l tamperedProofs) ReadCheckpoint(ctx context.Context) ([]byte, error) {
	return l.checkpoint.ReadCheckpoint(ctx)
}

func (l tamperedProofs) InclusionProof(ctx context.Context, index, size uint64) ([][]byte, error) {
	return l.proofs.InclusionProof(ctx, index, size)
}

func TestExplorerEntryNotFound(t *testing.T) {
	src, lg, _ := explorerFixture(t)
	h := newUI(src, web.WithLog(lg))
	for _, path := range []string{"/explorer/entries/99", "/explorer/entries/12", "/explorer/entries/abc", "/explorer/entries/-1",
		"/explorer/entries/%3Cb%3Ex", "/explorer/entries/99/note", "/explorer/entries/99/receipt.json"} {
		res, body := get(t, h, path)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %s", path, res.Status)
		}
		mustContain(t, path, body, "<h1>Log entry not found</h1>")
		noRawHostile(t, path, body)
	}
}

// urlQuery escapes s for a query string.
func urlQuery(s string) string {
	return strings.NewReplacer(" ", "+", "<", "%3C", ">", "%3E", "/", "%2F").Replace(s)
}

// TestExplorerCosignatures: the explorer verifies the log's signature on
// its checkpoint with the key WithLogVerifier gives, and lists a
// witness's cosignature/v1 line (name, key hash, timestamp) as not
// verified here; with no witness it says there is no cosignature.
func TestExplorerCosignatures(t *testing.T) {
	src, lg, logKey := explorerFixture(t)
	logV, err := note.NewVerifier(logKey.VKey)
	if err != nil {
		t.Fatal(err)
	}
	_, body := get(t, newUI(src, web.WithLog(lg), web.WithLogVerifier(logV)), "/explorer")
	mustContain(t, "no witness", body, fmt.Sprintf(`<code>%s+%08x</code>: <strong data-verified="true">verified here with the log&#39;s key</strong>`, logKey.S.Name(), logKey.S.KeyHash()),
		`<p id="cosigs-none">This checkpoint carries no cosignatures: no witness has signed it.</p>`)

	skey, _, err := note.GenerateKey(rand.Reader, "witness.example")
	if err != nil {
		t.Fatal(err)
	}
	if lg.cosign, _, err = witness.CosignerFromKey(skey); err != nil {
		t.Fatal(err)
	}
	before := time.Now().Truncate(time.Second)
	_, body = get(t, newUI(src, web.WithLog(lg)), "/explorer")
	after := time.Now()
	mustContain(t, "witness", body, fmt.Sprintf(`<code>%s+%08x</code>: not verified here`, logKey.S.Name(), logKey.S.KeyHash()),
		"Signatures other than the log&#39;s: 1", fmt.Sprintf(`<tr><td><code>witness.example</code></td><td><code>%08x</code></td><td><time datetime="`, lg.cosign.KeyHash()),
		"<td>not verified here</td></tr>", "guarantor verify --witness-policy")
	m := regexp.MustCompile(`<table id="cosigs">(?s:.*)<time datetime="([^"]+)">`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no cosignature timestamp")
	}
	if ts, err := time.Parse(time.RFC3339, m[1]); err != nil || ts.Before(before) || ts.After(after) {
		t.Errorf("cosigned at %s (%v), want between %s and %s", m[1], err, before, after)
	}
	if strings.Contains(body, "cosigs-none") {
		t.Error("a cosigned checkpoint shown as without cosignatures")
	}
}
