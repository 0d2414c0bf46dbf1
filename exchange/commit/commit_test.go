package commit_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
	"pgregory.net/rapid"

	"github.com/guarantor/guarantor/exchange/commit"
	"github.com/guarantor/guarantor/exchange/vault"
)

func testCommitter(tb testing.TB, fill byte) *commit.Committer {
	tb.Helper()
	k, err := vault.NewKey("commit-test", bytes.Repeat([]byte{fill}, vault.KeySize))
	if err != nil {
		tb.Fatal(err)
	}
	c, err := commit.New(k)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// Distinctive identity values to search for in errors and printed output.
var person = commit.Identity{
	RecordID:   "r-7c1f0e",
	Family:     "шевчукевич",
	Given:      "ярослава",
	Patronymic: "остапівна",
	Born:       "1979-11-23",
}

func others(n int) []commit.Identity {
	ids := make([]commit.Identity, n)
	for i := range ids {
		ids[i] = commit.Identity{
			RecordID: fmt.Sprintf("r-%06d", i),
			Family:   fmt.Sprintf("family%d", i),
			Given:    "given",
			Born:     "1990",
		}
	}
	return ids
}

// fixture commits person among n others and returns the manifest and the
// person's opening.
func fixture(tb testing.TB, c *commit.Committer, n int) (*commit.Manifest, commit.Opening) {
	tb.Helper()
	var cs []commit.Commitment
	for _, id := range append(others(n), person) {
		cm, err := c.Commit(id)
		if err != nil {
			tb.Fatal(err)
		}
		cs = append(cs, cm)
	}
	m, err := commit.NewManifest(cs)
	if err != nil {
		tb.Fatal(err)
	}
	o, err := c.Open(person, m, "manifest/2025-06-01")
	if err != nil {
		tb.Fatal(err)
	}
	return m, o
}

func TestCanonical(t *testing.T) {
	got := hex.EncodeToString(commit.Canonical(commit.Identity{RecordID: "r1", Family: "ab", Born: "1990"}))
	want := "0000001e" + hex.EncodeToString([]byte("guarantor/exchange/identity/v1")) +
		"00000002" + "7231" + "00000002" + "6162" + "00000000" + "00000000" + "00000004" + "31393930"
	if got != want {
		t.Errorf("Canonical = %s\nwant        %s", got, want)
	}
	// Moving bytes between fields changes the encoding.
	a := commit.Canonical(commit.Identity{RecordID: "r", Family: "ab", Given: "c"})
	b := commit.Canonical(commit.Identity{RecordID: "r", Family: "a", Given: "bc"})
	if bytes.Equal(a, b) {
		t.Error("Canonical is ambiguous across fields")
	}
}

func TestValidate(t *testing.T) {
	ok := []commit.Identity{
		person,
		{RecordID: "r", Family: "x"},
		{RecordID: "r", Given: "x"},
		{RecordID: "r", Family: "x", Born: "1980"},
		{RecordID: "r", Family: "x", Born: "1980-02"},
		{RecordID: "r", Family: "x", Born: "1980-02-29"},
		{RecordID: "r", Family: "o'neil-smith", Given: "mary ann"},
	}
	for _, id := range ok {
		if err := id.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", id, err)
		}
	}
	for name, id := range map[string]commit.Identity{
		"no record id":       {Family: "x"},
		"long record id":     {RecordID: strings.Repeat("r", 257), Family: "x"},
		"no names":           {RecordID: "r", Patronymic: "x", Born: "1980"},
		"bad utf8":           {RecordID: "r", Family: "\xff"},
		"control":            {RecordID: "r", Family: "a\nb"},
		"leading space":      {RecordID: "r", Family: " a"},
		"trailing space":     {RecordID: "r", Given: "a\u00a0"},
		"not NFC":            {RecordID: "r", Family: "e\u0301"},
		"long field":         {RecordID: "r", Family: strings.Repeat("a", 1025)},
		"born 1980-2-3":      {RecordID: "r", Family: "x", Born: "1980-2-3"},
		"born 1981-02-29":    {RecordID: "r", Family: "x", Born: "1981-02-29"},
		"born 1980-13":       {RecordID: "r", Family: "x", Born: "1980-13"},
		"born 80":            {RecordID: "r", Family: "x", Born: "80"},
		"born 23.11.1979":    {RecordID: "r", Family: "x", Born: "23.11.1979"},
		"born 1980-01-01T00": {RecordID: "r", Family: "x", Born: "1980-01-01T00"},
	} {
		err := id.Validate()
		if !errors.Is(err, commit.ErrInvalidIdentity) {
			t.Errorf("%s: got %v, want ErrInvalidIdentity", name, err)
		}
		if _, cerr := testCommitter(t, 1).Commit(id); !errors.Is(cerr, commit.ErrInvalidIdentity) {
			t.Errorf("%s: Commit: got %v, want ErrInvalidIdentity", name, cerr)
		}
	}
}

func TestNormalised(t *testing.T) {
	id := commit.Identity{RecordID: "R1", Family: " A ", Given: "B", Patronymic: "C", Born: "1990"}
	got := id.Normalised(func(s string) string { return strings.ToLower(strings.TrimSpace(s)) })
	want := commit.Identity{RecordID: "R1", Family: "a", Given: "b", Patronymic: "c", Born: "1990"}
	if got != want {
		t.Errorf("Normalised = %+v, want %+v", got, want)
	}
}

func TestCommitStable(t *testing.T) {
	c := testCommitter(t, 1)
	a, err := c.Commit(person)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := c.Commit(person)
	if a != b {
		t.Error("the same identity and record id give different commitments")
	}
	other := person
	other.RecordID = "r-000002"
	if d, _ := c.Commit(other); d == a {
		t.Error("the same identity under another record id gives the same commitment")
	}
	if d, _ := testCommitter(t, 2).Commit(person); d == a {
		t.Error("another master key gives the same commitment")
	}
	// The person key is what matters: a family recomputes the same c.
	if d, _ := c.PersonKey(person.RecordID).Commit(person); d != a {
		t.Error("PersonKey.Commit differs from Committer.Commit")
	}
}

func TestCheck(t *testing.T) {
	c := testCommitter(t, 1)
	m, o := fixture(t, c, 20)
	root, n := m.Root(), m.Len()
	if err := commit.Check(o, person, root, n); err != nil {
		t.Fatalf("right opening: %v", err)
	}
	noID := person
	noID.RecordID = ""
	if err := commit.Check(o, noID, root, n); err != nil {
		t.Errorf("identity without record id: %v", err)
	}

	// A proof of another index, with its index.
	otherOpening, err := c.Open(others(20)[3], m, "manifest/2025-06-01")
	if err != nil {
		t.Fatal(err)
	}
	with := func(f func(*commit.Opening)) commit.Opening {
		o2 := o
		o2.Proof = append(tlog.RecordProof(nil), o.Proof...)
		f(&o2)
		return o2
	}
	change := func(f func(*commit.Identity)) commit.Identity {
		id := person
		f(&id)
		return id
	}
	tampered := with(func(o *commit.Opening) { o.Proof[0][0] ^= 1 })

	for _, tc := range []struct {
		name string
		o    commit.Opening
		id   commit.Identity
		root tlog.Hash
		n    int64
		want error
	}{
		{"wrong birth date", o, change(func(id *commit.Identity) { id.Born = "1979-11-24" }), root, n, commit.ErrMismatch},
		{"birth year only", o, change(func(id *commit.Identity) { id.Born = "1979" }), root, n, commit.ErrMismatch},
		{"wrong family name", o, change(func(id *commit.Identity) { id.Family = "шевчук" }), root, n, commit.ErrMismatch},
		{"wrong given name", o, change(func(id *commit.Identity) { id.Given = "ярослав" }), root, n, commit.ErrMismatch},
		{"wrong patronymic", o, change(func(id *commit.Identity) { id.Patronymic = "" }), root, n, commit.ErrMismatch},
		{"wrong record id", o, change(func(id *commit.Identity) { id.RecordID = "r-000003" }), root, n, commit.ErrMismatch},
		{"wrong key", with(func(o *commit.Opening) { o.Key = c.PersonKey("r-000003") }), person, root, n, commit.ErrMismatch},
		{"key of another master key", with(func(o *commit.Opening) { o.Key = testCommitter(t, 2).PersonKey(person.RecordID) }), person, root, n, commit.ErrMismatch},
		{"proof of another index", with(func(o *commit.Opening) { o.Index, o.Proof = otherOpening.Index, otherOpening.Proof }), person, root, n, commit.ErrNotIncluded},
		{"proof of another index, own index", with(func(o *commit.Opening) { o.Proof = otherOpening.Proof }), person, root, n, commit.ErrNotIncluded},
		{"own proof, another index", with(func(o *commit.Opening) { o.Index = otherOpening.Index }), person, root, n, commit.ErrNotIncluded},
		{"tampered proof", tampered, person, root, n, commit.ErrNotIncluded},
		{"short proof", with(func(o *commit.Opening) { o.Proof = o.Proof[1:] }), person, root, n, commit.ErrNotIncluded},
		{"long proof", with(func(o *commit.Opening) { o.Proof = append(o.Proof, tlog.Hash{}) }), person, root, n, commit.ErrNotIncluded},
		{"index out of range", with(func(o *commit.Opening) { o.Index = n }), person, root, n, commit.ErrNotIncluded},
		{"negative index", with(func(o *commit.Opening) { o.Index = -1 }), person, root, n, commit.ErrNotIncluded},
		{"other root", o, person, tlog.RecordHash([]byte("x")), n, commit.ErrNotIncluded},
		// (A wrong size does not always fail: the root fixes the tree, and
		// sizes that give the proof the same shape verify alike.)
		{"size 1", o, person, root, 1, commit.ErrNotIncluded},
		{"zero size", o, person, root, 0, commit.ErrNotIncluded},
		{"invalid identity", o, change(func(id *commit.Identity) { id.Born = "23.11.1979" }), root, n, commit.ErrInvalidIdentity},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := commit.Check(tc.o, tc.id, tc.root, tc.n)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			assertNoLeak(t, err.Error(), o.Key)
		})
	}
}

// assertNoLeak fails if s quotes an identity field of person or the key.
func assertNoLeak(t *testing.T, s string, k commit.PersonKey) {
	t.Helper()
	kb, _ := k.MarshalText()
	for _, f := range []string{person.Family, person.Given, person.Patronymic, person.Born, "шевчук", "ярослав", "1979", string(kb[:16])} {
		if strings.Contains(s, f) {
			t.Errorf("%q contains %q", s, f)
		}
	}
}

func TestOpeningJSON(t *testing.T) {
	c := testCommitter(t, 1)
	m, o := fixture(t, c, 5)
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := o.Key.MarshalText()
	if !bytes.Contains(b, kb) || !bytes.Contains(b, []byte(`"commitment":"`+o.Commitment.String()+`"`)) {
		t.Errorf("JSON lacks the key or commitment: %s", b)
	}
	p, err := commit.ParseOpening(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := commit.Check(p, person, m.Root(), m.Len()); err != nil {
		t.Errorf("Check after JSON round trip: %v", err)
	}
	p2, _ := json.Marshal(p)
	if !bytes.Equal(p2, b) {
		t.Errorf("JSON round trip changed the opening:\n%s\n%s", b, p2)
	}

	good := string(b)
	key := string(kb)
	for name, text := range map[string]string{
		"not JSON":        "{",
		"trailing data":   good + "{}",
		"unknown field":   strings.Replace(good, `"version"`, `"extra":1,"version"`, 1),
		"version 2":       strings.Replace(good, `"version":1`, `"version":2`, 1),
		"no version":      strings.Replace(good, `"version":1,`, ``, 1),
		"no record id":    strings.Replace(good, `"record_id":"r-7c1f0e"`, `"record_id":""`, 1),
		"short key":       strings.Replace(good, key, key[:60], 1),
		"non-hex key":     strings.Replace(good, key, "zz"+key[2:], 1),
		"no key":          strings.Replace(good, `"key":"`+key+`",`, ``, 1),
		"key wrong type":  strings.Replace(good, `"key":"`+key+`"`, `"key":`+"1"+key[:20], 1),
		"bad commitment":  strings.Replace(good, o.Commitment.String(), "00", 1),
		"no commitment":   strings.Replace(good, `"commitment":"`+o.Commitment.String()+`",`, ``, 1),
		"negative index":  strings.Replace(good, fmt.Sprintf(`"index":%d`, o.Index), `"index":-1`, 1),
		"bad proof":       strings.Replace(good, `"proof":[`, `"proof":["AAAA",`, 1),
		"index not int":   strings.Replace(good, fmt.Sprintf(`"index":%d`, o.Index), `"index":"`+key+`"`, 1),
		"key as number":   strings.Replace(good, `"key":"`+key+`"`, `"key":1e999`, 1),
		"syntax near key": strings.Replace(good, `"key":"`+key+`"`, `"key":"`+key+`"x`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := commit.ParseOpening([]byte(text))
			if err == nil {
				t.Fatal("ParseOpening succeeded")
			}
			assertNoLeak(t, err.Error(), o.Key)
		})
	}
}

func TestPrintingHidesKey(t *testing.T) {
	c := testCommitter(t, 1)
	_, o := fixture(t, c, 3)
	kb, _ := o.Key.MarshalText()
	var buf bytes.Buffer
	type holder struct{ O commit.Opening }
	for _, v := range []any{o, &o, o.Key, &o.Key, holder{o}, c} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
			fmt.Fprintf(&buf, verb+"\n", v)
		}
	}
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "opening", o, "key", o.Key, "committer", c)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "opening", o, "key", o.Key)
	out := buf.String()
	if strings.Contains(out, string(kb[:16])) || strings.Contains(out, fmt.Sprint(o.Key[:4])[1:10]) {
		t.Errorf("printed output contains the person key:\n%s", out)
	}
	if !strings.Contains(out, "manifest/2025-06-01") {
		t.Errorf("printed output lacks the manifest name:\n%s", out)
	}
}

func TestManifest(t *testing.T) {
	c := testCommitter(t, 1)
	var cs []commit.Commitment
	for _, id := range others(10) {
		cm, _ := c.Commit(id)
		cs = append(cs, cm)
	}
	m1, err := commit.NewManifest(cs)
	if err != nil {
		t.Fatal(err)
	}
	rev := make([]commit.Commitment, len(cs))
	for i, x := range cs {
		rev[len(cs)-1-i] = x
	}
	m2, _ := commit.NewManifest(rev)
	if m1.Root() != m2.Root() {
		t.Error("the root depends on the order of the list")
	}
	sorted := m1.Commitments()
	for i := 1; i < len(sorted); i++ {
		if bytes.Compare(sorted[i-1][:], sorted[i][:]) >= 0 {
			t.Fatal("Commitments() is not sorted")
		}
	}
	// The root is the RFC 6962 root of the sorted leaves.
	hashes := make([]tlog.Hash, len(sorted))
	for i, x := range sorted {
		hashes[i] = tlog.RecordHash(x[:])
	}
	if got, want := m1.Root(), rfc6962Root(hashes); got != want {
		t.Errorf("Root() = %v, want %v", got, want)
	}
	if _, err := commit.NewManifest(append(cs, cs[3])); err == nil {
		t.Error("NewManifest accepted a repeated commitment")
	}
	if _, err := m1.Prove(m1.Len()); err == nil {
		t.Error("Prove(n) succeeded")
	}
	if _, err := m1.Prove(-1); err == nil {
		t.Error("Prove(-1) succeeded")
	}

	empty, err := commit.NewManifest(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hexHash(empty.Root()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"; got != want {
		t.Errorf("empty root = %s, want SHA-256 of the empty string", got)
	}
	if _, err := c.Open(person, empty, "m"); !errors.Is(err, commit.ErrNotIncluded) {
		t.Errorf("Open in an empty manifest: got %v, want ErrNotIncluded", err)
	}
}

func hexHash(h tlog.Hash) string { return hex.EncodeToString(h[:]) }

// rfc6962Root computes MTH of RFC 6962 section 2.1 directly from leaf hashes.
func rfc6962Root(leaves []tlog.Hash) tlog.Hash {
	if len(leaves) == 1 {
		return leaves[0]
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	return tlog.NodeHash(rfc6962Root(leaves[:k]), rfc6962Root(leaves[k:]))
}

func TestLoadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "commit.key")
	id, err := vault.GenerateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := commit.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.KeyID() != id {
		t.Errorf("KeyID() = %q, want %q", c.KeyID(), id)
	}
	c2, _ := commit.LoadFile(path)
	a, _ := c.Commit(person)
	b, _ := c2.Commit(person)
	if a != b {
		t.Error("two loads of one key file give different commitments")
	}
	if _, err := vault.RotateKeyFile(path); err != nil {
		t.Fatal(err)
	}
	if _, err := commit.LoadFile(path); err == nil || !strings.Contains(err.Error(), "exactly one") {
		t.Errorf("LoadFile of a two-key file: got %v, want an error", err)
	}
	if _, err := commit.New(vault.Key{}); err == nil {
		t.Error("New(zero key) succeeded")
	}
	t.Setenv("GUARANTOR_TEST_COMMIT_KEY", "k1 AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=")
	c3, err := commit.LoadEnv("GUARANTOR_TEST_COMMIT_KEY")
	if err != nil {
		t.Fatal(err)
	}
	if a, b := mustCommit(t, c3), mustCommit(t, testCommitter(t, 1)); a != b {
		t.Error("LoadEnv key differs from the same key made by NewKey")
	}
}

func mustCommit(tb testing.TB, c *commit.Committer) commit.Commitment {
	tb.Helper()
	cm, err := c.Commit(person)
	if err != nil {
		tb.Fatal(err)
	}
	return cm
}

func TestCommitmentText(t *testing.T) {
	cm := mustCommit(t, testCommitter(t, 1))
	p, err := commit.ParseCommitment(cm.String())
	if err != nil || p != cm {
		t.Errorf("ParseCommitment(String()) = %v, %v", p, err)
	}
	for _, s := range []string{"", "00", strings.Repeat("g", 64), cm.String() + "00"} {
		if _, err := commit.ParseCommitment(s); err == nil {
			t.Errorf("ParseCommitment(%q) succeeded", s)
		}
	}
}

// TestPropertyManifest: for random lists, every member proves at its
// index, and a non-member proves nowhere.
func TestPropertyManifest(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		gen := rapid.Custom(func(t *rapid.T) commit.Commitment {
			return commit.Commitment(rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "c"))
		})
		cs := rapid.SliceOfNDistinct(gen, 1, 70, func(c commit.Commitment) commit.Commitment { return c }).Draw(t, "list")
		m, err := commit.NewManifest(cs)
		if err != nil {
			t.Fatal(err)
		}
		root, n := m.Root(), m.Len()
		if n != int64(len(cs)) {
			t.Fatalf("Len() = %d, want %d", n, len(cs))
		}
		for _, c := range cs {
			i, ok := m.Index(c)
			if !ok {
				t.Fatal("member not found")
			}
			p, err := m.Prove(i)
			if err != nil {
				t.Fatal(err)
			}
			if err := commit.Verify(root, n, i, c, p); err != nil {
				t.Fatalf("member at %d does not verify: %v", i, err)
			}
		}
		non := gen.Filter(func(c commit.Commitment) bool {
			_, in := m.Index(c)
			return !in
		}).Draw(t, "non-member")
		for i := range n {
			p, _ := m.Prove(i)
			if err := commit.Verify(root, n, i, non, p); !errors.Is(err, commit.ErrNotIncluded) {
				t.Fatalf("non-member verifies at %d: %v", i, err)
			}
		}
	})
}

// TestPropertyCommitments: the same identity and record id always give the
// same commitment; another record id, or a change of any field, another.
func TestPropertyCommitments(t *testing.T) {
	c := testCommitter(t, 7)
	field := rapid.StringMatching(`[a-zа-яіїєґ]([a-zа-яіїєґ' -]{0,12}[a-zа-яіїєґ])?`)
	rapid.Check(t, func(t *rapid.T) {
		id := commit.Identity{
			RecordID:   rapid.StringMatching(`r-[0-9a-f]{1,12}`).Draw(t, "record"),
			Family:     field.Draw(t, "family"),
			Given:      field.Draw(t, "given"),
			Patronymic: rapid.OneOf(rapid.Just(""), field).Draw(t, "patronymic"),
			Born:       rapid.SampledFrom([]string{"", "1970", "1970-01", "1970-01-01", "2001-12-31"}).Draw(t, "born"),
		}
		a, err := c.Commit(id)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := c.Commit(id); a != b {
			t.Fatal("same identity and record id, different commitments")
		}
		other := id
		other.RecordID = rapid.StringMatching(`r-[0-9a-f]{1,12}`).Filter(func(s string) bool { return s != id.RecordID }).Draw(t, "other record")
		if b, _ := c.Commit(other); a == b {
			t.Fatal("same identity under different record ids, same commitment")
		}
		changed := id
		switch rapid.IntRange(0, 2).Draw(t, "field") {
		case 0:
			changed.Family += "a"
		case 1:
			changed.Given += "a"
		case 2:
			changed.Patronymic += "a"
		}
		if b, _ := c.Commit(changed); a == b {
			t.Fatal("changed identity, same commitment")
		}
	})
}
