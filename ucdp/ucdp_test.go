package ucdp_test

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/internal/testkeys"
	"github.com/guarantor/guarantor/ucdp"
	"pgregory.net/rapid"
)

const dataFile = "../../shared/data/ucdp-ged-ukraine-2016-2023.csv"

func openData(t *testing.T) *os.File {
	t.Helper()
	f, err := os.Open(dataFile)
	if err != nil {
		t.Skipf("real UCDP data not found at %s (it lives in ../shared/data beside the repository): %v", dataFile, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestRealFile reads every row of the shared UCDP file, checks the counts
// per year against its README, and checks that every event becomes an
// observation the log accepts.
func TestRealFile(t *testing.T) {
	r, err := ucdp.NewReader(openData(t))
	if err != nil {
		t.Fatal(err)
	}
	k := testkeys.New(t, "analyst.ucdp")
	perYear := map[int]int{}
	categories := map[string]int{}
	ids := map[string]bool{}
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("row error in real data: %v", err)
		}
		perYear[ev.Year]++
		o := ev.Observation()
		if ids[o.ID] {
			t.Fatalf("duplicate observation id %s", o.ID)
		}
		ids[o.ID] = true
		categories[o.Category]++
		if err := testkeys.Valid(t, entry.KindObservation, o, k); err != nil {
			t.Fatalf("event %d does not make a valid observation: %v", ev.ID, err)
		}
	}
	want := map[int]int{2016: 128, 2017: 193, 2018: 153, 2019: 199, 2020: 145, 2021: 167, 2022: 536, 2023: 358}
	for y, n := range want {
		if perYear[y] != n {
			t.Errorf("year %d: %d rows, README says %d", y, perYear[y], n)
		}
	}
	if len(ids) != 1879 {
		t.Fatalf("%d events, want 1879", len(ids))
	}
	if categories["other"] == len(ids) || categories["civilian_casualty"] == 0 {
		t.Fatalf("category mapping looks degenerate: %v", categories)
	}
	t.Logf("categories: %v", categories)
}

const header = "id,relid,year,active_year,code_status,type_of_violence,conflict_dset_id,conflict_new_id,conflict_name,dyad_dset_id,dyad_new_id,dyad_name,side_a_dset_id,side_a_new_id,side_a,side_b_dset_id,side_b_new_id,side_b,number_of_sources,source_article,source_office,source_date,source_headline,source_original,where_prec,where_coordinates,where_description,adm_1,adm_2,latitude,longitude,geom_wkt,priogrid_gid,country,country_id,region,event_clarity,date_prec,date_start,date_end,deaths_a,deaths_b,deaths_civilians,deaths_unknown,best,high,low,gwnoa,gwnob\n"

func row(id, lat, date string) string {
	return id + `,UKR-X,2016,1,Clear,1,1,1,Ukraine,1,1,Government of Ukraine - DPR,61,61,Government of Ukraine,1,1,DPR,1,"""AFP,2016-01-10,Shelling near ""Zaitseve"""";",AFP,10/01/2016,"Shelling near Zaitseve, mortar fire",spokesman,2,Zaitseve village,"near
Zaitseve",Donetsk oblast,Horlivka,` + lat + `,38.03,POINT (38.03 48.41),1,Ukraine,369,Europe,1,1,` + date + `,` + date + `,2,0,0,0,2,2,2,369,` + "\n"
}

func TestRowErrorsNameLineAndColumnAndReadingGoesOn(t *testing.T) {
	in := header +
		row("1", "48.41", "01/10/2016 00:00") + // lines 2-3
		row("2", "48.41", "2016-13-45") + // lines 4-5: bad date
		row("3", "91.5", "1/10/2016 12:00:00 AM") + // lines 6-7: bad latitude
		"4,too,few\n" + // line 8: wrong field count
		row("5", "48.41", "1/10/2016 12:00:00 AM") // lines 9-10
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
			got = append(got, outcome{line: re.Line, column: re.Column})
		case err != nil:
			t.Fatal(err)
		default:
			got = append(got, outcome{id: ev.ID})
		}
	}
	want := []outcome{{id: 1}, {line: 4, column: "date_start"}, {line: 6, column: "latitude"}, {line: 8}, {id: 5}}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("row %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestHeaderMustNameTheColumns(t *testing.T) {
	if _, err := ucdp.NewReader(strings.NewReader("a,b,c\n1,2,3\n")); err == nil || !strings.Contains(err.Error(), "latitude") {
		t.Fatalf("err = %v", err)
	}
}

func TestCategoryWordsMatchAtWordStarts(t *testing.T) {
	for headline, want := range map[string]string{
		"Two killed by mortar fire near Avdiivka": "shelling",
		"Soldier killed by sniper":                "small_arms",
		"Mine blast kills two":                    "mine",
		"Ukraine determined to hold Bakhmut":      "other",
		"Drone attack on Kherson":                 "drone_strike",
	} {
		ev := &ucdp.Event{TypeOfViolence: 1, SourceHeadline: headline}
		if got := ev.Category(); got != want {
			t.Errorf("%q: %s, want %s", headline, got, want)
		}
	}
	if got := (&ucdp.Event{TypeOfViolence: 3, SourceHeadline: "shelling"}).Category(); got != "civilian_casualty" {
		t.Errorf("one-sided violence: %s", got)
	}
}

// TestGeneratedRowsRoundTrip: any well-formed row reads back to the values
// written.
func TestGeneratedRowsRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		id := rapid.Int64Range(1, 1<<40).Draw(t, "id")
		lat := rapid.Float64Range(-90, 90).Draw(t, "lat")
		best := rapid.IntRange(0, 10000).Draw(t, "best")
		in := header + strings.Replace(strings.Replace(row("ID", "LAT", "03/04/2019 00:00"), "ID", itoa(id), 1), "LAT", ftoa(lat), 1)
		in = strings.Replace(in, ",2,2,2,369,", ","+itoa(int64(best))+",2,2,369,", 1)
		r, err := ucdp.NewReader(strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		ev, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.ID != id || ev.Latitude != lat || ev.Best != best || ev.DateStart.Day() != 4 || ev.DateStart.Month() != 3 {
			t.Fatalf("read back %+v", ev)
		}
		o := ev.Observation()
		if (best == 0) != (o.Count == nil) || (o.Count != nil && *o.Count != best) || o.ExternalID != itoa(id) || ucdp.WherePrec(*o.AccuracyM) != 2 {
			t.Fatalf("observation %+v", o)
		}
	})
}

func FuzzReader(f *testing.F) {
	f.Add(header + row("1", "48.41", "01/10/2016 00:00"))
	f.Add(header + "1,2\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		r, err := ucdp.NewReader(strings.NewReader(in))
		if err != nil {
			return
		}
		for range 100 {
			ev, err := r.Next()
			var re *ucdp.RowError
			if errors.As(err, &re) {
				continue
			}
			if err != nil {
				return
			}
			_ = ev.Observation()
		}
	})
}
