package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/store/internal/column"
)

// agreementStmts are the statements that project agreement,
// determination, obligation and response entries, prepared once per
// Apply batch.
type agreementStmts struct {
	agreement, determination, detIncident *sql.Stmt
	obligation, obligationCurrent         *sql.Stmt
	response                              *sql.Stmt
}

// prepareAgreements prepares the statements with prep, which records the
// first error itself.
func (st *agreementStmts) prepareAgreements(prep func(string) *sql.Stmt) {
	st.agreement = prep("INSERT INTO agreements (idx, id, version, title, effective, expires) VALUES (?, ?, ?, ?, ?, ?)")
	st.determination = prep("INSERT INTO determinations (idx, seq, agreement, version, trigger_id, at) VALUES (?, ?, ?, ?, ?, ?)")
	st.detIncident = prep("INSERT OR IGNORE INTO determination_incidents (idx, incident, revision) VALUES (?, ?, ?)")
	st.obligation = prep("INSERT INTO obligations (idx, id, revision, seq, status) VALUES (?, ?, ?, ?, ?)")
	st.obligationCurrent = prep(`INSERT INTO obligation_current (id, idx, revision, determination, agreement, version, trigger_id,
			who, group_id, status, opened, deadline, settled)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET idx = excluded.idx, revision = excluded.revision, determination = excluded.determination,
			agreement = excluded.agreement, version = excluded.version, trigger_id = excluded.trigger_id, who = excluded.who,
			group_id = excluded.group_id, status = excluded.status, opened = excluded.opened, deadline = excluded.deadline,
			settled = excluded.settled`)
	st.response = prep("INSERT INTO responses (idx, signer, resp_id, at, obligation, answer) VALUES (?, ?, ?, ?, ?, ?)")
}

// all lists the statements, some of which may be nil.
func (st *agreementStmts) all() []*sql.Stmt {
	return []*sql.Stmt{st.agreement, st.determination, st.detIncident, st.obligation, st.obligationCurrent, st.response}
}

// insertAgreement projects the agreement logged at index. Another entry
// may claim the same id and version: both are kept.
func (ins *inserter) insertAgreement(ctx context.Context, index uint64, b *entry.Agreement) error {
	var expires any
	if b.Expires != nil {
		expires = column.Time(*b.Expires)
	}
	if _, err := ins.agreement.ExecContext(ctx, int64(index), b.ID, b.Version, b.Title, column.Time(b.Effective), expires); err != nil {
		return fmt.Errorf("agreement %s version %d: %w", b.ID, b.Version, err)
	}
	return nil
}

// insertDetermination projects the determination logged at index and the
// incident revisions it names.
func (ins *inserter) insertDetermination(ctx context.Context, index uint64, b *entry.Determination) error {
	if _, err := ins.determination.ExecContext(ctx, int64(index), int64(b.Seq), b.Agreement, b.Version, b.Trigger, column.Time(b.At)); err != nil {
		return fmt.Errorf("determination %d: %w", b.Seq, err)
	}
	for _, in := range b.Incidents {
		if _, err := ins.detIncident.ExecContext(ctx, int64(index), int64(in.ID), in.Revision); err != nil {
			return fmt.Errorf("determination %d incidents: %w", b.Seq, err)
		}
	}
	return nil
}

// insertObligation projects the obligation revision logged at index: a
// revisions row and, since Apply runs in log order and so this revision
// has the highest index of its obligation yet, the obligation's current
// row. Nothing in it can conflict with an earlier entry, whatever id and
// revision the body claims.
func (ins *inserter) insertObligation(ctx context.Context, index uint64, b *entry.Obligation) error {
	id := int64(b.ID)
	if _, err := ins.obligation.ExecContext(ctx, int64(index), id, b.Revision, int64(b.Seq), b.Status); err != nil {
		return fmt.Errorf("obligation %d revision %d: %w", b.ID, b.Revision, err)
	}
	var settled any
	if b.Settled != nil {
		settled = column.Time(*b.Settled)
	}
	if _, err := ins.obligationCurrent.ExecContext(ctx, id, int64(index), b.Revision, int64(b.Determination), b.Agreement, b.Version, b.Trigger,
		b.Who, b.Group, b.Status, column.Time(b.Opened), column.Time(b.Deadline), settled); err != nil {
		return fmt.Errorf("obligation %d current revision: %w", b.ID, err)
	}
	return ins.reimposeSanctions(ctx, index, b)
}

// insertResponse projects the response logged at index.
func (ins *inserter) insertResponse(ctx context.Context, index uint64, signer string, b *entry.Response) error {
	_, err := ins.response.ExecContext(ctx, int64(index), signer, b.ID, column.Time(b.At), int64(b.Obligation), b.Answer)
	return err
}

// Agreements returns every accepted agreement entry in log order: every
// version of every agreement, and every entry claiming a version already
// logged.
func (s *Store) Agreements(ctx context.Context) ([]node.AgreementRow, error) {
	return collect(ctx, s.r, "agreements", `SELECT a.idx, e.signers, e.raw, e.kind FROM agreements a JOIN entries e ON e.idx = a.idx ORDER BY a.idx`, nil,
		func(rows *sql.Rows) (node.AgreementRow, error) {
			var r node.AgreementRow
			var signers, kind string
			var raw []byte
			if err := rows.Scan(&r.Index, &signers, &raw, &kind); err != nil {
				return r, fmt.Errorf("sqlite: read agreement: %w", err)
			}
			if err := json.Unmarshal([]byte(signers), &r.Signers); err != nil {
				return r, fmt.Errorf("sqlite: agreement entry %d signers: %w", r.Index, err)
			}
			var err error
			if entry.Kind(kind) == entry.KindAmendment {
				var a entry.Amendment
				if err = entry.DecodeLogged(raw, entry.KindAmendment, &a); err == nil {
					r.Agreement, r.Amendment = a.Agreement, a.Reason
				}
			} else {
				err = entry.DecodeLogged(raw, entry.KindAgreement, &r.Agreement)
			}
			if err != nil {
				return r, fmt.Errorf("sqlite: agreement entry %d: %w", r.Index, err)
			}
			return r, nil
		})
}

// Determinations calls fn with every accepted determination f selects, in
// log order, streaming from one snapshot; it stops at fn's first error
// and returns it unwrapped. From and To compare with the determination's
// time in UTC.
func (s *Store) Determinations(ctx context.Context, f node.DeterminationFilter, fn func(node.DeterminationRow) error) error {
	q := newFilter("SELECT d.idx, e.raw FROM determinations d JOIN entries e ON e.idx = d.idx WHERE 1=1")
	q.eq("d.agreement", f.Agreement)
	q.eq("d.trigger_id", f.Trigger)
	q.timeRange("d.at", "d.at", f.From, f.To)
	q.order("d.idx", f.Limit)
	return each(ctx, s.r, "determinations", q.sql, q.args, func(rows *sql.Rows) (node.DeterminationRow, error) {
		var r node.DeterminationRow
		err := scanBody(rows, entry.KindDetermination, &r.Index, &r.Determination)
		return r, err
	}, fn)
}

// Obligations calls fn with the current revision (the one from the
// highest log index) of every obligation f selects, ordered by obligation
// id, streaming from one snapshot; it stops at fn's first error and
// returns it unwrapped. A Status other than "" or one of
// entry.ObligationStatuses is an error.
func (s *Store) Obligations(ctx context.Context, f node.ObligationFilter, fn func(node.ObligationRow) error) error {
	if f.Status != "" && !slices.Contains(entry.ObligationStatuses, f.Status) {
		return fmt.Errorf("sqlite: obligations: status %q is not one of %s", f.Status, strings.Join(entry.ObligationStatuses, ", "))
	}
	q := newFilter("SELECT c.idx, e.raw FROM obligation_current c JOIN entries e ON e.idx = c.idx WHERE 1=1")
	q.eq("c.status", f.Status)
	q.eq("c.who", f.Who)
	q.eq("c.group_id", f.Group)
	q.eq("c.agreement", f.Agreement)
	if f.Determination != nil {
		q.and("c.determination = ?", int64(*f.Determination))
	}
	q.order("c.id", f.Limit)
	return each(ctx, s.r, "obligations", q.sql, q.args, scanObligation, fn)
}

// Obligation returns every revision of obligation id in log order; none
// when there is no such obligation.
func (s *Store) Obligation(ctx context.Context, id uint64) ([]node.ObligationRow, error) {
	return collect(ctx, s.r, fmt.Sprintf("obligation %d", id), `SELECT o.idx, e.raw FROM obligations o JOIN entries e ON e.idx = o.idx
		WHERE o.id = ? ORDER BY o.idx`, []any{int64(id)}, scanObligation)
}

// scanObligation reads a row of (idx, raw) and decodes the obligation from
// the logged note.
func scanObligation(rows *sql.Rows) (node.ObligationRow, error) {
	var r node.ObligationRow
	err := scanBody(rows, entry.KindObligation, &r.Index, &r.Obligation)
	return r, err
}

// Responses returns every accepted response naming obligation id, in log
// order, including those the engine ignored (by a signer that does not
// owe the obligation, or repeating an answer).
func (s *Store) Responses(ctx context.Context, obligation uint64) ([]node.ResponseRow, error) {
	return collect(ctx, s.r, "responses", `SELECT r.idx, r.signer, e.raw FROM responses r JOIN entries e ON e.idx = r.idx
		WHERE r.obligation = ? ORDER BY r.idx`, []any{int64(obligation)},
		func(rows *sql.Rows) (node.ResponseRow, error) {
			var r node.ResponseRow
			var raw []byte
			if err := rows.Scan(&r.Index, &r.Signer, &raw); err != nil {
				return r, fmt.Errorf("sqlite: read response: %w", err)
			}
			if err := entry.DecodeLogged(raw, entry.KindResponse, &r.Response); err != nil {
				return r, fmt.Errorf("sqlite: response entry %d: %w", r.Index, err)
			}
			return r, nil
		})
}
