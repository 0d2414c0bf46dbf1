package vault_test

import (
	"fmt"

	"github.com/guarantor/guarantor/exchange/vault"
)

// The key file format: one "<id> <base64 key>" per line, the first line
// active. (These keys are examples: generate real ones with
// GenerateKeyFile.)
func ExampleParseKeys() {
	text := `# guarantor vault keys
k-2025-06 AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=
k-2025-01 AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=
`
	keys, err := vault.ParseKeys([]byte(text))
	if err != nil {
		fmt.Println(err)
		return
	}
	ring, err := vault.NewRing(keys[0], keys[1:]...)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ring.ActiveID(), ring)
	// Output: k-2025-06 vault.Ring[k-2025-06 k-2025-01]
}

func ExampleRing_Seal() {
	ring, _ := vault.NewRing(vault.GenerateKey())
	aad := []byte("detainees/r-000123") // binds the ciphertext to its row
	sealed, _ := ring.Seal([]byte(`{"family":"..."}`), aad)
	column, _ := sealed.MarshalBinary() // store in a BLOB column

	stored, _ := vault.ParseSealed(column)
	record, err := ring.Open(stored, aad)
	fmt.Println(string(record), err)
	_, err = ring.Open(stored, []byte("detainees/r-000124"))
	fmt.Println(err)
	// Output:
	// {"family":"..."} <nil>
	// vault: open record: authentication failed (wrong associated data, or the record was altered)
}
