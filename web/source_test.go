package web_test

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"time"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/registry"
	"github.com/guarantor/guarantor/web"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
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
	applied        uint64               // 0: one more than the highest entry index
	keys           []registry.Key
	sanctions      []node.SanctionRow
	coverage       map[string]node.CoverageRow // by agreement id
	exchange       []node.Record               // exchange entries, in log order
	patrols        []node.Record               // patrol plans and reports, in log order
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
			!f.From.IsZero() && in.To.Before(f.From) || !f.To.IsZero() && !in.From.Before(f.To) ||
			f.Party != "" && !slices.ContainsFunc(in.Attributions, func(a entry.Attribution) bool { return a.Party == f.Party }) {
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

// Determinations selects as the SQLite store does: on agreement, trigger
// and at in [From, To).
func (m *memSource) Determinations(_ context.Context, f node.DeterminationFilter, fn func(node.DeterminationRow) error) error {
	if m.err != nil {
		return m.err
	}
	for _, d := range m.determinations {
		dt := d.Determination
		if f.Agreement != "" && dt.Agreement != f.Agreement || f.Trigger != "" && dt.Trigger != f.Trigger ||
			!f.From.IsZero() && dt.At.Before(f.From) || !f.To.IsZero() && !dt.At.Before(f.To) {
			continue
		}
		if err := fn(d); err != nil {
			return err
		}
	}
	return nil
}

func (m *memSource) Applied(context.Context) (uint64, error) {
	if m.applied != 0 {
		return m.applied, m.err
	}
	n := uint64(0)
	for i := range m.entries {
		n = max(n, i+1)
	}
	return n, m.err
}

func (m *memSource) Records(_ context.Context, from, to uint64, fn func(node.Record) error) error {
	if m.err != nil {
		return m.err
	}
	for i := from; i < to; i++ {
		if rec, ok := m.entries[i]; ok {
			if err := fn(rec); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *memSource) ObservationByID(_ context.Context, signer, id string) (uint64, []byte, bool, error) {
	if m.err != nil {
		return 0, nil, false, m.err
	}
	for i := uint64(0); i < 1<<12; i++ {
		rec, ok := m.entries[i]
		if ob, isObs := rec.Body.(*entry.Observation); ok && isObs && len(rec.Signers) > 0 && rec.Signers[0] == signer && ob.ID == id {
			return rec.Index, rec.LeafHash, true, nil
		}
	}
	return 0, nil, false, nil
}

func (m *memSource) Keys(context.Context) ([]registry.Key, error) { return m.keys, m.err }

func (m *memSource) Sanctions(context.Context) ([]node.SanctionRow, error) { return m.sanctions, m.err }

func (m *memSource) Coverage(_ context.Context, agreement, month string) (node.CoverageRow, bool, error) {
	row, ok := m.coverage[agreement]
	if month != "" && row.Coverage.Month != month {
		ok = false
	}
	return row, ok, m.err
}

// ExchangeEntries selects on the body's exchange, as the SQLite store
// does.
func (m *memSource) ExchangeEntries(_ context.Context, exchange string, fn func(node.Record) error) error {
	if m.err != nil {
		return m.err
	}
	for _, rec := range m.exchange {
		var x string
		switch b := rec.Body.(type) {
		case *entry.ExchangeList:
			x = b.Exchange
		case *entry.ExchangeManifest:
			x = b.Exchange
		case *entry.ExchangeConfirmation:
			x = b.Exchange
		}
		if exchange != "" && x != exchange {
			continue
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

// PatrolEntries selects as the SQLite store does: on kind, id and plan,
// and a plan's window or a report's span overlapping [From, To) (ending
// at From included).
func (m *memSource) PatrolEntries(_ context.Context, f node.PatrolFilter, fn func(node.Record) error) error {
	if m.err != nil {
		return m.err
	}
	for _, rec := range m.patrols {
		var id, plan string
		var from, to time.Time
		switch b := rec.Body.(type) {
		case *entry.PatrolPlan:
			id, plan, from, to = b.ID, b.ID, b.From, b.To
		case *entry.PatrolReport:
			id, plan, from, to = b.ID, b.Plan, b.Start, b.End
		}
		if f.Kind != "" && rec.Kind != f.Kind || f.ID != "" && id != f.ID || f.Plan != "" && plan != f.Plan ||
			!f.From.IsZero() && to.Before(f.From) || !f.To.IsZero() && !from.Before(f.To) {
			continue
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

// Obligations selects on status alone.
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

// fakeLog is a Log with a fixed checkpoint. With leaves, it is the
// RFC 6962 tree of those leaf hashes: its checkpoint (origin
// "test.log/origin", unsigned but for a dummy line) has their root, and
// its proofs are real.
type fakeLog struct {
	cp     string
	leaves [][]byte
	signer note.Signer // signs the checkpoint of leaves when set
	cosign note.Signer // then cosigns it too, when set
	err    error
}

func (l fakeLog) ReadCheckpoint(context.Context) ([]byte, error) {
	if l.leaves == nil || l.err != nil {
		return []byte(l.cp), l.err
	}
	root := base64.StdEncoding.EncodeToString(treeHash(l.leaves))
	if l.signer == nil {
		return []byte(fmt.Sprintf("test.log/origin\n%d\n%s\n\n\u2014 test.log abcdEFGH\n\u2014 witness.example w1tn355=\n", len(l.leaves), root)), nil
	}
	signers := []note.Signer{l.signer}
	if l.cosign != nil {
		signers = append(signers, l.cosign)
	}
	return note.Sign(&note.Note{Text: fmt.Sprintf("%s\n%d\n%s\n", l.signer.Name(), len(l.leaves), root)}, signers...)
}

func (l fakeLog) InclusionProof(_ context.Context, index, size uint64) ([][]byte, error) {
	if l.err != nil {
		return nil, l.err
	}
	if index >= size || size > uint64(len(l.leaves)) {
		return nil, fmt.Errorf("no proof of %d at size %d", index, size)
	}
	return inclusionPath(index, l.leaves[:size]), nil
}

// treeHash is RFC 6962's MTH of the leaf hashes.
func treeHash(leaves [][]byte) []byte {
	if len(leaves) == 1 {
		return leaves[0]
	}
	k := split(len(leaves))
	return rfc6962.DefaultHasher.HashChildren(treeHash(leaves[:k]), treeHash(leaves[k:]))
}

// inclusionPath is RFC 6962's PATH(m, D[n]) of the leaf hashes.
func inclusionPath(m uint64, leaves [][]byte) [][]byte {
	if len(leaves) <= 1 {
		return nil
	}
	k := split(len(leaves))
	if m < uint64(k) {
		return append(inclusionPath(m, leaves[:k]), treeHash(leaves[k:]))
	}
	return append(inclusionPath(m-uint64(k), leaves[k:]), treeHash(leaves[:k]))
}

// split is the largest power of two less than n.
func split(n int) int {
	k := 1
	for k*2 < n {
		k *= 2
	}
	return k
}
