package exchange

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
)

// PartyView returns what side may see of an exchange: its latest held and
// latest claimed list (those it has submitted), each record with its
// reconciliation state and batch. A held record is matched, ambiguous,
// unclaimed or pending; a claimed record matched, ambiguous, missing or
// pending (pending: its list is not the one last reconciled). Nothing of
// the other side's records is included: no field, no id, no score.
func (s *Service) PartyView(ctx context.Context, exchange, side string) (PartyView, error) {
	if err := checkExchange("exchange", exchange); err != nil {
		return PartyView{}, err
	}
	if err := checkSide("side", side); err != nil {
		return PartyView{}, err
	}
	v := PartyView{Exchange: exchange, Side: side, Lists: []PartyList{}}
	batches, err := s.batchOfPersons(ctx, exchange)
	if err != nil {
		return PartyView{}, err
	}
	for _, kind := range []string{entry.ListHeld, entry.ListClaimed} {
		id, err := latest(ctx, s.db, exchange, side, kind)
		if err != nil {
			return PartyView{}, err
		}
		if id == "" {
			continue
		}
		info, err := listRow(ctx, s.db, id)
		if err != nil {
			return PartyView{}, err
		}
		recs, err := s.records(ctx, s.db, id)
		if err != nil {
			return PartyView{}, err
		}
		// state and person of each record id, from the reconciliation
		// that used this list, if any.
		state := make(map[string]string)
		person := make(map[string]string)
		var r Reconciliation
		found := false
		if kind == entry.ListHeld {
			r, err = s.Reconciliation(ctx, exchange, side)
			found = err == nil && r.HeldList == id
		} else {
			r, found, err = s.reconciliationOfClaimed(ctx, exchange, id)
		}
		if err != nil && guarantor.ErrorCode(err) != guarantor.ENotFound {
			return PartyView{}, err
		}
		if found {
			mine := func(m Match) string {
				if kind == entry.ListHeld {
					return m.Held
				}
				return m.Claimed
			}
			for _, m := range r.Matched {
				state[mine(m)] = StateMatched
				person[mine(m)] = m.Person
			}
			for _, q := range r.Ambiguous {
				if q.List == kind {
					state[q.Record] = StateAmbiguous
				}
			}
			for _, id := range r.HeldOnly {
				state[id] = StateUnclaimed
			}
			for _, id := range r.ClaimedOnly {
				state[id] = StateMissing
			}
		}
		pl := PartyList{ListInfo: info, States: make(map[string]int), Records: make([]PartyRecord, 0, len(recs))}
		for _, rec := range recs {
			st := state[rec.ID]
			if st == "" {
				st = StatePending
			}
			pl.States[st]++
			pl.Records = append(pl.Records, PartyRecord{Record: rec, State: st, Batch: batches[person[rec.ID]]})
		}
		v.Lists = append(v.Lists, pl)
	}
	return v, nil
}

// reconciliationOfClaimed returns the reconciliation that used the
// claimed list listID, if any.
func (s *Service) reconciliationOfClaimed(ctx context.Context, exchange, listID string) (Reconciliation, bool, error) {
	var holder string
	err := s.db.QueryRowContext(ctx, "SELECT holder FROM reconciliations WHERE exchange = ? AND claimed_list = ? ORDER BY holder LIMIT 1", exchange, listID).Scan(&holder)
	if errors.Is(err, sql.ErrNoRows) {
		return Reconciliation{}, false, nil
	}
	if err != nil {
		return Reconciliation{}, false, fmt.Errorf("exchange: find reconciliation of %s: %w", listID, err)
	}
	r, err := s.Reconciliation(ctx, exchange, holder)
	return r, err == nil, err
}

// batchOfPersons maps the drafted persons of an exchange to their batch.
func (s *Service) batchOfPersons(ctx context.Context, exchange string) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id, batch FROM persons WHERE exchange = ? AND batch IS NOT NULL", exchange)
	if err != nil {
		return nil, fmt.Errorf("exchange: read persons of %s: %w", exchange, err)
	}
	defer rows.Close()
	m := make(map[string]int)
	for rows.Next() {
		var id string
		var b int
		if err := rows.Scan(&id, &b); err != nil {
			return nil, fmt.Errorf("exchange: read persons of %s: %w", exchange, err)
		}
		m[id] = b
	}
	return m, rows.Err()
}
