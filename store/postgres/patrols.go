package postgres

import (
	"context"
	"fmt"

	"github.com/guarantor/guarantor/node"
)

// insertPatrol projects a patrol plan or report logged at r.Index.
func (ins *inserter) insertPatrol(r node.Record, id, plan string, from, to string) {
	ins.exec(fmt.Sprintf("%s %s", r.Kind, id), "INSERT INTO patrol_entries (idx, kind, id, plan, from_at, to_at) VALUES ($1, $2, $3, $4, $5, $6)",
		int64(r.Index), string(r.Kind), id, plan, from, to)
}

// PatrolEntries calls fn with every accepted patrol plan and report f
// selects, in log order, streaming. A plan's window or a report's span
// [from, to] overlaps [f.From, f.To) when to >= f.From and from < f.To,
// in UTC.
func (s *Store) PatrolEntries(ctx context.Context, f node.PatrolFilter, fn func(node.Record) error) error {
	q := newFilter("SELECT " + recordColumns + " FROM patrol_entries p JOIN entries e ON e.idx = p.idx WHERE 1=1")
	q.eq("p.kind", string(f.Kind))
	q.eq("p.id", f.ID)
	q.eq("p.plan", f.Plan)
	q.timeRange("p.to_at", "p.from_at", f.From, f.To)
	q.order("p.idx", 0)
	return visit(ctx, s, "patrol entries", q.sql, q.args, scanRecordRows("patrol entries"), fn)
}
