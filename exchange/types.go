package exchange

import (
	"time"

	"github.com/guarantor/guarantor/entry"
)

// Record statuses. A held list holds StatusHeld and StatusDeceased
// records; a claimed list StatusClaimed and StatusMissing ones.
const (
	StatusHeld     = "held"     // held by the listing side
	StatusDeceased = "deceased" // died in the listing side's custody
	StatusClaimed  = "claimed"  // said to be held by the other side
	StatusMissing  = "missing"  // whereabouts unknown; the other side is asked
)

// Reconciliation states of a record, as a party sees them.
const (
	StateMatched   = "matched"   // paired with a record of the other side's list
	StateAmbiguous = "ambiguous" // waiting for the verifier's decision
	StateUnclaimed = "unclaimed" // a held record that nobody claims
	StateMissing   = "missing"   // a claimed record the holder does not list
	StatePending   = "pending"   // the list has not been reconciled yet
)

// Who paired a Match.
const (
	ByEngine   = "engine"   // the reconciliation engine, without review
	ByVerifier = "verifier" // a human decision of the verifier
)

// Decision verdicts.
const (
	VerdictMatch   = "match"    // the held and the claimed record are one person
	VerdictNoMatch = "no_match" // the record has no counterpart, or the two are not one person
)

// Person is the clear record a party submits. Names may be in any script
// and under any transliteration standard. Only Ref and Family are
// required; empty fields are unknown.
type Person struct {
	// Ref is the party's own reference for the record, such as a registry
	// number: unique within a list, and the same for one person from one
	// version of a list to the next (the record id derives from it).
	Ref        string `json:"ref"`
	Family     string `json:"family"`
	Given      string `json:"given,omitempty"`
	Patronymic string `json:"patronymic,omitempty"`
	// Born is the date of birth: YYYY, YYYY-MM or YYYY-MM-DD.
	Born       string `json:"born,omitempty"`
	BirthPlace string `json:"birth_place,omitempty"`
	// Unit is the military unit, if any.
	Unit     string `json:"unit,omitempty"`
	Civilian bool   `json:"civilian,omitempty"`
	// Captured is the date of capture: YYYY, YYYY-MM or YYYY-MM-DD.
	Captured     string `json:"captured,omitempty"`
	CapturePlace string `json:"capture_place,omitempty"`
	// Health holds flags such as "wounded" or "seriously_ill": lower-case
	// letters, digits and underscores.
	Health []string `json:"health,omitempty"`
	// Status is held or deceased on a held list, claimed or missing on a
	// claimed list; empty means held or claimed.
	Status string `json:"status"`
}

// Record is a stored record: its id, the clear Person and its record-level
// commitment (64 hex digits), as published in the list's log entries.
type Record struct {
	ID         string `json:"id"`
	Person     Person `json:"person"`
	Commitment string `json:"commitment"`
}

// Upload is the outcome of [Service.Upload]: the new list and the log
// bodies for the party to sign and submit, one per part.
type Upload struct {
	ListID   string         `json:"list_id"`
	Count    int            `json:"count"`
	ByStatus map[string]int `json:"by_status"`
	// Root is the hex Merkle root of the list's sorted commitments.
	Root   string               `json:"root"`
	Bodies []entry.ExchangeList `json:"bodies"`
}

// ListInfo describes a stored list without any identity data.
type ListInfo struct {
	ID       string         `json:"id"`
	Exchange string         `json:"exchange"`
	Side     string         `json:"side"`
	List     string         `json:"list"` // held or claimed
	Seq      int            `json:"seq"`  // the side's upload number
	Count    int            `json:"count"`
	ByStatus map[string]int `json:"by_status"`
	Root     string         `json:"root"`
	At       time.Time      `json:"at"`
	// Latest is set on the side's newest list of its kind, the one that
	// reconciliation uses.
	Latest bool `json:"latest"`
}

// Reconciliation is the verifier's reconciliation of the latest held list
// of Holder with the latest claimed list of Claimant, human decisions
// applied. Every record of the two lists appears exactly once: in Matched,
// in Ambiguous, or in HeldOnly or ClaimedOnly. Scores and reasons quote
// both sides' data: the verifier's eyes only.
type Reconciliation struct {
	Exchange    string     `json:"exchange"`
	Holder      string     `json:"holder"`
	Claimant    string     `json:"claimant"`
	HeldList    string     `json:"held_list"`
	ClaimedList string     `json:"claimed_list"`
	Matched     []Match    `json:"matched"`
	Ambiguous   []Question `json:"ambiguous"`
	// HeldOnly are the held records that nobody claims.
	HeldOnly []string `json:"held_only"`
	// ClaimedOnly are the claimed records not on the held list: the
	// missing.
	ClaimedOnly []string `json:"claimed_only"`
	Counts      Counts   `json:"counts"`
}

// Match is a held and a claimed record taken to be one person.
type Match struct {
	Held    string `json:"held"`
	Claimed string `json:"claimed"`
	// Person is the person id: the held record id with "p" for "r".
	Person    string   `json:"person"`
	Score     float64  `json:"score"`
	DecidedBy string   `json:"decided_by"` // ByEngine or ByVerifier
	Reasons   []string `json:"reasons,omitempty"`
}

// Question is a record the engine could not settle, with its plausible
// counterparts on the other list, best first.
type Question struct {
	List       string      `json:"list"` // the record's list: held or claimed
	Record     string      `json:"record"`
	Candidates []Candidate `json:"candidates"`
}

// Candidate is one plausible counterpart of a Question's record.
type Candidate struct {
	Record  string   `json:"record"`
	Score   float64  `json:"score"`
	Reasons []string `json:"reasons,omitempty"`
}

// Counts sums up a Reconciliation.
type Counts struct {
	Held        int `json:"held"`    // records on the held list
	Claimed     int `json:"claimed"` // records on the claimed list
	Matched     int `json:"matched"`
	ByVerifier  int `json:"by_verifier"` // of Matched, decided by the verifier
	Ambiguous   int `json:"ambiguous"`   // records in Ambiguous, both lists
	HeldOnly    int `json:"held_only"`
	ClaimedOnly int `json:"claimed_only"`
	// Decisions is the number of decisions recorded for the pair of
	// sides; Stale of them no longer applied, because a record they name
	// left the lists or changed its names or date of birth.
	Decisions int `json:"decisions"`
	Stale     int `json:"stale"`
}

// Decision is the verifier's ruling on records of a reconciliation:
//
//   - Verdict match, Held and Claimed: the two records are one person;
//   - Verdict no_match, Held or Claimed alone: that record has no
//     counterpart (it is unclaimed, or missing);
//   - Verdict no_match, Held and Claimed: the two are not one person.
//
// A no_match on a matched record undoes the match.
type Decision struct {
	Verdict string `json:"verdict"`
	Held    string `json:"held,omitempty"`
	Claimed string `json:"claimed,omitempty"`
	// Note says who decided and why; it is stored sealed.
	Note string `json:"note,omitempty"`
}

// PartyView is what one party may see of an exchange: its latest lists,
// and for each record the state of its reconciliation, without any field,
// id or score of the other side's records.
type PartyView struct {
	Exchange string      `json:"exchange"`
	Side     string      `json:"side"`
	Lists    []PartyList `json:"lists"`
}

// PartyList is one of a party's lists in its PartyView.
type PartyList struct {
	ListInfo
	// States counts the records by state.
	States  map[string]int `json:"states"`
	Records []PartyRecord  `json:"records"`
}

// PartyRecord is one of a party's own records and its state.
type PartyRecord struct {
	Record
	State string `json:"state"` // StateMatched, StateAmbiguous, ...
	// Batch is the number of the batch the person is drafted in, or 0.
	Batch int `json:"batch,omitempty"`
}

// Manifest is one drafted batch: From hands over Count persons to To. The
// Bodies are the entry.ExchangeManifest parts for the parties and the
// verifier to co-sign; Persons, the person ids in the batch, are for the
// verifier only.
type Manifest struct {
	ID       string    `json:"id"`
	Exchange string    `json:"exchange"`
	Batch    int       `json:"batch"`
	From     string    `json:"from"`
	To       string    `json:"to"`
	At       time.Time `json:"at"`
	Count    int       `json:"count"`
	// Root is the hex Merkle root of the batch's sorted person
	// commitments.
	Root    string                   `json:"root"`
	Persons []string                 `json:"persons"`
	Bodies  []entry.ExchangeManifest `json:"bodies"`
}

// PersonInfo is a reconciled person, without identity data.
type PersonInfo struct {
	ID         string `json:"id"`
	From       string `json:"from"` // the holding side
	To         string `json:"to"`   // the claiming side
	Commitment string `json:"commitment"`
	// Batch is the batch the person is drafted in, or 0.
	Batch int `json:"batch,omitempty"`
}
