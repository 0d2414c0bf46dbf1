package exchange_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/exchange"
	"github.com/guarantor/guarantor/exchange/commit"
	"github.com/guarantor/guarantor/exchange/names"
	"github.com/guarantor/guarantor/exchange/vault"
)

// A family checks its relative's opening. The lists wrote the names in
// Cyrillic (RU in Russian, UA in Ukrainian); the family types them in
// Latin, as a Ukrainian passport spells them (KMU 2010). names.Key
// merges the spellings, so the check succeeds; with another date of
// birth it fails.
func ExampleService_Opening() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "exchange-example")
	defer os.RemoveAll(dir)

	// Example keys; real ones come from key files (vault.LoadFile,
	// commit.LoadFile).
	vk, _ := vault.NewKey("vault-example", bytes.Repeat([]byte{1}, 32))
	ck, _ := vault.NewKey("commit-example", bytes.Repeat([]byte{2}, 32))
	ring, _ := vault.NewRing(vk)
	committer, _ := commit.New(ck)
	s, err := exchange.Open(ctx, exchange.Config{Path: filepath.Join(dir, "exchange.db"), Ring: ring, Committer: committer})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s.Upload(ctx, "ex1", "RU", entry.ListHeld, []exchange.Person{
		{Ref: "RU-0001", Family: "Шевченко", Given: "Тарас", Patronymic: "Григорьевич", Born: "1984-03-09"},
		{Ref: "RU-0002", Family: "Коваленко", Given: "Елена", Patronymic: "Петровна", Born: "1992-07-14"},
	}, at)
	s.Upload(ctx, "ex1", "UA", entry.ListClaimed, []exchange.Person{
		{Ref: "UA-0107", Family: "Шевченко", Given: "Тарас", Patronymic: "Григорович", Born: "1984-03-09"},
		{Ref: "UA-0291", Family: "Коваленко", Given: "Олена", Patronymic: "Петрівна", Born: "1992-07-14"},
	}, at)
	r, _ := s.Reconcile(ctx, "ex1", "RU")
	fmt.Println("matched:", r.Counts.Matched, "ambiguous:", r.Counts.Ambiguous)

	m, _ := s.DraftManifest(ctx, "ex1", "RU", 1, 0, at.Add(24*time.Hour))
	// The parties and the verifier co-sign m.Bodies; the log publishes
	// them. The verifier sends the family of the claimed record UA-0107
	// its opening.
	var person string
	recs, _ := s.Records(ctx, r.ClaimedList)
	for _, x := range r.Matched {
		for _, rec := range recs {
			if rec.ID == x.Claimed && rec.Person.Ref == "UA-0107" {
				person = x.Person
			}
		}
	}
	o, _ := s.Opening(ctx, person, m.ID)
	letter, _ := json.Marshal(o)

	// The family's side: the letter, the root and count from the log,
	// and the relative's name as the family writes it.
	opening, _ := commit.ParseOpening(letter)
	b, _ := hex.DecodeString(m.Bodies[0].Root)
	var root tlog.Hash
	copy(root[:], b)
	n := int64(m.Bodies[0].Count)
	relative := commit.Identity{
		Family:     names.Key("Shevchenko"),
		Given:      names.Key("Taras"),
		Patronymic: names.Key("Hryhorovych"),
		Born:       "1984-03-09",
	}
	fmt.Println("Shevchenko Taras Hryhorovych, 1984-03-09:", commit.Check(opening, relative, root, n))
	relative.Born = "1984-03-19"
	err = commit.Check(opening, relative, root, n)
	fmt.Println("born 1984-03-19, mismatch:", errors.Is(err, commit.ErrMismatch))
	// Output:
	// matched: 2 ambiguous: 0
	// Shevchenko Taras Hryhorovych, 1984-03-09: <nil>
	// born 1984-03-19, mismatch: true
}
