package web_test

import (
	"cmp"
	"context"
	"slices"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/web"
)

// memSource is a Source held in memory, for page tests. err, when set, is
// what every method returns.
type memSource struct {
	revisions      []node.IncidentRow // every revision of every incident
	entries        map[uint64]node.Record
	verifications  []node.VerificationRow
	agreements     []node.AgreementRow
	determinations []node.DeterminationRow
	obligations    []node.ObligationRow // latest revisions
	err            error
}

var _ web.Source = (*memSource)(nil)

func (m *memSource) Entry(_ context.Context, index uint64) (node.Record, bool, error) {
	rec, ok := m.entries[index]
	return rec, ok, m.err
}

// Incidents selects as the SQLite store does: the latest revision of each
// incident, by id, filtered on status (open by default), level, category
// and time span.
func (m *memSource) Incidents(_ context.Context, f node.IncidentFilter, fn func(node.IncidentRow) error) error {
	if m.err != nil {
		return m.err
	}
	latest := map[uint64]node.IncidentRow{}
	for _, r := range m.revisions {
		if prev, ok := latest[r.Incident.ID]; !ok || r.Index > prev.Index {
			latest[r.Incident.ID] = r
		}
	}
	var rows []node.IncidentRow
	for _, r := range latest {
		in := r.Incident
		status := cmp.Or(f.Status, entry.IncidentOpen)
		if status != "all" && in.Status != status || f.Level != "" && in.Level != f.Level || f.Category != "" && in.Category != f.Category ||
			!f.From.IsZero() && in.To.Before(f.From) || !f.To.IsZero() && !in.From.Before(f.To) {
			continue
		}
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b node.IncidentRow) int { return cmp.Compare(a.Incident.ID, b.Incident.ID) })
	for _, r := range rows {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (m *memSource) Incident(_ context.Context, id uint64) ([]node.IncidentRow, error) {
	var out []node.IncidentRow
	for _, r := range m.revisions {
		if r.Incident.ID == id {
			out = append(out, r)
		}
	}
	return out, m.err
}

func (m *memSource) Verifications(_ context.Context, ids []uint64) ([]node.VerificationRow, error) {
	var out []node.VerificationRow
	for _, v := range m.verifications {
		if slices.Contains(ids, v.Verification.Incident) {
			out = append(out, v)
		}
	}
	return out, m.err
}

func (m *memSource) Agreements(context.Context) ([]node.AgreementRow, error) {
	return m.agreements, m.err
}

func (m *memSource) Determinations(_ context.Context, _ node.DeterminationFilter, fn func(node.DeterminationRow) error) error {
	if m.err != nil {
		return m.err
	}
	for _, d := range m.determinations {
		if err := fn(d); err != nil {
			return err
		}
	}
	return nil
}

func (m *memSource) Obligations(_ context.Context, f node.ObligationFilter, fn func(node.ObligationRow) error) error {
	if m.err != nil {
		return m.err
	}
	for _, o := range m.obligations {
		if f.Status != "" && o.Obligation.Status != f.Status {
			continue
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	return nil
}

// fakeLog is a Log with a fixed checkpoint.
type fakeLog struct {
	cp  string
	err error
}

func (l fakeLog) ReadCheckpoint(context.Context) ([]byte, error) { return []byte(l.cp), l.err }
