package commit_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/guarantor/guarantor/exchange/commit"
	"github.com/guarantor/guarantor/exchange/vault"
)

// The canonical encoding and commitment of one identity under a fixed
// master key: a test vector for independent implementations.
func ExampleCanonical() {
	k, _ := vault.NewKey("example", bytes.Repeat([]byte{1}, 32)) // an example key; never use a fixed key
	c, _ := commit.New(k)
	id := commit.Identity{RecordID: "r-000001", Family: "петренко", Given: "іван", Patronymic: "миколайович", Born: "1985-03"}

	fmt.Printf("canonical  %x\n", commit.Canonical(id))
	kp, _ := c.PersonKey(id.RecordID).MarshalText()
	fmt.Printf("k_p        %s\n", kp)
	cm, _ := c.Commit(id)
	fmt.Printf("commitment %s\n", cm)
	// Output:
	// canonical  0000001e67756172616e746f722f65786368616e67652f6964656e746974792f763100000008722d30303030303100000010d0bfd0b5d182d180d0b5d0bdd0bad0be00000008d196d0b2d0b0d0bd00000016d0bcd0b8d0bad0bed0bbd0b0d0b9d0bed0b2d0b8d18700000007313938352d3033
	// k_p        644a1ecec38635212ea36ed06365aca97169443b2c88303c2dc4eea32324105b
	// commitment 0bceb04578a5b60b88c601a92d251eb1e61fe07cf04ed552120e4d1f9ec7a6f4
}

// The whole flow: the verifier commits to a list and publishes the
// manifest's root and size; one family receives an opening and checks it.
func Example() {
	k, _ := vault.NewKey("example", bytes.Repeat([]byte{1}, 32)) // an example key
	verifier, _ := commit.New(k)

	list := []commit.Identity{
		{RecordID: "r-000001", Family: "петренко", Given: "іван", Patronymic: "миколайович", Born: "1985-03"},
		{RecordID: "r-000002", Family: "коваль", Given: "олена", Born: "1992-07-14"},
		{RecordID: "r-000003", Family: "бондар", Given: "андрій", Patronymic: "петрович", Born: "1978"},
	}
	var cs []commit.Commitment
	for _, id := range list {
		c, _ := verifier.Commit(id)
		cs = append(cs, c)
	}
	m, _ := commit.NewManifest(cs)
	root, n := m.Root(), m.Len() // these go on the public log, with m.Commitments()

	opening, _ := verifier.Open(list[1], m, "exchange-manifest/2025-06-01")
	letter, _ := json.Marshal(opening) // handed to the family only

	// The family's side: the opening, their relative as they know them,
	// and the root and size read from the log.
	o, _ := commit.ParseOpening(letter)
	relative := commit.Identity{Family: "коваль", Given: "олена", Born: "1992-07-14"}
	fmt.Println(commit.Check(o, relative, root, n))

	relative.Born = "1992-07-15"
	err := commit.Check(o, relative, root, n)
	fmt.Println(errors.Is(err, commit.ErrMismatch))
	// Output:
	// <nil>
	// true
}
