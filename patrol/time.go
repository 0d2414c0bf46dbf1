package patrol

import (
	"fmt"
	"slices"
	"time"
)

// Interval is a span of time [From, To].
type Interval struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Duration is the interval's length.
func (i Interval) Duration() time.Duration { return i.To.Sub(i.From) }

// Period is a reporting period [From, To): a UTC day or an ISO week.
type Period struct {
	// Label is "2006-01-02" for a day and "2006-W01" for an ISO week.
	Label string    `json:"label"`
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
}

// Days returns the UTC days that overlap [from, to), in order.
func Days(from, to time.Time) []Period {
	var out []Period
	y, m, d := from.UTC().Date()
	for day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC); day.Before(to); day = day.AddDate(0, 0, 1) {
		out = append(out, Period{Label: day.Format(time.DateOnly), From: day, To: day.AddDate(0, 0, 1)})
	}
	return out
}

// Weeks returns the ISO weeks (Monday 00:00 UTC to the next Monday) that
// overlap [from, to), in order.
func Weeks(from, to time.Time) []Period {
	var out []Period
	y, m, d := from.UTC().Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	monday := day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	for w := monday; w.Before(to); w = w.AddDate(0, 0, 7) {
		iy, iw := w.ISOWeek()
		out = append(out, Period{Label: fmt.Sprintf("%04d-W%02d", iy, iw), From: w, To: w.AddDate(0, 0, 7)})
	}
	return out
}

// active reports whether the span [s, e] overlaps [from, to) for a
// positive time or, when it is an instant, lies in it.
func active(s, e, from, to time.Time) bool {
	if !e.After(s) {
		return !s.Before(from) && s.Before(to)
	}
	return s.Before(to) && e.After(from)
}

// union sorts the intervals and merges those that overlap or touch; it
// returns a new slice.
func union(iv []Interval) []Interval {
	s := slices.Clone(iv)
	slices.SortFunc(s, func(a, b Interval) int {
		if c := a.From.Compare(b.From); c != 0 {
			return c
		}
		return a.To.Compare(b.To)
	})
	var out []Interval
	for _, i := range s {
		if n := len(out); n > 0 && !i.From.After(out[n-1].To) {
			if i.To.After(out[n-1].To) {
				out[n-1].To = i.To
			}
			continue
		}
		out = append(out, i)
	}
	return out
}

// hoursIn is the length, in hours, of the part of the merged intervals u
// inside [from, to).
func hoursIn(u []Interval, from, to time.Time) float64 {
	var d time.Duration
	for _, i := range u {
		s, e := maxTime(i.From, from), minTime(i.To, to)
		if e.After(s) {
			d += e.Sub(s)
		}
	}
	return d.Hours()
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Uptime turns a camera's (or any sensor's) heartbeats into the
// intervals it was up and its outages, within [from, to].
//
// Heartbeats no more than maxGap apart belong to one up interval, from
// the first to the last of them; a gap longer than maxGap between two
// heartbeats is an outage, from the one to the other. So is the time from
// from to the first heartbeat, and from the last heartbeat to to, when it
// is longer than maxGap; with no heartbeat at all, the whole window is an
// outage. A lone heartbeat is an up interval of no length: it makes its
// footprint active at that instant but adds no coverage-hours. Intervals
// are clipped to [from, to]; the beats need not be sorted and may lie
// outside the window (they still join or split intervals).
func Uptime(beats []time.Time, maxGap time.Duration, from, to time.Time) (up, outages []Interval) {
	if !to.After(from) {
		return nil, nil
	}
	b := slices.Clone(beats)
	slices.SortFunc(b, time.Time.Compare)
	if len(b) == 0 {
		return nil, []Interval{{from, to}}
	}
	var raw, gaps []Interval
	if b[0].Sub(from) > maxGap {
		gaps = append(gaps, Interval{from, b[0]})
	}
	start := b[0]
	for i := 1; i < len(b); i++ {
		if b[i].Sub(b[i-1]) > maxGap {
			raw = append(raw, Interval{start, b[i-1]})
			gaps = append(gaps, Interval{b[i-1], b[i]})
			start = b[i]
		}
	}
	raw = append(raw, Interval{start, b[len(b)-1]})
	if to.Sub(b[len(b)-1]) > maxGap {
		gaps = append(gaps, Interval{b[len(b)-1], to})
	}
	clip := func(iv []Interval, keepInstant bool) []Interval {
		var out []Interval
		for _, i := range iv {
			if i.To.Before(from) || i.From.After(to) {
				continue
			}
			c := Interval{maxTime(i.From, from), minTime(i.To, to)}
			if c.To.After(c.From) || (keepInstant && !i.To.After(i.From)) {
				out = append(out, c)
			}
		}
		return out
	}
	return clip(raw, true), clip(gaps, false)
}
