// Package ucdp reads the Uppsala Conflict Data Program's Georeferenced
// Event Dataset (UCDP GED) in its CSV form, one event at a time, and maps
// each event to a guarantor observation. Columns are found by name; the
// two month-first date shapes met in circulated copies are both read.
//
// UCDP data is licensed CC BY 4.0: anything that shows it must credit the
// Uppsala Conflict Data Program.
package ucdp

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/guarantor/guarantor/eventcsv"
)

// Event is one UCDP GED event (the columns guarantor uses).
type Event struct {
	Line             int // line in the file where the row starts, 1-based
	ID               int64
	RelID            string
	Year             int
	TypeOfViolence   int // 1 state-based, 2 non-state, 3 one-sided
	ConflictName     string
	DyadName         string
	SideA, SideB     string
	SourceHeadline   string
	WherePrec        int // 1 exact place … 7 international waters or airspace
	WhereCoordinates string
	WhereDescription string
	Adm1, Adm2       string
	Latitude         float64
	Longitude        float64
	EventClarity     int
	DatePrec         int
	DateStart        time.Time
	DateEnd          time.Time
	DeathsA          int
	DeathsB          int
	DeathsCivilians  int
	DeathsUnknown    int
	Best, High, Low  int
}

// RowError reports a row that cannot be read; the Reader continues with
// the next row.
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

// NewReader reads and checks the header.
func NewReader(r io.Reader) (*Reader, error) {
	rows, err := eventcsv.NewReader(r, "UCDP GED", required)
	if err != nil {
		return nil, err
	}
	return &Reader{rows: rows}, nil
}

// Next returns the next event, io.EOF at the end, or a *RowError for a
// row that cannot be read (call Next again to continue). Any other error
// ends the stream.
func (r *Reader) Next() (*Event, error) {
	p, err := r.rows.Next()
	if err != nil {
		return nil, err
	}
	line := p.Line
	ev := &Event{
		Line:             line,
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
	if ev.WherePrec < 1 || ev.WherePrec > 7 {
		return nil, &RowError{Line: line, Column: "where_prec", Err: fmt.Errorf("%d is not a precision code 1-7", ev.WherePrec)}
	}
	if ev.TypeOfViolence < 1 || ev.TypeOfViolence > 3 {
		return nil, &RowError{Line: line, Column: "type_of_violence", Err: fmt.Errorf("%d is not 1, 2 or 3", ev.TypeOfViolence)}
	}
	if ev.DateEnd.Before(ev.DateStart) {
		return nil, &RowError{Line: line, Column: "date_end", Err: errors.New("before date_start")}
	}
	return ev, nil
}

// dateLayouts are the two month-first shapes found in circulated copies,
// and UCDP's own ISO dates.
var dateLayouts = []string{"01/02/2006 15:04", "1/2/2006 3:04:05 PM", "2006-01-02", "2006-01-02 15:04:05"}

const dateExample = "09/01/2022 00:00 or 9/30/2022 12:00:00 AM"
