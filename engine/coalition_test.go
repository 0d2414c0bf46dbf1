package engine_test

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/guarantor/guarantor/engine"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/internal/testkeys"
)

// The coalition scenario: a year (2026) of a coalition of twelve states
// covering six sectors strung along a line of contact at latitude 48°N,
// with military pledges (some caveated, some delivered late, in part, or
// withdrawn), monitors' sightings of some deployments, economic support
// pledged in three currencies and disbursed month by month, and missile
// strikes that oblige a guarantor to answer with a capability. The test
// computes what every coverage snapshot must say from the plans alone,
// not from the engine's state, and replays the log byte for byte.

var (
	covYear    = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	covSectors = []string{"s1", "s2", "s3", "s4", "s5", "s6"}
	covCaps    = []string{"land_demining", "air_policing", "air_missile_defence", "training_mission", "reassurance_force"}
	covCaveats = []string{"no_combat_troops", "outside_50km_of_line", "outside_100km_of_line", "no_deployment_in_ukraine", "training_only"}
	covRates   = map[string]float64{"EUR": 1, "USD": 0.92, "GBP": 1.17}
)

func covMonth(m int) time.Time { return covYear.AddDate(0, m, 0) }

// sectorLon is the western edge of sector i: sectors are 1° wide, from
// 34°E, and 2° tall, from 47°N to 49°N, across the line at 48°N.
func sectorLon(i int) float64 { return 34 + float64(i) }

// covPlan is one military pledge and what happens to it, by month (0-11;
// 12: never): reported deployed on day 3 of month dep, seen by a monitor
// on day 10 of month seen, withdrawn on day 20 of month out.
type covPlan struct {
	n              int // its place in the scenario: minutes after midnight of its events, so no two tie
	who            string
	p              entry.Pledge
	dep, seen, out int
	deployed, saw  float64
}

// covAid is one economic pledge for the year and the months in which
// the donor disbursed a twelfth of it (on day 5).
type covAid struct {
	n     int
	who   string
	p     entry.Pledge
	paid  []int
	share float64 // what one disbursement is, in the pledge's currency
}

// paidAt is when the donor disburses in month m: day 5, n minutes in.
func (ad covAid) paidAt(m int) time.Time {
	return covMonth(m).AddDate(0, 0, 4).Add(time.Duration(ad.n) * time.Minute)
}

// covStrike is a missile strike, on day 12 of its month, at a distance
// from the line: it obliges the guarantor US to respond with air and
// missile defence (caveat conflicts: no_deployment_in_ukraine) and the
// coalition to put a reassurance force in (no_combat_troops,
// training_only).
type covStrike struct {
	month  int
	sector int
	km     float64 // north of the line
}

func covAgreement(rng *rand.Rand, members []string) *entry.Agreement {
	a := &entry.Agreement{ID: "fw", Version: 1, Title: "Framework", Effective: covYear, Coalition: "coalition",
		Parties:    []entry.Party{{ID: "UA", Name: "Ukraine"}, {ID: "RU", Name: "Russia"}},
		Guarantors: []entry.Guarantor{{ID: "coalition", Name: "Coalition", Kind: entry.Collective, Members: members}, {ID: "US", Name: "United States", Kind: entry.Bilateral, Beneficiary: "UA"}},
		Lines:      []entry.Line{{ID: "loc", Geometry: []byte(`{"type":"LineString","coordinates":[[33,48],[41,48]]}`)}},
		Rates: []entry.Rate{{Currency: "USD", To: "EUR", Rate: covRates["USD"], AsOf: covYear, Source: "test"},
			{Currency: "GBP", To: "EUR", Rate: covRates["GBP"], AsOf: covYear, Source: "test"}},
		Triggers: []entry.Trigger{{ID: "strike", Title: "Missile strike", When: "incident.category == 'missile_strike'", Obligations: []entry.Duty{
			{Who: "US", Action: "respond", Within: "2d", Capabilities: []string{"air_missile_defence"}, CaveatConflicts: []string{"no_deployment_in_ukraine"}},
			{Who: "coalition", Action: "respond", Within: "7d", Capabilities: []string{"reassurance_force"}, CaveatConflicts: []string{"no_combat_troops", "training_only"}},
		}}},
	}
	for i, s := range covSectors {
		lon := sectorLon(i)
		a.Zones = append(a.Zones, entry.Zone{ID: s, Kind: "sector", Geometry: fmt.Appendf(nil,
			`{"type":"Polygon","coordinates":[[[%g,47],[%g,47],[%g,49],[%g,49],[%g,47]]]}`, lon, lon+1, lon+1, lon, lon)})
		for _, c := range covCaps {
			if rng.IntN(4) == 0 {
				continue
			}
			from := rng.IntN(4)
			a.Requirements = append(a.Requirements, entry.Requirement{Sector: s, Capability: c, Quantity: float64(1 + rng.IntN(8)), From: covMonth(from), To: covMonth(12)})
		}
	}
	return a
}

func covScenario(seed uint64) (*entry.Agreement, []string, []covPlan, []covAid, []covStrike) {
	rng := rand.New(rand.NewPCG(seed, 11))
	var members []string
	for i := range 12 {
		members = append(members, fmt.Sprintf("C%02d", i))
	}
	a := covAgreement(rng, members)
	var plans []covPlan
	for _, m := range members {
		for j := range 3 + rng.IntN(4) {
			start := rng.IntN(8)
			end := start + 2 + rng.IntN(12-start-1)
			q := float64(1 + rng.IntN(5))
			pl := covPlan{n: len(plans), who: "guarantor:" + m, p: entry.Pledge{ID: fmt.Sprintf("%s-%d", m, j), At: covMonth(start).Add(-48 * time.Hour), Agreement: "fw",
				Capability: covCaps[rng.IntN(len(covCaps))], Quantity: q, Sector: covSectors[rng.IntN(len(covSectors))], From: covMonth(start), To: covMonth(end)},
				dep: start + rng.IntN(3), seen: 12, out: 12, deployed: q}
			switch {
			case pl.p.Capability == "air_missile_defence":
				// Air defence is offered from outside the line's reach
				// only: a strike near the line finds every holder caveated.
				pl.p.Caveats = []string{covCaveats[1+rng.IntN(3)]}
			case rng.IntN(3) == 0:
				pl.p.Caveats = []string{covCaveats[rng.IntN(len(covCaveats))]}
			}
			if rng.IntN(4) == 0 {
				pl.deployed = float64(rng.IntN(int(q))) // under-delivers, perhaps nothing
			}
			if rng.IntN(4) == 0 {
				pl.out = pl.dep + 1 + rng.IntN(4)
			}
			if pl.deployed > 0 && rng.IntN(2) == 0 {
				pl.seen = pl.dep + rng.IntN(3)
				pl.saw = max(1, pl.deployed-float64(rng.IntN(2)))
			}
			plans = append(plans, pl)
		}
	}
	var aid []covAid
	for i, cur := range []string{"EUR", "USD", "GBP"} {
		who := "guarantor:" + members[i]
		amount := float64(120_000_000 * (i + 1))
		ad := covAid{n: i, who: who, p: entry.Pledge{ID: "aid-" + cur, At: covYear.Add(-48 * time.Hour), Agreement: "fw", Capability: "budget_support",
			Quantity: amount, Currency: cur, Sector: covSectors[i], From: covYear, To: covMonth(12)}, share: amount / 12}
		for m := range 12 {
			if rng.IntN(5) != 0 { // a donor misses about one month in five
				ad.paid = append(ad.paid, m)
			}
		}
		aid = append(aid, ad)
	}
	strikes := []covStrike{{month: 3, sector: 1, km: 20}, {month: 6, sector: 4, km: 70}, {month: 9, sector: 2, km: 0.5}}
	return a, members, plans, aid, strikes
}

// covEvent is one input of the scenario at its time.
type covEvent struct {
	at     time.Time
	body   any
	signer string
}

// at is when the plan's event of month m on day happens (m 12: never).
func (pl covPlan) at(m, day int) time.Time {
	if m >= 12 {
		return covMonth(24)
	}
	return covMonth(m).AddDate(0, 0, day-1).Add(time.Duration(pl.n) * time.Minute)
}

func (pl covPlan) depAt() time.Time  { return pl.at(pl.dep, 3) }
func (pl covPlan) seenAt() time.Time { return pl.at(pl.seen, 10) }
func (pl covPlan) outAt() time.Time  { return pl.at(pl.out, 20) }

func (pl covPlan) events() []covEvent {
	ev := []covEvent{{pl.p.At, &pl.p, pl.who}}
	if pl.dep < 12 {
		ev = append(ev, covEvent{pl.depAt(), &entry.Deployment{ID: pl.p.ID + "-dep", At: pl.depAt(), Pledge: pl.p.ID, Quantity: pl.deployed, Status: "deployed"}, pl.who})
	}
	if pl.seen < 12 && pl.seen < pl.out {
		o := obsAt(pl.p.ID+"-seen", pl.seenAt(), 0, 0, entry.CategoryDeploymentSighting, "patrol", 100)
		o.Confirms = &entry.Confirmation{Contributor: pl.who, Deployment: pl.p.ID + "-dep", Quantity: pl.saw}
		ev = append(ev, covEvent{pl.seenAt(), o, "monitor+1"})
	}
	if pl.out < 12 {
		ev = append(ev, covEvent{pl.outAt(), &entry.Deployment{ID: pl.p.ID + "-out", At: pl.outAt(), Pledge: pl.p.ID, Status: "withdrawn"}, pl.who})
	}
	return ev
}

// covRun feeds the scenario to an engine in time order, with a tick at
// the start of every month and a day after each strike, and returns the
// inputs and everything derived.
func covRun(t *testing.T, seed uint64) (*entry.Agreement, []covPlan, []covAid, []covStrike, []engine.Input, []engine.Derived) {
	a, members, plans, aid, strikes := covScenario(seed)
	w := &world{t: t, e: engine.New(engine.DefaultConfig()), keys: map[string]string{}}
	roles := []string{"party:UA", "party:RU", "guarantor:US"}
	for _, m := range members {
		roles = append(roles, "guarantor:"+m)
	}
	for _, role := range roles {
		k := testkeys.New(t, strings.ReplaceAll(role, ":", "."))
		w.keys[role] = k.ID
		w.apply(&entry.KeyBody{VKey: k.VKey, Role: role}, "authority+1")
	}
	w.apply(a, w.keys["party:UA"])
	var ev []covEvent
	for _, pl := range plans {
		ev = append(ev, pl.events()...)
	}
	for _, ad := range aid {
		ev = append(ev, covEvent{ad.p.At, &ad.p, ad.who})
		for _, m := range ad.paid {
			at := ad.paidAt(m)
			ev = append(ev, covEvent{at, &entry.Deployment{ID: fmt.Sprintf("%s-%d", ad.p.ID, m), At: at, Pledge: ad.p.ID, Quantity: ad.share, Status: "disbursed"}, ad.who})
		}
	}
	for i, s := range strikes {
		at := covMonth(s.month).AddDate(0, 0, 11)
		ev = append(ev, covEvent{at, obsAt(fmt.Sprintf("strike-%d", i), at, sectorLon(s.sector)+0.5, 48+s.km/engineKMPerDegree, "missile_strike", "patrol", 100), "monitor+1"})
		ev = append(ev, covEvent{at.AddDate(0, 0, 1), &entry.Tick{At: at.AddDate(0, 0, 1)}, "engine+1"})
	}
	for m := 1; m <= 12; m++ {
		ev = append(ev, covEvent{covMonth(m), &entry.Tick{At: covMonth(m)}, "engine+1"})
	}
	slices.SortStableFunc(ev, func(x, y covEvent) int { return x.at.Compare(y.at) })
	for _, e := range ev {
		signer := e.signer
		if k, ok := w.keys[signer]; ok {
			signer = k
		}
		if o, ok := e.body.(*entry.Observation); ok && o.Confirms != nil {
			o.Location.Coordinates = [2]float64{35, 48.2}
		}
		w.apply(e.body, signer)
	}
	return a, plans, aid, strikes, w.inputs, w.all
}

// engineKMPerDegree is the length of a degree of latitude the engine
// measures with (agreement.KMPerDegree).
const engineKMPerDegree = 111.195

// wantCells is the test's own account of the coverage at t, from the
// plans: requirements and pledges in force at t, what is deployed and
// confirmed by then.
func wantCells(a *entry.Agreement, plans []covPlan, aid []covAid, t time.Time) map[string]entry.CoverageCell {
	in := func(from, to time.Time) bool { return !t.Before(from) && t.Before(to) }
	happened := func(at time.Time) bool { return !at.After(t) }
	out := map[string]entry.CoverageCell{}
	add := func(sector, capability string, f func(*entry.CoverageCell)) {
		k := sector + "/" + capability
		c := out[k]
		c.Sector, c.Capability = sector, capability
		f(&c)
		out[k] = c
	}
	for _, r := range a.Requirements {
		if in(r.From, r.To) {
			add(r.Sector, r.Capability, func(c *entry.CoverageCell) { c.Required += r.Quantity })
		}
	}
	for _, pl := range plans {
		if !in(pl.p.From, pl.p.To) {
			continue
		}
		add(pl.p.Sector, pl.p.Capability, func(c *entry.CoverageCell) {
			c.Pledged += pl.p.Quantity
			if happened(pl.depAt()) && !happened(pl.outAt()) {
				c.Deployed += pl.deployed
				if pl.seen < pl.out && happened(pl.seenAt()) {
					c.Confirmed += pl.saw
				}
			}
		})
	}
	for _, ad := range aid {
		if !in(ad.p.From, ad.p.To) {
			continue
		}
		rate := covRates[ad.p.Currency]
		add(ad.p.Sector, ad.p.Capability, func(c *entry.CoverageCell) {
			c.Pledged += ad.p.Quantity * rate
			for _, m := range ad.paid {
				if happened(ad.paidAt(m)) {
					c.Deployed += ad.share * rate
				}
			}
		})
	}
	for k, c := range out {
		c.Shortfall = max(0, c.Required-c.Deployed)
		out[k] = c
	}
	return out
}

func near(x, y float64) bool { return math.Abs(x-y) <= 1e-6*max(1, math.Abs(x), math.Abs(y)) }

// TestCoalitionScenario: every coverage snapshot the engine logs over the
// year (each change and each new month) says what the test computes from
// the scenario's plans: per sector and capability required, pledged,
// deployed, confirmed and the shortfall; the gaps; each donor's support
// converted at the declared rates; and, after each strike, who holds the
// capability each new obligation needs and whether only caveated
// contributors do. The log then replays byte for byte.
func TestCoalitionScenario(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		a, plans, aid, strikes, ins, all := covRun(t, seed)
		var snaps []*entry.Coverage
		for _, d := range all {
			if d.Kind == entry.KindCoverage {
				snaps = append(snaps, decodeAny(t, d.Text).(*entry.Coverage))
			}
		}
		months, gaps, links, conflicts := map[string]bool{}, 0, 0, 0
		for _, s := range snaps {
			months[s.Month] = true
			want := wantCells(a, plans, aid, s.At)
			if len(s.Cells) != len(want) {
				t.Fatalf("seed %d, snapshot at %s: %d cells, want %d", seed, s.At, len(s.Cells), len(want))
			}
			for _, c := range s.Cells {
				w := want[c.Sector+"/"+c.Capability]
				if !near(c.Required, w.Required) || !near(c.Pledged, w.Pledged) || !near(c.Deployed, w.Deployed) || !near(c.Confirmed, w.Confirmed) || !near(c.Shortfall, w.Shortfall) {
					t.Fatalf("seed %d, snapshot at %s, %s/%s:\n got %+v\nwant %+v", seed, s.At, c.Sector, c.Capability, c, w)
				}
				if c.Shortfall > 0 {
					gaps++
				}
			}
			checkSupport(t, s, aid)
			links += len(s.Obligations)
			for _, l := range s.Obligations {
				if l.Conflict {
					conflicts++
				}
				checkLink(t, s, l, plans, strikes)
			}
		}
		if len(months) < 12 || gaps == 0 || links == 0 || conflicts == 0 {
			t.Fatalf("seed %d: the scenario is too easy: %d months, %d gaps, %d links, %d caveat conflicts", seed, len(months), gaps, links, conflicts)
		}
		t.Logf("seed %d: %d snapshots over %d months, %d cell gaps, %d obligation links, %d caveat conflicts", seed, len(snaps), len(months), gaps, links, conflicts)
		covReplay(t, ins)
	}
}

// checkSupport compares a snapshot's economic support with the plans.
func checkSupport(t *testing.T, s *entry.Coverage, aid []covAid) {
	t.Helper()
	donors := len(aid)
	if !s.At.Before(covMonth(12)) {
		donors = 0 // the pledges ran out with the year
	}
	if len(s.Support) != donors {
		t.Fatalf("snapshot at %s: %d donors, want %d", s.At, len(s.Support), donors)
	}
	for _, sup := range s.Support {
		i := slices.IndexFunc(aid, func(ad covAid) bool { return ad.who == sup.Contributor })
		ad := aid[i]
		rate := covRates[ad.p.Currency]
		var paid float64
		for _, m := range ad.paid {
			if !ad.paidAt(m).After(s.At) {
				paid += ad.share * rate
			}
		}
		due := ad.p.Quantity * rate * s.At.Sub(covYear).Hours() / covMonth(12).Sub(covYear).Hours()
		if sup.Unit != "EUR" || !near(sup.Pledged, ad.p.Quantity*rate) || !near(sup.Disbursed, paid) || !near(sup.Due, due) {
			t.Fatalf("snapshot at %s: support %+v, want pledged %v due %v disbursed %v", s.At, sup, ad.p.Quantity*rate, due, paid)
		}
	}
}

// checkLink compares an obligation's holders with the plans: pledges of
// the capability in force and in place at the snapshot, and the caveats
// that conflict given the duty and the strike's distance from the line.
func checkLink(t *testing.T, s *entry.Coverage, l entry.CoverageLink, plans []covPlan, strikes []covStrike) {
	t.Helper()
	// The strike that opened it: the latest at or before the snapshot.
	var km float64
	for _, st := range strikes {
		if !covMonth(st.month).AddDate(0, 0, 11).After(s.At) {
			km = st.km
		}
	}
	listed := map[string][]string{"air_missile_defence": {"no_deployment_in_ukraine"}, "reassurance_force": {"no_combat_troops", "training_only"}}[l.Capability]
	var want []entry.CoverageHolder
	free := 0
	for _, pl := range plans {
		in := !s.At.Before(pl.p.From) && s.At.Before(pl.p.To)
		placed := !pl.depAt().After(s.At) && pl.outAt().After(s.At)
		if pl.p.Capability != l.Capability || !in || !placed || pl.deployed == 0 {
			continue
		}
		h := entry.CoverageHolder{Contributor: pl.who, Pledge: pl.p.ID, Sector: pl.p.Sector, Deployed: pl.deployed, Caveats: pl.p.Caveats}
		for _, c := range pl.p.Caveats {
			if slices.Contains(listed, c) || (c == "outside_50km_of_line" && km < 50) || (c == "outside_100km_of_line" && km < 100) {
				h.Conflicts = append(h.Conflicts, c)
			}
		}
		if len(h.Conflicts) == 0 {
			free++
		}
		want = append(want, h)
	}
	slices.SortFunc(want, func(x, y entry.CoverageHolder) int {
		return cmp.Or(cmp.Compare(x.Contributor, y.Contributor), cmp.Compare(x.Pledge, y.Pledge))
	})
	if fmt.Sprint(l.Holders) != fmt.Sprint(want) {
		t.Fatalf("snapshot at %s, obligation %d (%s, %s, strike %g km from the line):\n got %+v\nwant %+v", s.At, l.Obligation, l.Who, l.Capability, km, l.Holders, want)
	}
	if l.Conflict != (len(want) > 0 && free == 0) {
		t.Fatalf("snapshot at %s, obligation %d: conflict %v with %d holders, %d free", s.At, l.Obligation, l.Conflict, len(want), free)
	}
}

// covReplay builds the live log (inputs, each followed by what it
// derived), replays it, and then tampers with each coverage entry in turn
// (one figure changed): replay must fail at exactly that entry.
func covReplay(t *testing.T, ins []engine.Input) {
	t.Helper()
	e := engine.New(engine.DefaultConfig())
	var log []logged
	for _, in := range ins {
		in.Index = uint64(len(log))
		out, err := e.Apply(in)
		if err != nil {
			t.Fatal(err)
		}
		log = append(log, logged{in: in})
		for _, d := range out {
			log = append(log, logged{in: engine.Input{Index: uint64(len(log)), Kind: d.Kind, Body: decodeAny(t, d.Text)}, text: d.Text})
		}
	}
	r, err := replay(log)
	if err != nil || len(r.Pending()) != 0 {
		t.Fatalf("replay: %v, %d pending", err, len(r.Pending()))
	}
	tampered := 0
	for i, l := range log {
		if l.in.Kind != entry.KindCoverage || !strings.Contains(l.text, `"deployed":`) || tampered >= 5 {
			continue
		}
		tampered++
		bad := append([]logged(nil), log...)
		bad[i].text = strings.Replace(l.text, `"deployed":`, `"deployed":1`, 1)
		if _, err := replay(bad); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("entry %d ", i)) {
			t.Fatalf("tampered coverage at %d: %v", i, err)
		}
	}
}
