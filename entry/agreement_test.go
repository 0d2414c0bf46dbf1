package entry_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/internal/testkeys"
)

// TestAgreementCoalitionRules: the coalition must be a collective group;
// requirements must name a zone, a known capability and a period.
func TestAgreementCoalitionRules(t *testing.T) {
	const base = `{"id":"fw","version":1,"title":"F","effective":"2026-01-01T00:00:00Z","parties":[{"id":"UA","name":"Ukraine"}],` +
		`"guarantors":[{"id":"C","name":"Coalition","kind":"collective","members":["UK"]},{"id":"US","name":"US","kind":"bilateral","beneficiary":"UA"}],` +
		`"coalition":"C","zones":[{"id":"north","kind":"security_zone","geometry":{"type":"Polygon","coordinates":[[[37,48],[38,48],[38,49],[37,48]]]}}],` +
		`"requirements":[{"sector":"north","capability":"land_demining","quantity":4,"from":"2026-01-01T00:00:00Z","to":"2027-01-01T00:00:00Z"}],` +
		`"triggers":[{"id":"t","title":"T","when":"false","obligations":[{"who":"US","action":"consult","within":"1d"}]}]}`
	k := testkeys.New(t, "party.UA")
	valid := func(doc string) error {
		raw := testkeys.Sign(t, entry.KindAgreement, doc, k)
		e, err := entry.Parse(raw)
		if err != nil {
			return err
		}
		_, err = e.Validate()
		return err
	}
	if err := valid(base); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ from, to, field string }{
		{`"coalition":"C"`, `"coalition":"US"`, "/coalition"},
		{`"sector":"north"`, `"sector":"south"`, "/requirements/0/sector"},
		{`"capability":"land_demining"`, `"capability":"warp_drive"`, "/requirements/0/capability"},
		{`"to":"2027-01-01T00:00:00Z"`, `"to":"2025-01-01T00:00:00Z"`, "/requirements/0/to"},
	} {
		err := valid(strings.Replace(base, c.from, c.to, 1))
		var ge *guarantor.Error
		if !errors.As(err, &ge) || ge.Field != c.field {
			t.Fatalf("%s: %v, want field %s", c.to, err, c.field)
		}
	}
}
