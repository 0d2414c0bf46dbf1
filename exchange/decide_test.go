package exchange_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/exchange"
)

// smallLists are two short lists of fictitious people: RU's held list in
// Russian Cyrillic and UA's claimed list in Ukrainian, with two namesakes
// (H4, H5) for one claimed record (C4).
func smallLists() (held, claimed []exchange.Person) {
	held = []exchange.Person{
		{Ref: "H1", Family: "Петренко", Given: "Иван", Patronymic: "Николаевич", Born: "1985-03-12"},
		{Ref: "H2", Family: "Коваль", Given: "Олег", Patronymic: "Петрович", Born: "1990-07-01"},
		{Ref: "H3", Family: "Бондаренко", Given: "Андрей", Born: "1978"},
		{Ref: "H4", Family: "Мельник", Given: "Сергей", Born: "1980"},
		{Ref: "H5", Family: "Мельник", Given: "Сергей", Born: "1980-02"},
		{Ref: "H6", Family: "Гончаренко", Given: "Василий", Born: "1970-01-30", Status: exchange.StatusDeceased},
		{Ref: "H7", Family: "Ярошенко", Given: "Денис", Born: "2001-11-11"},
	}
	claimed = []exchange.Person{
		{Ref: "C1", Family: "Петренко", Given: "Іван", Patronymic: "Миколайович", Born: "1985-03-12"},
		{Ref: "C2", Family: "Коваль", Given: "Олег", Patronymic: "Петрович", Born: "1990-07"},
		{Ref: "C3", Family: "Бондаренко", Given: "Андрій", Born: "1978-05-02"},
		{Ref: "C4", Family: "Мельник", Given: "Сергій", Born: "1980"},
		{Ref: "C6", Family: "Гончаренко", Given: "Василь", Born: "1970-01-30"},
		{Ref: "C8", Family: "Лисенко", Given: "Петро", Born: "1999-09-09", Status: exchange.StatusMissing},
	}
	return held, claimed
}

// ids maps refs to record ids.
func ids(t *testing.T, s *exchange.Service, lists ...string) map[string]string {
	t.Helper()
	m := make(map[string]string)
	for _, l := range lists {
		recs, err := s.Records(context.Background(), l)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			m[r.Person.Ref] = r.ID
		}
	}
	return m
}

func matched(r exchange.Reconciliation, held, claimed string) (exchange.Match, bool) {
	i := slices.IndexFunc(r.Matched, func(m exchange.Match) bool { return m.Held == held && m.Claimed == claimed })
	if i < 0 {
		return exchange.Match{}, false
	}
	return r.Matched[i], true
}

func TestDecisions(t *testing.T) {
	ctx := context.Background()
	s := openService(t, "", testRing(t, testKey(t, "k1", 1)))
	held, claimed := smallLists()
	if _, err := s.Reconcile(ctx, "ex1", "RU"); guarantor.ErrorCode(err) != guarantor.ENotFound {
		t.Errorf("Reconcile without lists: %v, want not found", err)
	}
	hu, err := s.Upload(ctx, "ex1", "RU", entry.ListHeld, held, testAt)
	if err != nil {
		t.Fatal(err)
	}
	cu, err := s.Upload(ctx, "ex1", "UA", entry.ListClaimed, claimed, testAt)
	if err != nil {
		t.Fatal(err)
	}
	id := ids(t, s, hu.ListID, cu.ListID)
	r, err := s.Reconcile(ctx, "ex1", "RU")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range [][2]string{{"H1", "C1"}, {"H2", "C2"}, {"H3", "C3"}, {"H6", "C6"}} {
		if m, ok := matched(r, id[p[0]], id[p[1]]); !ok || m.DecidedBy != exchange.ByEngine {
			t.Errorf("%s and %s are not matched by the engine: %+v", p[0], p[1], r.Matched)
		}
	}
	i := slices.IndexFunc(r.Ambiguous, func(q exchange.Question) bool { return q.Record == id["C4"] })
	if i < 0 || len(r.Ambiguous[i].Candidates) != 2 {
		t.Fatalf("C4 is not ambiguous between the namesakes: %+v", r.Ambiguous)
	}
	if !slices.Contains(r.HeldOnly, id["H7"]) || !slices.Contains(r.ClaimedOnly, id["C8"]) {
		t.Errorf("held only %v, claimed only %v; want H7 and C8", r.HeldOnly, r.ClaimedOnly)
	}

	// Rule H5 apart from C4, then match H4 and C4; undo the engine's
	// H2 = C2.
	r, err = s.Decide(ctx, "ex1", "RU", []exchange.Decision{
		{Verdict: exchange.VerdictNoMatch, Held: id["H5"], Claimed: id["C4"], Note: "different units"},
		{Verdict: exchange.VerdictMatch, Held: id["H4"], Claimed: id["C4"]},
		{Verdict: exchange.VerdictNoMatch, Held: id["H2"]},
	})
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := matched(r, id["H4"], id["C4"]); !ok || m.DecidedBy != exchange.ByVerifier {
		t.Errorf("H4 = C4 not matched by the verifier: %+v", r.Matched)
	}
	if !slices.Contains(r.HeldOnly, id["H5"]) || !slices.Contains(r.HeldOnly, id["H2"]) || !slices.Contains(r.ClaimedOnly, id["C2"]) {
		t.Errorf("held only %v, claimed only %v; want H2, H5 and C2", r.HeldOnly, r.ClaimedOnly)
	}
	if len(r.Ambiguous) != 0 || r.Counts.ByVerifier != 1 || r.Counts.Decisions != 3 {
		t.Errorf("after decisions: %d ambiguous, counts %+v", len(r.Ambiguous), r.Counts)
	}

	for _, tc := range []struct {
		name  string
		d     exchange.Decision
		code  string
		field string
	}{
		{"match of a matched record", exchange.Decision{Verdict: exchange.VerdictMatch, Held: id["H1"], Claimed: id["C2"]}, guarantor.EConflict, "/decisions/0/held"},
		{"match with a matched claimed record", exchange.Decision{Verdict: exchange.VerdictMatch, Held: id["H2"], Claimed: id["C1"]}, guarantor.EConflict, "/decisions/0/claimed"},
		{"record of the other list", exchange.Decision{Verdict: exchange.VerdictNoMatch, Held: id["C8"]}, guarantor.ENotFound, "/decisions/0/held"},
		{"match without its claimed record", exchange.Decision{Verdict: exchange.VerdictMatch, Held: id["H2"]}, guarantor.EInvalid, "/decisions/0/claimed"},
		{"no record", exchange.Decision{Verdict: exchange.VerdictNoMatch}, guarantor.EInvalid, "/decisions/0/held"},
	} {
		_, err := s.Decide(ctx, "ex1", "RU", []exchange.Decision{tc.d})
		if c := guarantor.ErrorCode(err); c != tc.code {
			t.Errorf("%s: error %v, want %s", tc.name, err, tc.code)
		} else if err.(*guarantor.Error).Field != tc.field {
			t.Errorf("%s: error %v, want it at %s", tc.name, err, tc.field)
		}
	}
	if _, err := s.Decide(ctx, "ex1", "UA", nil); guarantor.ErrorCode(err) != guarantor.ENotFound {
		t.Errorf("Decide on an unreconciled pair: %v, want not found", err)
	}

	// The parties' views.
	view := func(side string) map[string]exchange.PartyRecord {
		v, err := s.PartyView(ctx, "ex1", side)
		if err != nil {
			t.Fatal(err)
		}
		m := make(map[string]exchange.PartyRecord)
		for _, l := range v.Lists {
			for _, r := range l.Records {
				m[r.Person.Ref] = r
			}
		}
		return m
	}
	ru, ua := view("RU"), view("UA")
	for ref, want := range map[string]string{"H1": exchange.StateMatched, "H2": exchange.StateUnclaimed, "H4": exchange.StateMatched, "H7": exchange.StateUnclaimed} {
		if ru[ref].State != want {
			t.Errorf("RU sees %s %s, want %s", ref, ru[ref].State, want)
		}
	}
	for ref, want := range map[string]string{"C1": exchange.StateMatched, "C2": exchange.StateMissing, "C8": exchange.StateMissing} {
		if ua[ref].State != want {
			t.Errorf("UA sees %s %s, want %s", ref, ua[ref].State, want)
		}
	}

	// One batch: everyone matched but the deceased H6.
	m, err := s.DraftManifest(ctx, "ex1", "RU", 1, 0, testAt.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"p" + id["H1"][1:], "p" + id["H3"][1:], "p" + id["H4"][1:]}
	slices.Sort(want)
	if !slices.Equal(m.Persons, want) || m.Count != 3 || m.To != "UA" {
		t.Errorf("batch 1 holds %v to %s, want %v to UA", m.Persons, m.To, want)
	}
	if ua := view("UA"); ua["C1"].Batch != 1 || ua["C6"].Batch != 0 {
		t.Errorf("UA sees C1 in batch %d and C6 in batch %d; want 1 and 0", ua["C1"].Batch, ua["C6"].Batch)
	}
	_, err = s.Decide(ctx, "ex1", "RU", []exchange.Decision{{Verdict: exchange.VerdictNoMatch, Claimed: id["C1"]}})
	if guarantor.ErrorCode(err) != guarantor.EConflict {
		t.Errorf("undoing a drafted match: %v, want a conflict", err)
	}

	// A new version of RU's list: H4's date of birth corrected, the rest
	// unchanged. The list is pending until reconciled; then the decision
	// on H4 is stale, the others still hold, and the drafted persons stay.
	held[3].Born = "1980-03"
	hu2, err := s.Upload(ctx, "ex1", "RU", entry.ListHeld, held, testAt.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if id2 := ids(t, s, hu2.ListID); id2["H1"] != id["H1"] {
		t.Errorf("record ids change with the list version: %s, %s", id2["H1"], id["H1"])
	}
	if v := view("RU"); v["H1"].State != exchange.StatePending {
		t.Errorf("a new list's record is %s, want pending", v["H1"].State)
	}
	r, err = s.Reconcile(ctx, "ex1", "RU")
	if err != nil {
		t.Fatal(err)
	}
	if r.HeldList != hu2.ListID || r.Counts.Decisions != 3 || r.Counts.Stale != 1 {
		t.Errorf("reconciled %s with %d decisions, %d stale; want %s, 3, 1", r.HeldList, r.Counts.Decisions, r.Counts.Stale, hu2.ListID)
	}
	if _, ok := matched(r, id["H2"], id["C2"]); ok {
		t.Errorf("the undone match H2 = C2 came back")
	}
	persons, err := s.Persons(ctx, "ex1")
	if err != nil {
		t.Fatal(err)
	}
	inBatch := 0
	for _, p := range persons {
		if p.Batch == 1 {
			inBatch++
		}
	}
	if inBatch != 3 {
		t.Errorf("%d persons in batch 1 after a new list, want 3", inBatch)
	}
	lists, err := s.Lists(ctx, "ex1")
	if err != nil {
		t.Fatal(err)
	}
	latest := map[string]bool{}
	for _, l := range lists {
		latest[l.ID] = l.Latest
	}
	if latest[hu.ListID] || !latest[hu2.ListID] || !latest[cu.ListID] {
		t.Errorf("latest flags %v", latest)
	}
}
