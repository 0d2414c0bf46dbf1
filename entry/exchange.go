package entry

import (
	"time"

	"github.com/guarantor/guarantor"
)

// The prisoner exchange's kinds (issue 8). None of them carries a name,
// a date of birth or any other identity field: only counts and keyed
// commitments (HMAC-SHA-256 under the neutral verifier's key, see package
// exchange/commit), so that a person can later be proven included without
// anyone else being revealed.
const (
	// KindExchangeList is one part of a party's list of the people it
	// holds, or of the people it claims the other side holds.
	KindExchangeList Kind = "exchange-list"
	// KindExchangeManifest is one part of an exchange batch: who the
	// holding side hands over, co-signed by both parties and the verifier.
	KindExchangeManifest Kind = "exchange-manifest"
	// KindExchangeConfirmation is a party's statement that a batch was
	// released (by the side that held them) or received (by the other).
	KindExchangeConfirmation Kind = "exchange-confirmation"
)

// MaxExchangePart is the most commitments one list or manifest entry
// carries; longer lists are logged in parts (part 1 of parts, ...), each
// naming the Merkle root of the whole, so that every part fits an entry.
const MaxExchangePart = 800

// Exchange list kinds.
const (
	ListHeld    = "held"    // the people the signing party holds
	ListClaimed = "claimed" // the people the signing party says the other side holds
)

// Exchange confirmation events.
const (
	ExchangeReleased = "released"
	ExchangeReceived = "received"
)

// ExchangeList is the body of an exchange-list entry, signed by the key of
// the party it is the list of (role party:Side).
type ExchangeList struct {
	ID       string    `json:"id"`
	Exchange string    `json:"exchange"`
	Side     string    `json:"side"`
	List     string    `json:"list"`
	At       time.Time `json:"at"`
	// Count is the number of people on the whole list; ByStatus breaks it
	// down by status (held, deceased; claimed, missing).
	Count    int            `json:"count"`
	ByStatus map[string]int `json:"by_status,omitempty"`
	Part     int            `json:"part"`
	Parts    int            `json:"parts"`
	// Root is the hex RFC 6962 Merkle root of all the list's commitments,
	// sorted; Commitments is this part's share of them, in that order.
	Root        string   `json:"root"`
	Commitments []string `json:"commitments"`
}

// ExchangeManifest is the body of an exchange-manifest entry: one part of
// batch Batch, in which From releases Count people to To. It is co-signed
// by a key of each party and by the verifier. The commitments here are
// person-level (one per reconciled person), not the lists' record-level
// ones: a family given the verifier's opening checks its relative's.
type ExchangeManifest struct {
	ID          string    `json:"id"`
	Exchange    string    `json:"exchange"`
	Batch       int       `json:"batch"`
	From        string    `json:"from"`
	To          string    `json:"to"`
	At          time.Time `json:"at"`
	Count       int       `json:"count"`
	Part        int       `json:"part"`
	Parts       int       `json:"parts"`
	Root        string    `json:"root"`
	Commitments []string  `json:"commitments"`
}

// ExchangeConfirmation is the body of an exchange-confirmation entry: the
// manifest's releasing side (event released) or receiving side (received)
// states how many of its people were handed over; Missing lists the
// commitments of those who were not (at most MaxExchangePart).
type ExchangeConfirmation struct {
	ID       string    `json:"id"`
	Exchange string    `json:"exchange"`
	Manifest string    `json:"manifest"`
	Event    string    `json:"event"`
	At       time.Time `json:"at"`
	Count    int       `json:"count"`
	Missing  []string  `json:"missing,omitempty"`
	Text     string    `json:"text,omitempty"`
}

// check requires part within parts, a part's commitments to fit the
// count, and the status breakdown to add up.
func (b *ExchangeList) check() error {
	if err := checkParts(b.Part, b.Parts, b.Count, len(b.Commitments)); err != nil {
		return err
	}
	if len(b.ByStatus) > 0 {
		sum := 0
		for _, n := range b.ByStatus {
			sum += n
		}
		if sum != b.Count {
			return guarantor.Errorf(guarantor.EInvalid, "/by_status", "the statuses add up to %d, not the count %d", sum, b.Count)
		}
	}
	return nil
}

// check requires part within parts, the commitments to fit the count, and
// two different sides.
func (b *ExchangeManifest) check() error {
	if b.From == b.To {
		return guarantor.Errorf(guarantor.EInvalid, "/to", "a batch goes from one party to the other, not to %s itself", b.From)
	}
	return checkParts(b.Part, b.Parts, b.Count, len(b.Commitments))
}

func checkParts(part, parts, count, n int) error {
	if part > parts {
		return guarantor.Errorf(guarantor.EInvalid, "/part", "part %d of %d", part, parts)
	}
	if want := (count + MaxExchangePart - 1) / MaxExchangePart; parts != max(want, 1) {
		return guarantor.Errorf(guarantor.EInvalid, "/parts", "%d people make %d parts of at most %d, not %d", count, max(want, 1), MaxExchangePart, parts)
	}
	full := min(MaxExchangePart, count-(part-1)*MaxExchangePart)
	if n != full {
		return guarantor.Errorf(guarantor.EInvalid, "/commitments", "part %d of a list of %d people carries %d commitments, not %d", part, count, full, n)
	}
	return nil
}
