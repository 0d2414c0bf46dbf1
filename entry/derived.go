package entry

import (
	"fmt"
	"time"

	"github.com/guarantor/guarantor"
)

// The kinds the engine and analysts add (issue 5).
const (
	// KindVerification is an analyst's verdict on an incident revision.
	KindVerification Kind = "verification"
	// KindIncident is one revision of an incident, derived by the engine.
	KindIncident Kind = "incident"
	// KindTick moves the engine's clock.
	KindTick Kind = "tick"
)

// Derived reports whether entries of kind k are the engine's own output,
// which replay must reproduce byte for byte. A tick is signed by the
// engine too, but it is an input: the engine cannot predict it.
func Derived(k Kind) bool {
	return k == KindIncident || k == KindDetermination || k == KindObligation || k == KindCoverage
}

// DerivedSeq returns the seq of a derived entry's body.
func DerivedSeq(body any) (uint64, bool) {
	switch b := body.(type) {
	case *Incident:
		return b.Seq, true
	case *Determination:
		return b.Seq, true
	case *Obligation:
		return b.Seq, true
	case *Coverage:
		return b.Seq, true
	}
	return 0, false
}

// Verdicts of a verification.
const (
	VerdictVerify  = "verify"
	VerdictDispute = "dispute"
	VerdictReject  = "reject"
)

// Verification is the body of a verification entry.
type Verification struct {
	ID           string     `json:"id"`
	At           time.Time  `json:"at"`
	Incident     uint64     `json:"incident"`
	Revision     int        `json:"revision"`
	Verdict      string     `json:"verdict"`
	AttributedTo string     `json:"attributed_to,omitempty"`
	Confidence   string     `json:"confidence,omitempty"`
	Basis        []string   `json:"basis,omitempty"`
	Text         string     `json:"text,omitempty"`
	Evidence     []Evidence `json:"evidence,omitempty"`
}

// Tick is the body of a tick entry.
type Tick struct {
	At time.Time `json:"at"`
}

// Ref names a log entry by index and leaf hash (standard base64).
type Ref struct {
	Index    uint64 `json:"index"`
	LeafHash string `json:"leaf_hash"`
}

// RevisionRef names one revision of an incident.
type RevisionRef struct {
	ID       uint64 `json:"id"`
	Revision int    `json:"revision"`
}

// Verdicts counts the verdicts analysts gave an incident.
type Verdicts struct {
	Verify  int `json:"verify,omitempty"`
	Dispute int `json:"dispute,omitempty"`
	Reject  int `json:"reject,omitempty"`
}

// Attribution counts the verifications that attributed an incident to a
// party.
type Attribution struct {
	Party string `json:"party"`
	Count int    `json:"count"`
}

// Incident statuses.
const (
	IncidentOpen   = "open"
	IncidentMerged = "merged"
)

// Incident is the body of an incident entry. The engine writes it with
// encoding/json in this field order, so equal incidents are equal bytes.
type Incident struct {
	Seq          uint64        `json:"seq"`
	ID           uint64        `json:"id"`
	Revision     int           `json:"revision"`
	Status       string        `json:"status"`
	MergedInto   *uint64       `json:"merged_into,omitempty"`
	Rule         string        `json:"rule"`
	Inputs       []Ref         `json:"inputs"`
	Merged       []RevisionRef `json:"merged,omitempty"`
	Category     string        `json:"category"`
	From         time.Time     `json:"from"`
	To           time.Time     `json:"to"`
	Location     Point         `json:"location"`
	RadiusM      int64         `json:"radius_m"`
	Count        int64         `json:"count"`
	Members      []uint64      `json:"members"`
	Monitors     int           `json:"monitors"`
	SourceTypes  []string      `json:"source_types"`
	Weapons      []string      `json:"weapons,omitempty"`
	Level        string        `json:"level"`
	Verdicts     *Verdicts     `json:"verdicts,omitempty"`
	Attributions []Attribution `json:"attributions,omitempty"`
}

// check enforces what the incident schema cannot: members strictly
// ascending, a time span that does not run backwards, and merged_into
// exactly when the status is merged.
func (b *Incident) check() error {
	for i := 1; i < len(b.Members); i++ {
		if b.Members[i] <= b.Members[i-1] {
			return guarantor.Errorf(guarantor.EInvalid, fmt.Sprintf("/members/%d", i), "members must be strictly ascending log indexes")
		}
	}
	if b.To.Before(b.From) {
		return guarantor.Errorf(guarantor.EInvalid, "/to", "to %s is before from %s", b.To.Format(time.RFC3339), b.From.Format(time.RFC3339))
	}
	if (b.Status == IncidentMerged) != (b.MergedInto != nil) {
		return guarantor.Errorf(guarantor.EInvalid, "/merged_into", "merged_into is required with status merged and forbidden otherwise")
	}
	return nil
}
