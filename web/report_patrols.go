package web

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/guarantor/guarantor/engine/agreement"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/patrol"
)

// PatrolDay is what the mission's patrols did on a report's day and how
// freely they could move. Its restriction, outage and coverage figures
// are those of GET /v1/patrols/coverage?agreement={id}&from={day}&to={next
// day} with the API's default distance and gap days.
type PatrolDay struct {
	// Planned counts the patrol plans whose window starts on the day
	// (fixed cameras and UAV flights are patrols too); each is counted
	// again under the outcome of its latest report (log order), or as
	// Unreported while it has none, so that the five add up to Planned.
	Planned    int `json:"planned"`
	Completed  int `json:"completed"`
	Partial    int `json:"partial"`
	Cancelled  int `json:"cancelled"`
	Restricted int `json:"restricted"`
	Unreported int `json:"unreported"`
	// Restrictions counts the restrictions of the mission's movement
	// whose time lies in the day.
	Restrictions RestrictionDay `json:"restrictions"`
	// OutageHours adds up the cameras' outages within the day, in hours;
	// Outages lists them, each cut to the day.
	OutageHours float64        `json:"camera_outage_hours"`
	Outages     []CameraOutage `json:"camera_outages"`
	// Coverage is the day's coverage of the patrol areas and lines of
	// each agreement in force on the day, by id, measured against the
	// agreement's latest version as the API measures it; an agreement
	// without patrol areas or lines is left out.
	Coverage []AgreementPatrols `json:"coverage"`
	// Query lists the day's patrols in the API.
	Query string `json:"query"`
}

// RestrictionDay counts a day's restrictions, in all and by the party
// held responsible and by who stopped the patrol (sorted by key, the
// empty key, none named, first), with their durations in minutes.
type RestrictionDay struct {
	Total       int            `json:"total"`
	DurationMin float64        `json:"duration_min"`
	ByParty     []patrol.Count `json:"by_party"`
	ByWhom      []patrol.Count `json:"by_whom"`
}

// CameraOutage is a span of a day when a camera did not work, from its
// report's up intervals.
type CameraOutage struct {
	Plan   string    `json:"plan"`
	Team   string    `json:"team"`
	Report string    `json:"report"`
	Index  uint64    `json:"index"` // the report's log index
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Hours  float64   `json:"hours"`
}

// AgreementPatrols is the day's patrol coverage of one agreement's
// patrol areas and lines.
type AgreementPatrols struct {
	Agreement string  `json:"agreement"`
	Version   int     `json:"version"`
	DistanceM float64 `json:"distance_m"`
	GapDays   int     `json:"gap_days"`
	// Zones are the agreement's patrol areas, then its lines.
	Zones []ZonePatrols `json:"zones"`
	// Query is the API request that answers the same figures.
	Query string `json:"query"`
}

// ZonePatrols is the day's coverage of one patrol area or line: the
// fields of package patrol's Coverage (share, samples, covered, lengths
// and areas), the tracks active on the day that covered some of it, the
// cameras up on the day that see some of it with their hours, the share
// not visited for more than GapDays days as of the day's end, and the
// day's restrictions in it.
type ZonePatrols struct {
	Zone  string `json:"zone"`
	Title string `json:"title"`
	patrol.Coverage
	Tracks       []string                `json:"tracks"`
	Footprints   []patrol.FootprintHours `json:"footprints"`
	StaleShare   float64                 `json:"stale_share"`
	Restrictions int                     `json:"restrictions"`
}

// patrolDay computes a day's PatrolDay from the patrols logged up to its
// end, as GET /v1/patrols/coverage reads them. inForce are the
// agreements in force on the day; rows every agreement entry.
func (h *handler) patrolDay(ctx context.Context, rows []node.AgreementRow, inForce []*agreement.Compiled, from, to time.Time, server string) (PatrolDay, error) {
	pd := PatrolDay{Outages: []CameraOutage{}, Coverage: []AgreementPatrols{}}
	day := dayQuery(from, to)
	pd.Query = server + "/v1/patrols?" + day.Encode()
	ps, err := h.loadPatrols(ctx, node.PatrolFilter{To: to})
	if err != nil {
		return pd, err
	}
	for _, p := range ps {
		if p.Plan.From.Before(from) || !p.Plan.From.Before(to) {
			continue
		}
		pd.Planned++
		if len(p.Reports) == 0 {
			pd.Unreported++
			continue
		}
		switch p.Reports[len(p.Reports)-1].Outcome {
		case entry.PatrolCompleted:
			pd.Completed++
		case entry.PatrolPartial:
			pd.Partial++
		case entry.PatrolCancelled:
			pd.Cancelled++
		case entry.PatrolRestricted:
			pd.Restricted++
		}
	}

	tracks, fps, rs, outages := patrolSources(ps)
	periods := patrol.Days(from, to)
	t := patrol.RestrictionCounts(rs, nil, nil, periods)[0]
	pd.Restrictions = RestrictionDay{Total: t.Total, DurationMin: t.DurationMin, ByParty: t.ByParty, ByWhom: t.ByWhom}
	var down time.Duration
	for _, o := range outages {
		s, e := o.From, o.To
		if s.Before(from) {
			s = from
		}
		if e.After(to) {
			e = to
		}
		if !e.After(s) {
			continue
		}
		down += e.Sub(s)
		pd.Outages = append(pd.Outages, CameraOutage{Plan: o.Plan, Team: o.Team, Report: o.Report, Index: o.Index, From: s, To: e, Hours: e.Sub(s).Hours()})
	}
	pd.OutageHours = down.Hours()

	recent := recentTracks(tracks, to, PatrolGapDays)
	for _, c := range inForce {
		row := latestVersion(rows, c.Doc.ID)
		if row == nil {
			continue
		}
		latest, err := h.compile(row)
		if err != nil {
			return pd, err
		}
		zones := patrolZones(latest)
		if len(zones) == 0 {
			continue
		}
		pz := make([]patrol.Zone, len(zones))
		ids := make([]string, len(zones))
		for i, z := range zones {
			pz[i], ids[i] = z.Zone, z.ID
		}
		survey, err := patrol.NewSurvey(pz, recent, fps, patrol.Params{DistanceM: PatrolDistanceM})
		if err != nil {
			return pd, fmt.Errorf("patrol coverage of agreement %s: %w", latest.Doc.ID, err)
		}
		cov := survey.Coverage(periods)
		gaps := survey.Gaps(to, PatrolGapDays)
		inZone := patrol.RestrictionCounts(rs, ids, latest.InZone, periods)[0].ByZone
		q := url.Values{"agreement": {latest.Doc.ID}, "from": day["from"], "to": day["to"]}
		ap := AgreementPatrols{Agreement: latest.Doc.ID, Version: latest.Doc.Version, DistanceM: PatrolDistanceM, GapDays: PatrolGapDays,
			Query: server + "/v1/patrols/coverage?" + q.Encode()}
		for i, z := range zones {
			zp := ZonePatrols{Zone: z.ID, Title: z.Title, Coverage: cov[i].Coverage, Tracks: cov[i].Tracks, Footprints: []patrol.FootprintHours{},
				StaleShare: gaps[i].Share, Restrictions: inZone[i].Count}
			for _, f := range cov[i].Footprints {
				if f.UpHours > 0 {
					zp.Footprints = append(zp.Footprints, f)
				}
			}
			ap.Zones = append(ap.Zones, zp)
		}
		pd.Coverage = append(pd.Coverage, ap)
	}
	return pd, nil
}
