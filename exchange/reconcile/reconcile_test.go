package reconcile_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/guarantor/guarantor/exchange/reconcile"
	"github.com/guarantor/guarantor/exchange/synth"
)

type tb interface {
	Helper()
	Fatalf(format string, args ...any)
}

// checkPartition asserts the Result contract: every input ID exactly once
// on its side, sorted slices, and counterparts that are open entries on
// the other side.
func checkPartition(t tb, held, claimed []reconcile.Person, r reconcile.Result) {
	t.Helper()
	want := map[reconcile.Side]map[string]bool{reconcile.Held: {}, reconcile.Claimed: {}}
	for _, p := range held {
		want[reconcile.Held][p.ID] = true
	}
	for _, p := range claimed {
		want[reconcile.Claimed][p.ID] = true
	}
	seen := map[reconcile.Side]map[string]string{reconcile.Held: {}, reconcile.Claimed: {}}
	mark := func(side reconcile.Side, id, where string) {
		t.Helper()
		if !want[side][id] {
			t.Fatalf("%s ID %q in %s is not an input ID", side, id, where)
		}
		if prev, ok := seen[side][id]; ok {
			t.Fatalf("%s ID %q appears in %s and in %s", side, id, prev, where)
		}
		seen[side][id] = where
	}
	for _, p := range r.Matched {
		mark(reconcile.Held, p.Held, "Matched")
		mark(reconcile.Claimed, p.Claimed, "Matched")
	}
	open := map[reconcile.Side]map[string]bool{reconcile.Held: {}, reconcile.Claimed: {}}
	for _, c := range r.Ambiguous {
		mark(c.Side, c.ID, "Ambiguous")
		open[c.Side][c.ID] = true
		if len(c.Counterparts) == 0 {
			t.Fatalf("ambiguous %s %q has no counterparts", c.Side, c.ID)
		}
	}
	for _, id := range r.HeldOnly {
		mark(reconcile.Held, id, "HeldOnly")
	}
	for _, id := range r.ClaimedOnly {
		mark(reconcile.Claimed, id, "ClaimedOnly")
	}
	for side, ids := range want {
		for id := range ids {
			if _, ok := seen[side][id]; !ok {
				t.Fatalf("%s ID %q is missing from the result", side, id)
			}
		}
	}
	for _, c := range r.Ambiguous {
		other := reconcile.Claimed
		if c.Side == reconcile.Claimed {
			other = reconcile.Held
		}
		for i, cp := range c.Counterparts {
			if !open[other][cp.ID] {
				t.Fatalf("ambiguous %s %q lists %s %q, which is not ambiguous", c.Side, c.ID, other, cp.ID)
			}
			if i > 0 && cp.Score > c.Counterparts[i-1].Score {
				t.Fatalf("ambiguous %s %q: counterparts not best first", c.Side, c.ID)
			}
		}
	}
	if !slices.IsSortedFunc(r.Matched, func(a, b reconcile.Pair) int { return strings.Compare(a.Held, b.Held) }) ||
		!slices.IsSorted(r.HeldOnly) || !slices.IsSorted(r.ClaimedOnly) ||
		!slices.IsSortedFunc(r.Ambiguous, func(a, b reconcile.Candidate) int {
			if a.Side != b.Side {
				return int(a.Side - b.Side)
			}
			return strings.Compare(a.ID, b.ID)
		}) {
		t.Fatalf("result is not sorted")
	}
}

func date(s string) reconcile.Date {
	d, err := reconcile.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestReconcileSmall(t *testing.T) {
	held := []reconcile.Person{
		{ID: "h1", Family: "Шевченко", Given: "Тарас", Patronymic: "Григорович", Born: date("1990-03-09"), BirthPlace: "Київ", Unit: "в/ч А1234"},
		{ID: "h2", Family: "Коваленко", Given: "Ольга", Born: date("1985-12-01"), Civilian: true},
		{ID: "h3", Family: "Іванов", Given: "Іван", Born: date("1979-05-05")}, // nobody claims him
		{ID: "h4", Family: "Петренко", Given: "Петро", Born: date("1991-01-01")},
		{ID: "h5", Family: "Петренко", Given: "Петро", Born: date("1993-07-15")},
	}
	claimed := []reconcile.Person{
		{ID: "c1", Family: "Shevchenko", Given: "Taras", Patronymic: "Hryhorovych", Born: date("1990-09-03"), BirthPlace: "Kyiv", Unit: "military unit A1234"},
		{ID: "c2", Family: "Kovalenko", Given: "Olha", Born: date("1985"), Civilian: true},
		{ID: "c3", Family: "Сидоренко", Given: "Андрій", Born: date("1995-02-02")}, // missing
		{ID: "c4", Family: "Petrenko", Given: "Petro"},                             // which one?
	}
	r := reconcile.Reconcile(held, claimed, reconcile.Options{})
	checkPartition(t, held, claimed, r)

	var got []string
	for _, p := range r.Matched {
		got = append(got, p.Held+"="+p.Claimed)
	}
	if want := []string{"h1=c1", "h2=c2"}; !slices.Equal(got, want) {
		t.Errorf("Matched = %v, want %v", got, want)
	}
	if want := []string{"h3"}; !slices.Equal(r.HeldOnly, want) {
		t.Errorf("HeldOnly = %v, want %v", r.HeldOnly, want)
	}
	if want := []string{"c3"}; !slices.Equal(r.ClaimedOnly, want) {
		t.Errorf("ClaimedOnly = %v, want %v", r.ClaimedOnly, want)
	}
	got = nil
	for _, c := range r.Ambiguous {
		var cps []string
		for _, cp := range c.Counterparts {
			cps = append(cps, cp.ID)
		}
		got = append(got, fmt.Sprintf("%s %s: %v", c.Side, c.ID, cps))
	}
	if want := []string{"held h4: [c4]", "held h5: [c4]", "claimed c4: [h4 h5]"}; !slices.Equal(got, want) {
		t.Errorf("Ambiguous = %v, want %v", got, want)
	}
	if r.Matched[0].Score < reconcile.DefaultAccept || len(r.Matched[0].Reasons) == 0 {
		t.Errorf("Matched[0] = %+v: want a score of at least Accept, with reasons", r.Matched[0])
	}
}

func TestReconcileNamesakesApart(t *testing.T) {
	// Same name, different birth dates: each finds its own.
	held := []reconcile.Person{
		{ID: "h1", Family: "Мельник", Given: "Олег", Born: date("1988-04-17")},
		{ID: "h2", Family: "Мельник", Given: "Олег", Born: date("1996-10-02")},
	}
	claimed := []reconcile.Person{
		{ID: "c1", Family: "Melnyk", Given: "Oleh", Born: date("1996-10-02")},
		{ID: "c2", Family: "Melnik", Given: "Oleg", Born: date("1988")},
	}
	r := reconcile.Reconcile(held, claimed, reconcile.Options{})
	checkPartition(t, held, claimed, r)
	want := []reconcile.Pair{{Held: "h1", Claimed: "c2"}, {Held: "h2", Claimed: "c1"}}
	if len(r.Matched) != 2 || r.Matched[0].Held != want[0].Held || r.Matched[0].Claimed != want[0].Claimed ||
		r.Matched[1].Held != want[1].Held || r.Matched[1].Claimed != want[1].Claimed {
		t.Errorf("Matched = %+v, want %+v", r.Matched, want)
	}
}

func TestReconcileEmpty(t *testing.T) {
	r := reconcile.Reconcile(nil, nil, reconcile.Options{})
	if !reflect.DeepEqual(r, reconcile.Result{}) {
		t.Errorf("Reconcile(nil, nil) = %+v, want the zero Result", r)
	}
	held := []reconcile.Person{{ID: "h1", Family: "Бойко"}}
	r = reconcile.Reconcile(held, nil, reconcile.Options{})
	checkPartition(t, held, nil, r)
}

func TestOptionsValidate(t *testing.T) {
	if err := (reconcile.Options{}).Validate(); err != nil {
		t.Errorf("zero Options: %v", err)
	}
	for _, o := range []reconcile.Options{
		{Accept: 5, Review: 10},
		{Margin: -1},
		{Accept: reconcileNaN()},
	} {
		if err := o.Validate(); !errors.Is(err, reconcile.ErrBadOptions) {
			t.Errorf("%+v.Validate() = %v, want ErrBadOptions", o, err)
		}
	}
}

func reconcileNaN() float64 {
	zero := 0.0
	return zero / zero
}

// personGen draws entries from small pools of names and dates, so that
// namesakes, partial dates and ambiguity are common.
func personGen() *rapid.Generator[reconcile.Person] {
	families := []string{"Шевченко", "Shevchenko", "Шевчук", "Коваленко", "Kovalenko", "Kovalneko", "Иванов", "Ivanov", ""}
	givens := []string{"Іван", "Ivan", "Иван", "Петро", "Petro", "Пётр", "I.", ""}
	patrs := []string{"", "", "Іванович", "Ivanovych", "Петрович"}
	return rapid.Custom(func(t *rapid.T) reconcile.Person {
		return reconcile.Person{
			Family:     rapid.SampledFrom(families).Draw(t, "family"),
			Given:      rapid.SampledFrom(givens).Draw(t, "given"),
			Patronymic: rapid.SampledFrom(patrs).Draw(t, "patronymic"),
			Born: reconcile.Date{
				Year:  rapid.SampledFrom([]int{0, 1980, 1981, 1990}).Draw(t, "year"),
				Month: rapid.IntRange(0, 3).Draw(t, "month"),
				Day:   rapid.IntRange(0, 3).Draw(t, "day"),
			},
			BirthPlace: rapid.SampledFrom([]string{"", "Київ", "Kyiv", "Харків"}).Draw(t, "place"),
			Unit:       rapid.SampledFrom([]string{"", "в/ч А1234", "A1234", "в/ч 55555"}).Draw(t, "unit"),
			Civilian:   rapid.Bool().Draw(t, "civilian"),
		}
	})
}

// listGen draws a list whose IDs are prefix + index, sometimes repeated.
func listGen(prefix string) *rapid.Generator[[]reconcile.Person] {
	return rapid.Custom(func(t *rapid.T) []reconcile.Person {
		ps := rapid.SliceOfN(personGen(), 0, 25).Draw(t, prefix)
		for i := range ps {
			ps[i].ID = fmt.Sprintf("%s%02d", prefix, i)
			if i > 0 && rapid.IntRange(0, 9).Draw(t, "repeat") == 0 {
				ps[i].ID = ps[i-1].ID
			}
		}
		return ps
	})
}

// optionsGen draws thresholds, including inconsistent ones.
func optionsGen() *rapid.Generator[reconcile.Options] {
	return rapid.Custom(func(t *rapid.T) reconcile.Options {
		return reconcile.Options{
			Accept: rapid.SampledFrom([]float64{0, 6, 12, 18}).Draw(t, "accept"),
			Review: rapid.SampledFrom([]float64{0, 2, 8, 14}).Draw(t, "review"),
			Margin: rapid.SampledFrom([]float64{0, 1, 4, 10}).Draw(t, "margin"),
		}
	})
}

func shuffled[T any](t *rapid.T, xs []T) []T {
	return rapid.Permutation(xs).Draw(t, "perm")
}

func TestReconcilePartitionProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		held, claimed := listGen("h").Draw(t, "held"), listGen("c").Draw(t, "claimed")
		r := reconcile.Reconcile(held, claimed, optionsGen().Draw(t, "opts"))
		checkPartition(t, held, claimed, r)
	})
}

func TestReconcileOrderProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		held, claimed := listGen("h").Draw(t, "held"), listGen("c").Draw(t, "claimed")
		opts := optionsGen().Draw(t, "opts")
		want := reconcile.Reconcile(held, claimed, opts)
		got := reconcile.Reconcile(shuffled(t, held), shuffled(t, claimed), opts)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("shuffled input gave a different result:\n got %+v\nwant %+v", got, want)
		}
	})
}

func TestReconcileSynthProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ds := synth.Generate(synth.Config{
			Seed:      rapid.Uint64().Draw(t, "seed"),
			People:    rapid.IntRange(1, 300).Draw(t, "people"),
			Namesakes: rapid.SampledFrom([]float64{0, 0.3}).Draw(t, "namesakes"),
			Noise:     rapid.SampledFrom([]float64{0, 1, 3}).Draw(t, "noise"),
		})
		want := reconcile.Reconcile(ds.Held, ds.Claimed, reconcile.Options{})
		checkPartition(t, ds.Held, ds.Claimed, want)
		got := reconcile.Reconcile(shuffled(t, ds.Held), shuffled(t, ds.Claimed), reconcile.Options{})
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("shuffled input gave a different result")
		}
	})
}

// decideFixture has one claimed entry and two held namesakes it could be.
func decideFixture() ([]reconcile.Person, []reconcile.Person, reconcile.Result) {
	held := []reconcile.Person{
		{ID: "h1", Family: "Шевченко", Given: "Іван", Born: date("1990-01-02")},
		{ID: "h2", Family: "Шевченко", Given: "Іван", Born: date("1985-05-06")},
		{ID: "h3", Family: "Бойко", Given: "Олег", Born: date("1970-01-01")},
	}
	claimed := []reconcile.Person{
		{ID: "c1", Family: "Shevchenko", Given: "Ivan"},
		{ID: "c2", Family: "Гончар", Given: "Ігор", Born: date("2001-01-01")},
	}
	return held, claimed, reconcile.Reconcile(held, claimed, reconcile.Options{})
}

func TestDecide(t *testing.T) {
	held, claimed, r := decideFixture()
	if len(r.Ambiguous) != 3 {
		t.Fatalf("fixture: Ambiguous = %+v, want h1, h2 and c1", r.Ambiguous)
	}
	before := fmt.Sprintf("%+v", r)

	got, err := reconcile.Decide(r, []reconcile.Decision{
		{Held: "h1", Claimed: "c1", Same: true, Note: "ICRC interview 2025-06-01"},
		{Held: "h3", Claimed: "c2", Same: true, Note: "photo"}, // a pair the reconciler could not see
	})
	if err != nil {
		t.Fatal(err)
	}
	checkPartition(t, held, claimed, got)
	if fmt.Sprintf("%+v", r) != before {
		t.Errorf("Decide modified its input")
	}
	if len(got.Matched) != 2 || got.Matched[0].Held != "h1" || got.Matched[0].Claimed != "c1" || !got.Matched[0].Decided {
		t.Fatalf("Matched = %+v, want h1=c1 and h3=c2, decided", got.Matched)
	}
	if p := got.Matched[0]; p.Score == 0 || !strings.Contains(p.Reasons[len(p.Reasons)-1], "ICRC interview") {
		t.Errorf("decided pair %+v: want its score and the note", p)
	}
	if p := got.Matched[1]; p.Score != 0 || p.Held != "h3" {
		t.Errorf("decided unscored pair %+v: want score 0", p)
	}
	if len(got.Ambiguous) != 0 || !slices.Equal(got.HeldOnly, []string{"h2"}) || len(got.ClaimedOnly) != 0 {
		t.Errorf("after decisions: %+v, want h2 alone in HeldOnly", got)
	}
}

func TestDecideApartAndAbsent(t *testing.T) {
	held, claimed, r := decideFixture()
	got, err := reconcile.Decide(r, []reconcile.Decision{{Held: "h1", Claimed: "c1"}})
	if err != nil {
		t.Fatal(err)
	}
	checkPartition(t, held, claimed, got)
	if len(got.Ambiguous) != 2 || !slices.Contains(got.HeldOnly, "h1") {
		t.Fatalf("after ruling h1 and c1 apart: %+v, want h1 in HeldOnly and h2, c1 still open", got)
	}
	got, err = reconcile.Decide(got, []reconcile.Decision{{Claimed: "c1", Note: "not held by side A"}})
	if err != nil {
		t.Fatal(err)
	}
	checkPartition(t, held, claimed, got)
	if len(got.Ambiguous) != 0 || !slices.Contains(got.ClaimedOnly, "c1") || !slices.Contains(got.HeldOnly, "h2") {
		t.Fatalf("after ruling c1 absent: %+v, want c1 in ClaimedOnly and h2 in HeldOnly", got)
	}
}

func TestDecideErrors(t *testing.T) {
	_, _, r := decideFixture()
	tests := []struct {
		ds   []reconcile.Decision
		want error
	}{
		{[]reconcile.Decision{{}}, reconcile.ErrBadDecision},
		{[]reconcile.Decision{{Held: "h1", Same: true}}, reconcile.ErrBadDecision},
		{[]reconcile.Decision{{Held: "nobody", Claimed: "c1", Same: true}}, reconcile.ErrNotOpen},
		{[]reconcile.Decision{{Held: "h1", Claimed: "c1", Same: true}, {Held: "h2", Claimed: "c1", Same: true}}, reconcile.ErrNotOpen},
	}
	for _, tt := range tests {
		got, err := reconcile.Decide(r, tt.ds)
		if !errors.Is(err, tt.want) {
			t.Errorf("Decide(%+v) error = %v, want %v", tt.ds, err, tt.want)
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("Decide(%+v) failed but changed the result", tt.ds)
		}
	}
}

func ExampleReconcile() {
	held := []reconcile.Person{
		{ID: "UA-17", Family: "Хрущёв", Given: "Пётр", Patronymic: "Ильич", Born: reconcile.Date{Year: 1994, Month: 3, Day: 8}},
		{ID: "UA-18", Family: "Подъячев", Given: "Евгений", Born: reconcile.Date{Year: 2001}},
	}
	claimed := []reconcile.Person{
		{ID: "RU-203", Family: "Khrushchev", Given: "Pyotr", Born: reconcile.Date{Year: 1994, Month: 8, Day: 3}},
		{ID: "RU-977", Family: "Smirnov", Given: "Ilya", Born: reconcile.Date{Year: 1999, Month: 1, Day: 30}},
	}
	r := reconcile.Reconcile(held, claimed, reconcile.Options{})
	for _, p := range r.Matched {
		fmt.Println("matched", p.Held, p.Claimed, p.Score)
		for _, why := range p.Reasons {
			fmt.Println("  ", why)
		}
	}
	fmt.Println("held only:", r.HeldOnly)
	fmt.Println("claimed only:", r.ClaimedOnly)
	// Output:
	// matched UA-17 RU-203 18
	//    family: similarity 1.00 (+7)
	//    given: similarity 1.00 (+4)
	//    patronymic: missing (+0)
	//    born: same date with day and month swapped 1994-03-08 / 1994-08-03 (+7)
	// held only: [UA-18]
	// claimed only: [RU-977]
}

func TestReconcileLargeCluster(t *testing.T) {
	// 80 entries a side share a name and have no birth dates: one cluster,
	// too large for exact assignment. Only the one pair with matching
	// dates is firm; everyone else goes to a human.
	var held, claimed []reconcile.Person
	for i := range 80 {
		held = append(held, reconcile.Person{ID: fmt.Sprintf("h%02d", i), Family: "Шевченко", Given: "Іван"})
		claimed = append(claimed, reconcile.Person{ID: fmt.Sprintf("c%02d", i), Family: "Shevchenko", Given: "Ivan"})
	}
	held[0].Born, claimed[0].Born = date("1990-01-02"), date("1990-01-02")
	r := reconcile.Reconcile(held, claimed, reconcile.Options{})
	checkPartition(t, held, claimed, r)
	if len(r.Matched) != 1 || r.Matched[0].Held != "h00" || r.Matched[0].Claimed != "c00" {
		t.Errorf("Matched = %+v, want only h00=c00", r.Matched)
	}
	if len(r.Ambiguous) != 2*79 {
		t.Errorf("%d ambiguous entries, want %d", len(r.Ambiguous), 2*79)
	}
}
