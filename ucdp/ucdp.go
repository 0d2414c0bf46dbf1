// Package ucdp reads the Uppsala Conflict Data Program's Georeferenced
// Event Dataset (UCDP GED) in its CSV form, one event at a time with
// constant memory, and maps each event to a guarantor observation.
// Columns are found by name; the two month-first date shapes met in
// circulated copies and UCDP's own ISO dates are read, nothing else.
//
// UCDP data is licensed CC BY 4.0: anything that shows it must credit the
// Uppsala Conflict Data Program.
package ucdp

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/guarantor/guarantor/eventcsv"
)

// Event is one UCDP GED event: the columns guarantor uses, named as in the
// GED codebook. Strings are trimmed of surrounding space.
type Event struct {
	Line             int    // physical line in the file where the row starts, 1-based
	ID               int64  // id: UCDP event id, positive
	RelID            string // relid: COUNTRY-YEAR-TYPE-DYAD-SEQ
	Year             int
	TypeOfViolence   int // 1 state-based, 2 non-state, 3 one-sided
	ConflictName     string
	DyadName         string // "side_a - side_b"
	SideA, SideB     string
	SourceHeadline   string // source_headline: the articles' headlines, ";"-separated
	WherePrec        int    // 1 exact place … 7 international waters or airspace
	WhereCoordinates string // name of the place the coordinates refer to
	WhereDescription string
	Adm1, Adm2       string  // may be blank
	Latitude         float64 // WGS84 degrees
	Longitude        float64 // WGS84 degrees
	EventClarity     int     // 1 clear event, 2 aggregate or unclear
	DatePrec         int     // 1 exact day … 5 more than a month
	DateStart        time.Time
	DateEnd          time.Time // not before DateStart
	DeathsA          int
	DeathsB          int
	DeathsCivilians  int
	DeathsUnknown    int
	Best, High, Low  int // estimates of total deaths
}

// RowError reports a row that cannot be read: Line is the physical line
// where the row starts (1-based), Column the column at fault ("" when the
// row as a whole is, as with a wrong number of fields), Err the fault. The
// Reader goes on with the next row. It is the RowError of package
// eventcsv, shared with the ACLED reader, so one errors.As serves both.
type RowError = eventcsv.RowError

// required are the columns the reader needs.
var required = []string{
	"id", "relid", "year", "type_of_violence", "conflict_name", "dyad_name", "side_a", "side_b",
	"source_headline", "where_prec", "where_coordinates", "where_description", "adm_1", "adm_2",
	"latitude", "longitude", "event_clarity", "date_prec", "date_start", "date_end",
	"deaths_a", "deaths_b", "deaths_civilians", "deaths_unknown", "best", "high", "low",
}

// Reader streams events from UCDP GED CSV. Memory use does not grow with
// the file.
type Reader struct {
	rows *eventcsv.Reader
}

// MaxField is the longest field accepted, in bytes.
const MaxField = eventcsv.MaxField

// MaxDeaths is the largest count accepted in any deaths column; it is
// also the largest count an observation may carry.
const MaxDeaths = 1_000_000

// NewReader reads the header and checks that it names every column the
// Reader needs; columns are found by name, in any order, and others are
// ignored. Every later row must have as many fields as the header.
func NewReader(r io.Reader) (*Reader, error) {
	rows, err := eventcsv.NewReader(r, "UCDP GED", required)
	if err != nil {
		return nil, err
	}
	return &Reader{rows: rows}, nil
}

// Next returns the next event, io.EOF at the end, or a *RowError for a
// row that cannot be read (call Next again to continue). Any other error
// (a quoting error, which leaves the reader unsure where rows start, or a
// failing io.Reader) ends the stream.
func (r *Reader) Next() (*Event, error) {
	p, err := r.rows.Next()
	if err != nil {
		return nil, err
	}
	ev := &Event{
		Line:             p.Line,
		ID:               p.Int64("id"),
		RelID:            p.Str("relid"),
		Year:             p.Int("year"),
		TypeOfViolence:   p.Int("type_of_violence"),
		ConflictName:     p.Str("conflict_name"),
		DyadName:         p.Str("dyad_name"),
		SideA:            p.Str("side_a"),
		SideB:            p.Str("side_b"),
		SourceHeadline:   p.Str("source_headline"),
		WherePrec:        p.Int("where_prec"),
		WhereCoordinates: p.Str("where_coordinates"),
		WhereDescription: p.Str("where_description"),
		Adm1:             p.Str("adm_1"),
		Adm2:             p.Str("adm_2"),
		Latitude:         p.Float("latitude", -90, 90),
		Longitude:        p.Float("longitude", -180, 180),
		EventClarity:     p.Int("event_clarity"),
		DatePrec:         p.Int("date_prec"),
		DateStart:        p.Date("date_start", dateExample, dateLayouts...),
		DateEnd:          p.Date("date_end", dateExample, dateLayouts...),
		DeathsA:          p.Int("deaths_a"),
		DeathsB:          p.Int("deaths_b"),
		DeathsCivilians:  p.Int("deaths_civilians"),
		DeathsUnknown:    p.Int("deaths_unknown"),
		Best:             p.Int("best"),
		High:             p.Int("high"),
		Low:              p.Int("low"),
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	if err := ev.check(); err != nil {
		return nil, err
	}
	return ev, nil
}

// check applies the rules the field converters cannot: a positive id,
// finite coordinates, known codes, ordered dates and bounded counts.
func (ev *Event) check() error {
	fail := func(column string, format string, args ...any) error {
		return &RowError{Line: ev.Line, Column: column, Err: fmt.Errorf(format, args...)}
	}
	if ev.ID <= 0 {
		return fail("id", "%d is not a positive event id", ev.ID)
	}
	// The converters' range check lets NaN through: every comparison
	// with NaN is false.
	if math.IsNaN(ev.Latitude) {
		return fail("latitude", "NaN is not a latitude")
	}
	if math.IsNaN(ev.Longitude) {
		return fail("longitude", "NaN is not a longitude")
	}
	if ev.WherePrec < 1 || ev.WherePrec > 7 {
		return fail("where_prec", "%d is not a precision code 1-7", ev.WherePrec)
	}
	if ev.TypeOfViolence < 1 || ev.TypeOfViolence > 3 {
		return fail("type_of_violence", "%d is not 1, 2 or 3", ev.TypeOfViolence)
	}
	if ev.DateEnd.Before(ev.DateStart) {
		return fail("date_end", "%s is before date_start %s", ev.DateEnd.Format(time.DateTime), ev.DateStart.Format(time.DateTime))
	}
	for _, c := range []struct {
		name string
		v    int
	}{
		{"deaths_a", ev.DeathsA}, {"deaths_b", ev.DeathsB}, {"deaths_civilians", ev.DeathsCivilians},
		{"deaths_unknown", ev.DeathsUnknown}, {"best", ev.Best}, {"high", ev.High}, {"low", ev.Low},
	} {
		if c.v > MaxDeaths {
			return fail(c.name, "%d deaths is more than the %d accepted", c.v, MaxDeaths)
		}
	}
	return nil
}

// dateLayouts are the two month-first shapes found in copies that passed
// through a spreadsheet (shared/data/README.md), and the ISO shapes of
// UCDP's own downloads ("2016-01-10" or "2016-01-10 00:00:00.000";
// time.Parse accepts the fractional seconds). Nothing else is read: a
// day-first date would silently swap day and month.
var dateLayouts = []string{"01/02/2006 15:04", "1/2/2006 3:04:05 PM", "2006-01-02", "2006-01-02 15:04:05"}

// dateExample shows the shapes in errors; cmd/guarantor's tests pin it.
const dateExample = "09/01/2022 00:00 or 9/30/2022 12:00:00 AM"

// ReadAll reads every event of a UCDP GED CSV export, skipping the rows
// Next reports as a *RowError (as the importer does) and counting them.
// Any other error stops it.
func ReadAll(r io.Reader) (events []*Event, skipped int, err error) {
	rd, err := NewReader(r)
	if err != nil {
		return nil, 0, err
	}
	for {
		ev, err := rd.Next()
		var rowErr *RowError
		switch {
		case errors.Is(err, io.EOF):
			return events, skipped, nil
		case errors.As(err, &rowErr):
			skipped++
		case err != nil:
			return events, skipped, err
		default:
			events = append(events, ev)
		}
	}
}
