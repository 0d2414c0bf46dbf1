package web_test

import (
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/web"
)

// boardFixture is fixture with two sanction measures (one re-imposed by
// obligation 1) and a coverage snapshot of the coalition with a gap, a
// caveat conflict, an uncovered obligation and a donor behind.
func boardFixture() *memSource {
	src := fixture()
	one := uint64(1)
	idx := uint64(40)
	src.sanctions = []node.SanctionRow{
		{Index: 38, Status: "suspended", Sanction: entry.Sanction{ID: "eu-1", Authority: "EU", Program: hostileText, Status: "suspended",
			Targets: []entry.SanctionTarget{{Kind: "sector", Name: "Energy exports"}}, Relief: "Suspended while the ceasefire holds."}},
		{Index: 39, Status: "active", ReimposedBy: &one, ReimposedIndex: &idx, Sanction: entry.Sanction{ID: "uk-2", Authority: "UK", Program: "Assets", Status: "suspended",
			Targets: []entry.SanctionTarget{{Kind: "state", Name: "Russian Federation"}, {Kind: "vessel", Name: "Shadow <i>1</i>"}}}},
	}
	src.coverage = map[string]node.CoverageRow{"fw": {Index: 41, Coverage: entry.Coverage{Agreement: "fw", Version: 1, Month: "2026-01", At: at("2026-01-07T10:00:00Z"),
		Cells: []entry.CoverageCell{
			{Sector: "east", Capability: "air_missile_defence", Required: 6, Pledged: 4, Deployed: 2, Confirmed: 1, Shortfall: 4},
			{Sector: "east", Capability: "land_demining", Required: 20, Pledged: 20, Deployed: 20},
			{Sector: "west", Capability: "budget_support", Pledged: 1.2e9, Deployed: 1e8},
		},
		Ratios:  []entry.CoverageRatio{{Contributor: "guarantor:DE", Pledged: 4, Deployed: 2}},
		Support: []entry.CoverageSupport{{Contributor: "guarantor:FR", Capability: "budget_support", Unit: "EUR", Pledged: 1.2e9, Due: 3e8, Disbursed: 1e8}},
		Obligations: []entry.CoverageLink{
			{Obligation: 1, Who: "guarantor:UK", Capability: "air_missile_defence", Conflict: true, Holders: []entry.CoverageHolder{
				{Contributor: "guarantor:DE", Pledge: "p1", Sector: "east", Deployed: 2, Caveats: []string{"no_deployment_in_ukraine"}, Conflicts: []string{"no_deployment_in_ukraine"}}}},
			{Obligation: 2, Who: "party:RU", Capability: "air_policing"},
		}}}}
	return src
}

func TestBoard(t *testing.T) {
	h := newUI(boardFixture(), clock("2026-01-08T08:00:00Z"))
	res, body := get(t, h, "/board")
	if res.StatusCode != 200 {
		t.Fatalf("status %s", res.Status)
	}
	mustContain(t, "board", body,
		"<h1>Guarantor board</h1>", `aria-current="page">Guarantor board</a>`,
		`<time id="board-now" datetime="2026-01-08T08:00:00Z">`,
		`<span id="board-open-count" data-count="2">Open obligations: 2.</span>`,
		`<span class="countdown" data-deadline="2026-01-08T09:00:00Z">1 h left</span>`,
		`<span class="countdown" data-deadline="2026-01-09T09:00:00Z">1 d 1 h left</span>`,
		// Records, as /v1/guarantors.csv counts them.
		`<tr data-who="party:UA"><th scope="row">party:UA</th><td>party</td>`,
		`<td class="num">22</td>`, // hours from opened to fulfilled
		`<tr data-who="coalition"><th scope="row">coalition</th><td>group</td>`,
		`href="/v1/guarantors/UK/record"`, `href="/v1/guarantors/coalition/record"`, `href="/v1/parties/RU/feed.atom"`,
		// Sanctions, with the one re-imposed by snap-back.
		`<tr data-id="eu-1">`, `<strong class="sanction-suspended">suspended</strong>`,
		`<strong class="sanction-active">active</strong><br>Re-imposed by snap-back: obligation <a href="/v1/obligations/1">1</a>`,
		"Shadow &lt;i&gt;1&lt;/i&gt; (vessel)", `href="/v1/sanctions.ftm.jsonl"`,
		// Coverage: a gap, a caveat conflict, an uncovered obligation, a donor behind.
		`data-agreement="fw"`, "The engine&#39;s latest coverage snapshot of coalition for 2026-01", `<span id="gaps-fw" data-count="1">Gaps: 1.</span>`,
		`<td class="cell gap" data-sector="east" data-capability="air_missile_defence">`,
		"<span>required 6</span><span>pledged 4</span><span>deployed 2</span><span>confirmed 1</span><strong>short by 4</strong>",
		`<td class="cell" data-sector="east" data-capability="land_demining">`,
		`<span class="sr">nothing required or pledged</span>`,
		"Integrated air and missile defence", "(batteries)",
		`<tr class="conflict"><td><a href="/v1/obligations/1">1</a></td><td>guarantor:UK</td><td>air_missile_defence</td>`,
		"guarantor:DE (2, east): <strong>no_deployment_in_ukraine</strong>",
		"Open obligations needing a capability no contributor holds in place (1):", `<a href="/v1/obligations/2">2</a> (air_policing)`,
		`<tr class="behind"><th scope="row">guarantor:FR</th>`, "1\u202f200\u202f000\u202f000 EUR", "<strong>behind</strong>",
		`href="/v1/coalition/fw/coverage.csv"`, `href="/v1/coalition/fw/support.csv"`,
		`<link rel="alternate" type="application/atom+xml" href="/v1/guarantors/UK/feed.atom"`,
		`data-i18n="{&#34;countdown.days&#34;:&#34;%d d&#34;`,
	)
	noRawHostile(t, "board", body)
	// The open obligations, the soonest deadline first; a closed one is not
	// among them.
	ids := regexp.MustCompile(`<tr data-id="(\d+)"`).FindAllStringSubmatch(body, -1)
	if len(ids) < 2 || ids[0][1]+" "+ids[1][1] != "2 1" || len(ids) != 2 {
		t.Errorf("open obligation rows %v", ids)
	}
	records := regexp.MustCompile(`<tr data-who="([^"]+)">`).FindAllStringSubmatch(body, -1)
	var who []string
	for _, m := range records {
		who = append(who, m[1])
	}
	if got := strings.Join(who, " "); got != "guarantor:DE guarantor:FR guarantor:UK coalition party:RU party:UA" {
		t.Errorf("records in the order %s", got)
	}

	// Past a deadline, the obligation is overdue until the tick settles it.
	_, body = get(t, newUI(boardFixture(), clock("2026-01-08T10:30:00Z")), "/board")
	mustContain(t, "overdue", body, `<tr data-id="2" class="overdue">`, ">overdue by 1 h 30 min</span>", ">22 h 30 min left</span>")
}

func TestBoardEmpty(t *testing.T) {
	_, body := get(t, newUI(fixture(), clock("2026-01-08T08:00:00Z")), "/board")
	mustContain(t, "board", body, `<p id="sanctions-none">No sanction measure is logged.</p>`,
		`<p class="notice" id="coverage-none-fw">No coverage snapshot of coalition is logged yet`)
	_, body = get(t, newUI(&memSource{}, clock("2026-01-08T08:00:00Z")), "/board")
	mustContain(t, "board", body, "No obligation is open.", "No agreement names a coalition.", "No agreement binds a guarantor or party yet.")
	// The section of prisoner exchanges appears only when the log holds
	// one (TestBoardExchanges).
	if strings.Contains(strings.ToLower(body), "exchange") {
		t.Error("the board mentions exchanges, and the log holds none")
	}
	_, body = get(t, newUI(&memSource{exchange: exchangeFixture().exchange}, clock("2026-01-08T08:00:00Z")), "/board")
	mustContain(t, "board", body, `<h2 id="exchanges-h">Prisoner exchanges</h2>`, `<tr data-exchange="x-2026">`, `<tr data-exchange="y">`)
}

func TestNewPagesAnswer500OnStoreErrors(t *testing.T) {
	src := boardFixture()
	src.err = errors.New("database is locked: secret detail")
	var logged strings.Builder
	h := web.New(src, web.WithLogger(slog.New(slog.NewTextHandler(&logged, nil))), clock("2026-01-20T12:00:00Z"))
	paths := []string{"/reports", "/reports/2026-01-07", "/reports/2026-01-07.json", "/reports/2026-01-07.csv", "/board", "/exchanges/x", "/explorer", "/explorer/entries/10"}
	for _, path := range paths {
		res, body := get(t, h, path)
		if res.StatusCode != http.StatusInternalServerError {
			t.Errorf("%s: status %s", path, res.Status)
		}
		mustContain(t, path, body, "Something went wrong")
		if strings.Contains(body, "secret detail") {
			t.Errorf("%s: the error reached the page", path)
		}
	}
	if n := strings.Count(logged.String(), "secret detail"); n != len(paths) {
		t.Errorf("%d of %d errors logged:\n%s", n, len(paths), logged.String())
	}
}
