package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/store/internal/column"
)

// incidentStmts are the statements that project incident and
// verification entries, prepared once per Apply batch.
type incidentStmts struct {
	incident, current                  *sql.Stmt
	membersOf, addMember, delMember    *sql.Stmt
	delParties, addParty, verification *sql.Stmt
}

// prepareIncidents prepares the statements with prep, which records the
// first error itself.
func (st *incidentStmts) prepareIncidents(prep func(string) *sql.Stmt) {
	st.incident = prep("INSERT INTO incidents (idx, id, revision, seq, status, merged_into) VALUES (?, ?, ?, ?, ?, ?)")
	st.current = prep(`INSERT INTO incident_current (id, idx, revision, status, level, category, from_at, to_at, lon, lat)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET idx = excluded.idx, revision = excluded.revision, status = excluded.status,
			level = excluded.level, category = excluded.category, from_at = excluded.from_at, to_at = excluded.to_at,
			lon = excluded.lon, lat = excluded.lat`)
	st.membersOf = prep("SELECT obs_idx FROM incident_members WHERE id = ? ORDER BY obs_idx")
	st.addMember = prep("INSERT INTO incident_members (id, obs_idx) VALUES (?, ?)")
	st.delMember = prep("DELETE FROM incident_members WHERE id = ? AND obs_idx = ?")
	st.delParties = prep("DELETE FROM incident_parties WHERE id = ?")
	st.addParty = prep("INSERT OR IGNORE INTO incident_parties (id, party) VALUES (?, ?)")
	st.verification = prep(`INSERT INTO verifications (idx, signer, ver_id, at, incident, revision, verdict, attributed_to)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
}

// all lists the statements, some of which may be nil.
func (st *incidentStmts) all() []*sql.Stmt {
	return []*sql.Stmt{st.incident, st.current, st.membersOf, st.addMember, st.delMember, st.delParties, st.addParty, st.verification}
}

// insertIncident projects the incident revision logged at index: a
// revisions row, and, since Apply runs in log order and so this revision
// has the highest index of its incident yet, the incident's current row,
// members and parties. Nothing in it can conflict with an earlier entry,
// whatever id and revision the body claims.
func (ins *inserter) insertIncident(ctx context.Context, index uint64, b *entry.Incident) error {
	id := int64(b.ID)
	var mergedInto any
	if b.MergedInto != nil {
		mergedInto = int64(*b.MergedInto)
	}
	if _, err := ins.incident.ExecContext(ctx, int64(index), id, b.Revision, int64(b.Seq), b.Status, mergedInto); err != nil {
		return fmt.Errorf("incident %d revision %d: %w", b.ID, b.Revision, err)
	}
	c := b.Location.Coordinates
	if _, err := ins.current.ExecContext(ctx, id, int64(index), b.Revision, b.Status, b.Level, b.Category,
		column.Time(b.From), column.Time(b.To), c[0], c[1]); err != nil {
		return fmt.Errorf("incident %d current revision: %w", b.ID, err)
	}
	if err := ins.setMembers(ctx, id, b.Members); err != nil {
		return fmt.Errorf("incident %d members: %w", b.ID, err)
	}
	if _, err := ins.delParties.ExecContext(ctx, id); err != nil {
		return fmt.Errorf("incident %d parties: %w", b.ID, err)
	}
	for _, a := range b.Attributions {
		if _, err := ins.addParty.ExecContext(ctx, id, a.Party); err != nil {
			return fmt.Errorf("incident %d parties: %w", b.ID, err)
		}
	}
	return nil
}

// setMembers makes the members of incident id exactly members, writing
// only the difference from the previous revision's: a growing incident
// costs one insert per new member, not one per member per revision.
func (ins *inserter) setMembers(ctx context.Context, id int64, members []uint64) error {
	want := make([]int64, len(members))
	for i, m := range members {
		want[i] = int64(m)
	}
	slices.Sort(want) // the schema's check makes them ascending already
	want = slices.Compact(want)
	rows, err := ins.membersOf.QueryContext(ctx, id)
	if err != nil {
		return err
	}
	var have []int64
	for rows.Next() {
		var m int64
		if err := rows.Scan(&m); err != nil {
			rows.Close()
			return err
		}
		have = append(have, m)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for i, j := 0, 0; i < len(have) || j < len(want); {
		switch {
		case j == len(want) || i < len(have) && have[i] < want[j]:
			_, err = ins.delMember.ExecContext(ctx, id, have[i])
			i++
		case i == len(have) || want[j] < have[i]:
			_, err = ins.addMember.ExecContext(ctx, id, want[j])
			j++
		default:
			i, j = i+1, j+1
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// insertVerification projects the verification logged at index.
func (ins *inserter) insertVerification(ctx context.Context, index uint64, signer string, b *entry.Verification) error {
	_, err := ins.verification.ExecContext(ctx, int64(index), signer, b.ID, column.Time(b.At), int64(b.Incident), b.Revision, b.Verdict, b.AttributedTo)
	return err
}

// Incidents calls fn with the current revision (the one from the highest
// log index) of every incident f selects, ordered by incident id,
// streaming from one snapshot; it stops at fn's first error and returns
// it unwrapped. The span [from, to] of an incident overlaps [f.From, f.To)
// when from < f.To and to >= f.From, in UTC. A BBox is inclusive, on the
// centroid, and does not wrap around the antimeridian. A Status other
// than "", "open", "merged" or "all" is an error.
func (s *Store) Incidents(ctx context.Context, f node.IncidentFilter, fn func(node.IncidentRow) error) error {
	q := newFilter("SELECT c.idx, e.raw FROM incident_current c JOIN entries e ON e.idx = c.idx WHERE 1=1")
	switch f.Status {
	case "", entry.IncidentOpen:
		q.eq("c.status", entry.IncidentOpen)
	case entry.IncidentMerged:
		q.eq("c.status", entry.IncidentMerged)
	case "all":
	default:
		return fmt.Errorf("sqlite: incidents: status %q is not open, merged or all", f.Status)
	}
	q.timeRange("c.to_at", "c.from_at", f.From, f.To) // the spans overlap
	q.bbox("c.lon", "c.lat", f.BBox)
	q.eq("c.category", f.Category)
	q.eq("c.level", f.Level)
	if f.Party != "" {
		q.and("c.id IN (SELECT id FROM incident_parties WHERE party = ?)", f.Party)
	}
	q.order("c.id", f.Limit)
	return each(ctx, s.r, "incidents", q.sql, q.args, scanIncident, fn)
}

// Incident returns every revision of incident id, in revision order and,
// for revisions claiming the same number, in log order; none when there
// is no such incident.
func (s *Store) Incident(ctx context.Context, id uint64) ([]node.IncidentRow, error) {
	return collect(ctx, s.r, fmt.Sprintf("incident %d", id), `SELECT i.idx, e.raw FROM incidents i JOIN entries e ON e.idx = i.idx
		WHERE i.id = ? ORDER BY i.revision, i.idx`, []any{int64(id)}, scanIncident)
}

// scanIncident reads a row of (idx, raw) and decodes the incident from
// the logged note.
func scanIncident(rows *sql.Rows) (node.IncidentRow, error) {
	var r node.IncidentRow
	err := scanBody(rows, entry.KindIncident, &r.Index, &r.Incident)
	return r, err
}

// Verifications returns every accepted verification naming one of ids,
// in log order.
func (s *Store) Verifications(ctx context.Context, ids []uint64) ([]node.VerificationRow, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list := make([]int64, len(ids))
	for i, id := range ids {
		list[i] = int64(id)
	}
	js, err := json.Marshal(list)
	if err != nil {
		return nil, fmt.Errorf("sqlite: verifications: %w", err)
	}
	return collect(ctx, s.r, "verifications", `SELECT v.idx, v.signer, e.raw FROM verifications v JOIN entries e ON e.idx = v.idx
		WHERE v.incident IN (SELECT value FROM json_each(?)) ORDER BY v.idx`, []any{string(js)},
		func(rows *sql.Rows) (node.VerificationRow, error) {
			var r node.VerificationRow
			var raw []byte
			if err := rows.Scan(&r.Index, &r.Signer, &raw); err != nil {
				return r, fmt.Errorf("sqlite: read verification: %w", err)
			}
			if err := entry.DecodeLogged(raw, entry.KindVerification, &r.Verification); err != nil {
				return r, fmt.Errorf("sqlite: verification entry %d: %w", r.Index, err)
			}
			return r, nil
		})
}
