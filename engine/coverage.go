package engine

import (
	"math"
	"slices"
	"time"

	"github.com/guarantor/guarantor/entry"
)

// pledge takes a pledge by a contributing state into the coalition's
// state and logs the agreement's coverage for the month.
func (e *Engine) pledge(in Input, p *entry.Pledge) error {
	who := e.signerRole(in)
	if who == "" {
		return nil
	}
	e.coalition.Pledge(who, *p)
	return e.coverage(in, p.Agreement)
}

// deploy applies a deployment report to the contributor's own pledge
// (a report on someone else's, or on no pledge, has no effect) and logs
// the coverage of the pledge's agreement.
func (e *Engine) deploy(in Input, d *entry.Deployment) error {
	who := e.signerRole(in)
	agreement, ok := e.coalition.Agreement(who, d.Pledge)
	if who == "" || !ok {
		return nil
	}
	if err := e.coalition.Deploy(who, *d); err != nil {
		return nil
	}
	return e.coverage(in, agreement)
}

// HasPledge reports whether the contributor (a role) has made the pledge.
func (e *Engine) HasPledge(contributor, id string) bool {
	_, ok := e.coalition.Agreement(contributor, id)
	return ok
}

func (e *Engine) signerRole(in Input) string {
	if len(in.Signers) == 0 {
		return ""
	}
	return e.roles[in.Signers[0]]
}

// coverage logs the coverage of an agreement with a coalition as it
// stands at the engine's clock, labelled with its month, under the
// version in force then.
func (e *Engine) coverage(in Input, id string) error {
	now := time.Unix(e.now, 0).UTC()
	var av *agreementVersion
	for _, v := range e.inForce(now) {
		if v.c.Doc.ID == id {
			av = v
		}
	}
	if av == nil || av.c.Doc.Coalition == "" {
		return nil
	}
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	cov := entry.Coverage{Seq: e.seq, Agreement: id, Version: av.c.Doc.Version, At: now, Month: start.Format("2006-01"), Inputs: []entry.Ref{ref(in)}}
	cov.Cells = []entry.CoverageCell{}
	for _, c := range e.coalition.CoverageAt(av.c.Doc, now) {
		cell := entry.CoverageCell{Sector: c.Sector, Capability: c.Capability, Required: c.Required, Pledged: c.Pledged, Deployed: c.Deployed, Confirmed: c.Confirmed}
		if c.Deployed < c.Required {
			cell.Shortfall = c.Required - c.Deployed
		}
		cov.Cells = append(cov.Cells, cell)
	}
	cov.Ratios = []entry.CoverageRatio{}
	for _, r := range e.coalition.Ratios(av.c.Doc, now) {
		cov.Ratios = append(cov.Ratios, entry.CoverageRatio{Contributor: r.Contributor, Pledged: r.Pledged, Deployed: r.Deployed})
	}
	cov.Support = e.coalition.Support(av.c.Doc, now)
	ids := make([]uint64, 0, len(e.obligations))
	for oid, o := range e.obligations {
		if o.body.Agreement == id && o.body.Status == entry.ObligationOpen && len(o.needs) > 0 {
			ids = append(ids, oid)
		}
	}
	slices.Sort(ids)
	for _, oid := range ids {
		for _, need := range e.obligations[oid].needs {
			cov.Obligations = append(cov.Obligations, e.coalition.Link(av.c.Doc, need, now))
		}
	}
	return e.emitBody(entry.KindCoverage, cov)
}

// confirm takes a monitor's sighting of a coalition deployment and logs
// the coverage of its pledge's agreement; a sighting of a report that
// does not exist, or is not something in place, has no effect.
func (e *Engine) confirm(in Input, b *entry.Observation) error {
	c := b.Confirms // the registry lets only the mission's keys sign observations
	agreement, ok := e.coalition.DeploymentAgreement(c.Contributor, c.Deployment)
	if !ok || e.coalition.Confirm(c.Contributor, c.Deployment, b.ObservedAt, c.Quantity) != nil {
		return nil
	}
	return e.coverage(in, agreement)
}

// CheckSighting says why a monitor's sighting at at of a contributor's
// deployment report would confirm nothing, or returns nil.
func (e *Engine) CheckSighting(contributor, id string, at time.Time) error {
	return e.coalition.CheckSighting(contributor, id, at)
}

// newMonth logs, when a tick starts a month, the coverage of every
// agreement with a coalition, in id order.
func (e *Engine) newMonth(in Input, before int64) error {
	if before == math.MinInt64 || before == e.now {
		return nil
	}
	b, n := time.Unix(before, 0).UTC(), time.Unix(e.now, 0).UTC()
	if b.Year() == n.Year() && b.Month() == n.Month() {
		return nil
	}
	for _, av := range e.inForce(n) {
		if av.c.Doc.Coalition != "" {
			if err := e.coverage(in, av.c.Doc.ID); err != nil {
				return err
			}
		}
	}
	return nil
}
