package exchange_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/exchange"
	"github.com/guarantor/guarantor/exchange/commit"
	"github.com/guarantor/guarantor/exchange/names"
	"github.com/guarantor/guarantor/exchange/synth"
)

// scenario is the state the scenario leaves for the leak test.
type scenario struct {
	path   string
	input  []exchange.Person // both lists, as submitted
	errors []error           // every error the service returned
}

// expectError records err, which must be a guarantor.Error with the
// given code and field.
func (sc *scenario) expectError(t *testing.T, what string, err error, code, field string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %s at %s", what, code, field)
		return
	}
	sc.errors = append(sc.errors, err)
	var gerr *guarantor.Error
	if !errors.As(err, &gerr) || gerr.Code != code || gerr.Field != field {
		t.Errorf("%s: error %v, want code %s at %s", what, err, code, field)
	}
}

func TestScenario(t *testing.T) {
	ctx := context.Background()
	sc := &scenario{path: filepath.Join(t.TempDir(), "exchange.db")}
	s := openService(t, sc.path, testRing(t, testKey(t, "k-2026-03", 1)))

	ds := synth.Generate(synth.Config{Seed: 8, People: 2400})
	if len(ds.Held) < 2000 || len(ds.Claimed) < 2000 {
		t.Fatalf("%d held and %d claimed persons; want at least 2,000 each", len(ds.Held), len(ds.Claimed))
	}
	held, claimed := ds.Submissions()
	sc.input = append(slices.Clone(held), claimed...)

	// An upload with one bad record stores nothing and quotes nothing.
	bad := slices.Clone(held)
	bad[1234].Born = strings.ReplaceAll(bad[1234].Born, "-", ".") + "x"
	_, err := s.Upload(ctx, "ex1", "RU", entry.ListHeld, bad, testAt)
	sc.expectError(t, "upload with a bad date", err, guarantor.EInvalid, "/people/1234/born")

	// 1. The parties upload: RU the people it holds, UA the people it
	// says RU holds.
	hu, err := s.Upload(ctx, "ex1", "RU", entry.ListHeld, held, testAt)
	if err != nil {
		t.Fatal(err)
	}
	cu, err := s.Upload(ctx, "ex1", "UA", entry.ListClaimed, claimed, testAt.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if hu.ListID != "ex1:RU:held:1" || cu.ListID != "ex1:UA:claimed:1" {
		t.Errorf("list ids %q, %q", hu.ListID, cu.ListID)
	}
	for _, u := range []exchange.Upload{hu, cu} {
		checkBodies(t, u)
		for i := range u.Bodies {
			if err := s.CheckList(ctx, &u.Bodies[i]); err != nil {
				t.Errorf("CheckList(part %d of %s) = %v", i+1, u.ListID, err)
			}
		}
	}
	tampered := hu.Bodies[1]
	tampered.Commitments = slices.Clone(tampered.Commitments)
	tampered.Commitments[5] = strings.Repeat("0", 64)
	sc.expectError(t, "CheckList of a changed commitment", s.CheckList(ctx, &tampered), guarantor.EInvalid, "/commitments/5")
	tampered = hu.Bodies[0]
	tampered.Root = cu.Root
	sc.expectError(t, "CheckList of another root", s.CheckList(ctx, &tampered), guarantor.EInvalid, "/root")
	tampered.ID = "ex1:RU:held:9"
	sc.expectError(t, "CheckList of an undrafted list", s.CheckList(ctx, &tampered), guarantor.EInvalid, "/id")

	heldRecs, err := s.Records(ctx, hu.ListID)
	if err != nil {
		t.Fatal(err)
	}
	claimedRecs, err := s.Records(ctx, cu.ListID)
	if err != nil {
		t.Fatal(err)
	}
	ref := make(map[string]string)           // record id → synthetic ref
	rec := make(map[string]*exchange.Person) // record id → record
	for _, rs := range [][]exchange.Record{heldRecs, claimedRecs} {
		for i := range rs {
			ref[rs[i].ID] = rs[i].Person.Ref
			rec[rs[i].ID] = &rs[i].Person
		}
	}
	truth := make(map[string]string) // held ref → claimed ref
	for _, p := range ds.Pairs {
		truth[p.Held] = p.Claimed
	}

	// 2. The verifier reconciles.
	start := time.Now()
	r, err := s.Reconcile(ctx, "ex1", "RU")
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	if r.Claimant != "UA" || r.HeldList != hu.ListID || r.ClaimedList != cu.ListID {
		t.Errorf("reconciled %s (%s) against %s (%s)", r.HeldList, r.Holder, r.ClaimedList, r.Claimant)
	}
	checkPartition(t, r, heldRecs, claimedRecs)
	correct := 0
	for _, m := range r.Matched {
		if truth[ref[m.Held]] == ref[m.Claimed] {
			correct++
		}
	}
	precision := float64(correct) / float64(len(r.Matched))
	recall := float64(correct) / float64(len(ds.Pairs))
	t.Logf("%d held × %d claimed (%d true pairs, %d namesakes), uploaded, reconciled and stored in %v",
		len(held), len(claimed), len(ds.Pairs), ds.Namesakes, elapsed.Round(time.Millisecond))
	t.Logf("matched %d: %d correct; precision %.4f, recall %.4f (ambiguous counted as not matched)", len(r.Matched), correct, precision, recall)
	t.Logf("ambiguous %d records, held only %d, claimed only %d", r.Counts.Ambiguous, r.Counts.HeldOnly, r.Counts.ClaimedOnly)
	if precision < 0.98 || recall < 0.98 {
		t.Errorf("precision %.4f, recall %.4f; want at least 0.98 each", precision, recall)
	}

	// Every deliberate omission surfaces, unmatched.
	recordOf := make(map[string]string) // ref → record id, per list
	for id, rf := range ref {
		recordOf[rf] = id
	}
	open := make(map[string]bool)
	for _, id := range append(slices.Clone(r.HeldOnly), r.ClaimedOnly...) {
		open[id] = true
	}
	ambiguous := make(map[string]bool)
	for _, q := range r.Ambiguous {
		ambiguous[q.Record] = true
	}
	inOnly, inAmbiguous := 0, 0
	for _, rf := range append(slices.Clone(ds.HeldOnly), ds.ClaimedOnly...) {
		switch id := recordOf[rf]; {
		case open[id]:
			inOnly++
		case ambiguous[id]:
			inAmbiguous++
		default:
			t.Errorf("deliberate omission %s is matched", rf)
		}
	}
	t.Logf("deliberate omissions %d: %d in HeldOnly/ClaimedOnly, %d in Ambiguous", len(ds.HeldOnly)+len(ds.ClaimedOnly), inOnly, inAmbiguous)

	// 3. The verifier decides a few ambiguous records: a match where the
	// true counterpart is a candidate, a no_match for an omission.
	var ds1 []exchange.Decision
	for _, q := range r.Ambiguous {
		if q.List != entry.ListHeld || len(ds1) == 4 {
			continue
		}
		for _, c := range q.Candidates {
			if truth[ref[q.Record]] == ref[c.Record] && !slices.ContainsFunc(ds1, func(d exchange.Decision) bool { return d.Claimed == c.Record }) {
				ds1 = append(ds1, exchange.Decision{Verdict: exchange.VerdictMatch, Held: q.Record, Claimed: c.Record, Note: "checked against the unit roster"})
				break
			}
		}
	}
	// A no_match: an ambiguous held record none of whose candidates is
	// its counterpart, else a held-only omission, confirmed. (Pairs ruled
	// apart are tested in TestDecisions.)
	noMatch := ""
	for _, q := range r.Ambiguous {
		if q.List == entry.ListHeld && !slices.ContainsFunc(q.Candidates, func(c exchange.Candidate) bool { return truth[ref[q.Record]] == ref[c.Record] }) {
			noMatch = q.Record
			break
		}
	}
	if noMatch == "" {
		noMatch = recordOf[ds.HeldOnly[0]]
	}
	ds1 = append(ds1, exchange.Decision{Verdict: exchange.VerdictNoMatch, Held: noMatch, Note: "not claimed: confirmed with the family"})
	if len(ds1) < 2 {
		t.Fatalf("only %d decisions to make; the scenario needs ambiguous records", len(ds1))
	}
	r2, err := s.Decide(ctx, "ex1", "RU", ds1)
	if err != nil {
		t.Fatal(err)
	}
	checkDecided(t, "after Decide", r2, ds1)
	checkPartition(t, r2, heldRecs, claimedRecs)

	// Decisions that must fail, recording nothing.
	engineMatch := r.Matched[0]
	otherClaimed := r.Matched[1].Claimed
	_, err = s.Decide(ctx, "ex1", "RU", []exchange.Decision{{Verdict: exchange.VerdictMatch, Held: engineMatch.Held, Claimed: otherClaimed}})
	sc.expectError(t, "match of a record already matched", err, guarantor.EConflict, "/decisions/0/held")
	_, err = s.Decide(ctx, "ex1", "RU", []exchange.Decision{{Verdict: exchange.VerdictNoMatch, Held: "r000000000000000000000000"}})
	sc.expectError(t, "decision on an unknown record", err, guarantor.ENotFound, "/decisions/0/held")
	_, err = s.Decide(ctx, "ex1", "RU", []exchange.Decision{{Verdict: exchange.VerdictNoMatch, Claimed: engineMatch.Claimed}, {Verdict: "maybe", Held: engineMatch.Held}})
	sc.expectError(t, "decision with a bad verdict", err, guarantor.EInvalid, "/decisions/1/verdict")

	// Decisions stick after the verifier reconciles again.
	r3, err := s.Reconcile(ctx, "ex1", "RU")
	if err != nil {
		t.Fatal(err)
	}
	checkDecided(t, "after a second Reconcile", r3, ds1)
	if r3.Counts != r2.Counts {
		t.Errorf("counts after a second Reconcile %+v, after Decide %+v", r3.Counts, r2.Counts)
	}
	if r3.Counts.Decisions != len(ds1) || r3.Counts.Stale != 0 {
		t.Errorf("%d decisions, %d stale; want %d, 0", r3.Counts.Decisions, r3.Counts.Stale, len(ds1))
	}
	stored, err := s.Reconciliation(ctx, "ex1", "RU")
	if err != nil {
		t.Fatal(err)
	}
	if stored.Counts != r3.Counts || len(stored.Matched) != len(r3.Matched) {
		t.Errorf("stored reconciliation differs from the last one returned")
	}
	correct = 0
	for _, m := range r3.Matched {
		if truth[ref[m.Held]] == ref[m.Claimed] {
			correct++
		}
	}
	t.Logf("after %d decisions: matched %d (%d by the verifier), %d correct; precision %.4f, recall %.4f",
		len(ds1), len(r3.Matched), r3.Counts.ByVerifier, correct, float64(correct)/float64(len(r3.Matched)), float64(correct)/float64(len(ds.Pairs)))

	// The parties' views: their own records and states, nothing of the
	// other side's.
	checkPartyViews(t, s, r3, heldRecs, claimedRecs)

	// 4. Two batches: 600 persons, then everyone left.
	persons, err := s.Persons(ctx, "ex1")
	if err != nil {
		t.Fatal(err)
	}
	if len(persons) != len(r3.Matched) {
		t.Errorf("%d persons, %d matched", len(persons), len(r3.Matched))
	}
	deceased := 0
	for _, m := range r3.Matched {
		if rec[m.Held].Status == exchange.StatusDeceased {
			deceased++
		}
	}
	m1, err := s.DraftManifest(ctx, "ex1", "RU", 1, 600, testAt.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	waiting := m1.Persons[len(m1.Persons)-1]
	for _, p := range persons {
		if p.ID > waiting {
			waiting = p.ID
			break
		}
	}
	_, err = s.Opening(ctx, waiting, "ex1:RU:batch:2")
	sc.expectError(t, "opening of a person in no batch", err, guarantor.EConflict, "person")
	m2, err := s.DraftManifest(ctx, "ex1", "RU", 2, 0, testAt.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.DraftManifest(ctx, "ex1", "RU", 2, 0, testAt.Add(72*time.Hour))
	sc.expectError(t, "batch number used twice", err, guarantor.EConflict, "/batch")
	_, err = s.DraftManifest(ctx, "ex1", "RU", 3, 0, testAt.Add(72*time.Hour))
	sc.expectError(t, "batch with nobody left", err, guarantor.ENotFound, "/from")
	t.Logf("batch 1: %d persons in %d part(s); batch 2: %d in %d parts; %d matched deceased left out",
		m1.Count, len(m1.Bodies), m2.Count, len(m2.Bodies), deceased)
	if m1.Count != 600 || m1.Count+m2.Count != len(r3.Matched)-deceased {
		t.Errorf("batches of %d and %d; want 600 and the rest of %d matched less %d deceased", m1.Count, m2.Count, len(r3.Matched), deceased)
	}
	if m1.To != "UA" || len(m2.Bodies) != (m2.Count+entry.MaxExchangePart-1)/entry.MaxExchangePart {
		t.Errorf("batch 2 goes to %q in %d parts", m2.To, len(m2.Bodies))
	}
	for _, m := range []exchange.Manifest{m1, m2} {
		for i := range m.Bodies {
			if err := s.CheckManifest(ctx, &m.Bodies[i]); err != nil {
				t.Errorf("CheckManifest(part %d of %s) = %v", i+1, m.ID, err)
			}
		}
		again, err := s.Manifest(ctx, "ex1", "RU", m.Batch)
		if err != nil || again.Root != m.Root || again.Count != m.Count {
			t.Errorf("Manifest(%d) = %+v, %v; want the drafted batch", m.Batch, again.Root, err)
		}
	}
	forged := m2.Bodies[0]
	forged.To = "RU"
	sc.expectError(t, "CheckManifest of another recipient", s.CheckManifest(ctx, &forged), guarantor.EInvalid, "/to")

	// 5. A family checks its relative's opening, typing the names in
	// Latin (KMU 2010) where the claimed list wrote them in Cyrillic.
	checkFamily(t, s, m2, r3, rec)

	// The leak test reads what the scenario left.
	sc.errors = append(sc.errors, checkNoOpening(ctx, s))
	if err := s.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	t.Run("leak", func(t *testing.T) { testLeak(t, sc) })
}

// checkNoOpening returns the error of an opening for an unknown person.
func checkNoOpening(ctx context.Context, s *exchange.Service) error {
	_, err := s.Opening(ctx, "p000000000000000000000000", "ex1:RU:batch:1")
	return err
}

// checkBodies checks the log bodies of an upload.
func checkBodies(t *testing.T, u exchange.Upload) {
	t.Helper()
	want := (u.Count + entry.MaxExchangePart - 1) / entry.MaxExchangePart
	if len(u.Bodies) != want {
		t.Errorf("%s: %d parts, want %d", u.ListID, len(u.Bodies), want)
	}
	var all []string
	for i, b := range u.Bodies {
		if b.ID != u.ListID || b.Part != i+1 || b.Parts != want || b.Root != u.Root || b.Count != u.Count || len(b.Commitments) > entry.MaxExchangePart {
			t.Errorf("%s: part %d is %+v", u.ListID, i+1, b)
		}
		if _, err := entry.MarshalBody(&b); err != nil {
			t.Error(err)
		}
		all = append(all, b.Commitments...)
	}
	if !slices.IsSorted(all) || len(all) != u.Count {
		t.Errorf("%s: the parts hold %d commitments (sorted: %v), want all %d sorted", u.ListID, len(all), slices.IsSorted(all), u.Count)
	}
	sum := 0
	for _, n := range u.ByStatus {
		sum += n
	}
	if sum != u.Count {
		t.Errorf("%s: statuses add up to %d, not %d", u.ListID, sum, u.Count)
	}
}

// checkPartition checks that every record is in exactly one place.
func checkPartition(t *testing.T, r exchange.Reconciliation, held, claimed []exchange.Record) {
	t.Helper()
	seen := make(map[string]int)
	for _, m := range r.Matched {
		seen[m.Held]++
		seen[m.Claimed]++
		if m.Person != "p"+m.Held[1:] {
			t.Errorf("person id %q for held record %q", m.Person, m.Held)
		}
	}
	for _, q := range r.Ambiguous {
		seen[q.Record]++
	}
	for _, id := range append(slices.Clone(r.HeldOnly), r.ClaimedOnly...) {
		seen[id]++
	}
	for _, rs := range [][]exchange.Record{held, claimed} {
		for _, rec := range rs {
			if seen[rec.ID] != 1 {
				t.Fatalf("record %s appears %d times in the reconciliation", rec.ID, seen[rec.ID])
			}
		}
	}
	if len(seen) != len(held)+len(claimed) {
		t.Fatalf("the reconciliation names %d records, the lists hold %d", len(seen), len(held)+len(claimed))
	}
}

// checkDecided checks that the decisions hold in r.
func checkDecided(t *testing.T, when string, r exchange.Reconciliation, ds []exchange.Decision) {
	t.Helper()
	for _, d := range ds {
		switch d.Verdict {
		case exchange.VerdictMatch:
			i := slices.IndexFunc(r.Matched, func(m exchange.Match) bool { return m.Held == d.Held })
			if i < 0 || r.Matched[i].Claimed != d.Claimed || r.Matched[i].DecidedBy != exchange.ByVerifier {
				t.Errorf("%s: decided match %s = %s does not hold", when, d.Held, d.Claimed)
			}
		case exchange.VerdictNoMatch:
			if d.Claimed != "" {
				for _, q := range r.Ambiguous {
					if q.Record == d.Held && slices.ContainsFunc(q.Candidates, func(c exchange.Candidate) bool { return c.Record == d.Claimed }) {
						t.Errorf("%s: records %s and %s ruled apart are still candidates", when, d.Held, d.Claimed)
					}
				}
				if slices.ContainsFunc(r.Matched, func(m exchange.Match) bool { return m.Held == d.Held && m.Claimed == d.Claimed }) {
					t.Errorf("%s: records %s and %s ruled apart are matched", when, d.Held, d.Claimed)
				}
				continue
			}
			if !slices.Contains(r.HeldOnly, d.Held) {
				t.Errorf("%s: held record %s decided to have no counterpart is not in HeldOnly", when, d.Held)
			}
		}
	}
}

// checkPartyViews checks what each party sees.
func checkPartyViews(t *testing.T, s *exchange.Service, r exchange.Reconciliation, heldRecs, claimedRecs []exchange.Record) {
	t.Helper()
	ctx := context.Background()
	for _, tc := range []struct {
		side        string
		own, others []exchange.Record
		want        map[string]int
	}{
		{"RU", heldRecs, claimedRecs, map[string]int{exchange.StateMatched: len(r.Matched), exchange.StateUnclaimed: len(r.HeldOnly)}},
		{"UA", claimedRecs, heldRecs, map[string]int{exchange.StateMatched: len(r.Matched), exchange.StateMissing: len(r.ClaimedOnly)}},
	} {
		v, err := s.PartyView(ctx, "ex1", tc.side)
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Lists) != 1 || len(v.Lists[0].Records) != len(tc.own) {
			t.Fatalf("%s sees %d lists", tc.side, len(v.Lists))
		}
		states := v.Lists[0].States
		for st, n := range tc.want {
			if states[st] != n {
				t.Errorf("%s sees %d records %s, want %d", tc.side, states[st], st, n)
			}
		}
		if states[exchange.StatePending] != 0 {
			t.Errorf("%s sees %d pending records", tc.side, states[exchange.StatePending])
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{`"score"`, `"reasons"`, `"candidates"`, `"claimed_only"`, `"held_only"`} {
			if bytes.Contains(b, []byte(key)) {
				t.Errorf("%s's view has a %s field", tc.side, key)
			}
		}
		// The party's own records, exactly, and nothing of the other
		// side's: no record id, no commitment.
		for i, got := range v.Lists[0].Records {
			if !reflect.DeepEqual(got.Record, tc.own[i]) {
				t.Fatalf("%s's view shows record %d as %s, not its own record %s", tc.side, i, got.ID, tc.own[i].ID)
			}
		}
		others := make(map[string]bool)
		for _, rec := range tc.others {
			others[rec.ID], others[rec.Commitment] = true, true
		}
		if found := scan(b, others); len(found) > 0 {
			t.Fatalf("%s's view holds %d ids or commitments of the other side's records", tc.side, len(found))
		}
	}
}

// checkFamily checks openings as families would: for persons of batch m
// whose claimed record is in Cyrillic, with the names transliterated to
// Latin under KMU 2010 and normalised by names.Key.
func checkFamily(t *testing.T, s *exchange.Service, m exchange.Manifest, r exchange.Reconciliation, rec map[string]*exchange.Person) {
	t.Helper()
	ctx := context.Background()
	rootBytes, err := hex.DecodeString(m.Root)
	if err != nil {
		t.Fatal(err)
	}
	var root tlog.Hash
	copy(root[:], rootBytes)
	byPerson := make(map[string]exchange.Match)
	for _, x := range r.Matched {
		byPerson[x.Person] = x
	}
	checked := 0
	for _, pid := range m.Persons {
		x := byPerson[pid]
		claimed, held := rec[x.Claimed], rec[x.Held]
		if !isCyrillic(claimed.Family) || !isCyrillic(claimed.Given) {
			continue
		}
		latin := func(s string) string { return names.Transliterate(s, names.KMU2010) }
		typed := commit.Identity{
			Family:     names.Key(latin(claimed.Family)),
			Given:      names.Key(latin(claimed.Given)),
			Patronymic: names.Key(latin(claimed.Patronymic)),
			Born:       cmpOr(claimed.Born, held.Born),
		}
		if typed.Family != names.Key(claimed.Family) || typed.Given != names.Key(claimed.Given) || typed.Patronymic != names.Key(claimed.Patronymic) {
			continue // one of the spellings KMU itself makes ambiguous (see package names)
		}
		o, err := s.Opening(ctx, pid, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		letter, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		got, err := commit.ParseOpening(letter)
		if err != nil {
			t.Fatal(err)
		}
		if err := commit.Check(got, typed, root, int64(m.Count)); err != nil {
			t.Errorf("family check of person %s: %v", pid, err)
		}
		wrong := typed
		wrong.Born = "1901"
		if err := commit.Check(got, wrong, root, int64(m.Count)); !errors.Is(err, commit.ErrMismatch) {
			t.Errorf("family check with another date of birth: %v, want a mismatch", err)
		}
		if checked++; checked == 25 {
			break
		}
	}
	if checked == 0 {
		t.Fatal("no person of the batch has a Cyrillic claimed record")
	}
	t.Logf("%d family openings checked with Latin (KMU 2010) names against batch %d", checked, m.Batch)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func isCyrillic(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Cyrillic, r) }) >= 0
}

// testLeak scans the raw database files for every identity field of the
// input, in the forms the parties wrote (Cyrillic and Latin) and as
// names.Key normalises them, and the scenario's errors likewise.
//
// Strings shorter than 5 bytes (a bare year, a four-letter Latin name)
// turn up by chance in megabytes of ciphertext and hex commitments, so
// they are counted but not asserted.
func testLeak(t *testing.T, sc *scenario) {
	needles := make(map[string]bool)
	short := 0
	add := func(v string) {
		v = strings.TrimSpace(v)
		switch {
		case v == "":
		case len(v) < 5:
			short++
		default:
			needles[v] = true
		}
	}
	for _, p := range sc.input {
		for _, v := range identityValues(p) {
			add(v)
		}
		for _, v := range []string{p.Family, p.Given, p.Patronymic, p.BirthPlace} {
			add(names.Key(v))
		}
	}
	var files [][]byte
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(sc.path + suffix)
		if errors.Is(err, os.ErrNotExist) && suffix != "" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d bytes", filepath.Base(sc.path+suffix), len(b))
		files = append(files, b)
	}
	found := 0
	for _, b := range files {
		for _, v := range scan(b, needles) {
			if found++; found <= 10 {
				t.Errorf("the database holds an identity field in clear (%d bytes)", len(v))
			}
		}
	}
	for _, err := range sc.errors {
		if err != nil && len(scan([]byte(err.Error()), needles)) > 0 {
			t.Errorf("error %q quotes an identity field", err)
		}
	}
	t.Logf("scanned %d distinct identity strings (and %d shorter than 5 bytes, not asserted) in the database files and %d errors: %d found",
		len(needles), short, len(sc.errors), found)
}

// scan returns the needles (each at least 5 bytes long) found in b.
func scan(b []byte, needles map[string]bool) []string {
	byPrefix := make(map[string][]string)
	for v := range needles {
		byPrefix[v[:5]] = append(byPrefix[v[:5]], v)
	}
	var found []string
	for i := 0; i+5 <= len(b); i++ {
		for _, v := range byPrefix[string(b[i:i+5])] {
			if bytes.HasPrefix(b[i:], []byte(v)) {
				found = append(found, v)
			}
		}
	}
	return found
}
