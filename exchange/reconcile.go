package exchange

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/exchange/commit"
	"github.com/guarantor/guarantor/exchange/names"
	"github.com/guarantor/guarantor/exchange/reconcile"
)

// pairing is what Reconcile and Decide work on: the two lists, their
// records' commitments, and the batched persons that must not move.
type pairing struct {
	exchange, holder, claimant string
	heldList, claimedList      string
	held, claimed              map[string]string // record id → commitment
	batched                    map[string]int    // person id → batch
}

// claimantOf returns the side whose claimed lists face holder's held list.
func claimantOf(ctx context.Context, q querier, exchange, holder string) (string, error) {
	rows, err := q.QueryContext(ctx, "SELECT DISTINCT side FROM lists WHERE exchange = ? AND kind = 'claimed' AND side <> ? ORDER BY side", exchange, holder)
	if err != nil {
		return "", fmt.Errorf("exchange: find claimant: %w", err)
	}
	defer rows.Close()
	var sides []string
	for rows.Next() {
		var side string
		if err := rows.Scan(&side); err != nil {
			return "", fmt.Errorf("exchange: find claimant: %w", err)
		}
		sides = append(sides, side)
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("exchange: find claimant: %w", err)
	}
	switch len(sides) {
	case 0:
		return "", guarantor.Errorf(guarantor.ENotFound, "holder", "no side but %s has submitted a claimed list in exchange %s", holder, exchange)
	case 1:
		return sides[0], nil
	}
	return "", guarantor.Errorf(guarantor.EConflict, "holder", "several sides (%v) have submitted claimed lists in exchange %s; reconciliation needs exactly one", sides, exchange)
}

// loadPairing reads the clear state of a pair of lists.
func loadPairing(ctx context.Context, q querier, p *pairing) error {
	var err error
	if p.held, err = commitmentMap(ctx, q, p.heldList); err != nil {
		return err
	}
	if p.claimed, err = commitmentMap(ctx, q, p.claimedList); err != nil {
		return err
	}
	rows, err := q.QueryContext(ctx, "SELECT id, batch FROM persons WHERE exchange = ? AND holder = ? AND batch IS NOT NULL", p.exchange, p.holder)
	if err != nil {
		return fmt.Errorf("exchange: read batched persons: %w", err)
	}
	defer rows.Close()
	p.batched = make(map[string]int)
	for rows.Next() {
		var id string
		var b int
		if err := rows.Scan(&id, &b); err != nil {
			return fmt.Errorf("exchange: read batched persons: %w", err)
		}
		p.batched[id] = b
	}
	return rows.Err()
}

func commitmentMap(ctx context.Context, q querier, listID string) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, "SELECT id, commitment FROM records WHERE list = ?", listID)
	if err != nil {
		return nil, fmt.Errorf("exchange: read records of %s: %w", listID, err)
	}
	defer rows.Close()
	m := make(map[string]string)
	for rows.Next() {
		var id, c string
		if err := rows.Scan(&id, &c); err != nil {
			return nil, fmt.Errorf("exchange: read records of %s: %w", listID, err)
		}
		m[id] = c
	}
	return m, rows.Err()
}

// storedDecision is a decision as stored, with the records' commitments
// when it was made.
type storedDecision struct {
	Decision
	heldCommitment, claimedCommitment string
}

// decisions reads the decisions of a pair of sides, in order, notes
// opened.
func (s *Service) decisions(ctx context.Context, q querier, exchange, holder string) ([]storedDecision, error) {
	rows, err := q.QueryContext(ctx, `SELECT seq, verdict, held, claimed, held_commitment, claimed_commitment, note
		FROM decisions WHERE exchange = ? AND holder = ? ORDER BY seq`, exchange, holder)
	if err != nil {
		return nil, fmt.Errorf("exchange: read decisions: %w", err)
	}
	defer rows.Close()
	ring := s.keyRing()
	var out []storedDecision
	for rows.Next() {
		var d storedDecision
		var seq int
		var note []byte
		if err := rows.Scan(&seq, &d.Verdict, &d.Held, &d.Claimed, &d.heldCommitment, &d.claimedCommitment, &note); err != nil {
			return nil, fmt.Errorf("exchange: read decisions: %w", err)
		}
		if note != nil {
			plain, err := unseal(ring, note, noteAAD(exchange, holder, seq))
			if err != nil {
				return nil, fmt.Errorf("exchange: open note of decision %d: %w", seq, err)
			}
			d.Note = string(plain)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Reconcile reconciles the latest held list of holder with the latest
// claimed list of the other side (the one side of the exchange, other
// than holder, that has submitted a claimed list), re-applies the
// verifier's earlier decisions, stores the result in place of any earlier
// one for the pair, and makes each matched pair a person (see
// [Match.Person]) with a person-level commitment: record id the person id,
// names the claimed record's normalised by names.Key, date of birth the
// claimed record's or, if empty, the held record's. Persons already in a
// batch keep the identity they were drafted with.
//
// A decision no longer applies (it counts as stale) once a record it names
// is not on the lists reconciled, or has changed its names or date of
// birth since.
func (s *Service) Reconcile(ctx context.Context, exchange, holder string) (Reconciliation, error) {
	if err := checkExchange("exchange", exchange); err != nil {
		return Reconciliation{}, err
	}
	if err := checkSide("holder", holder); err != nil {
		return Reconciliation{}, err
	}
	p := &pairing{exchange: exchange, holder: holder}
	var err error
	if p.claimant, err = claimantOf(ctx, s.db, exchange, holder); err != nil {
		return Reconciliation{}, err
	}
	if p.heldList, err = latest(ctx, s.db, exchange, holder, entry.ListHeld); err != nil {
		return Reconciliation{}, err
	}
	if p.heldList == "" {
		return Reconciliation{}, guarantor.Errorf(guarantor.ENotFound, "holder", "%s has submitted no held list in exchange %s", holder, exchange)
	}
	if p.claimedList, err = latest(ctx, s.db, exchange, p.claimant, entry.ListClaimed); err != nil {
		return Reconciliation{}, err
	}
	held, err := s.records(ctx, s.db, p.heldList)
	if err != nil {
		return Reconciliation{}, err
	}
	claimed, err := s.records(ctx, s.db, p.claimedList)
	if err != nil {
		return Reconciliation{}, err
	}
	engine := reconcile.Reconcile(enginePeople(held), enginePeople(claimed), s.opts)

	var out Reconciliation
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if err := loadPairing(ctx, tx, p); err != nil {
			return err
		}
		ds, err := s.decisions(ctx, tx, exchange, holder)
		if err != nil {
			return err
		}
		final, stale := replay(engine, ds, p)
		out, err = s.store(ctx, tx, p, engine, final, len(ds), stale, byID(held), byID(claimed))
		return err
	})
	if err != nil {
		return Reconciliation{}, wrap(err, "reconcile %s against %s", p.heldList, p.claimedList)
	}
	return out, nil
}

// wrap adds context to an error that is not a guarantor.Error.
func wrap(err error, format string, args ...any) error {
	var gerr *guarantor.Error
	if errors.As(err, &gerr) {
		return err
	}
	return fmt.Errorf("exchange: "+format+": %w", append(args, err)...)
}

func byID(rs []Record) map[string]*Person {
	m := make(map[string]*Person, len(rs))
	for i := range rs {
		m[rs[i].ID] = &rs[i].Person
	}
	return m
}

// enginePeople converts records for the reconciliation engine.
func enginePeople(rs []Record) []reconcile.Person {
	out := make([]reconcile.Person, len(rs))
	for i, r := range rs {
		born, _ := reconcile.ParseDate(r.Person.Born) // validated on upload
		captured, _ := reconcile.ParseDate(r.Person.Captured)
		out[i] = reconcile.Person{
			ID:           r.ID,
			Family:       r.Person.Family,
			Given:        r.Person.Given,
			Patronymic:   r.Person.Patronymic,
			Born:         born,
			BirthPlace:   r.Person.BirthPlace,
			Unit:         r.Person.Unit,
			Civilian:     r.Person.Civilian,
			Captured:     captured,
			CapturePlace: r.Person.CapturePlace,
		}
	}
	return out
}

// replay applies the stored decisions to the engine's result, skipping
// the stale ones, and returns the result and the number skipped.
func replay(engine reconcile.Result, ds []storedDecision, p *pairing) (reconcile.Result, int) {
	r, stale := engine, 0
	for _, d := range ds {
		if d.Held != "" && p.held[d.Held] != d.heldCommitment || d.Claimed != "" && p.claimed[d.Claimed] != d.claimedCommitment {
			stale++
			continue
		}
		next, err := apply(r, d.Decision, p, -1)
		if err != nil {
			stale++ // cannot happen for a fresh decision; counted, not fatal
			continue
		}
		r = next
	}
	return r, stale
}

// apply applies one decision to r. For a new decision (index i ≥ 0) it
// refuses a match of a record already matched to another, and the undoing
// of a match whose person is in a batch; replaying (i < 0) a decision made
// earlier, it lets the decision override the engine.
func apply(r reconcile.Result, d Decision, p *pairing, i int) (reconcile.Result, error) {
	strict := i >= 0
	ptr := func(field string) string { return "/decisions/" + strconv.Itoa(i) + "/" + field }
	pairOf := func(side reconcile.Side, id string) int {
		return slices.IndexFunc(r.Matched, func(m reconcile.Pair) bool {
			return side == reconcile.Held && m.Held == id || side == reconcile.Claimed && m.Claimed == id
		})
	}
	inBatch := func(j int) (int, bool) {
		b, ok := p.batched[personID(r.Matched[j].Held)]
		return b, ok
	}
	// unmatch moves pair j back to HeldOnly and ClaimedOnly.
	unmatch := func(j int) {
		m := r.Matched[j]
		r.Matched = slices.Delete(slices.Clone(r.Matched), j, j+1)
		r.HeldOnly = append(slices.Clone(r.HeldOnly), m.Held)
		r.ClaimedOnly = append(slices.Clone(r.ClaimedOnly), m.Claimed)
	}
	hj, cj := -1, -1
	if d.Held != "" {
		hj = pairOf(reconcile.Held, d.Held)
	}
	if d.Claimed != "" {
		cj = pairOf(reconcile.Claimed, d.Claimed)
	}
	var rd reconcile.Decision
	switch {
	case d.Verdict == VerdictMatch && hj >= 0 && hj == cj:
		// The engine's pair, confirmed by the verifier.
		r.Matched = slices.Clone(r.Matched)
		m := &r.Matched[hj]
		m.Decided = true
		m.Reasons = append(slices.Clone(m.Reasons), "decided: same person: "+d.Note)
		return r, nil
	case d.Verdict == VerdictMatch:
		for _, x := range []struct {
			j     int
			field string
			other func(reconcile.Pair) string
		}{
			{hj, "held", func(m reconcile.Pair) string { return "claimed record " + m.Claimed }},
			{cj, "claimed", func(m reconcile.Pair) string { return "held record " + m.Held }},
		} {
			if x.j < 0 {
				continue
			}
			if strict {
				return r, guarantor.Errorf(guarantor.EConflict, ptr(x.field), "the record is already matched to %s; decide no_match for it first", x.other(r.Matched[x.j]))
			}
		}
		// Replaying: the verifier's ruling overrides the engine.
		if hj >= 0 {
			unmatch(hj)
		}
		if cj = pairOf(reconcile.Claimed, d.Claimed); cj >= 0 {
			unmatch(cj)
		}
		rd = reconcile.Decision{Held: d.Held, Claimed: d.Claimed, Same: true, Note: d.Note}
	default: // no_match
		for _, x := range []struct {
			j     int
			field string
		}{{hj, "held"}, {cj, "claimed"}} {
			if x.j < 0 {
				continue
			}
			if b, ok := inBatch(x.j); ok && strict {
				return r, guarantor.Errorf(guarantor.EConflict, ptr(x.field), "the record's person is drafted in batch %d; a drafted batch is not undone", b)
			}
		}
		if d.Held != "" && d.Claimed != "" {
			switch {
			case hj >= 0 && hj == cj:
				unmatch(hj) // they are not one person after all
				return r, nil
			case hj >= 0 || cj >= 0:
				return r, nil // matched to others: nothing to rule apart
			}
			rd = reconcile.Decision{Held: d.Held, Claimed: d.Claimed, Note: d.Note}
			break
		}
		if hj >= 0 {
			unmatch(hj)
		}
		if cj >= 0 {
			unmatch(cj)
		}
		rd = reconcile.Decision{Held: d.Held, Claimed: d.Claimed, Note: d.Note}
	}
	return reconcile.Decide(r, []reconcile.Decision{rd})
}

// store writes the engine's result and the final one, and rebuilds the
// persons not yet in a batch, in tx.
func (s *Service) store(ctx context.Context, tx *sql.Tx, p *pairing, engine, final reconcile.Result, decisions, stale int, held, claimed map[string]*Person) (Reconciliation, error) {
	out := view(p, final)
	out.Counts.Decisions, out.Counts.Stale = decisions, stale
	ring := s.keyRing()
	engineJSON, err := json.Marshal(engine)
	if err != nil {
		return out, err
	}
	finalJSON, err := json.Marshal(out)
	if err != nil {
		return out, err
	}
	sealedEngine, err := seal(ring, engineJSON, reconciliationAAD(p.exchange, p.holder, "engine"))
	clear(engineJSON)
	if err != nil {
		return out, err
	}
	sealedFinal, err := seal(ring, finalJSON, reconciliationAAD(p.exchange, p.holder, "result"))
	clear(finalJSON)
	if err != nil {
		return out, err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO reconciliations (exchange, holder, claimant, held_list, claimed_list, engine, result)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (exchange, holder) DO UPDATE SET claimant = excluded.claimant,
		held_list = excluded.held_list, claimed_list = excluded.claimed_list, engine = excluded.engine, result = excluded.result`,
		p.exchange, p.holder, p.claimant, p.heldList, p.claimedList, sealedEngine, sealedFinal)
	if err != nil {
		return out, err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM persons WHERE exchange = ? AND holder = ? AND batch IS NULL", p.exchange, p.holder); err != nil {
		return out, err
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO persons (id, exchange, holder, claimant, held_list, held_record, claimed_list, claimed_record, commitment)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`)
	if err != nil {
		return out, err
	}
	defer stmt.Close()
	for _, m := range out.Matched {
		if _, ok := p.batched[m.Person]; ok {
			continue
		}
		c, err := s.com.Commit(personIdentity(m.Person, held[m.Held], claimed[m.Claimed]))
		if err != nil {
			return out, fmt.Errorf("commit to person %s: %w", m.Person, err)
		}
		if _, err := stmt.ExecContext(ctx, m.Person, p.exchange, p.holder, p.claimant, p.heldList, m.Held, p.claimedList, m.Claimed, c.String()); err != nil {
			return out, err
		}
	}
	return out, nil
}

// personIdentity is what a person-level commitment binds: the person id,
// the claimed record's names normalised by names.Key, and its date of
// birth, or the held record's when the claimed one is unknown.
func personIdentity(id string, held, claimed *Person) commit.Identity {
	born := claimed.Born
	if born == "" {
		born = held.Born
	}
	return commit.Identity{
		RecordID:   id,
		Family:     names.Key(claimed.Family),
		Given:      names.Key(claimed.Given),
		Patronymic: names.Key(claimed.Patronymic),
		Born:       born,
	}
}

// view turns an engine result into a Reconciliation.
func view(p *pairing, r reconcile.Result) Reconciliation {
	out := Reconciliation{
		Exchange: p.exchange, Holder: p.holder, Claimant: p.claimant,
		HeldList: p.heldList, ClaimedList: p.claimedList,
		Matched: []Match{}, Ambiguous: []Question{},
		HeldOnly: append([]string{}, r.HeldOnly...), ClaimedOnly: append([]string{}, r.ClaimedOnly...),
	}
	for _, m := range r.Matched {
		by := ByEngine
		if m.Decided {
			by = ByVerifier
			out.Counts.ByVerifier++
		}
		out.Matched = append(out.Matched, Match{Held: m.Held, Claimed: m.Claimed, Person: personID(m.Held), Score: m.Score, DecidedBy: by, Reasons: m.Reasons})
	}
	for _, c := range r.Ambiguous {
		q := Question{List: c.Side.String(), Record: c.ID, Candidates: []Candidate{}}
		for _, cp := range c.Counterparts {
			q.Candidates = append(q.Candidates, Candidate{Record: cp.ID, Score: cp.Score, Reasons: cp.Reasons})
		}
		out.Ambiguous = append(out.Ambiguous, q)
	}
	out.Counts.Held, out.Counts.Claimed = len(p.held), len(p.claimed)
	out.Counts.Matched = len(out.Matched)
	out.Counts.Ambiguous = len(out.Ambiguous)
	out.Counts.HeldOnly, out.Counts.ClaimedOnly = len(out.HeldOnly), len(out.ClaimedOnly)
	return out
}

// Reconciliation returns the stored reconciliation of holder's held list,
// as the last Reconcile or Decide left it; guarantor.ENotFound if there is
// none. Its lists may have been superseded since: compare HeldList and
// ClaimedList with [Service.Lists].
func (s *Service) Reconciliation(ctx context.Context, exchange, holder string) (Reconciliation, error) {
	return s.reconciliation(ctx, s.db, exchange, holder)
}

func (s *Service) reconciliation(ctx context.Context, q querier, exchange, holder string) (Reconciliation, error) {
	var sealed []byte
	err := q.QueryRowContext(ctx, "SELECT result FROM reconciliations WHERE exchange = ? AND holder = ?", exchange, holder).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return Reconciliation{}, guarantor.Errorf(guarantor.ENotFound, "holder", "no reconciliation of the held list of %s in exchange %s", holder, exchange)
	}
	if err != nil {
		return Reconciliation{}, fmt.Errorf("exchange: read reconciliation: %w", err)
	}
	plain, err := unseal(s.keyRing(), sealed, reconciliationAAD(exchange, holder, "result"))
	if err != nil {
		return Reconciliation{}, fmt.Errorf("exchange: open reconciliation of %s in %s: %w", holder, exchange, err)
	}
	defer clear(plain)
	var r Reconciliation
	if err := json.Unmarshal(plain, &r); err != nil {
		return Reconciliation{}, fmt.Errorf("exchange: reconciliation of %s in %s is not stored JSON", holder, exchange)
	}
	return r, nil
}

// Decide records the verifier's decisions on the stored reconciliation of
// holder's held list, in order, and returns the reconciliation with them
// applied; persons are rebuilt as by Reconcile. Later Reconcile calls
// re-apply them.
//
// It fails, recording nothing, with guarantor.EInvalid for a malformed
// decision, guarantor.ENotFound for a record id not on the lists
// reconciled, and guarantor.EConflict for a match of a record already
// matched to another (decide no_match for it first) or the undoing of a
// match whose person is in a batch. The errors name /decisions/i/field.
func (s *Service) Decide(ctx context.Context, exchange, holder string, decisions []Decision) (Reconciliation, error) {
	var out Reconciliation
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var sealed []byte
		p := &pairing{exchange: exchange, holder: holder}
		err := tx.QueryRowContext(ctx, "SELECT claimant, held_list, claimed_list, engine FROM reconciliations WHERE exchange = ? AND holder = ?",
			exchange, holder).Scan(&p.claimant, &p.heldList, &p.claimedList, &sealed)
		if errors.Is(err, sql.ErrNoRows) {
			return guarantor.Errorf(guarantor.ENotFound, "holder", "no reconciliation of the held list of %s in exchange %s; reconcile first", holder, exchange)
		}
		if err != nil {
			return err
		}
		ring := s.keyRing()
		plain, err := unseal(ring, sealed, reconciliationAAD(exchange, holder, "engine"))
		if err != nil {
			return fmt.Errorf("open engine result: %w", err)
		}
		var engine reconcile.Result
		err = json.Unmarshal(plain, &engine)
		clear(plain)
		if err != nil {
			return errors.New("engine result is not stored JSON")
		}
		if err := loadPairing(ctx, tx, p); err != nil {
			return err
		}
		ds, err := s.decisions(ctx, tx, exchange, holder)
		if err != nil {
			return err
		}
		r, stale := replay(engine, ds, p)
		var seq int
		if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) FROM decisions WHERE exchange = ? AND holder = ?", exchange, holder).Scan(&seq); err != nil {
			return err
		}
		for i, d := range decisions {
			if err := checkDecision(d, i, p); err != nil {
				return err
			}
			if r, err = apply(r, d, p, i); err != nil {
				return wrapDecision(err, i)
			}
			seq++
			var note []byte
			if d.Note != "" {
				if note, err = seal(ring, []byte(d.Note), noteAAD(exchange, holder, seq)); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO decisions (exchange, holder, seq, verdict, held, claimed, held_commitment, claimed_commitment, note)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, exchange, holder, seq, d.Verdict, d.Held, d.Claimed, p.held[d.Held], p.claimed[d.Claimed], note)
			if err != nil {
				return err
			}
		}
		held, err := s.records(ctx, tx, p.heldList)
		if err != nil {
			return err
		}
		claimed, err := s.records(ctx, tx, p.claimedList)
		if err != nil {
			return err
		}
		out, err = s.store(ctx, tx, p, engine, r, len(ds)+len(decisions), stale, byID(held), byID(claimed))
		return err
	})
	if err != nil {
		return Reconciliation{}, wrap(err, "decide on the reconciliation of %s in %s", holder, exchange)
	}
	return out, nil
}

// wrapDecision names decision i in an error of reconcile.Decide.
func wrapDecision(err error, i int) error {
	var gerr *guarantor.Error
	if errors.As(err, &gerr) {
		return err
	}
	code := guarantor.EInvalid
	if errors.Is(err, reconcile.ErrNotOpen) {
		code = guarantor.EConflict
	}
	return &guarantor.Error{Code: code, Field: "/decisions/" + strconv.Itoa(i), Message: "cannot be applied: " + err.Error(), Err: err}
}

// checkDecision checks a decision's form and that its records are on the
// lists.
func checkDecision(d Decision, i int, p *pairing) error {
	ptr := "/decisions/" + strconv.Itoa(i) + "/"
	switch d.Verdict {
	case VerdictMatch:
		if d.Held == "" {
			return guarantor.Errorf(guarantor.EInvalid, ptr+"held", "a match needs the held record")
		}
		if d.Claimed == "" {
			return guarantor.Errorf(guarantor.EInvalid, ptr+"claimed", "a match needs the claimed record")
		}
	case VerdictNoMatch:
		if d.Held == "" && d.Claimed == "" {
			return guarantor.Errorf(guarantor.EInvalid, ptr+"held", "a no_match names a held record, a claimed record, or both")
		}
	default:
		return guarantor.Errorf(guarantor.EInvalid, ptr+"verdict", "must be %q or %q", VerdictMatch, VerdictNoMatch)
	}
	if _, ok := p.held[d.Held]; d.Held != "" && !ok {
		return guarantor.Errorf(guarantor.ENotFound, ptr+"held", "no record %q on the held list %s", d.Held, p.heldList)
	}
	if _, ok := p.claimed[d.Claimed]; d.Claimed != "" && !ok {
		return guarantor.Errorf(guarantor.ENotFound, ptr+"claimed", "no record %q on the claimed list %s", d.Claimed, p.claimedList)
	}
	return nil
}
