package acled_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/guarantor/guarantor/acled"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/internal/testkeys"
)

// header is ACLED's export header (a subset of its 31 columns, in its order).
const header = "event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,actor1,assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,iso,region,country,admin1,admin2,admin3,location,latitude,longitude,geo_precision,source,source_scale,notes,fatalities,tags,timestamp\n"

// Sample rows written for these tests in ACLED's layout; not ACLED data.
const sample = header +
	`UKR1001,2022-02-24,2022,1,Political violence,Explosions/Remote violence,Shelling/artillery/missile attack,Military Forces of Russia (2000-),,8,,,0,80,,804,Europe,Ukraine,Donetsk,Pokrovskyi,Avdiivska,Avdiivka,48.1453,37.7450,1,Ukrinform,National,"On 24 February 2022, Russian forces shelled Avdiivka with artillery.",0,,1650000000` + "\n" +
	`UKR1002,24 February 2022,2022,1,Political violence,Explosions/Remote violence,Air/drone strike,Military Forces of Russia (2000-),,8,Civilians (Ukraine),,7,87,Civilian targeting,804,Europe,Ukraine,Kharkiv,Kharkivskyi,Kharkivska,Kharkiv,49.9935,36.2304,1,Suspilne,National,"A Shahed drone hit a residential building, killing 2 civilians.",2,,1650000000` + "\n" +
	`UKR1003,2022-13-01,2022,1,Political violence,Battles,Armed clash,A,,1,B,,1,11,,804,Europe,Ukraine,Donetsk,,,Marinka,47.9417,37.5042,2,X,National,notes,0,,1650000000` + "\n" +
	`UKR1004,2022-03-01,2022,1,Political violence,Battles,Armed clash,A,,1,B,,1,11,,804,Europe,Ukraine,Donetsk,,,Marinka,47.9417,37.5042,4,X,National,notes,0,,1650000000` + "\n" +
	`UKR1005,2022-03-02,2022,1,Political violence,Battles,Armed clash,A,,1,B,,1,11,,804,Europe,Ukraine,Luhansk,,,Zolote,48.6833,38.5167,2,X,National,"Clashes with mortar fire near Zolote.",3,,1650000000` + "\n"

func TestReaderAndMapping(t *testing.T) {
	r, err := acled.NewReader(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	k := testkeys.New(t, "analyst.acled")
	var got []string
	var rowErrs []string
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *acled.RowError
		if errors.As(err, &re) {
			rowErrs = append(rowErrs, re.Error())
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		o := ev.Observation()
		got = append(got, o.ID+" "+o.Category)
		if err := testkeys.Valid(t, entry.KindObservation, o, k); err != nil {
			t.Fatalf("%s: %v", o.ID, err)
		}
	}
	want := []string{"acled-UKR1001 shelling", "acled-UKR1002 drone_strike", "acled-UKR1005 shelling"}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Fatalf("events %v, want %v", got, want)
	}
	wantErrs := []string{
		`line 4, column event_date: "2022-13-01" is not a date like 2022-02-15 or 15 February 2022`,
		`line 5, column geo_precision: 4 is not a precision code 1-3`,
	}
	if strings.Join(rowErrs, "\n") != strings.Join(wantErrs, "\n") {
		t.Fatalf("row errors:\n%s\nwant:\n%s", strings.Join(rowErrs, "\n"), strings.Join(wantErrs, "\n"))
	}
}

func TestCategoryTable(t *testing.T) {
	for _, c := range []struct{ sub, notes, want string }{
		{"Armed clash", "", "small_arms"},
		{"Shelling/artillery/missile attack", "Iskander missile hit", "missile_strike"},
		{"Air/drone strike", "airstrike by Su-34", "air_strike"},
		{"Remote explosive/landmine/IED", "", "mine"},
		{"Grenade", "", "explosion_heard"},
		{"Attack", "", "civilian_casualty"},
		{"Looting/property destruction", "", "infrastructure_damage"},
		{"Headquarters or base established", "tanks seen", "heavy_weapon_sighting"},
		{"Non-violent transfer of territory", "", "troop_movement"},
		{"Peaceful protest", "", "other"},
	} {
		ev := &acled.Event{SubEventType: c.sub, Notes: c.notes}
		if got := ev.Category(); got != c.want {
			t.Errorf("%s / %q: %s, want %s", c.sub, c.notes, got, c.want)
		}
	}
}

func TestHeaderChecked(t *testing.T) {
	if _, err := acled.NewReader(strings.NewReader("id,date\n")); err == nil || !strings.Contains(err.Error(), "not ACLED data: header lacks event_id_cnty") {
		t.Fatalf("err = %v", err)
	}
}

func FuzzReader(f *testing.F) {
	f.Add(sample)
	f.Add(header)
	f.Fuzz(func(t *testing.T, in string) {
		r, err := acled.NewReader(strings.NewReader(in))
		if err != nil {
			return
		}
		for range 50 {
			ev, err := r.Next()
			var re *acled.RowError
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
