package ucdp_test

import (
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/internal/testkeys"
	"github.com/guarantor/guarantor/ucdp"
)

// dataFile is the shared real data, read in place: shared/data beside the
// repository (/work/shared/data for /work/main), two levels up from here.
const dataFile = "../../shared/data/ucdp-ged-ukraine-2016-2023.csv"

func openData(t *testing.T) *os.File {
	t.Helper()
	f, err := os.Open(dataFile)
	if err != nil {
		t.Skipf("skipping: the real UCDP GED file is not at %s (it lives in shared/data beside the repository, never in it): %v", dataFile, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestRealFile reads every row of the shared UCDP file: no row error, the
// counts per year, per dyad and of blank adm_1 match its README, lines are
// physical lines (51 rows span several), and every event becomes an
// observation the log accepts.
func TestRealFile(t *testing.T) {
	r, err := ucdp.NewReader(openData(t))
	if err != nil {
		t.Fatal(err)
	}
	k := testkeys.New(t, "analyst.ucdp")
	perYear := map[int]int{}
	perDyad := map[string]int{}
	categories := map[string]int{}
	ids := map[string]bool{}
	lines := map[int64]int{}
	blankAdm1, lastLine := 0, 0
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("row error in real data: %v", err)
		}
		if ev.Line <= lastLine {
			t.Fatalf("event %d at line %d, after line %d", ev.ID, ev.Line, lastLine)
		}
		lastLine = ev.Line
		lines[ev.ID] = ev.Line
		perYear[ev.Year]++
		perDyad[ev.DyadName]++
		if ev.Adm1 == "" {
			blankAdm1++
		}
		if ev.DateStart.Location() != time.UTC || ev.DateEnd.Before(ev.DateStart) {
			t.Fatalf("event %d: dates %v .. %v", ev.ID, ev.DateStart, ev.DateEnd)
		}
		o := ev.Observation()
		if ids[o.ID] {
			t.Fatalf("duplicate observation id %s", o.ID)
		}
		ids[o.ID] = true
		categories[o.Category]++
		if len(o.Text) > ucdp.MaxText || !utf8.ValidString(o.Text) || strings.ContainsAny(o.Text, "\r\n") {
			t.Fatalf("event %d: text of %d bytes: %q", ev.ID, len(o.Text), o.Text)
		}
		if err := testkeys.Valid(t, entry.KindObservation, o, k); err != nil {
			t.Fatalf("event %d does not make a valid observation: %v", ev.ID, err)
		}
	}
	if len(ids) != 1879 {
		t.Fatalf("%d events, want 1879", len(ids))
	}
	for y, n := range map[int]int{2016: 128, 2017: 193, 2018: 153, 2019: 199, 2020: 145, 2021: 167, 2022: 536, 2023: 358} {
		if perYear[y] != n {
			t.Errorf("year %d: %d rows, README says %d", y, perYear[y], n)
		}
	}
	for d, n := range map[string]int{
		"Government of Russia (Soviet Union) - Government of Ukraine": 868,
		"Government of Ukraine - DPR":                                 798,
		"Government of Ukraine - LPR":                                 207,
		"Government of Russia (Soviet Union) - Civilians":             6,
	} {
		if perDyad[d] != n {
			t.Errorf("dyad %q: %d rows, README says %d", d, perDyad[d], n)
		}
	}
	if blankAdm1 != 227 {
		t.Errorf("%d rows with blank adm_1, README says 227", blankAdm1)
	}
	// Event 300084 has newlines in a quoted field (lines 512-514); the
	// next starts at 515, and the last of 1,951 lines starts the last row.
	for id, line := range map[int64]int{300084: 512, 301328: 515, 468247: 1951} {
		if lines[id] != line {
			t.Errorf("event %d at line %d, want %d", id, lines[id], line)
		}
	}
	if categories["other"] > len(ids)*2/3 || categories["shelling"] < 300 || categories["civilian_casualty"] < 6 {
		t.Errorf("category mapping looks degenerate: %v", categories)
	}
	t.Logf("categories: %v", categories)
}

// header is UCDP GED's header, in its order.
const header = "id,relid,year,active_year,code_status,type_of_violence,conflict_dset_id,conflict_new_id,conflict_name,dyad_dset_id,dyad_new_id,dyad_name,side_a_dset_id,side_a_new_id,side_a,side_b_dset_id,side_b_new_id,side_b,number_of_sources,source_article,source_office,source_date,source_headline,source_original,where_prec,where_coordinates,where_description,adm_1,adm_2,latitude,longitude,geom_wkt,priogrid_gid,country,country_id,region,event_clarity,date_prec,date_start,date_end,deaths_a,deaths_b,deaths_civilians,deaths_unknown,best,high,low,gwnoa,gwnob\n"

// columns are the header's column names, in its order.
var columns = strings.Split(strings.TrimSuffix(header, "\n"), ",")

// fields are the fields of a row written for these tests in the GED layout
// (not UCDP data), by column name; set overrides some. where_description
// holds a newline, so the row spans two physical lines.
func fields(id string, set map[string]string) map[string]string {
	f := map[string]string{
		"id": id, "relid": "UKR-2016-1-X", "year": "2016", "active_year": "1", "code_status": "Clear", "type_of_violence": "1",
		"conflict_name": "Ukraine: Novorossiya", "dyad_name": "Government of Ukraine - DPR", "side_a": "Government of Ukraine", "side_b": "DPR",
		"number_of_sources": "1", "source_article": `"AFP,2016-01-10,Shelling near ""Zaitseve"""`, "source_office": "AFP", "source_date": "2016-01-10",
		"source_headline": "Shelling near Zaitseve, mortar fire", "source_original": "spokesman", "where_prec": "2",
		"where_coordinates": "Zaitseve village", "where_description": "near\nZaitseve", "adm_1": "Donetsk oblast", "adm_2": "Horlivka",
		"latitude": "48.41", "longitude": "38.03", "geom_wkt": "POINT (38.03 48.41)", "country": "Ukraine", "country_id": "369",
		"region": "Europe", "event_clarity": "1", "date_prec": "1", "date_start": "01/10/2016 00:00", "date_end": "1/10/2016 12:00:00 AM",
		"deaths_a": "2", "deaths_b": "0", "deaths_civilians": "0", "deaths_unknown": "0", "best": "2", "high": "2", "low": "2", "gwnoa": "369",
	}
	for k, v := range set {
		f[k] = v
	}
	return f
}

// encode writes the fields in the order of cols as one CSV record.
func encode(cols []string, f map[string]string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		v := f[c]
		if strings.ContainsAny(v, ",\"\n") {
			v = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
		}
		out[i] = v
	}
	return strings.Join(out, ",") + "\n"
}

// row is a test row in the header's column order.
func row(id string, set map[string]string) string { return encode(columns, fields(id, set)) }

// TestRowErrorsNameLineAndColumnAndReadingGoesOn: each bad row is a
// *RowError naming the physical line where it starts and the column at
// fault, and the next row is read.
func TestRowErrorsNameLineAndColumnAndReadingGoesOn(t *testing.T) {
	in := header + // line 1
		row("1", nil) + // lines 2-3
		row("2", map[string]string{"date_start": "2016-13-45"}) + // lines 4-5
		row("3", map[string]string{"latitude": "91.5"}) + // 6-7
		"4,too,few\n" + // 8
		row("5", map[string]string{"date_start": "30/09/2022 00:00"}) + // 9-10: day-first
		row("6", map[string]string{"latitude": "NaN"}) + // 11-12
		row("7", map[string]string{"longitude": "east"}) + // 13-14
		row("8", map[string]string{"date_end": "01/09/2016 00:00"}) + // 15-16: before the start
		row("9", map[string]string{"where_prec": "9"}) + // 17-18
		row("10", map[string]string{"best": "1000001"}) + // 19-20
		row("11", map[string]string{"deaths_a": "-1"}) + // 21-22
		row("0", nil) + // 23-24
		row("13", map[string]string{"where_description": "one line"}) + // 25
		row("14", nil) // 26-27
	r, err := ucdp.NewReader(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		id     int64
		line   int
		column string
	}
	var got []outcome
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *ucdp.RowError
		switch {
		case errors.As(err, &re):
			if !strings.Contains(re.Error(), "line ") {
				t.Errorf("error text %q does not name the line", re.Error())
			}
			got = append(got, outcome{line: re.Line, column: re.Column})
		case err != nil:
			t.Fatal(err)
		default:
			got = append(got, outcome{id: ev.ID, line: ev.Line})
		}
	}
	want := []outcome{
		{id: 1, line: 2}, {line: 4, column: "date_start"}, {line: 6, column: "latitude"}, {line: 8},
		{line: 9, column: "date_start"}, {line: 11, column: "latitude"}, {line: 13, column: "longitude"},
		{line: 15, column: "date_end"}, {line: 17, column: "where_prec"}, {line: 19, column: "best"},
		{line: 21, column: "deaths_a"}, {line: 23, column: "id"}, {id: 13, line: 25}, {id: 14, line: 26},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestHeader(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "empty"},
		{"a,b,c\n1,2,3\n", "latitude"},
		{strings.Replace(header, ",date_end,", ",date_stop,", 1), "date_end"},
		{"id,\"re\nlid\n", "header"},
	} {
		if _, err := ucdp.NewReader(strings.NewReader(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("header %q: err = %v, want one naming %q", tc.in, err, tc.want)
		}
	}
	// Columns are found by name: a reversed header with a byte-order mark
	// and an extra column reads the same event.
	rev := append([]string{"extra"}, columns...)
	slices.Reverse(rev)
	f := fields("7", map[string]string{"extra": "ignored", "source_headline": "h"})
	in := "\ufeff" + strings.Join(rev, ",") + "\n" + encode(rev, f)
	r, err := ucdp.NewReader(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID != 7 || ev.Latitude != 48.41 || ev.Longitude != 38.03 || ev.SourceHeadline != "h" || ev.WhereDescription != "near\nZaitseve" || ev.Line != 2 {
		t.Fatalf("reordered header read %+v", ev)
	}
}

func TestDateShapes(t *testing.T) {
	for in, want := range map[string]time.Time{
		"09/01/2022 00:00":        time.Date(2022, 9, 1, 0, 0, 0, 0, time.UTC),
		"9/30/2022 12:00:00 AM":   time.Date(2022, 9, 30, 0, 0, 0, 0, time.UTC),
		"9/30/2022 1:05:09 PM":    time.Date(2022, 9, 30, 13, 5, 9, 0, time.UTC),
		"12/31/2016 23:59":        time.Date(2016, 12, 31, 23, 59, 0, 0, time.UTC),
		"2022-09-30":              time.Date(2022, 9, 30, 0, 0, 0, 0, time.UTC),
		"2022-09-30 00:00:00.000": time.Date(2022, 9, 30, 0, 0, 0, 0, time.UTC),
	} {
		r, err := ucdp.NewReader(strings.NewReader(header + row("1", map[string]string{"date_start": in, "date_end": in})))
		if err != nil {
			t.Fatal(err)
		}
		ev, err := r.Next()
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if !ev.DateStart.Equal(want) || ev.DateStart.Location() != time.UTC {
			t.Errorf("%q read as %v, want %v", in, ev.DateStart, want)
		}
	}
	for _, in := range []string{"31/12/2016 00:00", "2016-12-31T00:00:00Z", "Jan 10 2016", "", "13/01/2016 00:00", "1/10/2016 12:00:00"} {
		r, _ := ucdp.NewReader(strings.NewReader(header + row("1", map[string]string{"date_start": in})))
		_, err := r.Next()
		var re *ucdp.RowError
		if !errors.As(err, &re) || re.Column != "date_start" {
			t.Errorf("date %q: err = %v, want a RowError naming date_start", in, err)
		}
	}
}

func TestCategory(t *testing.T) {
	for _, tc := range []struct {
		headline, where string
		civilians       int
		want            string
	}{
		{"Two killed by mortar fire near Avdiivka", "", 0, "shelling"},
		{"Blast at chemical plant in Donetsk due to bombardments by Kiev forces", "", 0, "shelling"},
		{"Militiaman killed as Kiev troops shell DPR", "", 0, "shelling"},
		{`Artillerymen destroyed the enemy MLRS "Grad"`, "", 0, "shelling"},
		{"Soldier killed by sniper", "", 0, "small_arms"},
		{"Three killed as passenger bus hits mine in east Ukraine", "", 3, "mine"},
		{"Rebels say commander is killed in a car bombing", "", 0, "mine"},
		{"The invaders attacked Odessa with three kamikaze drones", "", 1, "drone_strike"},
		{"Drone attack on Kherson", "", 0, "drone_strike"},
		{"Ukrainian anti-aircraft gunners shot down a helicopter", "", 0, "air_strike"},
		{"Over the past day, the enemy launched four missile and 27 air strikes", "", 0, "missile_strike"},
		{"South: UAF carried out 10 airstrikes", "", 0, "air_strike"},
		{"Four soldiers killed in eastern Ukraine grenade attack", "", 0, "explosion_heard"},
		{"A graduate of the Land Forces academy was killed", "", 0, "other"},
		{"Ukraine determined to hold Bakhmut", "", 0, "other"},
		{"Coal miners killed", "", 0, "other"},
		{"In the Donetsk region, the Russians killed five civilians in a day", "", 5, "civilian_casualty"},
		{"", "near Pavlopil, under artillery fire", 0, "shelling"},
	} {
		ev := &ucdp.Event{TypeOfViolence: 1, SourceHeadline: tc.headline, WhereDescription: tc.where, DeathsCivilians: tc.civilians}
		if got := ev.Category(); got != tc.want {
			t.Errorf("%q / %q: %s, want %s", tc.headline, tc.where, got, tc.want)
		}
	}
	if got := (&ucdp.Event{TypeOfViolence: 3, SourceHeadline: "shelling"}).Category(); got != "civilian_casualty" {
		t.Errorf("one-sided violence: %s", got)
	}
}

func TestAccuracyFromWherePrec(t *testing.T) {
	want := map[int]float64{1: 2000, 2: 25000, 3: 50000, 4: 150000, 5: 100000, 6: 500000, 7: 1000000}
	for code, radius := range want {
		o := (&ucdp.Event{ID: 1, TypeOfViolence: 1, WherePrec: code}).Observation()
		if o.AccuracyM == nil || *o.AccuracyM != radius {
			t.Errorf("where_prec %d: accuracy %v, want %v", code, o.AccuracyM, radius)
		}
		if got := ucdp.WherePrec(radius); got != code {
			t.Errorf("WherePrec(%v) = %d, want %d", radius, got, code)
		}
	}
	if ucdp.WherePrec(1234) != 0 {
		t.Error("WherePrec of an unknown radius is not 0")
	}
}

func TestObservationMapping(t *testing.T) {
	long := strings.Repeat("Обстріл Авдіївки ", 60) // Cyrillic: 2-byte runes
	ev := &ucdp.Event{
		ID: 123456, RelID: "UKR-2017-1-15100-1", TypeOfViolence: 1, DyadName: "Government of Ukraine - DPR",
		WhereDescription: "Avdiivka\ntown", WherePrec: 1, Latitude: 48.145278, Longitude: 37.745,
		DateStart: time.Date(2017, 1, 29, 0, 0, 0, 0, time.UTC), Best: 3, Low: 2, High: 5,
		SourceHeadline: long + ";second headline",
	}
	o := ev.Observation()
	if o.ID != "ucdp-123456" || o.ExternalID != "123456" || o.Source != "ucdp-ged" || o.SourceType != "open_source" ||
		o.Location.Coordinates != [2]float64{37.745, 48.145278} || o.Count == nil || *o.Count != 3 ||
		!o.ObservedAt.Equal(ev.DateStart) || o.Category != "other" {
		t.Fatalf("observation %+v", o)
	}
	if len(o.Text) > ucdp.MaxText || !utf8.ValidString(o.Text) || strings.Contains(o.Text, "\n") ||
		!strings.HasPrefix(o.Text, "UCDP GED event 123456 (UKR-2017-1-15100-1): Government of Ukraine - DPR; Avdiivka town. Deaths best 3 (low 2, high 5). Source: Обстріл") ||
		strings.Contains(o.Text, "second headline") {
		t.Fatalf("text %q", o.Text)
	}
	*o.Count = 99
	if ev.Best != 3 {
		t.Fatal("the observation's count aliases the event")
	}
	if o := (&ucdp.Event{ID: 1, TypeOfViolence: 1, WherePrec: 2}).Observation(); o.Count != nil {
		t.Fatalf("best 0 gave count %d; it must be left out", *o.Count)
	}
}

// TestReadAll keeps the good rows in order and counts the bad ones.
func TestReadAll(t *testing.T) {
	in := header + row("1", nil) + row("2", map[string]string{"latitude": "91.5"}) + "4,too,few\n" + row("5", nil)
	events, skipped, err := ucdp.ReadAll(strings.NewReader(in))
	if err != nil || skipped != 2 || len(events) != 2 || events[0].ID != 1 || events[1].ID != 5 {
		t.Fatalf("ReadAll: %d events, %d skipped, %v", len(events), skipped, err)
	}
	if _, _, err := ucdp.ReadAll(strings.NewReader("not,a,ucdp,header\n")); err == nil {
		t.Fatal("a file that is not UCDP GED was read")
	}
}
