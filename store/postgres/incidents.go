package postgres

import (
	"context"
	"fmt"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/store/internal/column"
	"github.com/jackc/pgx/v5"
)

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
	ins.exec(fmt.Sprintf("incident %d revision %d", b.ID, b.Revision),
		"INSERT INTO incidents (idx, id, revision, seq, status, merged_into) VALUES ($1, $2, $3, $4, $5, $6)",
		int64(index), id, int64(b.Revision), int64(b.Seq), b.Status, mergedInto)
	c := b.Location.Coordinates
	ins.exec(fmt.Sprintf("incident %d current revision", b.ID),
		`INSERT INTO incident_current (id, idx, revision, status, level, category, from_at, to_at, lon, lat)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (id) DO UPDATE SET idx = excluded.idx, revision = excluded.revision, status = excluded.status,
			level = excluded.level, category = excluded.category, from_at = excluded.from_at, to_at = excluded.to_at,
			lon = excluded.lon, lat = excluded.lat`,
		id, int64(index), int64(b.Revision), b.Status, b.Level, b.Category, column.Time(b.From), column.Time(b.To), c[0], c[1])
	if err := ins.setMembers(ctx, id, b.Members); err != nil {
		return fmt.Errorf("incident %d members: %w", b.ID, err)
	}
	what := fmt.Sprintf("incident %d parties", b.ID)
	ins.exec(what, "DELETE FROM incident_parties WHERE id = $1", id)
	for _, a := range b.Attributions {
		ins.exec(what, "INSERT INTO incident_parties (id, party) VALUES ($1, $2) ON CONFLICT DO NOTHING", id, a.Party)
	}
	return nil
}

// setMembers makes the members of incident id exactly members, writing
// only the difference from the previous revision's: a growing incident
// costs one new row per new member, not one per member per revision. The
// previous members are read once per batch (the inserter remembers what
// it wrote since).
func (ins *inserter) setMembers(ctx context.Context, id int64, members []uint64) error {
	want := sortedUnique(members)
	have, ok := ins.members[id]
	if !ok {
		if err := ins.flush(ctx); err != nil {
			return err
		}
		rows, err := ins.tx.Query(ctx, "SELECT obs_idx FROM incident_members WHERE id = $1 ORDER BY obs_idx", id)
		if err != nil {
			return err
		}
		if have, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
			return err
		}
	}
	var add, del []int64
	for i, j := 0, 0; i < len(have) || j < len(want); {
		switch {
		case j == len(want) || i < len(have) && have[i] < want[j]:
			del = append(del, have[i])
			i++
		case i == len(have) || want[j] < have[i]:
			add = append(add, want[j])
			j++
		default:
			i, j = i+1, j+1
		}
	}
	what := fmt.Sprintf("incident %d members", id)
	if len(del) > 0 {
		ins.exec(what, "DELETE FROM incident_members WHERE id = $1 AND obs_idx = ANY($2)", id, del)
	}
	if len(add) > 0 {
		ins.exec(what, "INSERT INTO incident_members (id, obs_idx) SELECT $1, unnest($2::bigint[])", id, add)
	}
	ins.members[id] = want
	return nil
}

// insertVerification projects the verification logged at index.
func (ins *inserter) insertVerification(index uint64, signer string, b *entry.Verification) {
	ins.exec("", `INSERT INTO verifications (idx, signer, ver_id, at, incident, revision, verdict, attributed_to)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		int64(index), signer, b.ID, column.Time(b.At), int64(b.Incident), int64(b.Revision), b.Verdict, b.AttributedTo)
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
		return fmt.Errorf("postgres: incidents: status %q is not open, merged or all", f.Status)
	}
	q.timeRange("c.to_at", "c.from_at", f.From, f.To) // the spans overlap
	q.bbox("c.lon", "c.lat", f.BBox)
	q.eq("c.category", f.Category)
	q.eq("c.level", f.Level)
	if f.Party != "" {
		q.and("c.id IN (SELECT id FROM incident_parties WHERE party = ?)", f.Party)
	}
	q.order("c.id", f.Limit)
	return visit(ctx, s, "incidents", q.sql, q.args, scanIncident, fn)
}

// Incident returns every revision of incident id, in revision order and,
// for revisions claiming the same number, in log order; none when there
// is no such incident.
func (s *Store) Incident(ctx context.Context, id uint64) ([]node.IncidentRow, error) {
	return collect(ctx, s, fmt.Sprintf("incident %d", id), `SELECT i.idx, e.raw FROM incidents i JOIN entries e ON e.idx = i.idx
		WHERE i.id = $1 ORDER BY i.revision, i.idx`, []any{int64(id)}, scanIncident)
}

// scanIncident reads a row of (idx, raw) and decodes the incident from
// the logged note.
func scanIncident(rows pgx.Rows) (node.IncidentRow, error) {
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
	return collect(ctx, s, "verifications", `SELECT v.idx, v.signer, e.raw FROM verifications v JOIN entries e ON e.idx = v.idx
		WHERE v.incident = ANY($1) ORDER BY v.idx`, []any{list},
		func(rows pgx.Rows) (node.VerificationRow, error) {
			var r node.VerificationRow
			var idx int64
			var raw []byte
			if err := rows.Scan(&idx, &r.Signer, &raw); err != nil {
				return r, fmt.Errorf("postgres: read verification: %w", err)
			}
			r.Index, r.Signer = uint64(idx), unescape(r.Signer)
			if err := entry.DecodeLogged(raw, entry.KindVerification, &r.Verification); err != nil {
				return r, fmt.Errorf("postgres: verification entry %d: %w", r.Index, err)
			}
			return r, nil
		})
}
