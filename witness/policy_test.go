package witness_test

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/guarantor/guarantor/witness"
	"golang.org/x/mod/sumdb/note"
)

func TestPolicyCheck(t *testing.T) {
	sk, _, _ := note.GenerateKey(rand.Reader, "example.org/log")
	logS, _ := note.NewSigner(sk)
	signed, err := note.Sign(&note.Note{Text: "example.org/log\n1\n" + strings.Repeat("A", 43) + "=\n"}, logS)
	if err != nil {
		t.Fatal(err)
	}
	var vkeys []string
	cp := signed
	for i, name := range []string{"w.test/a", "w.test/b", "w.test/c"} {
		skey, _, _ := note.GenerateKey(rand.Reader, name)
		s, vkey, err := witness.CosignerFromKey(skey)
		if err != nil {
			t.Fatal(err)
		}
		vkeys = append(vkeys, vkey)
		if i < 2 { // a and b cosign, c does not
			cs, err := note.Sign(&note.Note{Text: string(signed[:strings.Index(string(signed), "\n\n")+1])}, s)
			if err != nil {
				t.Fatal(err)
			}
			cp = append(cp, cs[strings.Index(string(cs), "\n\n")+2:]...)
		}
	}
	head := "log example.org/log\nwitness a " + vkeys[0] + " https://a.test\nwitness b " + vkeys[1] + "\nwitness c " + vkeys[2] + " # no URL\n"
	for _, tc := range []struct {
		name, policy string
		missing      []string // nil: satisfied
	}{
		{"any", "group g any a b c\nquorum g\n", nil},
		{"two of three", "group g 2 a b c\nquorum g\n", nil},
		{"all", "group g all a b c\nquorum g\n", []string{"c"}},
		{"single", "quorum c\n", []string{"c"}},
		{"nested", "group x all a c\ngroup g any x\nquorum g\n", []string{"c"}},
		{"none", "quorum none\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := witness.ParsePolicy([]byte(head + tc.policy))
			if err != nil {
				t.Fatal(err)
			}
			err = p.Check(cp)
			var qe *witness.QuorumError
			switch {
			case tc.missing == nil && err != nil:
				t.Fatalf("got %v, want satisfied", err)
			case tc.missing != nil && !errors.As(err, &qe):
				t.Fatalf("got %v, want a QuorumError", err)
			case tc.missing != nil && strings.Join(qe.Missing, ",") != strings.Join(tc.missing, ","):
				t.Fatalf("missing %v, want %v (%v)", qe.Missing, tc.missing, err)
			}
		})
	}
	for _, bad := range []string{"", "quorum g\n", "group g 4 a b c\nquorum g\n", "witness z notakey\nquorum z\n", "frob\nquorum none\n", "witness a " + vkeys[0] + "\nquorum a\n"} {
		if _, err := witness.ParsePolicy([]byte(head + bad)); err == nil {
			t.Errorf("ParsePolicy(%q) succeeded, want an error", bad)
		}
	}
}
