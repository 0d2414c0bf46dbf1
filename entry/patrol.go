package entry

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/guarantor/guarantor"
)

// The monitoring mission's patrols (issue 11): where a team meant to go,
// where it went, what it saw and where it was stopped.
const (
	// KindPatrolPlan is a patrol's plan, signed by an operator or the
	// team's lead (a monitor key of the team).
	KindPatrolPlan Kind = "patrol-plan"
	// KindPatrolReport is what a patrol did, signed by monitor keys of its
	// team.
	KindPatrolReport Kind = "patrol-report"
)

// Patrol means: a team on foot or in vehicles, a UAV flight, or a fixed
// camera, whose field of view covers its area while it reports up.
var PatrolMeans = []string{"foot", "vehicle", "uav", "camera"}

// Patrol outcomes.
const (
	PatrolCompleted  = "completed"
	PatrolPartial    = "partial"
	PatrolCancelled  = "cancelled"
	PatrolRestricted = "restricted"
)

// PatrolTrackTolerance is the tolerance, in metres, to which a report's
// track is simplified before it is signed (Douglas–Peucker on a local
// projection, see package patrol): GPS fixes every few seconds would
// otherwise fill the log with points a map cannot show.
const PatrolTrackTolerance = 25

// PatrolPlan is the body of a patrol-plan entry.
type PatrolPlan struct {
	ID        string    `json:"id"`
	At        time.Time `json:"at"`
	Agreement string    `json:"agreement"`
	Team      string    `json:"team"`
	// Members are the key ids (name+hash) of the monitors, sensors or
	// cameras of the team: only they may sign its reports.
	Members  []string `json:"members"`
	Means    string   `json:"means"`
	Vehicles []string `json:"vehicles,omitempty"`
	// Route (a LineString) or Area (a Polygon: for a camera, its field of
	// view) is where the patrol is to go.
	Route   json.RawMessage `json:"route,omitempty"`
	Area    json.RawMessage `json:"area,omitempty"`
	From    time.Time       `json:"from"`
	To      time.Time       `json:"to"`
	Purpose string          `json:"purpose,omitempty"`
	Zones   []string        `json:"zones,omitempty"`
}

// PatrolReport is the body of a patrol-report entry.
type PatrolReport struct {
	ID      string    `json:"id"`
	At      time.Time `json:"at"`
	Plan    string    `json:"plan"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Outcome string    `json:"outcome"`
	// Reason says why a patrol was cancelled or only partly done:
	// security, weather, technical, restriction.
	Reason string `json:"reason,omitempty"`
	// Track is the route actually taken (a LineString, simplified to
	// SimplifiedM metres); a camera reports none.
	Track       json.RawMessage `json:"track,omitempty"`
	SimplifiedM float64         `json:"simplified_m,omitempty"`
	// Up lists, for a camera, the intervals its heartbeats show it
	// working; the gaps between them are outages.
	Up []Interval `json:"up,omitempty"`
	// Observations are the ids of the observations the patrol's members
	// logged during it.
	Observations []string `json:"observations,omitempty"`
	// Restrictions are the places where the patrol was stopped; each is
	// also logged as an observation of category movement_restriction (its
	// id in Observation) so that triggers count it.
	Restrictions []Restriction `json:"restrictions,omitempty"`
	Text         string        `json:"text,omitempty"`
}

// Interval is a span of time.
type Interval struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Restriction is one denial of the mission's freedom of movement.
type Restriction struct {
	Observation string    `json:"observation"`
	At          time.Time `json:"at"`
	Location    Point     `json:"location"`
	// By is who or what stopped the patrol: party (a party's forces),
	// checkpoint, armed_persons, mines, uav_jamming, other.
	By string `json:"by"`
	// Party is the party held responsible, if any (e.g. RU).
	Party     string `json:"party,omitempty"`
	DurationM int    `json:"duration_min,omitempty"`
}

// check requires the plan's window to run forwards and exactly one of
// route and area.
func (b *PatrolPlan) check() error {
	if !b.To.After(b.From) {
		return guarantor.Errorf(guarantor.EInvalid, "/to", "the plan's window ends (%s) before it starts (%s)", b.To.Format(time.RFC3339), b.From.Format(time.RFC3339))
	}
	if (len(b.Route) == 0) == (len(b.Area) == 0) {
		return guarantor.Errorf(guarantor.EInvalid, "/route", "a plan gives either a route (LineString) or an area (Polygon), not %s", map[bool]string{true: "both", false: "neither"}[len(b.Route) > 0])
	}
	return nil
}

// check requires the report's span to run forwards, a reason where the
// outcome needs one, a restriction on a restricted patrol, and intervals
// that run forwards.
func (b *PatrolReport) check() error {
	if b.End.Before(b.Start) {
		return guarantor.Errorf(guarantor.EInvalid, "/end", "the patrol ends (%s) before it starts (%s)", b.End.Format(time.RFC3339), b.Start.Format(time.RFC3339))
	}
	if (b.Outcome == PatrolCancelled || b.Outcome == PatrolPartial) && b.Reason == "" {
		return guarantor.Errorf(guarantor.EInvalid, "/reason", "a %s patrol says why (security, weather, technical or restriction)", b.Outcome)
	}
	if b.Outcome == PatrolRestricted && len(b.Restrictions) == 0 {
		return guarantor.Errorf(guarantor.EInvalid, "/restrictions", "a restricted patrol lists where it was stopped")
	}
	for i, u := range b.Up {
		if !u.To.After(u.From) {
			return guarantor.Errorf(guarantor.EInvalid, fmt.Sprintf("/up/%d/to", i), "the interval ends before it starts")
		}
	}
	return nil
}
