// Package column holds the column encodings both projection stores
// (store/sqlite and store/postgres) write, so that their tables and
// exports hold the same values.
package column

import "time"

// TimeLayout is how times are stored: UTC, fixed width, so that text
// order is time order.
const TimeLayout = "2006-01-02T15:04:05.000000000Z"

// Time formats t in UTC with TimeLayout.
func Time(t time.Time) string { return t.UTC().Format(TimeLayout) }

// NullFloat is *p, or SQL NULL when p is nil.
func NullFloat(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// NullInt is *p as an int64, or SQL NULL when p is nil.
func NullInt(p *int) any {
	if p == nil {
		return nil
	}
	return int64(*p)
}

// NonNil is s, or an empty slice when s is nil (so that JSON columns
// hold [] rather than null).
func NonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
