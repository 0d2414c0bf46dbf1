package synth_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode"

	"github.com/guarantor/guarantor/exchange/names"
	"github.com/guarantor/guarantor/exchange/synth"
)

func TestGenerateDeterministic(t *testing.T) {
	cfg := synth.Config{Seed: 42, People: 500}
	a, b := synth.Generate(cfg), synth.Generate(cfg)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same Config gave different datasets")
	}
	c := synth.Generate(synth.Config{Seed: 43, People: 500})
	if reflect.DeepEqual(a.Held, c.Held) {
		t.Fatal("different seeds gave the same held list")
	}
}

func TestGenerateTruth(t *testing.T) {
	ds := synth.Generate(synth.Config{Seed: 1, People: 3000})
	held, claimed := map[string]bool{}, map[string]bool{}
	for _, p := range ds.Held {
		if held[p.ID] {
			t.Fatalf("held ID %q repeated", p.ID)
		}
		held[p.ID] = true
	}
	for _, p := range ds.Claimed {
		if claimed[p.ID] {
			t.Fatalf("claimed ID %q repeated", p.ID)
		}
		claimed[p.ID] = true
	}
	for id := range held {
		if !strings.HasPrefix(id, "SYN-H-") {
			t.Fatalf("held ID %q is not marked synthetic", id)
		}
	}
	for id := range claimed {
		if !strings.HasPrefix(id, "SYN-C-") {
			t.Fatalf("claimed ID %q is not marked synthetic", id)
		}
	}

	// The truth partitions both lists.
	seenH, seenC := map[string]bool{}, map[string]bool{}
	for _, p := range ds.Pairs {
		if !held[p.Held] || !claimed[p.Claimed] || seenH[p.Held] || seenC[p.Claimed] {
			t.Fatalf("bad true pair %+v", p)
		}
		seenH[p.Held], seenC[p.Claimed] = true, true
	}
	for _, id := range ds.HeldOnly {
		if !held[id] || seenH[id] {
			t.Fatalf("bad held-only ID %q", id)
		}
		seenH[id] = true
	}
	for _, id := range ds.ClaimedOnly {
		if !claimed[id] || seenC[id] {
			t.Fatalf("bad claimed-only ID %q", id)
		}
		seenC[id] = true
	}
	if len(seenH) != len(held) || len(seenC) != len(claimed) {
		t.Fatalf("truth covers %d of %d held and %d of %d claimed", len(seenH), len(held), len(seenC), len(claimed))
	}

	// Roughly the configured shares (defaults: 4% omitted on each side,
	// 6% namesakes).
	for _, c := range []struct {
		name   string
		got    int
		lo, hi int
	}{
		{"held only", len(ds.HeldOnly), 60, 200},
		{"claimed only", len(ds.ClaimedOnly), 60, 200},
		{"namesakes", ds.Namesakes, 100, 280},
	} {
		if c.got < c.lo || c.got > c.hi {
			t.Errorf("%s: %d, want between %d and %d", c.name, c.got, c.lo, c.hi)
		}
	}
}

func TestGenerateVariety(t *testing.T) {
	ds := synth.Generate(synth.Config{Seed: 5, People: 2000})
	claimed := map[string]int{}
	for i, p := range ds.Claimed {
		claimed[p.ID] = i
	}
	held := map[string]int{}
	for i, p := range ds.Held {
		held[p.ID] = i
	}
	var latin, cyrillic, differentSpelling, sameKey, partial, noPatronymic int
	for _, p := range ds.Held {
		if isLatin(p.Family) {
			latin++
		} else {
			cyrillic++
		}
		if p.Born.Day == 0 {
			partial++
		}
		if p.Patronymic == "" {
			noPatronymic++
		}
	}
	for _, pr := range ds.Pairs {
		h, c := ds.Held[held[pr.Held]], ds.Claimed[claimed[pr.Claimed]]
		if h.Family != c.Family {
			differentSpelling++
		}
		if names.Key(h.Family) == names.Key(c.Family) {
			sameKey++
		}
	}
	t.Logf("held: %d Latin, %d Cyrillic, %d partial dates, %d without patronymic; pairs: %d of %d spelled differently, %d share a family key",
		latin, cyrillic, partial, noPatronymic, differentSpelling, len(ds.Pairs), sameKey)
	if latin < len(ds.Held)/5 || cyrillic < len(ds.Held)/5 {
		t.Errorf("want both scripts well represented, got %d Latin and %d Cyrillic", latin, cyrillic)
	}
	if differentSpelling < len(ds.Pairs)/3 {
		t.Errorf("only %d of %d true pairs are spelled differently", differentSpelling, len(ds.Pairs))
	}
	if partial == 0 || noPatronymic == 0 {
		t.Errorf("no partial dates (%d) or missing patronymics (%d)", partial, noPatronymic)
	}
}

func TestGenerateClean(t *testing.T) {
	ds := synth.Generate(synth.Config{Seed: 9, People: 300, Noise: -1, HeldOnly: -1, ClaimedOnly: -1, Namesakes: -1})
	if len(ds.HeldOnly) != 0 || len(ds.ClaimedOnly) != 0 || ds.Namesakes != 0 || len(ds.Pairs) != 300 {
		t.Fatalf("clean dataset: %d pairs, %d held only, %d claimed only, %d namesakes", len(ds.Pairs), len(ds.HeldOnly), len(ds.ClaimedOnly), ds.Namesakes)
	}
	for _, p := range ds.Held {
		if p.Born.Day == 0 || p.Family == "" || p.Given == "" || p.Patronymic == "" {
			t.Fatalf("clean dataset has a blurred record: %+v", p)
		}
	}
}

func isLatin(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Cyrillic, r) {
			return false
		}
	}
	return true
}

func ExampleGenerate() {
	ds := synth.Generate(synth.Config{Seed: 1, People: 1000})
	fmt.Println(len(ds.Held), "held,", len(ds.Claimed), "claimed,", len(ds.Pairs), "true pairs")
	fmt.Println(len(ds.HeldOnly), "held only,", len(ds.ClaimedOnly), "claimed only,", ds.Namesakes, "namesakes")
	// Output:
	// 960 held, 964 claimed, 924 true pairs
	// 36 held only, 40 claimed only, 60 namesakes
}
