package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/store/internal/column"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Applied returns how many log entries the projection holds: the index of
// the next entry Apply expects. It reads the last committed batch.
func (s *Store) Applied(ctx context.Context) (uint64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, "SELECT value FROM meta WHERE name = 'applied'").Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: read applied count: %w", err)
	}
	return uint64(n), nil
}

// Apply records recs, which must have consecutive indexes starting at
// Applied(), in one transaction together with the new applied count: a
// reader sees all of the batch or none of it. The transaction locks the
// applied count first, so concurrent calls (from this process or another
// server) apply one after the other and all but one of those starting at
// the same index fail. An accepted record (Rejected empty) of a projected
// kind must carry the matching body. On any error, a constraint violation
// included (a duplicate leaf hash, or a signer's observation id used
// twice), nothing is applied; the error names the offending entry and
// wraps the server's *pgconn.PgError. Incident, verification, agreement,
// determination, obligation and response entries never conflict with
// earlier ones, whatever ids they claim.
//
// The rows of a batch are sent pipelined (pgx.Batch), a few round trips
// per batch rather than one per row, and the entries and observations
// rows in one statement per table (unnest of arrays). Should that fail,
// the batch is applied again row by row to name the offending entry.
func (s *Store) Apply(ctx context.Context, recs []node.Record) error {
	if len(recs) == 0 {
		return nil
	}
	first := recs[0].Index
	for i, r := range recs {
		if r.Index != first+uint64(i) {
			return fmt.Errorf("postgres: apply: record %d of the batch has index %d, want %d: indexes must be consecutive", i, r.Index, first+uint64(i))
		}
	}
	err := s.apply(ctx, recs, true)
	if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) {
		// Rows sent in bulk fail together: apply again row by row, so
		// that the error names the offending entry.
		err = s.apply(ctx, recs, false)
	}
	return err
}

// apply is Apply in one transaction, sending the entries and observations
// rows in bulk or row by row.
func (s *Store) apply(ctx context.Context, recs []node.Record, bulk bool) error {
	first := recs[0].Index
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin apply: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var applied int64
	if err := tx.QueryRow(ctx, "SELECT value FROM meta WHERE name = 'applied' FOR UPDATE").Scan(&applied); err != nil {
		return fmt.Errorf("postgres: read applied count: %w", err)
	}
	if first != uint64(applied) {
		return fmt.Errorf("postgres: apply: batch starts at index %d but the projection holds %d entries", first, applied)
	}
	ins := newInserter(tx, 0, s.schema)
	if bulk {
		ins.bulk = new(bulkRows)
	}
	for _, r := range recs {
		if err := ins.insert(ctx, r); err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
	}
	ins.cur = recs[len(recs)-1].Index
	ins.exec("applied count", "UPDATE meta SET value = $1 WHERE name = 'applied'", applied+int64(len(recs)))
	if err := ins.flush(ctx); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit entries %d..%d: %w", recs[0].Index, recs[len(recs)-1].Index, err)
	}
	return nil
}

// entryError is an error in applying the entry at index.
type entryError struct {
	index uint64
	err   error
}

func (e *entryError) Error() string { return fmt.Sprintf("apply entry %d: %v", e.index, e.err) }
func (e *entryError) Unwrap() error { return e.err }

// maxQueued is how many statements, and maxBulk how many bulk rows, the
// inserter queues before it sends them.
const (
	maxQueued = 1024
	maxBulk   = 4096
)

// inserter writes the rows of records inside one transaction. Writes are
// queued and sent pipelined when the queue is full, before a read, and at
// the end; an error found when they are sent names the entry that queued
// the failing statement.
type inserter struct {
	tx pgx.Tx
	// lo and hi bound the migrations whose tables it writes: those
	// numbered lo < n <= hi.
	lo, hi int
	cur    uint64 // the index of the record being written

	batch  pgx.Batch
	labels []label // one per queued statement
	// bulk, when not nil, holds the entries and observations rows sent
	// at the next flush, before the queued statements.
	bulk *bulkRows
	// members caches the members of the incidents this inserter wrote,
	// as it left them (ascending).
	members map[int64][]int64
}

// label names a queued statement in errors.
type label struct {
	index uint64
	what  string
}

// newInserter returns an inserter writing in tx to the tables of the
// migrations numbered lo < n <= hi: Apply asks for all of them, a
// migration's backfill for its own only (the tables of earlier ones are
// filled already, those of later ones do not exist yet).
func newInserter(tx pgx.Tx, lo, hi int) *inserter {
	return &inserter{tx: tx, lo: lo, hi: hi, members: map[int64][]int64{}}
}

// writes reports whether the inserter writes the tables of migration n.
func (ins *inserter) writes(n int) bool { return ins.lo < n && n <= ins.hi }

// exec queues a statement; what, if not empty, says what it writes.
func (ins *inserter) exec(what, sql string, args ...any) {
	ins.batch.Queue(sql, dbArgs(args)...)
	ins.labels = append(ins.labels, label{ins.cur, what})
}

// flush sends the queued statements and reads their results. The first
// failure is returned as an *entryError; the transaction is then aborted.
func (ins *inserter) flush(ctx context.Context) error {
	if ins.bulk != nil && ins.bulk.n > 0 {
		var b pgx.Batch
		labels := ins.bulk.queue(&b)
		b.QueuedQueries = append(b.QueuedQueries, ins.batch.QueuedQueries...)
		ins.batch, ins.labels = b, append(labels, ins.labels...)
		ins.bulk.reset()
	}
	if ins.batch.Len() == 0 {
		return nil
	}
	br := ins.tx.SendBatch(ctx, &ins.batch)
	var first error
	for _, l := range ins.labels {
		if _, err := br.Exec(); err != nil && first == nil {
			if l.what != "" {
				err = fmt.Errorf("%s: %w", l.what, err)
			}
			first = &entryError{l.index, err}
		}
	}
	if err := br.Close(); err != nil && first == nil {
		first = &entryError{ins.cur, err}
	}
	ins.batch = pgx.Batch{}
	ins.labels = ins.labels[:0]
	return first
}

// insert writes one record: its entries row and, when it was accepted,
// the rows its body projects to.
func (ins *inserter) insert(ctx context.Context, r node.Record) error {
	ins.cur = r.Index
	signers, err := json.Marshal(column.NonNil(r.Signers))
	if err != nil {
		return &entryError{r.Index, err}
	}
	if ins.bulk != nil {
		ins.bulk.entry(r, string(signers))
	} else {
		ins.exec("", "INSERT INTO entries (idx, leaf_hash, kind, signers, raw, rejected) VALUES ($1, $2, $3, $4, $5, $6)",
			int64(r.Index), r.LeafHash, string(r.Kind), string(signers), r.Raw, r.Rejected)
	}
	if r.Rejected == "" {
		if err := ins.project(ctx, r); err != nil {
			var ee *entryError
			if !errors.As(err, &ee) {
				err = &entryError{r.Index, err}
			}
			return err
		}
	}
	if ins.batch.Len() >= maxQueued || ins.bulk != nil && ins.bulk.n >= maxBulk {
		return ins.flush(ctx)
	}
	return nil
}

// project queues the rows the body of the accepted record r projects to.
// An accepted record of a projected kind must carry the matching body;
// anything else is a caller bug that would silently lose a row, so it is
// refused.
func (ins *inserter) project(ctx context.Context, r node.Record) error {
	switch b := r.Body.(type) {
	case *entry.KeyBody:
		if r.Kind != entry.KindKey {
			break
		}
		id, err := entry.VKeyID(b.VKey)
		if err != nil || !ins.writes(1) {
			return err
		}
		zones, err := json.Marshal(column.NonNil(b.Zones))
		if err != nil {
			return err
		}
		ins.exec("", "INSERT INTO keys (id, vkey, role, label, not_before, not_after, zones, idx) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
			id, b.VKey, b.Role, b.Label, column.Time(b.NotBefore), column.Time(b.NotAfter), string(zones), int64(r.Index))
		return nil
	case *entry.RevocationBody:
		if r.Kind != entry.KindRevocation {
			break
		}
		if !ins.writes(1) {
			return nil
		}
		ins.exec("", "INSERT INTO revocations (key_id, idx, reason, effective) VALUES ($1, $2, $3, $4)",
			b.Key, int64(r.Index), b.Reason, column.Time(b.Effective))
		return nil
	case *entry.Observation:
		if r.Kind != entry.KindObservation {
			break
		}
		if len(r.Signers) == 0 {
			return errors.New("observation without a signer")
		}
		ev, err := json.Marshal(column.NonNil(b.Evidence))
		if err != nil || !ins.writes(1) {
			return err
		}
		if ins.bulk != nil {
			ins.bulk.observation(r, b, string(ev))
			return nil
		}
		ins.exec("", `INSERT INTO observations (idx, signer, obs_id, observed_at, lon, lat, category, accuracy_m, count,
			bearing_deg, weapon, source_type, evidence, text, external_id, source)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
			int64(r.Index), r.Signers[0], b.ID, column.Time(b.ObservedAt),
			b.Location.Coordinates[0], b.Location.Coordinates[1], b.Category,
			column.NullFloat(b.AccuracyM), column.NullInt(b.Count), column.NullFloat(b.BearingDeg),
			b.Weapon, b.SourceType, string(ev), b.Text, b.ExternalID, b.Source)
		return nil
	case *entry.Incident:
		if r.Kind != entry.KindIncident {
			break
		}
		if !ins.writes(2) {
			return nil
		}
		return ins.insertIncident(ctx, r.Index, b)
	case *entry.Verification:
		if r.Kind != entry.KindVerification {
			break
		}
		if !ins.writes(2) {
			return nil
		}
		if len(r.Signers) == 0 {
			return errors.New("verification without a signer")
		}
		ins.insertVerification(r.Index, r.Signers[0], b)
		return nil
	case *entry.Agreement:
		if r.Kind != entry.KindAgreement {
			break
		}
		if !ins.writes(3) {
			return nil
		}
		ins.insertAgreement(r.Index, b)
		return nil
	case *entry.Amendment:
		if r.Kind != entry.KindAmendment {
			break
		}
		if !ins.writes(3) {
			return nil
		}
		ins.insertAgreement(r.Index, &b.Agreement)
		return nil
	case *entry.Determination:
		if r.Kind != entry.KindDetermination {
			break
		}
		if !ins.writes(3) {
			return nil
		}
		ins.insertDetermination(r.Index, b)
		return nil
	case *entry.Obligation:
		if r.Kind != entry.KindObligation {
			break
		}
		ins.insertObligation(r.Index, b) // writes tables of migrations 3 and 4
		return nil
	case *entry.Response:
		if r.Kind != entry.KindResponse {
			break
		}
		if !ins.writes(3) {
			return nil
		}
		if len(r.Signers) == 0 {
			return errors.New("response without a signer")
		}
		ins.insertResponse(r.Index, r.Signers[0], b)
		return nil
	case *entry.Sanction:
		if r.Kind != entry.KindSanction {
			break
		}
		if !ins.writes(4) {
			return nil
		}
		ins.insertSanction(r.Index, b)
		return nil
	case *entry.Coverage:
		if r.Kind != entry.KindCoverage {
			break
		}
		if !ins.writes(5) {
			return nil
		}
		ins.insertCoverage(r.Index, b)
		return nil
	case *entry.ExchangeList:
		if r.Kind != entry.KindExchangeList {
			break
		}
		if !ins.writes(6) {
			return nil
		}
		ins.insertExchange(r, b.Exchange, b.ID)
		return nil
	case *entry.ExchangeManifest:
		if r.Kind != entry.KindExchangeManifest {
			break
		}
		if !ins.writes(6) {
			return nil
		}
		ins.insertExchange(r, b.Exchange, b.ID)
		return nil
	case *entry.ExchangeConfirmation:
		if r.Kind != entry.KindExchangeConfirmation {
			break
		}
		if !ins.writes(6) {
			return nil
		}
		ins.insertExchange(r, b.Exchange, b.ID)
		return nil
	case *entry.PatrolPlan:
		if r.Kind != entry.KindPatrolPlan {
			break
		}
		if !ins.writes(7) {
			return nil
		}
		ins.insertPatrol(r, b.ID, b.ID, column.Time(b.From), column.Time(b.To))
		return nil
	case *entry.PatrolReport:
		if r.Kind != entry.KindPatrolReport {
			break
		}
		if !ins.writes(7) {
			return nil
		}
		ins.insertPatrol(r, b.ID, b.Plan, column.Time(b.Start), column.Time(b.End))
		return nil
	}
	if !projected[r.Kind] {
		return nil // kept in entries only
	}
	return fmt.Errorf("accepted %s entry carries a %T body", r.Kind, r.Body)
}

// projected lists the kinds the projection has rows for beyond entries.
var projected = map[entry.Kind]bool{
	entry.KindKey: true, entry.KindRevocation: true, entry.KindObservation: true,
	entry.KindIncident: true, entry.KindVerification: true,
	entry.KindAgreement: true, entry.KindAmendment: true, entry.KindDetermination: true, entry.KindObligation: true, entry.KindResponse: true,
	entry.KindSanction: true, entry.KindCoverage: true,
	entry.KindExchangeList: true, entry.KindExchangeManifest: true, entry.KindExchangeConfirmation: true,
	entry.KindPatrolPlan: true, entry.KindPatrolReport: true,
}

// sortedUnique returns vs as ascending int64s without repeats.
func sortedUnique(vs []uint64) []int64 {
	out := make([]int64, len(vs))
	for i, v := range vs {
		out[i] = int64(v)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
