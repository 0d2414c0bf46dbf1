package reconcile

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Date is a calendar date that may be known only in part. A zero field is
// unknown: Date{Year: 1990} is "some day in 1990", Date{Year: 1990,
// Month: 3} is "some day in March 1990" and the zero Date is unknown
// altogether. A day without a month, or a month without a year, carries
// no information and is ignored; a Date with a field out of range (month
// 13, day 32) counts as unknown.
type Date struct {
	Year  int // e.g. 1990; 0 if unknown
	Month int // 1–12; 0 if unknown
	Day   int // 1–31; 0 if unknown
}

// ErrBadDate is returned by ParseDate for text that is not a date.
var ErrBadDate = errors.New("not a date")

// ParseDate parses "YYYY", "YYYY-MM", "YYYY-MM-DD", "DD.MM.YYYY" or
// "MM.YYYY"; the empty string and "?" give the zero Date.
func ParseDate(s string) (Date, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "?" {
		return Date{}, nil
	}
	var parts []string
	var d Date
	var err error
	if strings.Contains(s, ".") {
		parts = strings.Split(s, ".")
		switch len(parts) {
		case 3:
			d.Day, d.Month, d.Year, err = atoi3(parts[0], parts[1], parts[2])
		case 2:
			_, d.Month, d.Year, err = atoi3("0", parts[0], parts[1])
		default:
			err = ErrBadDate
		}
	} else {
		parts = strings.Split(s, "-")
		switch len(parts) {
		case 1:
			d.Year, _, _, err = atoi3(parts[0], "0", "0")
		case 2:
			d.Year, d.Month, _, err = atoi3(parts[0], parts[1], "0")
		case 3:
			d.Year, d.Month, d.Day, err = atoi3(parts[0], parts[1], parts[2])
		default:
			err = ErrBadDate
		}
	}
	if err == nil && !d.valid() {
		err = ErrBadDate
	}
	if err != nil {
		return Date{}, fmt.Errorf("couldn't parse date %q: %w", s, ErrBadDate)
	}
	return d, nil
}

func atoi3(a, b, c string) (int, int, int, error) {
	var out [3]int
	for i, s := range []string{a, b, c} {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return 0, 0, 0, ErrBadDate
		}
		out[i] = n
	}
	return out[0], out[1], out[2], nil
}

// valid reports whether d's known fields are in range.
func (d Date) valid() bool {
	return d.Year >= 0 && d.Year <= 9999 && d.Month >= 0 && d.Month <= 12 && d.Day >= 0 && d.Day <= 31
}

// norm returns d with the fields that carry no information cleared.
func (d Date) norm() Date {
	if !d.valid() || d.Year == 0 {
		return Date{}
	}
	if d.Month == 0 {
		d.Day = 0
	}
	return d
}

// IsZero reports whether nothing is known of d.
func (d Date) IsZero() bool {
	return d.norm().Year == 0
}

// String formats d as "YYYY-MM-DD", "YYYY-MM" or "YYYY", or "" if
// unknown.
func (d Date) String() string {
	d = d.norm()
	switch {
	case d.Year == 0:
		return ""
	case d.Month == 0:
		return fmt.Sprintf("%04d", d.Year)
	case d.Day == 0:
		return fmt.Sprintf("%04d-%02d", d.Year, d.Month)
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// Compatible reports whether d and e can be the same date: every field
// known in both is equal. An unknown date is compatible with any date.
// Compatible is strict; the reconciler's score also forgives swapped day
// and month and one-digit typos (see the package documentation).
func (d Date) Compatible(e Date) bool {
	d, e = d.norm(), e.norm()
	if d.Year == 0 || e.Year == 0 {
		return true
	}
	if d.Year != e.Year {
		return false
	}
	if d.Month == 0 || e.Month == 0 {
		return true
	}
	if d.Month != e.Month {
		return false
	}
	return d.Day == 0 || e.Day == 0 || d.Day == e.Day
}

// dateAgreement grades how two birth dates agree.
type dateAgreement int

const (
	dateUnknown     dateAgreement = iota // one or both unknown
	dateConflict                         // cannot be the same date
	dateYear                             // years equal, nothing finer on both sides
	dateMonth                            // year and month equal, no day on one side
	dateExact                            // full dates equal
	dateSwapped                          // full dates equal after swapping day and month
	dateTypo                             // full dates one typo apart
	datePartialTypo                      // partial dates one typo apart
)

// compareDates grades the agreement of two dates. A typo is one changed
// digit, two adjacent digits swapped, or a difference of one, in exactly
// one of year, month and day.
func compareDates(a, b Date) dateAgreement {
	a, b = a.norm(), b.norm()
	if a.Year == 0 || b.Year == 0 {
		return dateUnknown
	}
	typos := 0
	if a.Year != b.Year {
		if !typo(a.Year, b.Year, 4) {
			return dateConflict
		}
		typos++
	}
	if a.Month == 0 || b.Month == 0 {
		if typos > 0 {
			return datePartialTypo
		}
		return dateYear
	}
	if a.Day == 0 || b.Day == 0 {
		switch {
		case a.Month == b.Month && typos == 0:
			return dateMonth
		case a.Month == b.Month, typos == 0 && typo(a.Month, b.Month, 2):
			return datePartialTypo
		}
		return dateConflict
	}
	if a.Month == b.Month && a.Day == b.Day {
		if typos == 0 {
			return dateExact
		}
		return dateTypo
	}
	if typos > 0 {
		return dateConflict
	}
	if a.Month == b.Day && a.Day == b.Month {
		return dateSwapped
	}
	if a.Month == b.Month && typo(a.Day, b.Day, 2) || a.Day == b.Day && typo(a.Month, b.Month, 2) {
		return dateTypo
	}
	return dateConflict
}

// typo reports whether x and y, written with width digits, differ by one
// digit, by two adjacent digits swapped, or by one.
func typo(x, y, width int) bool {
	if x == y {
		return false
	}
	if x-y == 1 || y-x == 1 {
		return true
	}
	var a, b [4]byte
	if width > len(a) {
		return false
	}
	for i := width - 1; i >= 0; i-- {
		a[i], b[i] = byte(x%10), byte(y%10)
		x, y = x/10, y/10
	}
	if x != 0 || y != 0 {
		return false // wider than width
	}
	n, first := 0, -1
	for i := range width {
		if a[i] != b[i] {
			if n == 0 {
				first = i
			}
			n++
		}
	}
	switch n {
	case 1:
		return true
	case 2:
		i := first
		return i+1 < width && a[i] == b[i+1] && a[i+1] == b[i]
	}
	return false
}
