package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/store/internal/column"
	"github.com/jackc/pgx/v5"
)

// insertAgreement projects the agreement logged at index. Another entry
// may claim the same id and version: both are kept.
func (ins *inserter) insertAgreement(index uint64, b *entry.Agreement) {
	var expires any
	if b.Expires != nil {
		expires = column.Time(*b.Expires)
	}
	ins.exec(fmt.Sprintf("agreement %s version %d", b.ID, b.Version),
		"INSERT INTO agreements (idx, id, version, title, effective, expires) VALUES ($1, $2, $3, $4, $5, $6)",
		int64(index), b.ID, int64(b.Version), b.Title, column.Time(b.Effective), expires)
}

// insertDetermination projects the determination logged at index and the
// incident revisions it names.
func (ins *inserter) insertDetermination(index uint64, b *entry.Determination) {
	ins.exec(fmt.Sprintf("determination %d", b.Seq),
		"INSERT INTO determinations (idx, seq, agreement, version, trigger_id, at) VALUES ($1, $2, $3, $4, $5, $6)",
		int64(index), int64(b.Seq), b.Agreement, int64(b.Version), b.Trigger, column.Time(b.At))
	what := fmt.Sprintf("determination %d incidents", b.Seq)
	for _, in := range b.Incidents {
		ins.exec(what, "INSERT INTO determination_incidents (idx, incident, revision) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
			int64(index), int64(in.ID), int64(in.Revision))
	}
}

// insertObligation projects the obligation revision logged at index: a
// revisions row and, since Apply runs in log order and so this revision
// has the highest index of its obligation yet, the obligation's current
// row; and the sanctions it re-imposed. Nothing in it can conflict with an
// earlier entry, whatever id and revision the body claims.
func (ins *inserter) insertObligation(index uint64, b *entry.Obligation) {
	defer ins.reimposeSanctions(index, b)
	if !ins.writes(3) {
		return
	}
	id := int64(b.ID)
	ins.exec(fmt.Sprintf("obligation %d revision %d", b.ID, b.Revision),
		"INSERT INTO obligations (idx, id, revision, seq, status) VALUES ($1, $2, $3, $4, $5)",
		int64(index), id, int64(b.Revision), int64(b.Seq), b.Status)
	var settled any
	if b.Settled != nil {
		settled = column.Time(*b.Settled)
	}
	ins.exec(fmt.Sprintf("obligation %d current revision", b.ID),
		`INSERT INTO obligation_current (id, idx, revision, determination, agreement, version, trigger_id,
			who, group_id, status, opened, deadline, settled)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (id) DO UPDATE SET idx = excluded.idx, revision = excluded.revision, determination = excluded.determination,
			agreement = excluded.agreement, version = excluded.version, trigger_id = excluded.trigger_id, who = excluded.who,
			group_id = excluded.group_id, status = excluded.status, opened = excluded.opened, deadline = excluded.deadline,
			settled = excluded.settled`,
		id, int64(index), int64(b.Revision), int64(b.Determination), b.Agreement, int64(b.Version), b.Trigger,
		b.Who, b.Group, b.Status, column.Time(b.Opened), column.Time(b.Deadline), settled)
}

// insertResponse projects the response logged at index.
func (ins *inserter) insertResponse(index uint64, signer string, b *entry.Response) {
	ins.exec("", "INSERT INTO responses (idx, signer, resp_id, at, obligation, answer) VALUES ($1, $2, $3, $4, $5, $6)",
		int64(index), signer, b.ID, column.Time(b.At), int64(b.Obligation), b.Answer)
}

// Agreements returns every accepted agreement entry in log order: every
// version of every agreement, and every entry claiming a version already
// logged.
func (s *Store) Agreements(ctx context.Context) ([]node.AgreementRow, error) {
	return collect(ctx, s, "agreements", `SELECT a.idx, e.signers, e.raw, e.kind FROM agreements a JOIN entries e ON e.idx = a.idx ORDER BY a.idx`, nil,
		func(rows pgx.Rows) (node.AgreementRow, error) {
			var r node.AgreementRow
			var idx int64
			var signers, kind string
			var raw []byte
			if err := rows.Scan(&idx, &signers, &raw, &kind); err != nil {
				return r, fmt.Errorf("postgres: read agreement: %w", err)
			}
			r.Index = uint64(idx)
			var err error
			if r.Signers, err = decodeSigners(unescape(signers)); err != nil {
				return r, fmt.Errorf("postgres: agreement entry %d signers: %w", r.Index, err)
			}
			if entry.Kind(unescape(kind)) == entry.KindAmendment {
				var a entry.Amendment
				if err = entry.DecodeLogged(raw, entry.KindAmendment, &a); err == nil {
					r.Agreement, r.Amendment = a.Agreement, a.Reason
				}
			} else {
				err = entry.DecodeLogged(raw, entry.KindAgreement, &r.Agreement)
			}
			if err != nil {
				return r, fmt.Errorf("postgres: agreement entry %d: %w", r.Index, err)
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
	return visit(ctx, s, "determinations", q.sql, q.args, func(rows pgx.Rows) (node.DeterminationRow, error) {
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
		return fmt.Errorf("postgres: obligations: status %q is not one of %s", f.Status, strings.Join(entry.ObligationStatuses, ", "))
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
	return visit(ctx, s, "obligations", q.sql, q.args, scanObligation, fn)
}

// Obligation returns every revision of obligation id in log order; none
// when there is no such obligation.
func (s *Store) Obligation(ctx context.Context, id uint64) ([]node.ObligationRow, error) {
	return collect(ctx, s, fmt.Sprintf("obligation %d", id), `SELECT o.idx, e.raw FROM obligations o JOIN entries e ON e.idx = o.idx
		WHERE o.id = $1 ORDER BY o.idx`, []any{int64(id)}, scanObligation)
}

// scanObligation reads a row of (idx, raw) and decodes the obligation from
// the logged note.
func scanObligation(rows pgx.Rows) (node.ObligationRow, error) {
	var r node.ObligationRow
	err := scanBody(rows, entry.KindObligation, &r.Index, &r.Obligation)
	return r, err
}

// Responses returns every accepted response naming obligation id, in log
// order, including those the engine ignored (by a signer that does not
// owe the obligation, or repeating an answer).
func (s *Store) Responses(ctx context.Context, obligation uint64) ([]node.ResponseRow, error) {
	return collect(ctx, s, "responses", `SELECT r.idx, r.signer, e.raw FROM responses r JOIN entries e ON e.idx = r.idx
		WHERE r.obligation = $1 ORDER BY r.idx`, []any{int64(obligation)},
		func(rows pgx.Rows) (node.ResponseRow, error) {
			var r node.ResponseRow
			var idx int64
			var raw []byte
			if err := rows.Scan(&idx, &r.Signer, &raw); err != nil {
				return r, fmt.Errorf("postgres: read response: %w", err)
			}
			r.Index, r.Signer = uint64(idx), unescape(r.Signer)
			if err := entry.DecodeLogged(raw, entry.KindResponse, &r.Response); err != nil {
				return r, fmt.Errorf("postgres: response entry %d: %w", r.Index, err)
			}
			return r, nil
		})
}
