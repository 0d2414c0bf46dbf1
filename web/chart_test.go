package web

import (
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestBarChart(t *testing.T) {
	var days []DayCount
	for i := range 30 {
		days = append(days, DayCount{time.Date(2026, 1, 1+i, 0, 0, 0, 0, time.UTC).Format(time.DateOnly), i % 7})
	}
	svg := string(barChart("en", `c<1>`, days))
	// Well-formed XML, with its title and description first.
	var doc struct {
		XMLName xml.Name
		Title   string `xml:"title"`
		Desc    string `xml:"desc"`
		Bars    []struct {
			Title  string `xml:"title"`
			Height string `xml:"height,attr"`
		} `xml:"g>rect"`
	}
	if err := xml.Unmarshal([]byte(svg), &doc); err != nil {
		t.Fatalf("%v\n%s", err, svg)
	}
	if doc.XMLName.Local != "svg" || doc.Title != "Incidents per day, 2026-01-01 to 2026-01-30" ||
		doc.Desc != "Bar chart of the open incidents counted on each of 30 UTC days from 2026-01-01 to 2026-01-30: at most 6, on 2026-01-07; 5 days without any." {
		t.Errorf("title %q, desc %q", doc.Title, doc.Desc)
	}
	if len(doc.Bars) != 30 || doc.Bars[6].Title != "2026-01-07, incidents: 6" || doc.Bars[0].Height != "0.0" || doc.Bars[6].Height != "178.0" {
		t.Errorf("bars %+v", doc.Bars)
	}
	if !strings.Contains(svg, `id="c&lt;1&gt;"`) || !strings.Contains(svg, `aria-labelledby="c&lt;1&gt;-title c&lt;1&gt;-desc"`) {
		t.Error("the id is not escaped")
	}
	if strings.Contains(svg, "style=") {
		t.Error("inline style, which the CSP forbids")
	}
	// Ticks 0, 2, 4, 6, and a date under the last day and every seventh
	// before it.
	for _, want := range []string{">0</text>", ">2</text>", ">6</text>", ">01-30</text>", ">01-23</text>", ">01-02</text>"} {
		if !strings.Contains(svg, want) {
			t.Errorf("no %s", want)
		}
	}
	if barChart("en", "x", nil) != "" {
		t.Error("a chart of nothing")
	}
}

func TestTickStep(t *testing.T) {
	for peak, want := range map[int]int{0: 1, 1: 1, 5: 1, 6: 2, 10: 2, 11: 5, 25: 5, 26: 10, 99: 20, 1000: 200, 1001: 500} {
		if got := tickStep(peak); got != want {
			t.Errorf("tickStep(%d) = %d, want %d", peak, got, want)
		}
	}
}

func TestCountdown(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{30 * time.Second, "due now"},
		{-30 * time.Second, "due now"},
		{5 * time.Minute, "5 min left"},
		{time.Hour, "1 h left"},
		{time.Hour + 59*time.Minute + 59*time.Second, "1 h 59 min left"},
		{25 * time.Hour, "1 d 1 h left"},
		{72*time.Hour + 30*time.Minute, "3 d left"},
		{-90 * time.Minute, "overdue by 1 h 30 min"},
		{-48 * time.Hour, "overdue by 2 d"},
	} {
		if got := countdown("en", tc.d); got != tc.want {
			t.Errorf("countdown(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	for x, want := range map[float64]string{0: "0", 6: "6", 999: "999", 1000: "1\u202f000", 1.2e9: "1\u202f200\u202f000\u202f000",
		136986.301369863: "136\u202f986.30", 2.5: "2.5", -12345: "-12\u202f345"} {
		if got := formatNumber(x); got != want {
			t.Errorf("formatNumber(%v) = %q, want %q", x, got, want)
		}
	}
}

func TestDayIndex(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		t    time.Time
		want int
	}{
		{start, 0}, {start.Add(23*time.Hour + 59*time.Minute), 0}, {start.Add(24 * time.Hour), 1},
		{start.Add(-time.Nanosecond), -1}, {start.Add(-24 * time.Hour), -1}, {start.Add(-24*time.Hour - 1), -2},
	} {
		if got := dayIndex(start, tc.t); got != tc.want {
			t.Errorf("dayIndex(%v) = %d, want %d", tc.t, got, tc.want)
		}
	}
}

func TestParseDay(t *testing.T) {
	for s, ok := range map[string]bool{"2026-01-05": true, "2024-02-29": true, "2026-02-29": false, "2026-13-01": false,
		"2026-1-05": false, "2026-01-05T00:00:00Z": false, "": false, "２０２６-01-05": false} {
		if _, got := parseDay(s); got != ok {
			t.Errorf("parseDay(%q) ok = %v", s, got)
		}
	}
	d, _ := parseDay("2026-01-05")
	if got := fmt.Sprint(d); got != "2026-01-05 00:00:00 +0000 UTC" {
		t.Errorf("parseDay = %s", got)
	}
}
