// Package sqlite is the embedded projection of the log, in pure-Go SQLite
// (modernc.org/sqlite): WAL mode, foreign keys, numbered embedded
// migrations. One connection writes; a pool reads. Everything in it is
// derived from the log and can be rebuilt from it.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/registry"
	"github.com/guarantor/guarantor/store/internal/column"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the SQLite projection. It implements node.Store.
type Store struct {
	w *sql.DB // one connection: the writer
	r *sql.DB // the readers, query-only

	// Prepared once: intake asks these for every submission.
	byLeaf, byObsID *sql.Stmt

	schema int // the schema version: the number of the last migration
}

var _ node.Store = (*Store)(nil)

// readers is the size of the read pool.
const readers = 8

// walPages is how many pages (4 KiB) the WAL grows by before the writer
// copies it back into the database (a checkpoint, the only write that
// waits for fsync), and the size the WAL file is cut back to afterwards.
// SQLite's default is 1000; eight times that trades a 32 MiB WAL for an
// Apply that is several times faster where fsync is slow.
const walPages = 8192

// Open opens or creates the projection at path and applies any pending
// migrations. The database runs in WAL mode with foreign keys on and
// synchronous=NORMAL: a commit survives a crash of the process but the
// last few may be lost to a power failure, which is harmless because the
// follower replays the log from Applied() and the projection can always be
// rebuilt. Writes go through a single connection; reads through a pool of
// query-only connections, each of which sees only committed batches.
func Open(ctx context.Context, path string) (*Store, error) {
	s := &Store{}
	for _, p := range []struct {
		db     **sql.DB
		writer bool
		n      int
	}{{&s.w, true, 1}, {&s.r, false, readers}} {
		db, err := sql.Open("sqlite", dsn(path, p.writer))
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
		db.SetMaxOpenConns(p.n)
		db.SetMaxIdleConns(p.n)
		*p.db = db
	}
	fail := func(err error) (*Store, error) {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, withErrno(err))
	}
	if err := s.migrate(ctx); err != nil {
		return fail(err)
	}
	var err error
	if s.byLeaf, err = s.r.PrepareContext(ctx, "SELECT idx FROM entries WHERE leaf_hash = ? ORDER BY idx LIMIT 1"); err != nil {
		return fail(fmt.Errorf("prepare: %w", err))
	}
	if s.byObsID, err = s.r.PrepareContext(ctx, `SELECT o.idx, e.leaf_hash FROM observations o JOIN entries e ON e.idx = o.idx
		WHERE o.signer = ? AND o.obs_id = ?`); err != nil {
		return fail(fmt.Errorf("prepare: %w", err))
	}
	return s, nil
}

// dsn returns the connection string for the database at path: a file: URI
// (so that '?', '#' and '%' in the path are escaped, not parsed) carrying
// the pragmas every connection runs. The writer begins its transactions
// IMMEDIATE, taking the write lock up front instead of failing to upgrade
// a read lock, and checkpoints the WAL; readers are query-only.
func dsn(path string, writer bool) string {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)", "mmap_size(268435456)", "cache_size(-32768)"} {
		q.Add("_pragma", p)
	}
	if writer {
		q.Set("_txlock", "immediate")
		q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", walPages))
		q.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", walPages*4096))
	} else {
		q.Set("_query_only", "1")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Close closes the statements and both pools; the last connection to
// close checkpoints the WAL into the database and removes it.
func (s *Store) Close() error {
	var err error
	for _, st := range []*sql.Stmt{s.byLeaf, s.byObsID} {
		if st != nil {
			err = errors.Join(err, st.Close())
		}
	}
	for _, db := range []*sql.DB{s.r, s.w} {
		if db != nil {
			err = errors.Join(err, db.Close())
		}
	}
	return err
}

// migrate applies, in order and each in its own transaction together with
// the new schema version (PRAGMA user_version), every embedded migration
// newer than the database. It refuses a database written by a newer
// version of this package.
func (s *Store) migrate(ctx context.Context) error {
	var version int
	if err := s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	type migration struct {
		n    int
		name string
	}
	ms := make([]migration, 0, len(names))
	for _, name := range names {
		num, _, _ := strings.Cut(strings.TrimPrefix(name, "migrations/"), "_")
		n, err := strconv.Atoi(num)
		if err != nil || n <= 0 {
			return fmt.Errorf("migration %s does not start with a positive number", name)
		}
		ms = append(ms, migration{n, name})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.n - b.n })
	for i, m := range ms {
		if m.n != i+1 {
			return fmt.Errorf("migration %s: numbers must run 1, 2, 3, ... without gaps or repeats", m.name)
		}
	}
	if version > len(ms) {
		return fmt.Errorf("schema version %d is newer than this program knows (%d); rebuild the projection or upgrade", version, len(ms))
	}
	for _, m := range ms[version:] {
		if err := s.migrateOne(ctx, m.n, m.name); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	s.schema = len(ms)
	return nil
}

// backfills holds, by migration number, the Go step that fills the new
// tables from entries applied before the migration, in the migration's
// transaction.
var backfills = map[int]func(context.Context, *sql.Tx) error{
	2: backfill(2, entry.KindIncident, entry.KindVerification),
	3: backfill(3, entry.KindAgreement, entry.KindAmendment, entry.KindDetermination, entry.KindObligation, entry.KindResponse),
	// Obligations are projected by migration 3; here only the snap-backs
	// they record are replayed, in log order with the statements.
	4: backfillWith(4, func(ctx context.Context, ins *inserter, r node.Record) error {
		if o, ok := r.Body.(*entry.Obligation); ok {
			return ins.reimposeSanctions(ctx, r.Index, o)
		}
		return ins.project(ctx, r)
	}, entry.KindSanction, entry.KindObligation),
	5: backfill(5, entry.KindCoverage),
	6: backfill(6, entry.KindExchangeList, entry.KindExchangeManifest, entry.KindExchangeConfirmation),
	7: backfill(7, entry.KindPatrolPlan, entry.KindPatrolReport),
}

// backfill returns the backfill of migration n, whose tables project the
// given kinds: it projects the accepted entries of those kinds that a
// projection applied before the migration kept in entries only, in log
// order, as Apply would have, so that the projection equals one rebuilt
// from the log. It prepares only the statements of migrations up to n,
// whose tables exist at that point.
func backfill(n int, kinds ...entry.Kind) func(context.Context, *sql.Tx) error {
	return backfillWith(n, func(ctx context.Context, ins *inserter, r node.Record) error { return ins.project(ctx, r) }, kinds...)
}

// backfillWith is backfill with its own projection of each entry.
func backfillWith(n int, project func(context.Context, *inserter, node.Record) error, kinds ...entry.Kind) func(context.Context, *sql.Tx) error {
	list := make([]string, len(kinds))
	for i, k := range kinds {
		list[i] = string(k)
	}
	js, err := json.Marshal(list)
	if err != nil {
		panic(err) // a list of strings always marshals
	}
	return func(ctx context.Context, tx *sql.Tx) error {
		type pending struct {
			idx          uint64
			kind         string
			signers, raw []byte
		}
		rows, err := tx.QueryContext(ctx, `SELECT idx, kind, signers, raw FROM entries
			WHERE rejected = '' AND kind IN (SELECT value FROM json_each(?)) ORDER BY idx`, string(js))
		if err != nil {
			return err
		}
		var todo []pending
		for rows.Next() {
			var p pending
			if err := rows.Scan(&p.idx, &p.kind, &p.signers, &p.raw); err != nil {
				rows.Close()
				return err
			}
			todo = append(todo, p)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if len(todo) == 0 {
			return nil
		}
		ins, err := newInserter(ctx, tx, n)
		if err != nil {
			return err
		}
		defer ins.close()
		for _, p := range todo {
			r := node.Record{Index: p.idx, Kind: entry.Kind(p.kind)}
			e, err := entry.Parse(p.raw)
			if err == nil {
				r.Body, err = e.Validate()
			}
			if err != nil {
				return fmt.Errorf("entry %d no longer decodes: %w", p.idx, err)
			}
			if err := json.Unmarshal(p.signers, &r.Signers); err != nil {
				return fmt.Errorf("entry %d signers: %w", p.idx, err)
			}
			if err := project(ctx, ins, r); err != nil {
				return fmt.Errorf("entry %d: %w", p.idx, err)
			}
		}
		return nil
	}
}

// migrateOne runs one migration and its backfill, if any, and records its
// number, atomically.
func (s *Store) migrateOne(ctx context.Context, n int, name string) error {
	body, err := migrations.ReadFile(name)
	if err != nil {
		return err
	}
	// A migration that rebuilds a table others reference runs with
	// foreign keys off (which SQLite allows only outside a transaction)
	// and checks them all before committing.
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	fkOff := strings.HasPrefix(string(body), "-- foreign_keys: off\n")
	if fkOff {
		if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
			return err
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = ON")
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if fkOff {
		rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
		if err != nil {
			return err
		}
		bad := rows.Next()
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		if bad {
			return errors.New("foreign keys broken by the migration")
		}
	}
	if fill := backfills[n]; fill != nil {
		if err := fill(ctx, tx); err != nil {
			return fmt.Errorf("backfill: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", n)); err != nil {
		return err
	}
	return tx.Commit()
}

// Applied returns how many log entries the projection holds: the index of
// the next entry Apply expects. It reads the last committed batch.
func (s *Store) Applied(ctx context.Context) (uint64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, "SELECT value FROM meta WHERE name = 'applied'").Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: read applied count: %w", err)
	}
	return uint64(n), nil
}

// Apply records recs, which must have consecutive indexes starting at
// Applied(), in one transaction together with the new applied count: a
// reader sees all of the batch or none of it. An accepted record
// (Rejected empty) of kind key, revocation, observation, incident,
// verification, agreement, determination, obligation or response must
// carry the matching body. On any error, a constraint violation included
// (a duplicate leaf hash, or a signer's observation id used twice),
// nothing is applied; the error names the offending entry and wraps the
// driver's *sqlite.Error. Incident, verification, agreement,
// determination, obligation and response entries never conflict with
// earlier ones, whatever ids they claim.
func (s *Store) Apply(ctx context.Context, recs []node.Record) (err error) {
	defer func() { err = withErrno(err) }()
	if len(recs) == 0 {
		return nil
	}
	first := recs[0].Index
	for i, r := range recs {
		if r.Index != first+uint64(i) {
			return fmt.Errorf("sqlite: apply: record %d of the batch has index %d, want %d: indexes must be consecutive", i, r.Index, first+uint64(i))
		}
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin apply: %w", err)
	}
	defer tx.Rollback()
	var applied int64
	if err := tx.QueryRowContext(ctx, "SELECT value FROM meta WHERE name = 'applied'").Scan(&applied); err != nil {
		return fmt.Errorf("sqlite: read applied count: %w", err)
	}
	if first != uint64(applied) {
		return fmt.Errorf("sqlite: apply: batch starts at index %d but the projection holds %d entries", first, applied)
	}
	ins, err := newInserter(ctx, tx, s.schema)
	if err != nil {
		return err
	}
	defer ins.close()
	for _, r := range recs {
		if err := ins.insert(ctx, r); err != nil {
			return fmt.Errorf("sqlite: apply entry %d: %w", r.Index, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE meta SET value = ? WHERE name = 'applied'", applied+int64(len(recs))); err != nil {
		return fmt.Errorf("sqlite: update applied count: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit entries %d..%d: %w", recs[0].Index, recs[len(recs)-1].Index, err)
	}
	return nil
}

// inserter holds the statements Apply prepares once per batch.
type inserter struct {
	entry, key, revocation, observation *sql.Stmt
	incidentStmts
	agreementStmts
	sanctionStmts
	coverageStmts
	exchangeStmts
	patrolStmts
}

// newInserter prepares inside tx the insert statements of the tables that
// exist at the given schema version: Apply asks for the latest, a
// migration's backfill for its own (the tables of later migrations do not
// exist yet). The statements of a later migration are left nil.
func newInserter(ctx context.Context, tx *sql.Tx, schema int) (*inserter, error) {
	var ins inserter
	var err error
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = tx.PrepareContext(ctx, q)
		return st
	}
	ins.entry = prep("INSERT INTO entries (idx, leaf_hash, kind, signers, raw, rejected) VALUES (?, ?, ?, ?, ?, ?)")
	ins.key = prep("INSERT INTO keys (id, vkey, role, label, not_before, not_after, zones, idx) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
	ins.revocation = prep("INSERT INTO revocations (key_id, idx, reason, effective) VALUES (?, ?, ?, ?)")
	ins.observation = prep(`INSERT INTO observations (idx, signer, obs_id, observed_at, lon, lat, category, accuracy_m, count,
		bearing_deg, weapon, source_type, evidence, text, external_id, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if schema >= 2 {
		ins.prepareIncidents(prep)
	}
	if schema >= 3 {
		ins.prepareAgreements(prep)
	}
	if schema >= 4 {
		ins.prepareSanctions(prep)
	}
	if schema >= 5 {
		ins.prepareCoverage(prep)
	}
	if schema >= 6 {
		ins.prepareExchange(prep)
	}
	if schema >= 7 {
		ins.preparePatrols(prep)
	}
	if err != nil {
		ins.close()
		return nil, fmt.Errorf("sqlite: prepare: %w", err)
	}
	return &ins, nil
}

// close closes the statements that were prepared.
func (ins *inserter) close() {
	sts := append([]*sql.Stmt{ins.entry, ins.key, ins.revocation, ins.observation}, ins.incidentStmts.all()...)
	sts = append(sts, ins.agreementStmts.all()...)
	sts = append(sts, ins.sanctionStmts.all()...)
	sts = append(sts, ins.coverageStmts.all()...)
	sts = append(sts, ins.exchangeStmts.all()...)
	for _, st := range append(sts, ins.patrolStmts.all()...) {
		if st != nil {
			st.Close()
		}
	}
}

// insert writes one record: its entries row and, when it was accepted,
// the rows its body projects to.
func (ins *inserter) insert(ctx context.Context, r node.Record) error {
	signers, err := json.Marshal(column.NonNil(r.Signers))
	if err != nil {
		return err
	}
	if _, err := ins.entry.ExecContext(ctx, int64(r.Index), r.LeafHash, string(r.Kind), string(signers), r.Raw, r.Rejected); err != nil {
		return err
	}
	if r.Rejected != "" {
		return nil
	}
	return ins.project(ctx, r)
}

// project writes the rows the body of the accepted record r projects to.
// An accepted record of a projected kind must carry the matching body;
// anything else is a caller bug that would silently lose a key,
// revocation, observation, incident, verification, agreement,
// determination, obligation or response, so it is refused.
func (ins *inserter) project(ctx context.Context, r node.Record) error {
	switch b := r.Body.(type) {
	case *entry.KeyBody:
		if r.Kind != entry.KindKey {
			break
		}
		id, err := entry.VKeyID(b.VKey)
		if err != nil {
			return err
		}
		zones, err := json.Marshal(column.NonNil(b.Zones))
		if err != nil {
			return err
		}
		_, err = ins.key.ExecContext(ctx, id, b.VKey, b.Role, b.Label, column.Time(b.NotBefore), column.Time(b.NotAfter), string(zones), int64(r.Index))
		return err
	case *entry.RevocationBody:
		if r.Kind != entry.KindRevocation {
			break
		}
		_, err := ins.revocation.ExecContext(ctx, b.Key, int64(r.Index), b.Reason, column.Time(b.Effective))
		return err
	case *entry.Observation:
		if r.Kind != entry.KindObservation {
			break
		}
		if len(r.Signers) == 0 {
			return errors.New("observation without a signer")
		}
		ev, err := json.Marshal(column.NonNil(b.Evidence))
		if err != nil {
			return err
		}
		_, err = ins.observation.ExecContext(ctx, int64(r.Index), r.Signers[0], b.ID, column.Time(b.ObservedAt),
			b.Location.Coordinates[0], b.Location.Coordinates[1], b.Category,
			column.NullFloat(b.AccuracyM), column.NullInt(b.Count), column.NullFloat(b.BearingDeg),
			b.Weapon, b.SourceType, string(ev), b.Text, b.ExternalID, b.Source)
		return err
	case *entry.Incident:
		if r.Kind != entry.KindIncident {
			break
		}
		return ins.insertIncident(ctx, r.Index, b)
	case *entry.Verification:
		if r.Kind != entry.KindVerification {
			break
		}
		if len(r.Signers) == 0 {
			return errors.New("verification without a signer")
		}
		return ins.insertVerification(ctx, r.Index, r.Signers[0], b)
	case *entry.Agreement:
		if r.Kind != entry.KindAgreement {
			break
		}
		return ins.insertAgreement(ctx, r.Index, b)
	case *entry.Amendment:
		if r.Kind != entry.KindAmendment {
			break
		}
		return ins.insertAgreement(ctx, r.Index, &b.Agreement)
	case *entry.Sanction:
		if r.Kind != entry.KindSanction {
			break
		}
		return ins.insertSanction(ctx, r.Index, b)
	case *entry.Coverage:
		if r.Kind != entry.KindCoverage {
			break
		}
		return ins.insertCoverage(ctx, r.Index, b)
	case *entry.ExchangeList:
		if r.Kind != entry.KindExchangeList {
			break
		}
		return ins.insertExchange(ctx, r, b.Exchange, b.ID)
	case *entry.ExchangeManifest:
		if r.Kind != entry.KindExchangeManifest {
			break
		}
		return ins.insertExchange(ctx, r, b.Exchange, b.ID)
	case *entry.ExchangeConfirmation:
		if r.Kind != entry.KindExchangeConfirmation {
			break
		}
		return ins.insertExchange(ctx, r, b.Exchange, b.ID)
	case *entry.PatrolPlan:
		if r.Kind != entry.KindPatrolPlan {
			break
		}
		return ins.insertPatrol(ctx, r, b.ID, b.ID, column.Time(b.From), column.Time(b.To))
	case *entry.PatrolReport:
		if r.Kind != entry.KindPatrolReport {
			break
		}
		return ins.insertPatrol(ctx, r, b.ID, b.Plan, column.Time(b.Start), column.Time(b.End))
	case *entry.Determination:
		if r.Kind != entry.KindDetermination {
			break
		}
		return ins.insertDetermination(ctx, r.Index, b)
	case *entry.Obligation:
		if r.Kind != entry.KindObligation {
			break
		}
		return ins.insertObligation(ctx, r.Index, b)
	case *entry.Response:
		if r.Kind != entry.KindResponse {
			break
		}
		if len(r.Signers) == 0 {
			return errors.New("response without a signer")
		}
		return ins.insertResponse(ctx, r.Index, r.Signers[0], b)
	default:
		switch r.Kind {
		case entry.KindKey, entry.KindRevocation, entry.KindObservation, entry.KindIncident, entry.KindVerification,
			entry.KindAgreement, entry.KindAmendment, entry.KindDetermination, entry.KindObligation, entry.KindResponse,
			entry.KindSanction, entry.KindCoverage, entry.KindExchangeList, entry.KindExchangeManifest, entry.KindExchangeConfirmation,
			entry.KindPatrolPlan, entry.KindPatrolReport:
		default:
			return nil // kept in entries only
		}
	}
	return fmt.Errorf("accepted %s entry carries a %T body", r.Kind, r.Body)
}

// IndexByLeafHash returns the index of the entry with the given leaf hash,
// if one has been applied.
func (s *Store) IndexByLeafHash(ctx context.Context, leafHash []byte) (uint64, bool, error) {
	var idx int64
	err := s.byLeaf.QueryRowContext(ctx, leafHash).Scan(&idx)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("sqlite: look up leaf hash: %w", err)
	}
	return uint64(idx), true, nil
}

// ObservationByID returns the index and leaf hash of the observation with
// client id id whose first signature is signer's (name+hash), if one has
// been applied.
func (s *Store) ObservationByID(ctx context.Context, signer, id string) (uint64, []byte, bool, error) {
	var idx int64
	var leaf []byte
	err := s.byObsID.QueryRowContext(ctx, signer, id).Scan(&idx, &leaf)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, false, nil
	}
	if err != nil {
		return 0, nil, false, fmt.Errorf("sqlite: look up observation %q: %w", id, err)
	}
	return uint64(idx), leaf, true, nil
}

// Entry returns the applied entry at index, or ok=false. For an accepted
// entry, Body is decoded again from the raw note (entry.Parse and
// DecodeValidated: it was validated when it was applied), so the record
// is the one Apply was given; a rejected entry has no Body.
func (s *Store) Entry(ctx context.Context, index uint64) (node.Record, bool, error) {
	rec, err := scanRecord(s.r.QueryRowContext(ctx, "SELECT idx, leaf_hash, kind, signers, raw, rejected FROM entries WHERE idx = ?", int64(index)))
	if errors.Is(err, sql.ErrNoRows) {
		return rec, false, nil
	}
	if err != nil {
		return node.Record{}, false, fmt.Errorf("sqlite: read entry %d: %w", index, err)
	}
	return rec, true, nil
}

// scanRecord reads one row of (idx, leaf_hash, kind, signers, raw,
// rejected) and, for an accepted entry, decodes its body again.
func scanRecord(row interface{ Scan(...any) error }) (node.Record, error) {
	var rec node.Record
	var kind, signers string
	if err := row.Scan(&rec.Index, &rec.LeafHash, &kind, &signers, &rec.Raw, &rec.Rejected); err != nil {
		return rec, err
	}
	rec.Kind = entry.Kind(kind)
	if err := json.Unmarshal([]byte(signers), &rec.Signers); err != nil {
		return node.Record{}, fmt.Errorf("entry %d signers: %w", rec.Index, err)
	}
	if rec.Rejected == "" {
		e, err := entry.Parse(rec.Raw)
		if err == nil {
			rec.Body, err = e.DecodeValidated() // validated when it was applied
		}
		if err != nil {
			return node.Record{}, fmt.Errorf("entry %d no longer decodes: %w", rec.Index, err)
		}
	}
	return rec, nil
}

// Identities calls fn with the leaf hash of every applied entry and, for
// accepted observations, its signer NUL id key ("" otherwise), in no
// particular order, from one consistent snapshot.
func (s *Store) Identities(ctx context.Context, fn func(leafHash []byte, obsKey string)) error {
	rows, err := s.r.QueryContext(ctx, `SELECT e.leaf_hash, coalesce(o.signer || char(0) || o.obs_id, '')
		FROM entries e LEFT JOIN observations o ON o.idx = e.idx`)
	if err != nil {
		return fmt.Errorf("sqlite: read identities: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var leaf []byte
		var key string
		if err := rows.Scan(&leaf, &key); err != nil {
			return fmt.Errorf("sqlite: read identities: %w", err)
		}
		fn(leaf, key)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: read identities: %w", err)
	}
	return nil
}

// Observations calls fn with every applied observation f selects, in log
// order, streaming from one snapshot; it stops at fn's first error and
// returns it unwrapped. Times compare in UTC; a BBox is inclusive and does
// not wrap around the antimeridian.
func (s *Store) Observations(ctx context.Context, f node.ObservationFilter, fn func(node.ObservationRow) error) error {
	q := newFilter(`SELECT idx, signer, obs_id, observed_at, lon, lat, category, accuracy_m, count, bearing_deg,
		weapon, source_type, evidence, text, external_id, source FROM observations WHERE 1=1`)
	q.timeRange("observed_at", "observed_at", f.From, f.To)
	q.bbox("lon", "lat", f.BBox)
	q.eq("category", f.Category)
	q.eq("source_type", f.SourceType)
	q.order("idx", f.Limit)
	rows, err := s.r.QueryContext(ctx, q.sql, q.args...)
	if err != nil {
		return fmt.Errorf("sqlite: query observations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r node.ObservationRow
		o := &r.Observation
		var at, evidence string
		var acc, bearing sql.NullFloat64
		var count sql.NullInt64
		if err := rows.Scan(&r.Index, &r.Signer, &o.ID, &at, &o.Location.Coordinates[0], &o.Location.Coordinates[1], &o.Category,
			&acc, &count, &bearing, &o.Weapon, &o.SourceType, &evidence, &o.Text, &o.ExternalID, &o.Source); err != nil {
			return fmt.Errorf("sqlite: read observation: %w", err)
		}
		o.Location.Type = "Point"
		if o.ObservedAt, err = time.Parse(column.TimeLayout, at); err != nil {
			return fmt.Errorf("sqlite: observation %d time: %w", r.Index, err)
		}
		if acc.Valid {
			o.AccuracyM = &acc.Float64
		}
		if bearing.Valid {
			o.BearingDeg = &bearing.Float64
		}
		if count.Valid {
			c := int(count.Int64)
			o.Count = &c
		}
		if err := json.Unmarshal([]byte(evidence), &o.Evidence); err != nil {
			return fmt.Errorf("sqlite: observation %d evidence: %w", r.Index, err)
		}
		if len(o.Evidence) == 0 {
			o.Evidence = nil
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: read observations: %w", err)
	}
	return nil
}

// Keys returns every registered key, with its revocation if any, in log
// order; times are in UTC.
func (s *Store) Keys(ctx context.Context) ([]registry.Key, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT k.id, k.vkey, k.role, k.label, k.not_before, k.not_after, k.zones, k.idx,
		r.idx, r.reason, r.effective FROM keys k LEFT JOIN revocations r ON r.key_id = k.id ORDER BY k.idx`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read keys: %w", err)
	}
	defer rows.Close()
	var keys []registry.Key
	for rows.Next() {
		var k registry.Key
		var role, nb, na, zones string
		var idx int64
		var rIdx sql.NullInt64
		var reason, eff sql.NullString
		if err := rows.Scan(&k.ID, &k.VKey, &role, &k.Label, &nb, &na, &zones, &idx, &rIdx, &reason, &eff); err != nil {
			return nil, fmt.Errorf("sqlite: read keys: %w", err)
		}
		k.Role, k.Index = guarantor.Role(role), uint64(idx)
		if k.NotBefore, err = time.Parse(column.TimeLayout, nb); err == nil {
			k.NotAfter, err = time.Parse(column.TimeLayout, na)
		}
		if err == nil {
			err = json.Unmarshal([]byte(zones), &k.Zones)
		}
		if err == nil && rIdx.Valid {
			rv := registry.Revocation{Index: uint64(rIdx.Int64), Reason: reason.String}
			rv.Effective, err = time.Parse(column.TimeLayout, eff.String)
			k.Revoked = &rv
		}
		if err != nil {
			return nil, fmt.Errorf("sqlite: key %s: %w", k.ID, err)
		}
		if len(k.Zones) == 0 {
			k.Zones = nil
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read keys: %w", err)
	}
	return keys, nil
}
