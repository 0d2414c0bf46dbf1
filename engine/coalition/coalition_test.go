package coalition_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/guarantor/guarantor/engine/coalition"
	"github.com/guarantor/guarantor/entry"
)

// plan is one pledge of the generated scenario and what the generator
// decided about it: the ground truth the test checks coverage against.
type plan struct {
	who                  string
	p                    entry.Pledge
	deployFrom, withdraw int // months (0-11) it is in place from, and withdrawn at (12: never)
	deployed             float64
}

var year = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func month(i int) time.Time { return year.AddDate(0, i, 0) }

// scenario generates an agreement with 6 sectors and requirements for 5
// capabilities over 12 months, and 10 contributors' pledges, with
// delayed and partial deployments, withdrawals and caveats.
func scenario(seed uint64) (*entry.Agreement, []plan) {
	rng := rand.New(rand.NewPCG(seed, 7))
	a := &entry.Agreement{ID: "fw", Version: 1, Effective: year, Coalition: "C"}
	sectors := []string{"north", "kharkiv", "donbas", "zaporizhzhia", "kherson", "sea"}
	caps := []string{"land_demining", "air_policing", "air_missile_defence", "training_mission", "reassurance_force"}
	for _, s := range sectors {
		for _, c := range caps {
			if rng.IntN(3) == 0 {
				continue
			}
			from := rng.IntN(4)
			a.Requirements = append(a.Requirements, entry.Requirement{Sector: s, Capability: c, Quantity: float64(1 + rng.IntN(8)), From: month(from), To: month(12)})
		}
	}
	var plans []plan
	caveats := []string{"no_combat_troops", "air_only", "outside_50km_of_line"}
	for i := range 10 {
		who := fmt.Sprintf("guarantor:C%d", i)
		for j := range 3 + rng.IntN(4) {
			start := rng.IntN(8)
			end := start + 2 + rng.IntN(12-start-1)
			q := float64(1 + rng.IntN(5))
			pl := plan{who: who, p: entry.Pledge{ID: fmt.Sprintf("c%d-%d", i, j), At: month(start).Add(-24 * time.Hour), Agreement: "fw",
				Capability: caps[rng.IntN(len(caps))], Quantity: q, Sector: sectors[rng.IntN(len(sectors))], From: month(start), To: month(end)}}
			if rng.IntN(3) == 0 {
				pl.p.Caveats = []string{caveats[rng.IntN(len(caveats))]}
			}
			pl.deployFrom, pl.withdraw = start+rng.IntN(3), 12
			pl.deployed = q
			if rng.IntN(4) == 0 {
				pl.deployed = float64(rng.IntN(int(q))) // under-delivers
			}
			if rng.IntN(4) == 0 {
				pl.withdraw = pl.deployFrom + 1 + rng.IntN(4)
			}
			plans = append(plans, pl)
		}
	}
	return a, plans
}

// feed logs the scenario into a state as its entries would come: each
// pledge, then its deployment on the 1st of the month it arrives and its
// withdrawal on the 1st of the month it leaves.
func feed(t *testing.T, plans []plan) *coalition.State {
	s := coalition.New()
	for _, pl := range plans {
		s.Pledge(pl.who, pl.p)
	}
	for _, pl := range plans {
		if err := s.Deploy(pl.who, entry.Deployment{ID: pl.p.ID + "-d", At: month(pl.deployFrom), Pledge: pl.p.ID, Quantity: pl.deployed, Status: "deployed"}); err != nil {
			t.Fatal(err)
		}
		if pl.withdraw < 12 {
			if err := s.Deploy(pl.who, entry.Deployment{ID: pl.p.ID + "-w", At: month(pl.withdraw), Pledge: pl.p.ID, Status: "withdrawn"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return s
}

// TestCoverageMatchesTheScenario: required, pledged and deployed per
// sector, capability and month, and the gaps, equal what the test
// computes from the scenario's own plans.
func TestCoverageMatchesTheScenario(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		a, plans := scenario(seed)
		cells := feed(t, plans).Coverage(a, month(0), month(12))
		want := map[string][3]float64{}
		for m := range 12 {
			for _, r := range a.Requirements {
				if m >= int(r.From.Month())-1 {
					k := fmt.Sprintf("%s/%s/%s", r.Sector, r.Capability, month(m).Format("2006-01"))
					v := want[k]
					v[0] += r.Quantity
					want[k] = v
				}
			}
			for _, pl := range plans {
				startM, endM := int(pl.p.From.Month())-1, int(pl.p.To.Month())-1
				if pl.p.To.Year() > 2026 {
					endM = 12
				}
				if m < startM || m >= endM {
					continue
				}
				k := fmt.Sprintf("%s/%s/%s", pl.p.Sector, pl.p.Capability, month(m).Format("2006-01"))
				v := want[k]
				v[1] += pl.p.Quantity
				if m >= pl.deployFrom && m < pl.withdraw {
					v[2] += pl.deployed
				}
				want[k] = v
			}
		}
		if len(cells) != len(want) {
			t.Fatalf("seed %d: %d cells, want %d", seed, len(cells), len(want))
		}
		for _, c := range cells {
			k := fmt.Sprintf("%s/%s/%s", c.Sector, c.Capability, c.Month)
			if w := want[k]; w != [3]float64{c.Required, c.Pledged, c.Deployed} {
				t.Fatalf("seed %d: %s: required/pledged/deployed %v/%v/%v, want %v", seed, k, c.Required, c.Pledged, c.Deployed, w)
			}
		}
		gaps := coalition.Gaps(cells)
		var wantGaps []string
		for k, v := range want {
			if v[0] > 0 && v[2] < v[0] {
				wantGaps = append(wantGaps, k)
			}
		}
		if len(gaps) != len(wantGaps) || len(gaps) == 0 {
			t.Fatalf("seed %d: %d gaps, want %d", seed, len(gaps), len(wantGaps))
		}
		for i := 1; i < len(gaps); i++ {
			if gaps[i].Severity > gaps[i-1].Severity {
				t.Fatalf("seed %d: gaps not sorted by severity at %d", seed, i)
			}
		}
		if fmt.Sprint(cells) != fmt.Sprint(feed(t, plans).Coverage(a, month(0), month(12))) {
			t.Fatalf("seed %d: two runs differ", seed)
		}
	}
}

func TestRatiosAndRefusals(t *testing.T) {
	a, plans := scenario(3)
	s := feed(t, plans)
	at := month(6).AddDate(0, 0, 14)
	for _, r := range s.Ratios(a, at) {
		var pledged, deployed float64
		for _, pl := range plans {
			if pl.who == r.Contributor && !at.Before(pl.p.From) && at.Before(pl.p.To) {
				pledged += pl.p.Quantity
				if 6 >= pl.deployFrom && 6 < pl.withdraw {
					deployed += pl.deployed
				}
			}
		}
		if r.Pledged != pledged || r.Deployed != deployed {
			t.Fatalf("%s: %+v, want pledged %v deployed %v", r.Contributor, r, pledged, deployed)
		}
	}
	if err := s.Deploy("guarantor:C1", entry.Deployment{Pledge: "c0-0", Status: "deployed", Quantity: 1}); err == nil {
		t.Fatal("a contributor deployed another's pledge")
	}
	names := []string{}
	for _, r := range s.Ratios(a, at) {
		names = append(names, r.Contributor)
	}
	if !slices.IsSorted(names) {
		t.Fatal("ratios not ordered")
	}
}
