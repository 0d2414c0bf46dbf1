package ucdp_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/internal/testkeys"
	"github.com/guarantor/guarantor/ucdp"
	"pgregory.net/rapid"
)

// genText draws a field value that survives the reader's trimming: words
// of letters, digits and the characters CSV must quote, newlines included.
func genText() *rapid.Generator[string] {
	runes := rapid.RuneFrom([]rune{',', '"', '\n', ';', ' ', '\'', 'é', 'ї', 'Ж', '—'}, unicode.L, unicode.Nd)
	return rapid.Map(rapid.StringOfN(runes, 0, 40, -1), strings.TrimSpace)
}

// genDate draws a time and writes it in one of the two month-first shapes
// of the shared file (the first has no seconds).
func genDate(t *rapid.T, label string, earliest time.Time) (time.Time, string) {
	d := earliest.AddDate(0, 0, rapid.IntRange(0, 60).Draw(t, label+"_days"))
	d = d.Add(time.Duration(rapid.IntRange(0, 24*60-1).Draw(t, label+"_minute")) * time.Minute)
	if rapid.Bool().Draw(t, label+"_shape") {
		return d, d.Format("01/02/2006 15:04")
	}
	d = d.Add(time.Duration(rapid.IntRange(0, 59).Draw(t, label+"_second")) * time.Second)
	return d, d.Format("1/2/2006 3:04:05 PM")
}

// genEvent draws an event and its fields by column name.
func genEvent(t *rapid.T) (*ucdp.Event, map[string]string) {
	text := genText()
	deaths := rapid.IntRange(0, ucdp.MaxDeaths)
	ev := &ucdp.Event{
		ID:               rapid.Int64Range(1, 1<<53).Draw(t, "id"),
		RelID:            text.Draw(t, "relid"),
		Year:             rapid.IntRange(1989, 2030).Draw(t, "year"),
		TypeOfViolence:   rapid.IntRange(1, 3).Draw(t, "type_of_violence"),
		ConflictName:     text.Draw(t, "conflict_name"),
		DyadName:         text.Draw(t, "dyad_name"),
		SideA:            text.Draw(t, "side_a"),
		SideB:            text.Draw(t, "side_b"),
		SourceHeadline:   text.Draw(t, "source_headline"),
		WherePrec:        rapid.IntRange(1, 7).Draw(t, "where_prec"),
		WhereCoordinates: text.Draw(t, "where_coordinates"),
		WhereDescription: text.Draw(t, "where_description"),
		Adm1:             text.Draw(t, "adm_1"),
		Adm2:             text.Draw(t, "adm_2"),
		Latitude:         rapid.Float64Range(-90, 90).Draw(t, "latitude"),
		Longitude:        rapid.Float64Range(-180, 180).Draw(t, "longitude"),
		EventClarity:     rapid.IntRange(1, 2).Draw(t, "event_clarity"),
		DatePrec:         rapid.IntRange(1, 5).Draw(t, "date_prec"),
		DeathsA:          deaths.Draw(t, "deaths_a"),
		DeathsB:          deaths.Draw(t, "deaths_b"),
		DeathsCivilians:  deaths.Draw(t, "deaths_civilians"),
		DeathsUnknown:    deaths.Draw(t, "deaths_unknown"),
		Best:             deaths.Draw(t, "best"),
		High:             deaths.Draw(t, "high"),
		Low:              deaths.Draw(t, "low"),
	}
	var start, end string
	ev.DateStart, start = genDate(t, "date_start", time.Date(ev.Year, 1, 1, 0, 0, 0, 0, time.UTC))
	ev.DateEnd, end = genDate(t, "date_end", ev.DateStart.Truncate(24*time.Hour))
	if ev.DateEnd.Before(ev.DateStart) {
		ev.DateEnd, end = ev.DateStart, start
	}
	f := map[string]string{
		"id": strconv.FormatInt(ev.ID, 10), "relid": ev.RelID, "year": strconv.Itoa(ev.Year),
		"type_of_violence": strconv.Itoa(ev.TypeOfViolence), "conflict_name": ev.ConflictName, "dyad_name": ev.DyadName,
		"side_a": ev.SideA, "side_b": ev.SideB, "source_headline": ev.SourceHeadline, "where_prec": strconv.Itoa(ev.WherePrec),
		"where_coordinates": ev.WhereCoordinates, "where_description": ev.WhereDescription, "adm_1": ev.Adm1, "adm_2": ev.Adm2,
		"latitude": strconv.FormatFloat(ev.Latitude, 'f', -1, 64), "longitude": strconv.FormatFloat(ev.Longitude, 'g', -1, 64),
		"event_clarity": strconv.Itoa(ev.EventClarity), "date_prec": strconv.Itoa(ev.DatePrec), "date_start": start, "date_end": end,
		"deaths_a": strconv.Itoa(ev.DeathsA), "deaths_b": strconv.Itoa(ev.DeathsB), "deaths_civilians": strconv.Itoa(ev.DeathsCivilians),
		"deaths_unknown": strconv.Itoa(ev.DeathsUnknown), "best": strconv.Itoa(ev.Best), "high": strconv.Itoa(ev.High), "low": strconv.Itoa(ev.Low),
	}
	for _, c := range columns { // the columns the reader ignores hold anything
		if _, ok := f[c]; !ok {
			f[c] = text.Draw(t, c)
		}
	}
	return ev, f
}

// TestGeneratedRowsRoundTrip: rows of valid events, written by
// encoding/csv with the columns in any order, read back to the same
// events, each with the physical line it starts on, and every one maps to
// an observation the log accepts.
func TestGeneratedRowsRoundTrip(t *testing.T) {
	k := testkeys.New(t, "analyst.ucdp")
	tb := t
	rapid.Check(t, func(t *rapid.T) {
		cols := rapid.Permutation(columns).Draw(t, "columns")
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		if err := w.Write(cols); err != nil {
			t.Fatal(err)
		}
		var want []*ucdp.Event
		for range rapid.IntRange(1, 4).Draw(t, "rows") {
			w.Flush()
			ev, f := genEvent(t)
			ev.Line = bytes.Count(buf.Bytes(), []byte("\n")) + 1
			rec := make([]string, len(cols))
			for i, c := range cols {
				rec[i] = f[c]
			}
			if err := w.Write(rec); err != nil {
				t.Fatal(err)
			}
			want = append(want, ev)
		}
		w.Flush()
		r, err := ucdp.NewReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range want {
			got, err := r.Next()
			if err != nil {
				t.Fatalf("row %d: %v", i, err)
			}
			if !reflect.DeepEqual(got, w) {
				t.Fatalf("row %d read back as\n%+v\nwant\n%+v", i, got, w)
			}
			if err := testkeys.Valid(tb, entry.KindObservation, got.Observation(), k); err != nil {
				t.Fatalf("row %d: observation invalid: %v", i, err)
			}
		}
		if _, err := r.Next(); !errors.Is(err, io.EOF) {
			t.Fatalf("after the last row: %v", err)
		}
	})
}

// FuzzReader: no input makes the reader panic or loop; every row error
// and event names a line of the input, in increasing order; every event
// it returns maps to an observation the log accepts.
func FuzzReader(f *testing.F) {
	f.Add(header + row("1", nil))
	f.Add(header + row("1", nil) + "4,too,few\n" + row("2", map[string]string{"date_start": "9/30/2022 12:00:00 AM"}))
	f.Add(header + row("1", map[string]string{"latitude": "NaN", "best": "99999999999"}))
	f.Add(header + `1,"unterminated` + "\n")
	f.Add(header + "1,2\n")
	f.Add("")
	if raw, err := os.ReadFile(dataFile); err == nil {
		lines := strings.SplitAfterN(string(raw), "\n", 8)
		f.Add(strings.Join(lines[:7], ""))
	}
	k := testkeys.New(f, "analyst.ucdp")
	f.Fuzz(func(t *testing.T, in string) {
		r, err := ucdp.NewReader(strings.NewReader(in))
		if err != nil {
			return
		}
		lines := strings.Count(in, "\n") + 1
		last := 0
		for range lines + 1 { // every row takes at least one line
			ev, err := r.Next()
			var re *ucdp.RowError
			switch {
			case errors.As(err, &re):
				if re.Line < 2 || re.Line > lines || re.Line <= last {
					t.Fatalf("row error at line %d (previous row at %d, input has %d lines): %v", re.Line, last, lines, re)
				}
				last = re.Line
				continue
			case err != nil:
				return
			}
			if ev.Line < 2 || ev.Line > lines || ev.Line <= last {
				t.Fatalf("event at line %d (previous row at %d, input has %d lines)", ev.Line, last, lines)
			}
			last = ev.Line
			if err := testkeys.Valid(t, entry.KindObservation, ev.Observation(), k); err != nil {
				t.Fatalf("event %+v: observation invalid: %v", ev, err)
			}
		}
		t.Fatalf("%d calls to Next without the end of %d lines", lines+1, lines)
	})
}
