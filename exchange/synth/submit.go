package synth

import (
	"time"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/exchange"
	"github.com/guarantor/guarantor/exchange/reconcile"
)

// Submissions renders the dataset as the two parties would upload it to
// the verifier's service: the held list and the claimed list as
// exchange.Person records (Ref is the synthetic id). Every 17th record is
// flagged wounded; on the held list every 97th is deceased, on the
// claimed list every 13th missing.
func (d Dataset) Submissions() (held, claimed []exchange.Person) {
	return submissions(d.Held, entry.ListHeld), submissions(d.Claimed, entry.ListClaimed)
}

func submissions(ps []reconcile.Person, list string) []exchange.Person {
	out := make([]exchange.Person, len(ps))
	for i, p := range ps {
		q := exchange.Person{
			Ref: p.ID, Family: p.Family, Given: p.Given, Patronymic: p.Patronymic,
			Born: calendarDate(p.Born), BirthPlace: p.BirthPlace, Unit: p.Unit, Civilian: p.Civilian,
			Captured: calendarDate(p.Captured), CapturePlace: p.CapturePlace,
		}
		if i%17 == 0 {
			q.Health = []string{"wounded"}
		}
		switch {
		case list == entry.ListHeld && i%97 == 0:
			q.Status = exchange.StatusDeceased
		case list == entry.ListHeld:
			q.Status = exchange.StatusHeld
		case i%13 == 0:
			q.Status = exchange.StatusMissing
		default:
			q.Status = exchange.StatusClaimed
		}
		out[i] = q
	}
	return out
}

// calendarDate writes d as YYYY, YYYY-MM or YYYY-MM-DD; a typo that made
// it no calendar date (29 February of a common year) loses its day, as a
// registry would have to record it.
func calendarDate(d reconcile.Date) string {
	s := d.String()
	if len(s) == 10 {
		if _, err := time.Parse("2006-01-02", s); err != nil {
			return s[:7]
		}
	}
	return s
}
