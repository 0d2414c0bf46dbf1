package reconcile_test

import (
	"errors"
	"testing"

	"github.com/guarantor/guarantor/exchange/reconcile"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want reconcile.Date
	}{
		{"", reconcile.Date{}},
		{"?", reconcile.Date{}},
		{"1990", reconcile.Date{Year: 1990}},
		{"1990-03", reconcile.Date{Year: 1990, Month: 3}},
		{"1990-03-04", reconcile.Date{Year: 1990, Month: 3, Day: 4}},
		{"04.03.1990", reconcile.Date{Year: 1990, Month: 3, Day: 4}},
		{"03.1990", reconcile.Date{Year: 1990, Month: 3}},
		{" 1990-3-4 ", reconcile.Date{Year: 1990, Month: 3, Day: 4}},
	}
	for _, tt := range tests {
		got, err := reconcile.ParseDate(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseDate(%q) = %+v, %v; want %+v, nil", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"x", "1990-13", "1990-01-32", "1.2.3.4", "-1", "1990--01"} {
		if _, err := reconcile.ParseDate(bad); !errors.Is(err, reconcile.ErrBadDate) {
			t.Errorf("ParseDate(%q) error = %v, want ErrBadDate", bad, err)
		}
	}
}

func TestDateString(t *testing.T) {
	tests := []struct {
		in   reconcile.Date
		want string
	}{
		{reconcile.Date{}, ""},
		{reconcile.Date{Year: 1990}, "1990"},
		{reconcile.Date{Year: 1990, Month: 3}, "1990-03"},
		{reconcile.Date{Year: 1990, Month: 3, Day: 4}, "1990-03-04"},
		{reconcile.Date{Year: 1990, Day: 4}, "1990"}, // a day without a month says nothing
		{reconcile.Date{Month: 3, Day: 4}, ""},       // nor a month without a year
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.in, got, tt.want)
		}
		if got, want := tt.in.IsZero(), tt.want == ""; got != want {
			t.Errorf("%+v.IsZero() = %v, want %v", tt.in, got, want)
		}
	}
}

func TestDateCompatible(t *testing.T) {
	d := func(y, m, dd int) reconcile.Date { return reconcile.Date{Year: y, Month: m, Day: dd} }
	tests := []struct {
		a, b reconcile.Date
		want bool
	}{
		{d(1990, 3, 4), d(1990, 3, 4), true},
		{d(1990, 3, 4), d(1990, 3, 0), true},
		{d(1990, 3, 4), d(1990, 0, 0), true},
		{d(1990, 3, 4), d(0, 0, 0), true},
		{d(1990, 3, 4), d(1990, 3, 5), false},
		{d(1990, 3, 4), d(1990, 4, 0), false},
		{d(1990, 3, 4), d(1991, 0, 0), false},
		{d(1990, 3, 4), d(1990, 4, 3), false}, // a swap is forgiven by the score, not here
	}
	for _, tt := range tests {
		if got := tt.a.Compatible(tt.b); got != tt.want {
			t.Errorf("%v.Compatible(%v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := tt.b.Compatible(tt.a); got != tt.want {
			t.Errorf("%v.Compatible(%v) = %v, want %v (symmetry)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestDateAgreement(t *testing.T) {
	d := func(y, m, dd int) reconcile.Date { return reconcile.Date{Year: y, Month: m, Day: dd} }
	tests := []struct {
		a, b reconcile.Date
		want string
	}{
		{d(1990, 3, 4), d(1990, 3, 4), "same date"},
		{d(1990, 3, 4), d(1990, 4, 3), "same date with day and month swapped"},
		{d(1990, 3, 4), d(1990, 3, 5), "one typo apart"},        // ±1
		{d(1990, 3, 14), d(1990, 3, 41), "unknown on one side"}, // out of range: unknown
		{d(1990, 3, 12), d(1990, 3, 21), "one typo apart"},      // adjacent digits swapped
		{d(1990, 3, 12), d(1990, 3, 17), "one typo apart"},      // one digit
		{d(1990, 3, 4), d(1980, 3, 4), "one typo apart"},        // one digit of the year
		{d(1990, 3, 4), d(1909, 3, 4), "one typo apart"},        // adjacent digits of the year
		{d(1990, 3, 4), d(1991, 3, 5), "conflict"},              // two typos
		{d(1990, 3, 4), d(1990, 3, 0), "same year and month"},
		{d(1990, 3, 4), d(1990, 0, 0), "same year"},
		{d(1990, 3, 4), d(1991, 0, 0), "one typo apart (partial)"},
		{d(1990, 3, 4), d(1990, 8, 0), "one typo apart (partial)"},
		{d(1990, 3, 4), d(1990, 11, 0), "conflict"},
		{d(1990, 3, 4), d(1985, 0, 0), "conflict"},
		{d(1990, 3, 4), d(0, 0, 0), "unknown on one side"},
		{d(1990, 3, 4), d(1990, 7, 22), "conflict"},
	}
	for _, tt := range tests {
		if got := reconcile.DateAgreement(tt.a, tt.b); got != tt.want {
			t.Errorf("DateAgreement(%v, %v) = %q, want %q", tt.a, tt.b, got, tt.want)
		}
		if got := reconcile.DateAgreement(tt.b, tt.a); got != tt.want {
			t.Errorf("DateAgreement(%v, %v) = %q, want %q (symmetry)", tt.b, tt.a, got, tt.want)
		}
	}
}
