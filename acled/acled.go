// Package acled reads event data exported from the Armed Conflict Location
// & Event Data Project (ACLED) as CSV, one event at a time, and maps each
// event to a guarantor observation. ACLED's terms of use apply to its
// data; guarantor ships none.
package acled

import (
	"fmt"
	"io"
	"time"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/eventcsv"
)

// Event is one ACLED event (the columns guarantor uses).
type Event struct {
	Line              int // line in the file where the row starts
	EventIDCnty       string
	EventDate         time.Time
	EventType         string
	SubEventType      string
	Actor1, Actor2    string
	Admin1, Location  string
	Latitude          float64
	Longitude         float64
	GeoPrecision      int // 1 the named place, 2 near it or part of a region, 3 a larger region
	Source            string
	Notes             string
	Fatalities        int
	CivilianTargeting bool
}

// RowError reports a row that cannot be read; the Reader continues.
type RowError = eventcsv.RowError

var required = []string{
	"event_id_cnty", "event_date", "event_type", "sub_event_type", "actor1", "actor2",
	"latitude", "longitude", "geo_precision", "notes", "fatalities",
}

// Reader streams ACLED events with constant memory.
type Reader struct {
	rows *eventcsv.Reader
}

// NewReader reads and checks the header.
func NewReader(r io.Reader) (*Reader, error) {
	rows, err := eventcsv.NewReader(r, "ACLED", required)
	if err != nil {
		return nil, err
	}
	return &Reader{rows: rows}, nil
}

// dateLayouts: ACLED's API and recent exports use ISO dates; older
// exports wrote "15 February 2022".
var dateLayouts = []string{"2006-01-02", "2 January 2006", "02 January 2006"}

// Next returns the next event, io.EOF at the end, or a *RowError.
func (r *Reader) Next() (*Event, error) {
	p, err := r.rows.Next()
	if err != nil {
		return nil, err
	}
	ev := &Event{
		Line:              p.Line,
		EventIDCnty:       p.Str("event_id_cnty"),
		EventDate:         p.Date("event_date", "2022-02-15 or 15 February 2022", dateLayouts...),
		EventType:         p.Str("event_type"),
		SubEventType:      p.Str("sub_event_type"),
		Actor1:            p.Str("actor1"),
		Actor2:            p.Str("actor2"),
		Admin1:            p.Str("admin1"),
		Location:          p.Str("location"),
		Latitude:          p.Float("latitude", -90, 90),
		Longitude:         p.Float("longitude", -180, 180),
		GeoPrecision:      p.Int("geo_precision"),
		Source:            p.Str("source"),
		Notes:             p.Str("notes"),
		Fatalities:        p.Int("fatalities"),
		CivilianTargeting: p.Str("civilian_targeting") != "",
	}
	if ev.EventIDCnty == "" {
		p.Fail("event_id_cnty", fmt.Errorf("is empty"))
	}
	if ev.GeoPrecision < 1 || ev.GeoPrecision > 3 {
		p.Fail("geo_precision", fmt.Errorf("%d is not a precision code 1-3", ev.GeoPrecision))
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return ev, nil
}

// accuracy is the radius in metres assumed for each geo_precision code:
// 1 the named town (2 km), 2 near it or a part of a region (25 km), 3 a
// larger region, often its capital standing for it (100 km).
var accuracy = [4]float64{0, 2000, 25000, 100000}

// Category maps the sub-event type (and, where it tells, the notes) to an
// observation category, after the table in shared/DOMAIN.md §5.
func (e *Event) Category() string {
	n := e.Notes
	switch e.SubEventType {
	case "Armed clash":
		if eventcsv.HasWord(n, "artillery", "mortar", "shell") {
			return "shelling"
		}
		return "small_arms"
	case "Government regains territory", "Non-state actor overtakes territory", "Non-violent transfer of territory", "Change to group/activity":
		return "troop_movement"
	case "Shelling/artillery/missile attack":
		if eventcsv.HasWord(n, "missile", "iskander", "kalibr", "ballistic", "cruise") {
			return "missile_strike"
		}
		return "shelling"
	case "Air/drone strike":
		if eventcsv.HasWord(n, "drone", "uav", "shahed", "fpv", "lancet") {
			return "drone_strike"
		}
		return "air_strike"
	case "Remote explosive/landmine/IED", "Disrupted weapons use":
		return "mine"
	case "Grenade", "Suicide bomb":
		if eventcsv.HasWord(n, "drone", "uav", "fpv") {
			return "drone_strike"
		}
		return "explosion_heard"
	case "Attack":
		return "civilian_casualty"
	case "Looting/property destruction":
		return "infrastructure_damage"
	case "Headquarters or base established":
		if eventcsv.HasWord(n, "tank", "armour", "armor", "artillery", "howitzer", "mlrs") {
			return "heavy_weapon_sighting"
		}
		return "troop_movement"
	}
	if e.CivilianTargeting && e.Fatalities > 0 {
		return "civilian_casualty"
	}
	return "other"
}

// Observation maps the event to an observation body: id "acled-<id>", at
// its date and coordinates, accuracy from geo_precision, fatalities as
// the count (left out when 0), the ACLED id kept so the mapping is
// reversible.
func (e *Event) Observation() entry.Observation {
	acc := accuracy[max(1, min(3, e.GeoPrecision))]
	var count *int
	if e.Fatalities > 0 {
		count = &e.Fatalities
	}
	text := fmt.Sprintf("ACLED event %s: %s / %s; %s", e.EventIDCnty, e.EventType, e.SubEventType, e.Actor1)
	if e.Actor2 != "" {
		text += " vs " + e.Actor2
	}
	if e.Location != "" {
		text += "; " + e.Location
	}
	if e.Notes != "" {
		text += ". " + e.Notes
	}
	return entry.Observation{
		ID:         "acled-" + e.EventIDCnty,
		ObservedAt: e.EventDate,
		Location:   entry.Point{Type: "Point", Coordinates: [2]float64{e.Longitude, e.Latitude}},
		Category:   e.Category(),
		AccuracyM:  &acc,
		Count:      count,
		SourceType: "open_source",
		Text:       entry.Truncate(text, 2000),
		ExternalID: e.EventIDCnty,
		Source:     "acled",
	}
}
