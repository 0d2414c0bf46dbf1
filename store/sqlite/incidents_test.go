package sqlite_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/internal/testkeys"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/store/sqlite"
)

// incidentLog is a registry-checked log with observations, incident
// revisions (merges, a duplicate id/revision, revisions logged out of
// order, one the registry rejects) and verifications, and a model of
// what the projection must hold.
type incidentLog struct {
	*fixture
	engine, analyst key
	seq             uint64
	// current is the model: the latest revision (highest log index) of
	// each incident.
	current map[uint64]node.IncidentRow
	// revisions of each incident, in log order.
	revisions map[uint64][]node.IncidentRow
	ver       []node.VerificationRow
}

func newIncidentLog(tb testing.TB) *incidentLog {
	tb.Helper()
	l := &incidentLog{
		fixture:   newFixture(tb),
		engine:    testkeys.New(tb, "engine"),
		analyst:   testkeys.New(tb, "analyst.1"),
		current:   map[uint64]node.IncidentRow{},
		revisions: map[uint64][]node.IncidentRow{},
	}
	l.keys(tb)
	for _, k := range []struct {
		k    key
		role string
	}{{l.engine, "engine"}, {l.analyst, "analyst"}} {
		l.add(tb, true, entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":%q,"not_before":"2025-01-01T00:00:00Z","not_after":"2026-01-01T00:00:00Z"}`, k.k.VKey, k.role), l.auth)
	}
	return l
}

func at(tb testing.TB, v string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// incident logs inc, signed by the engine key, filling in seq and the
// inputs (the members, by leaf hash), and updates the model.
func (l *incidentLog) incident(tb testing.TB, inc entry.Incident) node.Record {
	tb.Helper()
	l.seq++
	inc.Seq = l.seq
	inc.Rule = "fusion.v1"
	inc.Location.Type = "Point"
	inc.Inputs = nil
	for _, m := range inc.Members {
		inc.Inputs = append(inc.Inputs, entry.Ref{Index: m, LeafHash: base64.StdEncoding.EncodeToString(l.recs[m].LeafHash)})
	}
	if inc.Monitors == 0 {
		inc.Monitors = 1
	}
	if inc.SourceTypes == nil {
		inc.SourceTypes = []string{}
	}
	body, err := json.Marshal(inc)
	if err != nil {
		tb.Fatal(err)
	}
	rec := l.add(tb, true, entry.KindIncident, string(body), l.engine)
	row := node.IncidentRow{Index: rec.Index, Incident: *rec.Body.(*entry.Incident)}
	l.current[inc.ID] = row
	l.revisions[inc.ID] = append(l.revisions[inc.ID], row)
	return rec
}

// verification logs an analyst's verdict and updates the model.
func (l *incidentLog) verification(tb testing.TB, id string, incident uint64, revision int, verdict, party string) node.Record {
	tb.Helper()
	v := entry.Verification{ID: id, At: at(tb, "2025-03-05T09:00:00+02:00"), Incident: incident, Revision: revision, Verdict: verdict, AttributedTo: party, Basis: []string{"imagery"}, Text: "checked \"on site\""}
	body, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	rec := l.add(tb, true, entry.KindVerification, string(body), l.analyst)
	l.ver = append(l.ver, node.VerificationRow{Index: rec.Index, Signer: rec.Signers[0], Verification: *rec.Body.(*entry.Verification)})
	return rec
}

func u64(v uint64) *uint64 { return &v }

// incidentSample builds the incident log. Observations are at indexes
// 5..16. Incidents: A (id 5), B (id 6, merged into A), C (id 7, verified,
// attributed to party:RU, with two entries claiming revision 2), D (id
// 9, revisions logged out of order), E (id 10, in another zone's time).
func incidentSample(tb testing.TB) *incidentLog {
	tb.Helper()
	l := newIncidentLog(tb)
	l.observations(tb, 12)
	pt := func(lon, lat float64) entry.Point { return entry.Point{Coordinates: [2]float64{lon, lat}} }

	l.incident(tb, entry.Incident{ID: 5, Revision: 1, Status: "open", Category: "shelling", From: at(tb, "2025-03-01T12:00:00Z"), To: at(tb, "2025-03-01T12:05:00Z"),
		Location: pt(37.5, 48.0), RadiusM: 500, Count: 2, Members: []uint64{5, 8}, SourceTypes: []string{"camera"}, Level: "reported"})
	l.incident(tb, entry.Incident{ID: 6, Revision: 1, Status: "open", Category: "small_arms", From: at(tb, "2025-03-02T10:00:00Z"), To: at(tb, "2025-03-02T10:00:00Z"),
		Location: pt(38.5, 49.0), Count: 1, Members: []uint64{6}, SourceTypes: []string{"patrol"}, Level: "reported"})
	l.incident(tb, entry.Incident{ID: 7, Revision: 1, Status: "open", Category: "drone_strike", From: at(tb, "2025-03-03T00:00:00Z"), To: at(tb, "2025-03-04T00:00:00Z"),
		Location: pt(37.6, 48.1), RadiusM: 2000, Count: 1, Members: []uint64{7}, SourceTypes: []string{"uav"}, Level: "reported"})
	l.verification(tb, "v-1", 7, 1, entry.VerdictVerify, "party:RU")
	l.incident(tb, entry.Incident{ID: 5, Revision: 2, Status: "open", Category: "shelling", From: at(tb, "2025-03-01T12:00:00Z"), To: at(tb, "2025-03-01T12:10:00Z"),
		Location: pt(37.5, 48.0), RadiusM: 600, Count: 3, Members: []uint64{5, 8, 11}, Monitors: 2, SourceTypes: []string{"camera", "patrol"}, Level: "corroborated"})
	l.incident(tb, entry.Incident{ID: 7, Revision: 2, Status: "open", Category: "drone_strike", From: at(tb, "2025-03-03T00:00:00Z"), To: at(tb, "2025-03-04T00:00:00Z"),
		Location: pt(37.6, 48.1), RadiusM: 2000, Count: 1, Members: []uint64{7}, SourceTypes: []string{"uav"}, Level: "verified",
		Verdicts: &entry.Verdicts{Verify: 1}, Attributions: []entry.Attribution{{Party: "party:RU", Count: 1}}})
	l.verification(tb, "v-2", 6, 1, entry.VerdictDispute, "party:UA")
	// B is absorbed by A.
	l.incident(tb, entry.Incident{ID: 6, Revision: 2, Status: "merged", MergedInto: u64(5), Category: "small_arms", From: at(tb, "2025-03-02T10:00:00Z"), To: at(tb, "2025-03-02T10:00:00Z"),
		Location: pt(38.5, 49.0), Count: 1, Members: []uint64{6}, SourceTypes: []string{"patrol"}, Level: "reported",
		Verdicts: &entry.Verdicts{Dispute: 1}, Attributions: []entry.Attribution{{Party: "party:UA", Count: 1}}})
	l.incident(tb, entry.Incident{ID: 5, Revision: 3, Status: "open", Merged: []entry.RevisionRef{{ID: 6, Revision: 2}}, Category: "shelling",
		From: at(tb, "2025-03-01T12:00:00Z"), To: at(tb, "2025-03-02T10:00:00Z"), Location: pt(37.9, 48.4), RadiusM: 90000, Count: 4,
		Members: []uint64{5, 6, 8, 11}, Monitors: 2, SourceTypes: []string{"camera", "patrol"}, Level: "corroborated",
		Verdicts: &entry.Verdicts{Dispute: 1}, Attributions: []entry.Attribution{{Party: "party:UA", Count: 1}}})
	// A second entry claims C's revision 2: the log holds it, so the
	// projection takes it, and it is C's current revision now.
	l.incident(tb, entry.Incident{ID: 7, Revision: 2, Status: "open", Category: "drone_strike", From: at(tb, "2025-03-03T00:00:00Z"), To: at(tb, "2025-03-04T00:00:00Z"),
		Location: pt(37.6, 48.1), RadiusM: 2500, Count: 2, Members: []uint64{7, 10}, SourceTypes: []string{"uav"}, Level: "verified",
		Verdicts: &entry.Verdicts{Verify: 1}, Attributions: []entry.Attribution{{Party: "party:RU", Count: 1}}})
	// D's revision 2 is logged before its revision 1.
	l.incident(tb, entry.Incident{ID: 9, Revision: 2, Status: "open", Category: "shelling", From: at(tb, "2025-03-06T00:00:00Z"), To: at(tb, "2025-03-06T01:00:00Z"),
		Location: pt(30.5, 50.4), Count: 2, Members: []uint64{9, 12}, SourceTypes: []string{"camera"}, Level: "corroborated"})
	l.incident(tb, entry.Incident{ID: 9, Revision: 1, Status: "open", Category: "shelling", From: at(tb, "2025-03-06T00:00:00Z"), To: at(tb, "2025-03-06T00:00:00Z"),
		Location: pt(30.5, 50.4), Count: 1, Members: []uint64{9}, SourceTypes: []string{"camera"}, Level: "reported"})
	// E's times are in +03:00; its span ends 2025-03-07T12:00:00Z.
	l.incident(tb, entry.Incident{ID: 10, Revision: 1, Status: "open", Category: "mine", From: at(tb, "2025-03-07T14:00:00+03:00"), To: at(tb, "2025-03-07T15:00:00+03:00"),
		Location: pt(36.2, 49.9), Count: 1, Members: []uint64{10}, SourceTypes: []string{"patrol"}, Level: "reported"})
	l.verification(tb, "v-3", 9, 1, entry.VerdictReject, "")
	// An incident signed by a monitor: in the log, rejected, not projected.
	stray, _ := json.Marshal(entry.Incident{ID: 12, Revision: 1, Status: "open", Rule: "fusion.v1", Inputs: []entry.Ref{{Index: 12, LeafHash: base64.StdEncoding.EncodeToString(l.recs[12].LeafHash)}},
		Category: "shelling", From: at(tb, "2025-03-01T00:00:00Z"), To: at(tb, "2025-03-01T00:00:00Z"), Location: pt(37, 48), Members: []uint64{12}, Monitors: 1, SourceTypes: []string{}, Level: "reported"})
	l.add(tb, false, entry.KindIncident, string(stray), l.mon)
	return l
}

// currentRows returns the model's current revisions, by incident id.
func (l *incidentLog) currentRows() []node.IncidentRow {
	var out []node.IncidentRow
	for _, r := range l.current {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b node.IncidentRow) int { return int(a.Incident.ID) - int(b.Incident.ID) })
	return out
}

func incidents(tb testing.TB, s *sqlite.Store, f node.IncidentFilter) []node.IncidentRow {
	tb.Helper()
	var got []node.IncidentRow
	if err := s.Incidents(context.Background(), f, func(r node.IncidentRow) error {
		got = append(got, r)
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	return got
}

func TestIncidents(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	l := incidentSample(t)
	apply(t, s, l.recs)
	open := func(r node.IncidentRow) bool { return r.Incident.Status == entry.IncidentOpen }
	tests := []struct {
		name string
		f    node.IncidentFilter
		keep func(node.IncidentRow) bool
	}{
		{"open by default", node.IncidentFilter{}, open},
		{"open", node.IncidentFilter{Status: "open"}, open},
		{"merged", node.IncidentFilter{Status: "merged"}, func(r node.IncidentRow) bool { return r.Incident.Status == entry.IncidentMerged }},
		{"all", node.IncidentFilter{Status: "all"}, func(node.IncidentRow) bool { return true }},
		{"category", node.IncidentFilter{Category: "shelling"}, func(r node.IncidentRow) bool { return open(r) && r.Incident.Category == "shelling" }},
		{"level", node.IncidentFilter{Level: "verified"}, func(r node.IncidentRow) bool { return open(r) && r.Incident.Level == "verified" }},
		{"party", node.IncidentFilter{Party: "party:RU"}, func(r node.IncidentRow) bool { return r.Incident.ID == 7 }},
		{"party of a merged incident", node.IncidentFilter{Party: "party:UA", Status: "merged"}, func(r node.IncidentRow) bool { return r.Incident.ID == 6 }},
		{"party of the absorbing incident", node.IncidentFilter{Party: "party:UA"}, func(r node.IncidentRow) bool { return r.Incident.ID == 5 }},
		{"bbox on the centroid", node.IncidentFilter{BBox: &[4]float64{37.55, 48.05, 38, 48.5}, Status: "all"}, func(r node.IncidentRow) bool {
			return r.Incident.ID == 5 || r.Incident.ID == 7
		}},
		{"span overlaps", node.IncidentFilter{From: at(t, "2025-03-03T12:00:00Z"), To: at(t, "2025-03-03T13:00:00Z")}, func(r node.IncidentRow) bool { return r.Incident.ID == 7 }},
		{"to is exclusive", node.IncidentFilter{From: at(t, "2025-03-05T00:00:00Z"), To: at(t, "2025-03-06T00:00:00Z")}, nil},
		{"from is inclusive of the span's end", node.IncidentFilter{From: at(t, "2025-03-07T12:00:00Z"), To: at(t, "2025-03-08T00:00:00Z")}, func(r node.IncidentRow) bool { return r.Incident.ID == 10 }},
		{"an instant's span", node.IncidentFilter{From: at(t, "2025-03-06T00:00:00Z"), To: at(t, "2025-03-06T00:00:00.000000001Z"), Status: "all"}, func(r node.IncidentRow) bool { return r.Incident.ID == 9 }},
		{"times across zones", node.IncidentFilter{From: at(t, "2025-03-07T11:30:00Z"), To: at(t, "2025-03-07T14:30:00+02:00")}, func(r node.IncidentRow) bool { return r.Incident.ID == 10 }},
		{"everything at once", node.IncidentFilter{From: at(t, "2025-03-01T00:00:00Z"), To: at(t, "2025-03-10T00:00:00Z"), BBox: &[4]float64{-180, -90, 180, 90},
			Category: "drone_strike", Level: "verified", Party: "party:RU", Status: "open"}, func(r node.IncidentRow) bool { return r.Incident.ID == 7 }},
		{"limit", node.IncidentFilter{Limit: 2}, open},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []node.IncidentRow
			for _, r := range l.currentRows() {
				if tt.keep != nil && tt.keep(r) && (tt.f.Limit == 0 || len(want) < tt.f.Limit) {
					want = append(want, r)
				}
			}
			if len(want) == 0 && tt.keep != nil {
				t.Fatal("the case selects nothing; it tests nothing")
			}
			got := incidents(t, s, tt.f)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %d rows, want %d:\n got %+v\nwant %+v", len(got), len(want), got, want)
			}
		})
	}
	t.Run("stops at fn's error", func(t *testing.T) {
		stop := errors.New("stop")
		calls := 0
		err := s.Incidents(ctx, node.IncidentFilter{}, func(node.IncidentRow) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 {
			t.Fatalf("Incidents = %v after %d calls; want stop after 1", err, calls)
		}
	})
	t.Run("unknown status", func(t *testing.T) {
		if err := s.Incidents(ctx, node.IncidentFilter{Status: "closed"}, func(node.IncidentRow) error { return nil }); err == nil {
			t.Fatal("Incidents accepted status closed")
		}
	})
}

func TestIncidentRevisions(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	l := incidentSample(t)
	apply(t, s, l.recs)
	for _, id := range []uint64{5, 6, 7, 9, 10} {
		want := slices.Clone(l.revisions[id])
		slices.SortStableFunc(want, func(a, b node.IncidentRow) int { return a.Incident.Revision - b.Incident.Revision })
		got, err := s.Incident(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Incident(%d) =\n%+v\nwant\n%+v", id, got, want)
		}
	}
	// Revisions logged out of order come back in revision order; the
	// current one is the later entry, whatever its number.
	d, _ := s.Incident(ctx, 9)
	if len(d) != 2 || d[0].Incident.Revision != 1 || d[1].Incident.Revision != 2 || d[0].Index < d[1].Index {
		t.Fatalf("Incident(9) = %+v; want revision 1 (logged later) then revision 2", d)
	}
	if cur := incidents(t, s, node.IncidentFilter{Status: "all", Category: "shelling", BBox: &[4]float64{30, 50, 31, 51}}); len(cur) != 1 || cur[0].Index != d[0].Index {
		t.Fatalf("current revision of incident 9 = %+v; want the one at index %d", cur, d[0].Index)
	}
	// Two entries claiming the same revision: both kept, in log order, and
	// the later is current.
	c, _ := s.Incident(ctx, 7)
	if len(c) != 3 || c[1].Incident.Revision != 2 || c[2].Incident.Revision != 2 || c[1].Index > c[2].Index {
		t.Fatalf("Incident(7) = %+v; want revisions 1, 2, 2 in log order", c)
	}
	if cur := incidents(t, s, node.IncidentFilter{Party: "party:RU"}); len(cur) != 1 || cur[0].Index != c[2].Index || cur[0].Incident.Count != 2 {
		t.Fatalf("current revision of incident 7 = %+v; want the entry at index %d", cur, c[2].Index)
	}
	// After the merge B is merged into A.
	merged := incidents(t, s, node.IncidentFilter{Status: "merged"})
	if len(merged) != 1 || merged[0].Incident.ID != 6 || merged[0].Incident.MergedInto == nil || *merged[0].Incident.MergedInto != 5 {
		t.Fatalf("merged incidents = %+v; want incident 6 merged into 5", merged)
	}
	a, _ := s.Incident(ctx, 5)
	if last := a[len(a)-1].Incident; last.Revision != 3 || !reflect.DeepEqual(last.Merged, []entry.RevisionRef{{ID: 6, Revision: 2}}) {
		t.Fatalf("incident 5's last revision = %+v; want revision 3 absorbing 6", last)
	}
	// The rejected incident and unknown ids have no revisions.
	for _, id := range []uint64{12, 999} {
		if got, err := s.Incident(ctx, id); err != nil || len(got) != 0 {
			t.Errorf("Incident(%d) = %+v, %v; want none", id, got, err)
		}
	}
	// Times come back as the entry states them.
	e, _ := s.Incident(ctx, 10)
	if _, off := e[0].Incident.From.Zone(); off != 3*3600 {
		t.Errorf("incident 10 from = %v; want its +03:00 offset kept", e[0].Incident.From)
	}
}

func TestVerifications(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	l := incidentSample(t)
	apply(t, s, l.recs)
	pick := func(ids ...uint64) []node.VerificationRow {
		var out []node.VerificationRow
		for _, v := range l.ver {
			if slices.Contains(ids, v.Verification.Incident) {
				out = append(out, v)
			}
		}
		return out
	}
	for _, ids := range [][]uint64{{7}, {6}, {7, 6}, {6, 7, 9, 7}, {5}, {999}, nil} {
		got, err := s.Verifications(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		if want := pick(ids...); !reflect.DeepEqual(got, want) {
			t.Errorf("Verifications(%v) =\n%+v\nwant\n%+v", ids, got, want)
		}
	}
	got, _ := s.Verifications(ctx, []uint64{6, 7, 9})
	if len(got) != 3 || got[0].Index > got[1].Index || got[1].Index > got[2].Index || got[0].Signer != l.analyst.ID {
		t.Fatalf("Verifications = %+v; want 3 in log order signed by %s", got, l.analyst.ID)
	}
}

// section returns the rows of one table in an export.
func section(export []byte, table string) []string {
	var out []string
	in := false
	for _, line := range strings.Split(strings.TrimSuffix(string(export), "\n"), "\n") {
		if strings.HasPrefix(line, "# ") {
			in = strings.HasPrefix(line, "# "+table+" (")
			continue
		}
		if in {
			out = append(out, line)
		}
	}
	return out
}

func TestIncidentExport(t *testing.T) {
	l := incidentSample(t)
	var exports [][]byte
	for _, size := range []int{len(l.recs), 5, 1} {
		s := open(t)
		for i := 0; i < len(l.recs); i += size {
			apply(t, s, l.recs[i:min(i+size, len(l.recs))])
		}
		exports = append(exports, export(t, s))
	}
	for i, e := range exports[1:] {
		if !bytes.Equal(e, exports[0]) {
			t.Fatalf("export %d differs from export 0:\n%s\n---\n%s", i+1, e, exports[0])
		}
	}
	e := exports[0]
	revs := 0
	for _, rs := range l.revisions {
		revs += len(rs)
	}
	for table, want := range map[string]int{"incidents": revs, "incident_current": len(l.current), "verifications": len(l.ver)} {
		if got := len(section(e, table)); got != want {
			t.Errorf("export has %d %s rows, want %d", got, table, want)
		}
	}
	// Members and parties are the current revisions'.
	var members, parties []string
	for _, r := range l.currentRows() {
		for _, m := range r.Incident.Members {
			members = append(members, fmt.Sprintf("%d\t%d", r.Incident.ID, m))
		}
		for _, a := range r.Incident.Attributions {
			parties = append(parties, fmt.Sprintf("%d\t%q", r.Incident.ID, a.Party))
		}
	}
	if got := section(e, "incident_members"); !slices.Equal(got, members) {
		t.Errorf("incident_members = %q, want %q", got, members)
	}
	if got := section(e, "incident_parties"); !slices.Equal(got, parties) {
		t.Errorf("incident_parties = %q, want %q", got, parties)
	}
	if cur := section(e, "incident_current"); !strings.Contains(strings.Join(cur, "\n"), "6\t") || !strings.Contains(cur[1], `"merged"`) {
		t.Errorf("incident_current = %q; want incident 6 merged", cur)
	}

	// A projection rebuilt from the log in one go equals one that was
	// reopened half-way.
	path := t.TempDir() + "/p.db"
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	half := len(l.recs) / 2
	apply(t, s, l.recs[:half])
	s.Close()
	if s, err = sqlite.Open(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	apply(t, s, l.recs[half:])
	if !bytes.Equal(export(t, s), e) {
		t.Fatal("a projection continued after reopening differs from one built in one go")
	}
}

func TestApplyRefusesWrongIncidentBodies(t *testing.T) {
	ctx := context.Background()
	l := incidentSample(t)
	var inc, ver, obs node.Record
	for _, r := range l.recs {
		switch {
		case r.Rejected != "":
		case r.Kind == entry.KindIncident && inc.Raw == nil:
			inc = r
		case r.Kind == entry.KindVerification && ver.Raw == nil:
			ver = r
		case r.Kind == entry.KindObservation && obs.Raw == nil:
			obs = r
		}
	}
	s := open(t)
	apply(t, s, l.recs[:inc.Index])
	before := export(t, s)
	with := func(r node.Record, body any) node.Record {
		r.Index = inc.Index
		r.Body = body
		return r
	}
	tests := []struct {
		name string
		rec  node.Record
	}{
		{"incident without a body", with(inc, nil)},
		{"incident with an observation body", with(inc, obs.Body)},
		{"incident with a verification body", with(inc, ver.Body)},
		{"incident body by value", with(inc, *inc.Body.(*entry.Incident))},
		{"verification without a body", with(ver, nil)},
		{"verification with an incident body", with(ver, inc.Body)},
		{"observation with an incident body", with(obs, inc.Body)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Apply(ctx, []node.Record{tt.rec}); err == nil {
				t.Fatal("Apply succeeded")
			}
			if after := export(t, s); !bytes.Equal(after, before) {
				t.Fatal("a refused batch changed the projection")
			}
		})
	}
	apply(t, s, l.recs[inc.Index:])
}

// TestMigrationBackfillsIncidents opens a projection made before the
// incident tables existed, whose incident and verification entries are in
// entries only: the migration must project them, so that it equals a
// projection rebuilt from the log.
func TestMigrationBackfillsIncidents(t *testing.T) {
	ctx := context.Background()
	l := incidentSample(t)
	ref := open(t)
	apply(t, ref, l.recs)
	want := export(t, ref)

	path := t.TempDir() + "/p.db"
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, s, l.recs)
	s.Close()
	downgrade(t, path, 1)
	if s, err = sqlite.Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := export(t, s); !bytes.Equal(got, want) {
		t.Fatalf("migrated projection differs from a rebuilt one:\n%s\n---\n%s", got, want)
	}
}
