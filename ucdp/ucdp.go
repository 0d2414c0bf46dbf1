// Package ucdp reads the Uppsala Conflict Data Program's Georeferenced
// Event Dataset (UCDP GED) in its CSV form, one event at a time, and maps
// each event to a guarantor observation. Columns are found by name; the
// two month-first date shapes met in circulated copies are both read.
//
// UCDP data is licensed CC BY 4.0: anything that shows it must credit the
// Uppsala Conflict Data Program.
package ucdp

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
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
type RowError struct {
	Line   int    // line in the file where the row starts, 1-based
	Column string // column name, or "" for the row as a whole
	Err    error
}

// Error names the line, the column and the fault.
func (e *RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("line %d, column %s: %v", e.Line, e.Column, e.Err)
}

// Unwrap returns the underlying fault.
func (e *RowError) Unwrap() error { return e.Err }

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
	csv    *csv.Reader
	col    map[string]int
	header []string
}

// MaxField is the longest field accepted, in bytes; UCDP's longest, the
// source articles, stay far below it.
const MaxField = 64 << 10

// NewReader reads and checks the header.
func NewReader(r io.Reader) (*Reader, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("the file is empty; a UCDP GED CSV starts with a header line naming its columns")
	}
	if err != nil {
		return nil, fmt.Errorf("read UCDP header: %w", err)
	}
	header = slices.Clone(header)
	col := make(map[string]int, len(header))
	for i, h := range header {
		col[strings.TrimPrefix(strings.TrimSpace(h), "\ufeff")] = i
	}
	var missing []string
	for _, c := range required {
		if _, ok := col[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("not a UCDP GED file: header lacks %s", strings.Join(missing, ", "))
	}
	cr.FieldsPerRecord = len(header)
	return &Reader{csv: cr, col: col, header: header}, nil
}

// Next returns the next event, io.EOF at the end, or a *RowError for a
// row that cannot be read (call Next again to continue). Any other error
// ends the stream.
func (r *Reader) Next() (*Event, error) {
	rec, err := r.csv.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			if errors.Is(pe.Err, csv.ErrFieldCount) {
				return nil, &RowError{Line: pe.StartLine, Err: fmt.Errorf("row has the wrong number of fields: %w", pe.Err)}
			}
			return nil, fmt.Errorf("UCDP CSV line %d: %w", pe.Line, pe.Err)
		}
		return nil, err
	}
	line, _ := r.csv.FieldPos(0)
	for i, f := range rec {
		if len(f) > MaxField {
			return nil, &RowError{Line: line, Column: r.header[i], Err: fmt.Errorf("field is %d bytes; the limit is %d", len(f), MaxField)}
		}
		if !utf8.ValidString(f) {
			return nil, &RowError{Line: line, Column: r.header[i], Err: errors.New("not valid UTF-8 (convert the file to UTF-8 first)")}
		}
	}
	p := rowParser{rec: rec, col: r.col, line: line}
	ev := &Event{
		Line:             line,
		ID:               p.int64("id"),
		RelID:            p.str("relid"),
		Year:             p.int("year"),
		TypeOfViolence:   p.int("type_of_violence"),
		ConflictName:     p.str("conflict_name"),
		DyadName:         p.str("dyad_name"),
		SideA:            p.str("side_a"),
		SideB:            p.str("side_b"),
		SourceHeadline:   p.str("source_headline"),
		WherePrec:        p.int("where_prec"),
		WhereCoordinates: p.str("where_coordinates"),
		WhereDescription: p.str("where_description"),
		Adm1:             p.str("adm_1"),
		Adm2:             p.str("adm_2"),
		Latitude:         p.float("latitude", -90, 90),
		Longitude:        p.float("longitude", -180, 180),
		EventClarity:     p.int("event_clarity"),
		DatePrec:         p.int("date_prec"),
		DateStart:        p.date("date_start"),
		DateEnd:          p.date("date_end"),
		DeathsA:          p.int("deaths_a"),
		DeathsB:          p.int("deaths_b"),
		DeathsCivilians:  p.int("deaths_civilians"),
		DeathsUnknown:    p.int("deaths_unknown"),
		Best:             p.int("best"),
		High:             p.int("high"),
		Low:              p.int("low"),
	}
	if p.err != nil {
		return nil, p.err
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

// rowParser converts fields and keeps the first error.
type rowParser struct {
	rec  []string
	col  map[string]int
	line int
	err  *RowError
}

func (p *rowParser) str(name string) string { return strings.TrimSpace(p.rec[p.col[name]]) }

func (p *rowParser) fail(name string, err error) {
	if p.err == nil {
		p.err = &RowError{Line: p.line, Column: name, Err: err}
	}
}

func (p *rowParser) int64(name string) int64 {
	v, err := strconv.ParseInt(p.str(name), 10, 64)
	if err != nil {
		p.fail(name, fmt.Errorf("%q is not an integer", p.str(name)))
	}
	return v
}

func (p *rowParser) int(name string) int {
	s := p.str(name)
	if s == "" {
		return 0 // blank counts occur in candidate events
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		p.fail(name, fmt.Errorf("%q is not a non-negative integer", s))
	}
	return v
}

func (p *rowParser) float(name string, lo, hi float64) float64 {
	v, err := strconv.ParseFloat(p.str(name), 64)
	if err != nil || v < lo || v > hi {
		p.fail(name, fmt.Errorf("%q is not a number in [%g, %g]", p.str(name), lo, hi))
	}
	return v
}

// dateLayouts are the two month-first shapes found in circulated copies.
var dateLayouts = []string{"01/02/2006 15:04", "1/2/2006 3:04:05 PM", "2006-01-02", "2006-01-02 15:04:05"}

func (p *rowParser) date(name string) time.Time {
	s := p.str(name)
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC()
		}
	}
	p.fail(name, fmt.Errorf("%q is not a date like 09/01/2022 00:00 or 9/30/2022 12:00:00 AM", s))
	return time.Time{}
}
