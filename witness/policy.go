package witness

import (
	"bufio"
	"bytes"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	fnote "github.com/transparency-dev/formats/note"
	"github.com/transparency-dev/tessera"
	"golang.org/x/mod/sumdb/note"
)

// Policy is a witness policy in the Sigsum format Tessera parses:
//
//	witness NAME VKEY [URL]
//	group NAME k|any|all MEMBER...
//	quorum NAME|none
//
// "log" lines are ignored and "#" starts a comment. A witness's VKEY is
// its cosignature/v1 verifier key (an Ed25519 one is accepted too).
type Policy struct {
	raw    []byte
	quorum *component // nil for "quorum none"
}

// component is a witness (verifier set) or a group (children set).
type component struct {
	name     string
	verifier note.Verifier
	url      string
	n        int
	children []*component
}

// ParsePolicy parses a witness policy.
func ParsePolicy(b []byte) (*Policy, error) {
	comps := map[string]*component{}
	quorum := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	line := 0
	for sc.Scan() {
		line++
		text, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(text)
		if len(f) == 0 {
			continue
		}
		bad := func(format string, args ...any) error {
			return fmt.Errorf("witness policy line %d: %s", line, fmt.Sprintf(format, args...))
		}
		switch f[0] {
		case "log":
		case "witness":
			if len(f) != 3 && len(f) != 4 {
				return nil, bad("want \"witness NAME VKEY [URL]\"")
			}
			if comps[f[1]] != nil || isKeyword(f[1]) {
				return nil, bad("name %q is taken", f[1])
			}
			v, err := fnote.NewVerifierForCosignatureV1(f[2])
			if err != nil {
				return nil, bad("witness %s key %q: %v", f[1], f[2], err)
			}
			c := &component{name: f[1], verifier: v}
			if len(f) == 4 {
				if _, err := url.Parse(f[3]); err != nil {
					return nil, bad("witness %s URL: %v", f[1], err)
				}
				c.url = f[3]
			}
			comps[f[1]] = c
		case "group":
			if len(f) < 4 {
				return nil, bad("want \"group NAME k|any|all MEMBER...\"")
			}
			if comps[f[1]] != nil || isKeyword(f[1]) {
				return nil, bad("name %q is taken", f[1])
			}
			c := &component{name: f[1]}
			for _, m := range f[3:] {
				child := comps[m]
				if child == nil {
					return nil, bad("group %s: unknown member %q (define it above)", f[1], m)
				}
				c.children = append(c.children, child)
			}
			switch f[2] {
			case "any":
				c.n = 1
			case "all":
				c.n = len(c.children)
			default:
				k, err := strconv.Atoi(f[2])
				if err != nil || k < 1 || k > len(c.children) {
					return nil, bad("group %s: threshold %q is not any, all or 1..%d", f[1], f[2], len(c.children))
				}
				c.n = k
			}
			comps[f[1]] = c
		case "quorum":
			if len(f) != 2 {
				return nil, bad("want \"quorum NAME|none\"")
			}
			quorum = f[1]
		default:
			return nil, bad("unknown keyword %q", f[0])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	p := &Policy{raw: b}
	switch quorum {
	case "":
		return nil, fmt.Errorf("witness policy has no quorum line")
	case "none":
	default:
		if p.quorum = comps[quorum]; p.quorum == nil {
			return nil, fmt.Errorf("witness policy: quorum %q is not defined", quorum)
		}
	}
	return p, nil
}

func isKeyword(s string) bool {
	switch s {
	case "witness", "group", "any", "all", "none", "quorum", "log":
		return true
	}
	return false
}

// QuorumError says a checkpoint's cosignatures do not meet a policy.
type QuorumError struct {
	// Quorum is the policy's quorum component name.
	Quorum string
	// Missing names the witnesses whose valid cosignature is missing.
	Missing []string
	// Have is how many of the policy's witnesses did cosign.
	Have int
}

// Error names the missing witnesses.
func (e *QuorumError) Error() string {
	return fmt.Sprintf("checkpoint does not meet witness quorum %q: %d witnesses cosigned, missing valid cosignatures from %s",
		e.Quorum, e.Have, strings.Join(e.Missing, ", "))
}

// Check reports whether the signed checkpoint cp carries valid
// cosignatures meeting the policy's quorum; if not it returns a
// *QuorumError naming the witnesses that did not cosign.
func (p *Policy) Check(cp []byte) error {
	if p.quorum == nil {
		return nil
	}
	signed := map[string]bool{}
	var walk func(c *component) bool
	walk = func(c *component) bool {
		if c.verifier != nil {
			ok, seen := signed[c.name]
			if !seen {
				n, err := note.Open(cp, note.VerifierList(c.verifier))
				ok = err == nil && len(n.Sigs) > 0
				signed[c.name] = ok
			}
			return ok
		}
		got := 0
		for _, ch := range c.children {
			if walk(ch) { // evaluate every child, to name all the missing
				got++
			}
		}
		return got >= c.n
	}
	if walk(p.quorum) {
		return nil
	}
	e := &QuorumError{Quorum: p.quorum.name}
	for name, ok := range signed {
		if ok {
			e.Have++
		} else {
			e.Missing = append(e.Missing, name)
		}
	}
	sort.Strings(e.Missing)
	return e
}

// TesseraGroup returns the policy as Tessera's witness group, for
// tessera.AppendOptions.WithWitnesses. Every witness needs a URL.
func (p *Policy) TesseraGroup() (tessera.WitnessGroup, error) {
	return tessera.NewWitnessGroupFromPolicy(p.raw)
}
