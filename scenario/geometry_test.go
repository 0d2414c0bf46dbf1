package scenario

import (
	"testing"
	"time"
)

func TestKyivOffset(t *testing.T) {
	for date, want := range map[string]int{
		"2021-01-15": 2, "2021-03-27": 2, "2021-03-28": 3, "2021-07-01": 3,
		"2021-10-30": 3, "2021-10-31": 2, "2020-03-29": 3, "2020-10-25": 2, "2022-02-24": 2,
	} {
		d, _ := time.Parse(time.DateOnly, date)
		if got := kyivOffsetHours(d); got != want {
			t.Errorf("%s: UTC+%d, want UTC+%d", date, got, want)
		}
	}
}

func TestGeometry(t *testing.T) {
	// Avdiivka to Yasynuvata: about 8.9 km, east-south-east.
	a, y := settlements[settlementIndex("Avdiivka")], settlements[settlementIndex("Yasynuvata")]
	if d := distanceKM(a.Lat, a.Lon, y.Lat, y.Lon); d < 8.7 || d > 9.1 {
		t.Errorf("distance %.2f km", d)
	}
	if b := bearingDeg(a.Lat, a.Lon, y.Lat, y.Lon); b < 100 || b > 115 {
		t.Errorf("bearing %.1f", b)
	}
	lat, lon := offset(a.Lat, a.Lon, 5, 90)
	if d := distanceKM(a.Lat, a.Lon, lat, lon); d < 4.99 || d > 5.01 {
		t.Errorf("offset 5 km gave %.3f km", d)
	}
	if b := bearingDeg(lat, lon, a.Lat, a.Lon); b < 269 || b > 271.1 {
		t.Errorf("back bearing %.2f", b)
	}
	for _, name := range sensorSites {
		settlementIndex(name) // panics if a site is not a settlement
	}
}
