package exchange

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/exchange/commit"
)

// manifestID is the id of batch n from side from.
func manifestID(exchange, from string, n int) string {
	return fmt.Sprintf("%s:%s:batch:%d", exchange, from, n)
}

// record reads and opens one record.
func (s *Service) record(ctx context.Context, q querier, listID, recordID string) (Person, error) {
	var sealed []byte
	if err := q.QueryRowContext(ctx, "SELECT sealed FROM records WHERE list = ? AND id = ?", listID, recordID).Scan(&sealed); err != nil {
		return Person{}, fmt.Errorf("exchange: read record %s of list %s: %w", recordID, listID, err)
	}
	plain, err := unseal(s.keyRing(), sealed, recordAAD(listID, recordID))
	if err != nil {
		return Person{}, fmt.Errorf("exchange: open record %s of list %s: %w", recordID, listID, err)
	}
	defer clear(plain)
	var p Person
	if err := json.Unmarshal(plain, &p); err != nil {
		return Person{}, fmt.Errorf("exchange: record %s of list %s is not a stored person", recordID, listID)
	}
	return p, nil
}

// DraftManifest drafts batch number batch, in which from hands over to
// the other side of its reconciliation the matched persons it holds that
// are in no batch yet: all of them if limit is 0, else at most limit, in
// person-id order. Persons whose held record is deceased are not drafted.
// The persons are reserved for the batch, for good; the result holds the
// entry.ExchangeManifest parts for both parties and the verifier to
// co-sign.
//
// Batches are numbered per exchange and releasing side; a number already
// used fails with guarantor.EConflict (field /batch). With nobody left to
// draft it fails with guarantor.ENotFound.
func (s *Service) DraftManifest(ctx context.Context, exchange, from string, batch, limit int, at time.Time) (Manifest, error) {
	switch {
	case checkExchange("/exchange", exchange) != nil:
		return Manifest{}, checkExchange("/exchange", exchange)
	case checkSide("/from", from) != nil:
		return Manifest{}, checkSide("/from", from)
	case batch < 1:
		return Manifest{}, guarantor.Errorf(guarantor.EInvalid, "/batch", "batches are numbered from 1")
	case limit < 0:
		return Manifest{}, guarantor.Errorf(guarantor.EInvalid, "/limit", "must be 0 (everyone waiting) or a positive number")
	case at.IsZero():
		return Manifest{}, guarantor.Errorf(guarantor.EInvalid, "/at", "the batch's time is required")
	}
	id := manifestID(exchange, from, batch)
	if len(id) > maxID {
		return Manifest{}, guarantor.Errorf(guarantor.EInvalid, "/from", "the exchange name and side are too long for a manifest id of at most %d bytes", maxID)
	}
	m := Manifest{ID: id, Exchange: exchange, Batch: batch, From: from, At: at}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM batches WHERE exchange = ? AND from_side = ? AND batch = ?", exchange, from, batch).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return guarantor.Errorf(guarantor.EConflict, "/batch", "batch %d of %s is already drafted", batch, from)
		}
		err := tx.QueryRowContext(ctx, "SELECT claimant FROM reconciliations WHERE exchange = ? AND holder = ?", exchange, from).Scan(&m.To)
		if errors.Is(err, sql.ErrNoRows) {
			return guarantor.Errorf(guarantor.ENotFound, "/from", "the held list of %s is not reconciled in exchange %s", from, exchange)
		}
		if err != nil {
			return err
		}
		type waiting struct{ id, list, record, commitment string }
		rows, err := tx.QueryContext(ctx, "SELECT id, held_list, held_record, commitment FROM persons WHERE exchange = ? AND holder = ? AND batch IS NULL ORDER BY id", exchange, from)
		if err != nil {
			return err
		}
		var all []waiting
		for rows.Next() {
			var w waiting
			if err := rows.Scan(&w.id, &w.list, &w.record, &w.commitment); err != nil {
				rows.Close()
				return err
			}
			all = append(all, w)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		var cs []string
		for _, w := range all {
			if limit > 0 && len(m.Persons) == limit {
				break
			}
			p, err := s.record(ctx, tx, w.list, w.record)
			if err != nil {
				return err
			}
			if p.Status == StatusDeceased {
				continue
			}
			m.Persons = append(m.Persons, w.id)
			cs = append(cs, w.commitment)
		}
		if len(m.Persons) == 0 {
			return guarantor.Errorf(guarantor.ENotFound, "/from", "no matched person held by %s is waiting for a batch", from)
		}
		slices.Sort(cs)
		root, err := rootOf(cs)
		if err != nil {
			return err
		}
		m.Count, m.Root = len(cs), root
		m.Bodies = manifestBodies(m, cs)
		if _, err := tx.ExecContext(ctx, "INSERT INTO batches (exchange, from_side, batch, to_side, id, count, root, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			exchange, from, batch, m.To, id, m.Count, root, fmtTime(at)); err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, "UPDATE persons SET batch = ? WHERE id = ? AND batch IS NULL")
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, pid := range m.Persons {
			if _, err := stmt.ExecContext(ctx, batch, pid); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Manifest{}, wrap(err, "draft batch %d of %s", batch, from)
	}
	return m, nil
}

// manifestBodies splits a batch's sorted commitments into log bodies.
func manifestBodies(m Manifest, cs []string) []entry.ExchangeManifest {
	ps := split(cs)
	out := make([]entry.ExchangeManifest, len(ps))
	for i, part := range ps {
		out[i] = entry.ExchangeManifest{
			ID: m.ID, Exchange: m.Exchange, Batch: m.Batch, From: m.From, To: m.To, At: m.At,
			Count: m.Count, Part: i + 1, Parts: len(ps), Root: m.Root, Commitments: part,
		}
	}
	return out
}

// Manifest returns drafted batch number batch of from, as DraftManifest
// returned it; guarantor.ENotFound if there is none.
func (s *Service) Manifest(ctx context.Context, exchange, from string, batch int) (Manifest, error) {
	return s.manifest(ctx, "SELECT exchange, from_side, batch, to_side, id, count, root, at FROM batches WHERE exchange = ? AND from_side = ? AND batch = ?", exchange, from, batch)
}

func (s *Service) manifest(ctx context.Context, query string, args ...any) (Manifest, error) {
	var m Manifest
	var at string
	err := s.db.QueryRowContext(ctx, query, args...).Scan(&m.Exchange, &m.From, &m.Batch, &m.To, &m.ID, &m.Count, &m.Root, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return m, guarantor.Errorf(guarantor.ENotFound, "/batch", "no such drafted batch")
	}
	if err != nil {
		return m, fmt.Errorf("exchange: read batch: %w", err)
	}
	if m.At, err = parseTime(at); err != nil {
		return m, fmt.Errorf("exchange: read batch %s: %w", m.ID, err)
	}
	rows, err := s.db.QueryContext(ctx, "SELECT id, commitment FROM persons WHERE exchange = ? AND holder = ? AND batch = ? ORDER BY id", m.Exchange, m.From, m.Batch)
	if err != nil {
		return m, fmt.Errorf("exchange: read batch %s: %w", m.ID, err)
	}
	defer rows.Close()
	var cs []string
	for rows.Next() {
		var id, c string
		if err := rows.Scan(&id, &c); err != nil {
			return m, fmt.Errorf("exchange: read batch %s: %w", m.ID, err)
		}
		m.Persons = append(m.Persons, id)
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return m, fmt.Errorf("exchange: read batch %s: %w", m.ID, err)
	}
	slices.Sort(cs)
	m.Bodies = manifestBodies(m, cs)
	return m, nil
}

// CheckManifest reports whether b is exactly a part of a batch that
// [Service.DraftManifest] drafted: nil if so, else a guarantor.EInvalid
// error naming the first field that differs. The log's intake calls it
// before accepting an exchange-manifest entry.
func (s *Service) CheckManifest(ctx context.Context, b *entry.ExchangeManifest) error {
	m, err := s.manifest(ctx, "SELECT exchange, from_side, batch, to_side, id, count, root, at FROM batches WHERE id = ?", b.ID)
	if guarantor.ErrorCode(err) == guarantor.ENotFound {
		return guarantor.Errorf(guarantor.EInvalid, "/id", "the verifier drafted no batch %q", b.ID)
	}
	if err != nil {
		return err
	}
	differ := func(field, format string, args ...any) error {
		return guarantor.Errorf(guarantor.EInvalid, field, "differs from the drafted batch: "+format, args...)
	}
	switch {
	case b.Exchange != m.Exchange:
		return differ("/exchange", "exchange %q", m.Exchange)
	case b.Batch != m.Batch:
		return differ("/batch", "batch %d", m.Batch)
	case b.From != m.From:
		return differ("/from", "from %q", m.From)
	case b.To != m.To:
		return differ("/to", "to %q", m.To)
	case !b.At.Equal(m.At):
		return differ("/at", "drafted at %s", m.At.Format(time.RFC3339Nano))
	case b.Count != m.Count:
		return differ("/count", "%d people", m.Count)
	case b.Root != m.Root:
		return differ("/root", "root %s", m.Root)
	}
	parts := make([][]string, len(m.Bodies))
	for i, body := range m.Bodies {
		parts[i] = body.Commitments
	}
	return checkPart(parts, b.Part, b.Parts, b.Commitments)
}

// Persons returns the reconciled persons of an exchange by id: ids,
// sides, commitments and batches, no identity data.
func (s *Service) Persons(ctx context.Context, exchange string) ([]PersonInfo, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id, holder, claimant, commitment, COALESCE(batch, 0) FROM persons WHERE exchange = ? ORDER BY id", exchange)
	if err != nil {
		return nil, fmt.Errorf("exchange: read persons of %s: %w", exchange, err)
	}
	defer rows.Close()
	out := []PersonInfo{}
	for rows.Next() {
		var p PersonInfo
		if err := rows.Scan(&p.ID, &p.From, &p.To, &p.Commitment, &p.Batch); err != nil {
			return nil, fmt.Errorf("exchange: read persons of %s: %w", exchange, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("exchange: read persons of %s: %w", exchange, err)
	}
	return out, nil
}

// Opening returns the family opening of person personID in the batch it
// is drafted in, published as manifestRef (for example the log entry of
// the batch's manifest). The family checks it with commit.Check against
// the batch's root and count read from the log, typing its relative's
// family name, given name and patronymic as the claimed list wrote them
// (in any script or standard that names.Key merges, normalised by
// names.Key) and the date of birth. The opening holds the person key:
// it is for that family only.
//
// It fails with guarantor.ENotFound for an unknown person and
// guarantor.EConflict for a person in no batch.
func (s *Service) Opening(ctx context.Context, personID, manifestRef string) (commit.Opening, error) {
	if strings.TrimSpace(manifestRef) == "" {
		return commit.Opening{}, guarantor.Errorf(guarantor.EInvalid, "manifest", "the reference of the published manifest is required")
	}
	var exchange, holder, heldList, heldRecord, claimedList, claimedRecord, stored string
	var batch sql.NullInt64
	err := s.db.QueryRowContext(ctx, "SELECT exchange, holder, held_list, held_record, claimed_list, claimed_record, commitment, batch FROM persons WHERE id = ?", personID).
		Scan(&exchange, &holder, &heldList, &heldRecord, &claimedList, &claimedRecord, &stored, &batch)
	if errors.Is(err, sql.ErrNoRows) {
		return commit.Opening{}, guarantor.Errorf(guarantor.ENotFound, "person", "no person %q", personID)
	}
	if err != nil {
		return commit.Opening{}, fmt.Errorf("exchange: read person %s: %w", personID, err)
	}
	if !batch.Valid {
		return commit.Opening{}, guarantor.Errorf(guarantor.EConflict, "person", "person %s is in no batch yet", personID)
	}
	held, err := s.record(ctx, s.db, heldList, heldRecord)
	if err != nil {
		return commit.Opening{}, err
	}
	claimed, err := s.record(ctx, s.db, claimedList, claimedRecord)
	if err != nil {
		return commit.Opening{}, err
	}
	id := personIdentity(personID, &held, &claimed)
	if c, err := s.com.Commit(id); err != nil || c.String() != stored {
		return commit.Opening{}, fmt.Errorf("exchange: person %s no longer gives its stored commitment (was the commitment key changed?)", personID)
	}
	m, err := s.Manifest(ctx, exchange, holder, int(batch.Int64))
	if err != nil {
		return commit.Opening{}, err
	}
	cs := make([]commit.Commitment, 0, m.Count)
	for _, b := range m.Bodies {
		for _, h := range b.Commitments {
			c, err := commit.ParseCommitment(h)
			if err != nil {
				return commit.Opening{}, fmt.Errorf("exchange: batch %s: %w", m.ID, err)
			}
			cs = append(cs, c)
		}
	}
	tree, err := commit.NewManifest(cs)
	if err != nil {
		return commit.Opening{}, fmt.Errorf("exchange: batch %s: %w", m.ID, err)
	}
	o, err := s.com.Open(id, tree, manifestRef)
	if err != nil {
		return commit.Opening{}, fmt.Errorf("exchange: open person %s in batch %s: %w", personID, m.ID, err)
	}
	return o, nil
}
