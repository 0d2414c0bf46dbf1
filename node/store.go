package node

import (
	"context"
	"io"
	"time"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/registry"
)

// Record is one log entry as the projection sees it: the raw note, where it
// sits in the log, and what the registry decided about it.
type Record struct {
	Index    uint64
	LeafHash []byte // RFC 6962 leaf hash of Raw
	Raw      []byte // the whole signed note
	Kind     entry.Kind
	Signers  []string // name+hash of each signature, in note order
	// Body is the validated body: *entry.KeyBody, *entry.RevocationBody,
	// *entry.Observation or *entry.Testimony. Nil when Rejected is set.
	Body any
	// Rejected is non-empty when the entry is in the log but fails the
	// registry's rules on replay (it should never happen; an auditor flags
	// it). Such an entry is kept, with the reason, and has no effect.
	Rejected string
}

// Store is the projection of the log into queryable tables. It is fed only
// by the follower, in log order, and can be deleted and rebuilt from the
// log at any time.
//
// Implementations must be safe for concurrent use by one writer (Apply)
// and many readers.
type Store interface {
	// Applied returns how many log entries have been applied: the index of
	// the next entry Apply expects.
	Applied(ctx context.Context) (uint64, error)

	// Apply records the given consecutive entries, the first of which must
	// have index Applied(), in one transaction together with the new
	// applied count. When Apply returns nil, the records survive a crash of
	// the process (a power loss may undo the last commits, which the
	// follower then replays from the log); on error nothing was applied.
	Apply(ctx context.Context, recs []Record) error

	// IndexByLeafHash returns the index of the entry with the given leaf
	// hash, if one has been applied.
	IndexByLeafHash(ctx context.Context, leafHash []byte) (index uint64, ok bool, err error)

	// ObservationByID returns the index and leaf hash of the observation
	// with the given client id made by the given signer (name+hash of its
	// first signature), if one has been applied.
	ObservationByID(ctx context.Context, signer, id string) (index uint64, leafHash []byte, ok bool, err error)

	// Entry returns the applied entry at index, or ok=false.
	Entry(ctx context.Context, index uint64) (rec Record, ok bool, err error)

	// Records calls fn with every applied entry in [from, to), in log
	// order, as Entry returns them, streaming. It stops at fn's first
	// error and returns it.
	Records(ctx context.Context, from, to uint64, fn func(Record) error) error

	// Identities calls fn with the leaf hash of every applied entry and,
	// for observations, its signer NUL id key ("" otherwise), in any order.
	// Intake builds its membership filters from them at start.
	Identities(ctx context.Context, fn func(leafHash []byte, obsKey string)) error

	// Observations calls fn with every applied observation that f selects,
	// in log order, streaming: memory does not grow with the result. It
	// stops at fn's first error and returns it.
	Observations(ctx context.Context, f ObservationFilter, fn func(ObservationRow) error) error

	// Incidents calls fn with the latest revision of every incident f
	// selects, ordered by incident id, streaming.
	Incidents(ctx context.Context, f IncidentFilter, fn func(IncidentRow) error) error

	// Incident returns every revision of incident id in revision order
	// (none when there is no such incident).
	Incident(ctx context.Context, id uint64) ([]IncidentRow, error)

	// Verifications returns every accepted verification naming one of the
	// given incident ids, in log order.
	Verifications(ctx context.Context, ids []uint64) ([]VerificationRow, error)

	// Agreements returns every accepted agreement entry, each version (and
	// each entry claiming a version already logged), in log order.
	Agreements(ctx context.Context) ([]AgreementRow, error)

	// Determinations calls fn with every accepted determination f selects,
	// in log order, streaming. It stops at fn's first error and returns it.
	Determinations(ctx context.Context, f DeterminationFilter, fn func(DeterminationRow) error) error

	// Obligations calls fn with the latest revision (the one from the
	// highest log index) of every obligation f selects, ordered by
	// obligation id, streaming. It stops at fn's first error and returns
	// it.
	Obligations(ctx context.Context, f ObligationFilter, fn func(ObligationRow) error) error

	// Obligation returns every revision of obligation id in log order
	// (none when there is no such obligation).
	Obligation(ctx context.Context, id uint64) ([]ObligationRow, error)

	// Responses returns every accepted response naming obligation id, in
	// log order, whether or not the engine took it into account.
	Responses(ctx context.Context, obligation uint64) ([]ResponseRow, error)

	// Sanctions returns every measure's current state, ordered by id: its
	// latest statement, or re-imposed by a later snap-back.
	Sanctions(ctx context.Context) ([]SanctionRow, error)

	// SanctionHistory returns every statement about one measure, in log
	// order.
	SanctionHistory(ctx context.Context, id string) ([]SanctionRow, error)

	// Coverage returns the latest coverage snapshot of an agreement for a
	// month (YYYY-MM; "" for its latest month), if one is logged.
	Coverage(ctx context.Context, agreement, month string) (CoverageRow, bool, error)

	// ExchangeEntries calls fn with every accepted entry of a prisoner
	// exchange (list parts, manifest parts, confirmations) in log order,
	// streaming; exchange "" visits every exchange's.
	ExchangeEntries(ctx context.Context, exchange string, fn func(Record) error) error

	// PatrolEntries calls fn with every accepted patrol plan and report f
	// selects, in log order, streaming.
	PatrolEntries(ctx context.Context, f PatrolFilter, fn func(Record) error) error

	// Keys returns every registered key, with its revocation if any, in log
	// order, so that the live registry can be restored without a replay.
	Keys(ctx context.Context) ([]registry.Key, error)

	// Export writes every table of the projection to w in a deterministic
	// text form (rows in index order, fixed column order). Two stores fed
	// the same log export identical bytes.
	Export(ctx context.Context, w io.Writer) error

	// Close releases the store's resources.
	Close() error
}

// ObservationFilter selects observations. Zero fields select everything.
type ObservationFilter struct {
	From, To   time.Time   // observed_at in [From, To)
	BBox       *[4]float64 // min longitude, min latitude, max longitude, max latitude
	Category   string
	SourceType string
	Limit      int // at most this many; 0 for no limit
}

// ObservationRow is an observation as the projection holds it.
type ObservationRow struct {
	Index       uint64 // log index of the entry
	Signer      string // name+hash of its first signature
	Observation entry.Observation
}

// IncidentFilter selects incidents by their latest revision. Zero fields
// select everything.
type IncidentFilter struct {
	From, To time.Time   // the incident's span overlaps [From, To)
	BBox     *[4]float64 // centroid within min lon, min lat, max lon, max lat
	Category string
	Level    string // reported, corroborated or verified
	Party    string // attributed to this party (e.g. "party:RU") by a verification
	// Status is "open" (the default when empty), "merged" or "all".
	Status string
	Limit  int // at most this many; 0 for no limit
}

// IncidentRow is one incident revision as the projection holds it.
type IncidentRow struct {
	Index    uint64 // log index of the incident entry
	Incident entry.Incident
}

// VerificationRow is an accepted verification as the projection holds it.
type VerificationRow struct {
	Index        uint64 // log index of the verification entry
	Signer       string // name+hash of the analyst key
	Verification entry.Verification
}

// AgreementRow is an accepted agreement entry as the projection holds it.
type AgreementRow struct {
	Index     uint64   // log index of the agreement entry
	Signers   []string // name+hash of each signature, in note order
	Agreement entry.Agreement
	// Amendment is the reason given, when the version came as an
	// amendment entry; "" for an agreement entry.
	Amendment string
}

// DeterminationFilter selects determinations. Zero fields select
// everything.
type DeterminationFilter struct {
	Agreement string    // agreement id
	Trigger   string    // trigger id
	From, To  time.Time // at in [From, To)
	Limit     int       // at most this many; 0 for no limit
}

// DeterminationRow is a determination as the projection holds it.
type DeterminationRow struct {
	Index         uint64 // log index of the determination entry
	Determination entry.Determination
}

// ObligationFilter selects obligations by their latest revision. Zero
// fields select everything.
type ObligationFilter struct {
	Who       string // the debtor's role, exactly: "guarantor:UK", "party:RU"
	Group     string // owed as a member of this collective group
	Status    string // open, fulfilled, late, missed or declined
	Agreement string // agreement id
	// Determination selects the obligations opened by the determination
	// with this seq.
	Determination *uint64
	Limit         int // at most this many; 0 for no limit
}

// ObligationRow is one obligation revision as the projection holds it.
type ObligationRow struct {
	Index      uint64 // log index of the obligation entry
	Obligation entry.Obligation
}

// ResponseRow is an accepted response as the projection holds it.
type ResponseRow struct {
	Index    uint64 // log index of the response entry
	Signer   string // name+hash of its first signature
	Response entry.Response
}

// SanctionRow is a sanction statement and the measure's status.
type SanctionRow struct {
	Index    uint64 // log index of the statement
	Sanction entry.Sanction
	// Status is the measure's status now: the statement's, or "active"
	// when a later snap-back re-imposed it (ReimposedBy names the
	// obligation, ReimposedIndex the log index of its fulfilled revision).
	Status         string
	ReimposedBy    *uint64
	ReimposedIndex *uint64
}

// CoverageRow is a coverage snapshot as the projection holds it.
type CoverageRow struct {
	Index    uint64 // log index of the coverage entry
	Coverage entry.Coverage
}

// PatrolFilter selects patrol plans and reports. Zero fields select
// everything.
type PatrolFilter struct {
	Kind     entry.Kind // entry.KindPatrolPlan or entry.KindPatrolReport
	ID, Plan string     // the entry's id; the plan (a plan's own id)
	// From and To select the entries whose window (a plan's) or span (a
	// report's) overlaps [From, To).
	From, To time.Time
}

// IncidentReader reads every revision of an incident, as Store does.
type IncidentReader interface {
	Incident(ctx context.Context, id uint64) ([]IncidentRow, error)
}

// Absorbed returns id and the id of every incident merged into it,
// transitively through the revisions of those incidents, each once; revs
// are id's own revisions, already read.
func Absorbed(ctx context.Context, st IncidentReader, id uint64, revs []IncidentRow) ([]uint64, error) {
	ids := []uint64{id}
	seen := map[uint64]bool{id: true}
	for i := 0; i < len(ids); i++ {
		if i > 0 {
			var err error
			if revs, err = st.Incident(ctx, ids[i]); err != nil {
				return nil, err
			}
		}
		for _, rv := range revs {
			for _, m := range rv.Incident.Merged {
				if !seen[m.ID] {
					seen[m.ID] = true
					ids = append(ids, m.ID)
				}
			}
		}
	}
	return ids, nil
}

// ExportTable is one table of the projection as Store.Export writes it:
// its name, its columns in order, and the key its rows are written in.
type ExportTable struct{ Name, Cols, Order string }

// ExportTables lists every table of the projection in the order
// Store.Export writes them. Every Store implementation exports exactly
// these, so that two stores fed the same log export the same bytes; a new
// table or column is added here, once.
var ExportTables = []ExportTable{
	{Name: "meta", Cols: "name, value", Order: "name"},
	{Name: "entries", Cols: "idx, leaf_hash, kind, signers, raw, rejected", Order: "idx"},
	{Name: "keys", Cols: "id, vkey, role, label, not_before, not_after, zones, idx", Order: "idx"},
	{Name: "revocations", Cols: "key_id, idx, reason, effective", Order: "idx"},
	{Name: "observations", Cols: "idx, signer, obs_id, observed_at, lon, lat, category, accuracy_m, count, bearing_deg, weapon, source_type, evidence, text, external_id, source", Order: "idx"},
	{Name: "incidents", Cols: "idx, id, revision, seq, status, merged_into", Order: "idx"},
	{Name: "incident_current", Cols: "id, idx, revision, status, level, category, from_at, to_at, lon, lat", Order: "id"},
	{Name: "incident_members", Cols: "id, obs_idx", Order: "id, obs_idx"},
	{Name: "incident_parties", Cols: "id, party", Order: "id, party"},
	{Name: "verifications", Cols: "idx, signer, ver_id, at, incident, revision, verdict, attributed_to", Order: "idx"},
	{Name: "agreements", Cols: "idx, id, version, title, effective, expires", Order: "idx"},
	{Name: "determinations", Cols: "idx, seq, agreement, version, trigger_id, at", Order: "idx"},
	{Name: "determination_incidents", Cols: "idx, incident, revision", Order: "idx, incident, revision"},
	{Name: "obligations", Cols: "idx, id, revision, seq, status", Order: "idx"},
	{Name: "obligation_current", Cols: "id, idx, revision, determination, agreement, version, trigger_id, who, group_id, status, opened, deadline, settled", Order: "id"},
	{Name: "responses", Cols: "idx, signer, resp_id, at, obligation, answer", Order: "idx"},
	{Name: "sanctions", Cols: "idx, id, authority, status, at", Order: "idx"},
	{Name: "sanction_current", Cols: "id, idx, authority, status, reimposed_by, reimposed_idx", Order: "id"},
	{Name: "coverage", Cols: "idx, agreement, month, at", Order: "idx"},
	{Name: "exchange_entries", Cols: "idx, kind, exchange, id, signer", Order: "idx"},
	{Name: "patrol_entries", Cols: "idx, kind, id, plan, from_at, to_at", Order: "idx"},
}
