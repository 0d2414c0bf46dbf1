package exchange_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/exchange"
)

var testAt = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// shevchenko is a valid (fictitious) record of a held list.
func shevchenko() exchange.Person {
	return exchange.Person{
		Ref: "UA-REG-000017", Family: "Шевченко", Given: "Тарас", Patronymic: "Григорович",
		Born: "1984-03-09", BirthPlace: "Моринці", Unit: "в/ч А0001",
		Captured: "2024-05", CapturePlace: "Вовчанськ", Health: []string{"wounded"}, Status: exchange.StatusHeld,
	}
}

// identityValues returns the identity fields of p that are set.
func identityValues(p exchange.Person) []string {
	var out []string
	for _, v := range []string{p.Ref, p.Family, p.Given, p.Patronymic, p.Born, p.BirthPlace, p.Unit, p.Captured, p.CapturePlace} {
		if strings.TrimSpace(v) != "" {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

func TestUploadValidation(t *testing.T) {
	ctx := context.Background()
	s := openService(t, "", testRing(t, testKey(t, "k1", 1)))
	for _, tc := range []struct {
		name   string
		list   string
		change func(p *exchange.Person)
		// second makes the second person a copy of the first.
		second bool
		field  string
	}{
		{name: "bad date", change: func(p *exchange.Person) { p.Born = "1984-13-09" }, field: "/people/1/born"},
		{name: "date in another format", change: func(p *exchange.Person) { p.Born = "09.03.1984" }, field: "/people/1/born"},
		{name: "no such day", change: func(p *exchange.Person) { p.Born = "1983-02-29" }, field: "/people/1/born"},
		{name: "born after the list", change: func(p *exchange.Person) { p.Born = "2027" }, field: "/people/1/born"},
		{name: "bad capture date", change: func(p *exchange.Person) { p.Captured = "May 2024" }, field: "/people/1/captured"},
		{name: "missing family name", change: func(p *exchange.Person) { p.Family = "  " }, field: "/people/1/family"},
		{name: "family name without letters", change: func(p *exchange.Person) { p.Family = "1234567" }, field: "/people/1/family"},
		{name: "control character", change: func(p *exchange.Person) { p.Given = "Тар\x00ас" }, field: "/people/1/given"},
		{name: "missing ref", change: func(p *exchange.Person) { p.Ref = "" }, field: "/people/1/ref"},
		{name: "duplicate ref", second: true, field: "/people/1/ref"},
		{name: "claimed status on a held list", change: func(p *exchange.Person) { p.Status = exchange.StatusMissing }, field: "/people/1/status"},
		{name: "held status on a claimed list", list: entry.ListClaimed, change: func(p *exchange.Person) { p.Status = exchange.StatusDeceased }, field: "/people/1/status"},
		{name: "bad health flag", change: func(p *exchange.Person) { p.Health = []string{"wounded", "Seriously ill"} }, field: "/people/1/health/1"},
		{name: "unknown list kind", list: "prisoners", field: "/list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first := shevchenko()
			second := shevchenko()
			if !tc.second {
				second.Ref = "UA-REG-000018"
			}
			if tc.change != nil {
				tc.change(&second)
			}
			list := entry.ListHeld
			if tc.list != "" {
				list = tc.list
			}
			if list == entry.ListClaimed {
				first.Status = exchange.StatusClaimed
			}
			_, err := s.Upload(ctx, "ex1", "UA", list, []exchange.Person{first, second}, testAt)
			var gerr *guarantor.Error
			if !errors.As(err, &gerr) {
				t.Fatalf("Upload error = %v, want a *guarantor.Error", err)
			}
			if gerr.Code != guarantor.EInvalid || gerr.Field != tc.field {
				t.Errorf("error code, field = %q, %q; want %q, %q (%v)", gerr.Code, gerr.Field, guarantor.EInvalid, tc.field, err)
			}
			for _, v := range append(identityValues(first), identityValues(second)...) {
				if strings.Contains(err.Error(), v) {
					t.Errorf("error %q quotes an identity field", err)
				}
			}
		})
	}
	lists, err := s.Lists(ctx, "ex1")
	if err != nil {
		t.Fatal(err)
	}
	if len(lists) != 0 {
		t.Errorf("failed uploads stored %d lists", len(lists))
	}
}

func TestUploadBadNames(t *testing.T) {
	ctx := context.Background()
	s := openService(t, "", testRing(t, testKey(t, "k1", 1)))
	for _, tc := range []struct{ exchange, side, field string }{
		{"Ex1", "UA", "/exchange"},
		{"", "UA", "/exchange"},
		{"ex1", "U A", "/side"},
		{"ex1", "-UA", "/side"},
	} {
		_, err := s.Upload(ctx, tc.exchange, tc.side, entry.ListHeld, []exchange.Person{shevchenko()}, testAt)
		var gerr *guarantor.Error
		if !errors.As(err, &gerr) || gerr.Field != tc.field {
			t.Errorf("Upload(%q, %q) error = %v, want one naming %s", tc.exchange, tc.side, err, tc.field)
		}
	}
	if _, err := s.Upload(ctx, "ex1", "UA", entry.ListHeld, nil, time.Time{}); guarantor.ErrorCode(err) != guarantor.EInvalid {
		t.Errorf("Upload without a time: %v, want an invalid error", err)
	}
}

// TestUploadNormalises: text is trimmed and put in NFC, an empty status
// takes the list's default, and a list id counts the side's uploads.
func TestUploadNormalises(t *testing.T) {
	ctx := context.Background()
	s := openService(t, "", testRing(t, testKey(t, "k1", 1)))
	p := shevchenko()
	p.Family = "  Шевче\u0301нко " // combining acute: NFC keeps it, composed where it can
	p.Given = "Jose\u0301"         // e + combining acute → é
	p.Status = ""
	u, err := s.Upload(ctx, "ex1", "UA", entry.ListHeld, []exchange.Person{p}, testAt)
	if err != nil {
		t.Fatal(err)
	}
	if u.ListID != "ex1:UA:held:1" {
		t.Errorf("list id = %q, want ex1:UA:held:1", u.ListID)
	}
	recs, err := s.Records(ctx, u.ListID)
	if err != nil {
		t.Fatal(err)
	}
	got := recs[0].Person
	if got.Given != "José" || strings.HasPrefix(got.Family, " ") || got.Status != exchange.StatusHeld {
		t.Errorf("stored given %q, family %q, status %q; want NFC, trimmed, held", got.Given, got.Family, got.Status)
	}
	u2, err := s.Upload(ctx, "ex1", "UA", entry.ListClaimed, nil, testAt)
	if err != nil {
		t.Fatal(err)
	}
	if u2.ListID != "ex1:UA:claimed:2" || len(u2.Bodies) != 1 || u2.Bodies[0].Commitments == nil || u2.Bodies[0].Parts != 1 {
		t.Errorf("empty list: id %q, bodies %+v; want ex1:UA:claimed:2 and one empty part", u2.ListID, u2.Bodies)
	}
}

// TestUploadThirdSideRefused: an exchange is between the first two sides
// to upload; a third party's list is refused and stores nothing.
func TestUploadThirdSideRefused(t *testing.T) {
	ctx := context.Background()
	s := openService(t, "", testRing(t, testKey(t, "k1", 1)))
	for _, side := range []string{"UA", "RU", "UA"} {
		if _, err := s.Upload(ctx, "x-1", side, entry.ListHeld, []exchange.Person{shevchenko()}, testAt); err != nil {
			t.Fatalf("upload by %s: %v", side, err)
		}
	}
	_, err := s.Upload(ctx, "x-1", "MD", entry.ListHeld, []exchange.Person{shevchenko()}, testAt)
	var ge *guarantor.Error
	if !errors.As(err, &ge) || ge.Code != guarantor.EForbidden || ge.Field != "/side" {
		t.Fatalf("third side's upload: %v; want forbidden at /side", err)
	}
	lists, err := s.Lists(ctx, "x-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(lists) != 3 {
		t.Fatalf("%d lists after a refused upload, want 3", len(lists))
	}
	// Another exchange is open to that party.
	if _, err := s.Upload(ctx, "x-2", "MD", entry.ListHeld, []exchange.Person{shevchenko()}, testAt); err != nil {
		t.Fatal(err)
	}
}
