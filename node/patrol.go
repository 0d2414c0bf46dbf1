package node

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/engine/agreement"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/registry"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// MissionMarginKM is how far outside every zone of its agreement a patrol
// may go: a track or plan point farther than this from the mission's area
// is refused (a GPS fault, or a team that was not where it says).
const MissionMarginKM = 5

// checkPatrol applies to patrol plans and reports the rules that need
// the log: a plan names a logged agreement, zones of it and registered
// team members, and stays within the mission's area; a report names a
// logged plan, is signed by members of its team only, stays within the
// area, and cites observations its team logged (restrictions: of
// category movement_restriction).
func (n *Node) checkPatrol(ctx context.Context, body any, signers []*registry.Key) error {
	switch b := body.(type) {
	case *entry.PatrolPlan:
		c, err := n.LatestAgreement(ctx, b.Agreement)
		if err != nil {
			return err
		}
		for i, z := range b.Zones {
			if !slices.ContainsFunc(c.Doc.Zones, func(x entry.Zone) bool { return x.ID == z }) {
				return guarantor.Errorf(guarantor.EInvalid, fmt.Sprintf("/zones/%d", i), "zone %q is not a zone of agreement %s", z, b.Agreement)
			}
		}
		bad := -1
		n.regMu.RLock()
		for i, m := range b.Members {
			k, ok := n.reg.Key(m)
			if bad < 0 && (!ok || (k.Role != guarantor.RoleMonitor && k.Role != guarantor.RoleSensor)) {
				bad = i
			}
		}
		n.regMu.RUnlock()
		if bad >= 0 {
			return guarantor.Errorf(guarantor.EInvalid, fmt.Sprintf("/members/%d", bad), "member %s is not a registered monitor or sensor key (name+hash)", b.Members[bad])
		}
		for _, k := range signers {
			if k.Role == guarantor.RoleMonitor && !slices.Contains(b.Members, k.ID) {
				return guarantor.Errorf(guarantor.EForbidden, "signature", "monitor key %s is not in team %s; a plan is signed by an operator or by one of its members", k.ID, b.Team)
			}
		}
		if len(b.Route) > 0 {
			return checkInArea(c, b.Route, "/route")
		}
		return checkInArea(c, b.Area, "/area")
	case *entry.PatrolReport:
		var plan *entry.PatrolPlan
		if err := n.store.PatrolEntries(ctx, PatrolFilter{Kind: entry.KindPatrolPlan, ID: b.Plan}, func(r Record) error {
			plan = r.Body.(*entry.PatrolPlan)
			return nil
		}); err != nil {
			return fmt.Errorf("node: look up plan %s: %w", b.Plan, err)
		}
		if plan == nil {
			return guarantor.Errorf(guarantor.EInvalid, "/plan", "no patrol plan %q is logged", b.Plan)
		}
		for _, k := range signers {
			if !slices.Contains(plan.Members, k.ID) {
				return guarantor.Errorf(guarantor.EForbidden, "signature", "key %s is not in team %s of plan %s (%s); only its members sign its reports", k.ID, plan.Team, plan.ID, strings.Join(plan.Members, ", "))
			}
		}
		if len(b.Track) > 0 {
			c, err := n.LatestAgreement(ctx, plan.Agreement)
			if err != nil {
				return err
			}
			if err := checkInArea(c, b.Track, "/track"); err != nil {
				return err
			}
		}
		if plan.Means == "camera" && len(b.Track) > 0 {
			return guarantor.Errorf(guarantor.EInvalid, "/track", "plan %s is a fixed camera's: it reports up intervals, not a track", plan.ID)
		}
		for i, id := range b.Observations {
			if err := n.teamObservation(ctx, plan, id, ""); err != nil {
				return guarantor.Errorf(guarantor.EInvalid, fmt.Sprintf("/observations/%d", i), "%v", err)
			}
		}
		for i, r := range b.Restrictions {
			if err := n.teamObservation(ctx, plan, r.Observation, "movement_restriction"); err != nil {
				return guarantor.Errorf(guarantor.EInvalid, fmt.Sprintf("/restrictions/%d/observation", i), "%v", err)
			}
		}
	}
	return nil
}

// teamObservation checks that a member of the plan's team logged the
// observation id, of the given category when not "".
func (n *Node) teamObservation(ctx context.Context, plan *entry.PatrolPlan, id, category string) error {
	for _, m := range plan.Members {
		idx, _, ok, err := n.store.ObservationByID(ctx, m, id)
		if err != nil {
			return fmt.Errorf("look up observation %s: %w", id, err)
		}
		if !ok {
			continue
		}
		if category == "" {
			return nil
		}
		rec, ok, err := n.store.Entry(ctx, idx)
		if err != nil || !ok {
			return fmt.Errorf("read observation %s: %v", id, err)
		}
		if o, _ := rec.Body.(*entry.Observation); o == nil || o.Category != category {
			return fmt.Errorf("observation %s is not of category %s", id, category)
		}
		return nil
	}
	return fmt.Errorf("no member of team %s logged an observation %q (log it first)", plan.Team, id)
}

// LatestAgreement returns the latest logged version of an agreement,
// compiled once and shared: use its geometry (InZone, ZoneKM,
// DistanceKM), not Eval, which keeps per-call state. An unknown id is an
// invalid-input error naming /agreement.
func (n *Node) LatestAgreement(ctx context.Context, id string) (*agreement.Compiled, error) {
	rows, err := n.store.Agreements(ctx)
	if err != nil {
		return nil, fmt.Errorf("node: read agreements: %w", err)
	}
	var row *AgreementRow
	for i := range rows {
		if r := &rows[i]; r.Agreement.ID == id && (row == nil || r.Agreement.Version > row.Agreement.Version) {
			row = r
		}
	}
	if row == nil {
		return nil, guarantor.Errorf(guarantor.EInvalid, "/agreement", "no agreement %q is logged", id)
	}
	// A logged version never changes: compile each once (CEL and the
	// zones' geometry), not on every patrol entry or zone query.
	n.compiledMu.Lock()
	defer n.compiledMu.Unlock()
	if c := n.compiled[row.Index]; c != nil {
		return c, nil
	}
	c, err := agreement.Compile(&row.Agreement)
	if err != nil {
		return nil, fmt.Errorf("node: compile agreement %s: %w", id, err)
	}
	if n.compiled == nil {
		n.compiled = map[uint64]*agreement.Compiled{}
	}
	n.compiled[row.Index] = c
	return c, nil
}

// checkInArea refuses geometry with a point farther than MissionMarginKM
// from every zone of the agreement, naming the point.
func checkInArea(c *agreement.Compiled, raw json.RawMessage, ptr string) error {
	g, err := geojson.UnmarshalGeometry(raw)
	if err != nil {
		return guarantor.Errorf(guarantor.EInvalid, ptr, "not GeoJSON geometry: %v", err)
	}
	var pts []orb.Point
	prefix := ptr + "/coordinates"
	switch x := g.Geometry().(type) {
	case orb.LineString:
		pts = x
	case orb.Polygon:
		if len(x) > 0 {
			pts, prefix = x[0], ptr+"/coordinates/0"
		}
	}
	if len(c.Doc.Zones) == 0 {
		return nil
	}
	for i, p := range pts {
		best := -1.0
		for _, z := range c.Doc.Zones {
			if d := c.ZoneKM(p[0], p[1], z.ID); d >= 0 && (best < 0 || d < best) {
				best = d
			}
		}
		if best > MissionMarginKM {
			return guarantor.Errorf(guarantor.EInvalid, fmt.Sprintf("%s/%d", prefix, i), "point (%g, %g) lies %.1f km outside the mission's area (the zones of agreement %s; %d km allowed)", p[0], p[1], best, c.Doc.ID, MissionMarginKM)
		}
	}
	return nil
}
