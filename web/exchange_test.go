package web_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
)

// hexes returns n distinct 64-hex-digit commitments.
func hexes(n int, salt string) []string {
	out := make([]string, n)
	for i := range out {
		h := sha256.Sum256(fmt.Appendf(nil, "%s-%d", salt, i))
		out[i] = hex.EncodeToString(h[:])
	}
	return out
}

// exchangeFixture is fixture with two exchanges. x-2026: RU's held list
// of 1,000 (998 held, 2 deceased) in two parts, logged part 2 first;
// UA's held list of 5; UA's claimed list of 7 with one of its two parts
// logged; batch 1 (RU to UA, 3 people) released in full and received but
// for one; batch 2 (UA to RU, 2 people) not confirmed. y: one person
// each way, every batch released and received, and a claimed list with a
// hostile side and status.
func exchangeFixture() *memSource {
	src := fixture()
	root := strings.Repeat("ab", 32)
	ru, ua, claimed, b1, b2 := hexes(1000, "ru"), hexes(5, "ua"), hexes(7, "claimed"), hexes(3, "b1"), hexes(2, "b2")
	list := func(idx uint64, x, id, side, kind string, count, part, parts int, by map[string]int, cs []string) node.Record {
		return node.Record{Index: idx, Kind: entry.KindExchangeList, Body: &entry.ExchangeList{ID: id, Exchange: x, Side: side, List: kind,
			At: at("2026-03-01T10:00:00Z"), Count: count, ByStatus: by, Part: part, Parts: parts, Root: root, Commitments: cs}}
	}
	manifest := func(idx uint64, x, id string, batch int, from, to string, cs []string) node.Record {
		return node.Record{Index: idx, Kind: entry.KindExchangeManifest, Body: &entry.ExchangeManifest{ID: id, Exchange: x, Batch: batch, From: from, To: to,
			At: at("2026-03-02T10:00:00Z"), Count: len(cs), Part: 1, Parts: 1, Root: root, Commitments: cs}}
	}
	confirm := func(idx uint64, x, manifest, event string, count int, missing ...string) node.Record {
		return node.Record{Index: idx, Kind: entry.KindExchangeConfirmation, Body: &entry.ExchangeConfirmation{ID: fmt.Sprintf("c%d", idx), Exchange: x,
			Manifest: manifest, Event: event, At: at("2026-03-03T10:00:00Z"), Count: count, Missing: missing}}
	}
	src.exchange = []node.Record{
		list(50, "x-2026", "ru-held", "RU", entry.ListHeld, 1000, 2, 2, map[string]int{"held": 998, "deceased": 2}, ru[800:]),
		list(51, "x-2026", "ru-held", "RU", entry.ListHeld, 1000, 1, 2, map[string]int{"held": 998, "deceased": 2}, ru[:800]),
		list(52, "x-2026", "ua-held", "UA", entry.ListHeld, 5, 1, 1, map[string]int{"held": 5}, ua),
		list(53, "x-2026", "ua-claimed", "UA", entry.ListClaimed, 807, 1, 2, map[string]int{"claimed": 806, "missing": 1}, claimed),
		list(60, "y", "y-ua", "UA", entry.ListHeld, 1, 1, 1, nil, hexes(1, "y-ua")),
		list(61, "y", "y-ru", "RU", entry.ListHeld, 1, 1, 1, nil, hexes(1, "y-ru")),
		list(62, "y", "y-claimed", hostileSigner, entry.ListClaimed, 1, 1, 1, map[string]int{hostileText: 1}, hexes(1, "y-claimed")),
		manifest(54, "x-2026", "b1", 1, "RU", "UA", b1),
		confirm(55, "x-2026", "b1", entry.ExchangeReleased, 3),
		confirm(56, "x-2026", "b1", entry.ExchangeReceived, 2, b1[1]),
		manifest(57, "x-2026", "b2", 2, "UA", "RU", b2),
		manifest(63, "y", "y1", 1, "RU", "UA", hexes(1, "y1")),
		manifest(64, "y", "y2", 1, "UA", "RU", hexes(1, "y2")),
		confirm(65, "y", "y1", entry.ExchangeReleased, 1),
		confirm(66, "y", "y1", entry.ExchangeReceived, 1),
		confirm(67, "y", "y2", entry.ExchangeReleased, 1),
		confirm(68, "y", "y2", entry.ExchangeReceived, 1),
	}
	return src
}

// TestBoardExchanges: the board has a section of exchanges only when the
// log holds one, with each exchange's figures as progress.Compute counts
// them.
func TestBoardExchanges(t *testing.T) {
	_, body := get(t, newUI(fixture(), clock("2026-03-04T08:00:00Z")), "/board")
	for _, s := range []string{`id="exchanges"`, "Prisoner exchange", "/exchanges/"} {
		if strings.Contains(body, s) {
			t.Errorf("without any exchange, the board has %q", s)
		}
	}
	_, body = get(t, newUI(exchangeFixture(), clock("2026-03-04T08:00:00Z")), "/board")
	mustContain(t, "board", body,
		`<section aria-labelledby="exchanges-h" id="exchanges">`, `<h2 id="exchanges-h">Prisoner exchanges</h2>`, "Exchanges: 2, as counted from the log",
		`<tr data-exchange="x-2026"><th scope="row"><a href="/exchanges/x-2026">x-2026</a></th>`,
		// 998 held by RU and 5 by UA; the claimed list does not count.
		`<td class="num" data-held="1003">1`+"\u202f"+`003</td>`,
		`<td class="num" data-in-batches="5">5 <span class="hint">(batches: 2)</span></td>`,
		`<td class="num" data-released="3">3</td><td class="num" data-received="2">2</td>`,
		fmt.Sprintf(`<span class="completeness" data-completeness="%v" data-complete="false">`, 2.0/1003),
		`<progress id="bar-x-2026" class="bar" max="100" value="0.2" aria-label="Completeness of exchange x-2026">0.2%</progress> <span class="pct">0.2%</span></span>`,
		`<tr data-exchange="y">`, `data-held="2"`, `data-received="2"`,
		`<span class="completeness" data-completeness="1" data-complete="true">`,
		`<span class="pct">100.0%</span> <strong class="complete">complete</strong>`)
	if i, j := strings.Index(body, `data-exchange="x-2026"`), strings.Index(body, `data-exchange="y"`); i > j {
		t.Error("the exchanges are not by id")
	}
	noRawHostile(t, "board", body)
}

func TestHomeExchanges(t *testing.T) {
	_, body := get(t, newUI(fixture()), "/")
	if strings.Contains(body, `id="exchanges"`) {
		t.Error("without any exchange, the home page has a section of them")
	}
	_, body = get(t, newUI(exchangeFixture()), "/")
	mustContain(t, "home", body, `<h2 id="exchanges-h">Prisoner exchanges</h2>`,
		`<li data-exchange="x-2026"><a href="/exchanges/x-2026">Prisoner exchange x-2026</a>: received 2 of the 1`+"\u202f"+`003 held.`,
		`<li data-exchange="y"><a href="/exchanges/y">Prisoner exchange y</a>: received 2 of the 2 held.`,
		`<strong class="complete">complete</strong>`)
}

func TestExchangePage(t *testing.T) {
	src := exchangeFixture()
	h := newUI(src)
	res, body := get(t, h, "/exchanges/x-2026")
	if res.StatusCode != 200 {
		t.Fatalf("status %s", res.Status)
	}
	mustContain(t, "exchange", body,
		"<title>Prisoner exchange x-2026 · guarantor</title>", "<h1>Prisoner exchange x-2026</h1>",
		`aria-current="page">Guarantor board</a>`, `<a href="/board#exchanges">Prisoner exchanges</a>`,
		// The totals.
		`<dd id="exchange-held" data-count="1003">1`+"\u202f"+`003</dd>`,
		`<dd id="exchange-in-batches" data-count="5">5 <span class="hint">(batches: 2)</span></dd>`,
		`<dd id="exchange-released" data-count="3">3</dd>`, `<dd id="exchange-received" data-count="2">2</dd>`,
		`<span class="pct">0.2%</span></span></dd>`,
		`<a href="/v1/exchanges/x-2026" type="application/json" id="exchange-json">`,
		// The lists: by status in order, the parts by number, an
		// incomplete list marked.
		`<tr data-list="ru-held" data-side="RU" data-kind="held">`, `<th scope="row">RU</th><td>held by this side</td><td class="num" data-count="1000">1`+"\u202f"+`000</td>`,
		`<span data-status="held" data-count="998">held: 998</span>; <span data-status="deceased" data-count="2">deceased: 2</span>`,
		`<td data-parts="2/2">2 of 2</td>`,
		`<a href="/explorer/entries/51">part 1 (entry 51)</a>, <a href="/explorer/entries/50">part 2 (entry 50)</a>`,
		`<code class="hash">`+strings.Repeat("ab", 32)+`</code>`,
		`<tr data-list="ua-claimed" data-side="UA" data-kind="claimed" class="incomplete">`, "claimed: held by the other side",
		`<span data-status="claimed" data-count="806">claimed: 806</span>; <span data-status="missing" data-count="1">missing: 1</span>`,
		`<td data-parts="1/2">1 of 2 <strong>incomplete: not counted yet</strong></td>`,
		// The batches, their confirmations and the commitments' URLs.
		"Batches: 2, each co-signed by both sides and the neutral verifier",
		`<tr data-manifest="b1">`, `<th scope="row">1</th><td>RU → UA</td><td class="num" data-count="3">3</td>`,
		`<td data-count="3" data-missing="0">3 <span class="hint">missing: 0</span><br><a href="/explorer/entries/55">entry 55</a></td>`,
		`<td data-count="2" data-missing="1">2 <strong class="bad">missing: 1</strong><br><a href="/explorer/entries/56">entry 56</a></td>`,
		`<a href="/explorer/entries/54">part 1 (entry 54)</a>`,
		`<a href="/v1/exchanges/x-2026/manifests/b1" type="application/json" aria-label="Commitments of batch 1 (JSON)">`,
		`<tr data-manifest="b2">`, `<th scope="row">2</th><td>UA → RU</td>`, `<td class="hint">not confirmed yet</td><td class="hint">not confirmed yet</td>`,
		`/v1/exchanges/x-2026/manifests/b2`,
		// How a family checks an opening.
		"How a family checks that its relative is in a batch",
		`<code id="check-command">guarantor exchange check --server http://example.com --exchange x-2026 --opening FILE --family NAME`)
	// Counts and roots only: no commitment of a person is on the page.
	for _, rec := range src.exchange {
		var cs []string
		switch b := rec.Body.(type) {
		case *entry.ExchangeList:
			cs = b.Commitments
		case *entry.ExchangeManifest:
			cs = b.Commitments
		case *entry.ExchangeConfirmation:
			cs = b.Missing
		}
		for _, c := range cs {
			if strings.Contains(body, c) {
				t.Fatalf("the page shows commitment %s of entry %d", c, rec.Index)
			}
		}
	}
	if strings.Contains(body, `data-exchange="y"`) || strings.Contains(body, "y-claimed") {
		t.Error("the page shows another exchange")
	}

	_, body = get(t, h, "/exchanges/y")
	mustContain(t, "exchange y", body, `<dd id="exchange-held" data-count="2">2</dd>`, `<strong class="complete">complete</strong>`,
		`<th scope="row">monitor.&lt;b&gt;x&lt;/b&gt;&#43;0badc0de</th>`, `&lt;script&gt;alert(&#34;obs&#34;)&lt;/script&gt;: 1`)
	noRawHostile(t, "exchange y", body)
}

func TestExchangeNotFound(t *testing.T) {
	h := newUI(exchangeFixture())
	for path, want := range map[string]string{
		"/exchanges/nope":            "There is no prisoner exchange nope in the log.",
		"/exchanges/X-2026":          "There is no prisoner exchange X-2026 in the log.",
		"/exchanges/%3Cscript%3Ex":   "There is no prisoner exchange &lt;script&gt;x in the log.",
		"/exchanges/x-2026/manifest": "There is no page at /exchanges/x-2026/manifest.",
	} {
		res, body := get(t, h, path)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %s", path, res.Status)
		}
		mustContain(t, path, body, want)
		noRawHostile(t, path, body)
	}
	res, body := get(t, newUI(fixture()), "/exchanges/x-2026")
	if res.StatusCode != http.StatusNotFound || !strings.Contains(body, "<h1>Exchange not found</h1>") {
		t.Errorf("an empty log: %s", res.Status)
	}
}
