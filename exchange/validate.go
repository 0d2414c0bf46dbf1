package exchange

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/exchange/names"
)

// Limits on an upload.
const (
	// MaxPeople is the most records one list holds (the log's limit).
	MaxPeople = 1_000_000
	maxRef    = 128 // bytes
	maxText   = 256 // bytes, for names, places and units
	maxHealth = 16  // flags per record
	maxFlag   = 32  // bytes per flag
	maxID     = 128 // bytes, for list and manifest ids
)

// checkToken reports whether s matches ^[first][A-Za-z0-9._-]{0,63}$
// where first is a letter or digit, lower case only if lower is set:
// the log's patterns for exchange names and sides.
func checkToken(s string, lower bool) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case 'A' <= c && c <= 'Z':
			if lower {
				return false
			}
		case (c == '.' || c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

func checkExchange(ptr, exchange string) error {
	if !checkToken(exchange, true) {
		return guarantor.Errorf(guarantor.EInvalid, ptr, "an exchange name is 1 to 64 characters of a-z 0-9 . _ -, starting with a letter or digit")
	}
	return nil
}

func checkSide(ptr, side string) error {
	if !checkToken(side, false) {
		return guarantor.Errorf(guarantor.EInvalid, ptr, "a side is 1 to 64 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit")
	}
	return nil
}

func checkKind(ptr, kind string) error {
	if kind != entry.ListHeld && kind != entry.ListClaimed {
		return guarantor.Errorf(guarantor.EInvalid, ptr, "the list kind must be %q or %q", entry.ListHeld, entry.ListClaimed)
	}
	return nil
}

// statuses returns the statuses a list kind allows, its default first.
func statuses(kind string) []string {
	if kind == entry.ListHeld {
		return []string{StatusHeld, StatusDeceased}
	}
	return []string{StatusClaimed, StatusMissing}
}

// textProblem returns what is wrong with a free-text field, or "". It
// never quotes the field.
func textProblem(s string, limit int) string {
	switch {
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case len(s) > limit:
		return fmt.Sprintf("is longer than %d bytes", limit)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "contains a control character"
	}
	return ""
}

// cleanText trims a text field and puts it in Unicode NFC.
func cleanText(s string) string {
	return norm.NFC.String(strings.TrimSpace(s))
}

// validDate reports whether s is YYYY, YYYY-MM or YYYY-MM-DD, a real
// calendar date written canonically.
func validDate(s string) bool {
	var layout string
	switch len(s) {
	case 4:
		layout = "2006"
	case 7:
		layout = "2006-01"
	case 10:
		layout = "2006-01-02"
	default:
		return false
	}
	t, err := time.Parse(layout, s)
	return err == nil && t.Format(layout) == s && t.Year() >= 1000
}

// after reports whether the (partial) date s begins after the day of at.
func after(s string, at time.Time) bool {
	return s > at.UTC().Format("2006-01-02")[:len(s)]
}

// cleanPerson returns p with its text trimmed and normalised and its
// status defaulted, or an error naming the first bad field as a JSON
// pointer under ptr. Errors never quote a field's value.
func cleanPerson(ptr string, p Person, kind string, at time.Time) (Person, error) {
	bad := func(field, format string, args ...any) (Person, error) {
		return Person{}, guarantor.Errorf(guarantor.EInvalid, ptr+"/"+field, format, args...)
	}
	texts := []struct {
		field string
		v     *string
		limit int
	}{
		{"ref", &p.Ref, maxRef},
		{"family", &p.Family, maxText},
		{"given", &p.Given, maxText},
		{"patronymic", &p.Patronymic, maxText},
		{"born", &p.Born, maxText},
		{"birth_place", &p.BirthPlace, maxText},
		{"unit", &p.Unit, maxText},
		{"captured", &p.Captured, maxText},
		{"capture_place", &p.CapturePlace, maxText},
		{"status", &p.Status, maxText},
	}
	for _, t := range texts {
		if why := textProblem(*t.v, t.limit); why != "" {
			return bad(t.field, "%s", why)
		}
		*t.v = cleanText(*t.v)
	}
	if p.Ref == "" {
		return bad("ref", "is required: the party's own reference for the record, unique in the list")
	}
	if p.Family == "" {
		return bad("family", "is required")
	}
	if names.Key(p.Family) == "" {
		return bad("family", "has no Latin or Cyrillic letter")
	}
	for _, d := range []struct {
		field string
		v     string
	}{{"born", p.Born}, {"captured", p.Captured}} {
		if d.v == "" {
			continue
		}
		if !validDate(d.v) {
			return bad(d.field, "is not a date (YYYY, YYYY-MM or YYYY-MM-DD)")
		}
		if after(d.v, at) {
			return bad(d.field, "is later than the list's time")
		}
	}
	if p.Born != "" && p.Captured != "" && p.Captured < p.Born {
		return bad("captured", "is earlier than the date of birth")
	}
	if len(p.Health) > maxHealth {
		return bad("health", "has more than %d flags", maxHealth)
	}
	for i, f := range p.Health {
		if !validFlag(f) {
			return bad(fmt.Sprintf("health/%d", i), "is not a flag (1 to %d characters of a-z 0-9 _, starting with a letter)", maxFlag)
		}
		for j := range i {
			if p.Health[j] == f {
				return bad(fmt.Sprintf("health/%d", i), "repeats /health/%d", j)
			}
		}
	}
	allowed := statuses(kind)
	switch {
	case p.Status == "":
		p.Status = allowed[0]
	case p.Status != allowed[0] && p.Status != allowed[1]:
		return bad("status", "must be %q or %q on a %s list", allowed[0], allowed[1], kind)
	}
	return p, nil
}

func validFlag(f string) bool {
	if len(f) == 0 || len(f) > maxFlag || f[0] < 'a' || f[0] > 'z' {
		return false
	}
	for i := 0; i < len(f); i++ {
		c := f[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
