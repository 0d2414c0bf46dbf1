package engine_test

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/guarantor/guarantor/engine"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/scenario"
)

// logged is one entry of a simulated log: an input, or a derived entry
// with its text.
type logged struct {
	in   engine.Input
	text string
}

// simulate builds the log a live server writes: observations, and the
// engine's derived entries appended a little later, each writer window
// shuffled as a Tessera batch may shuffle it.
func simulate(t *testing.T, seed uint64, days int) []logged {
	ins, _ := observations(scenario.Config{Seed: int64(seed), Start: start, Days: days, Monitors: 8})
	rng := rand.New(rand.NewPCG(seed, 1))
	e := engine.New(engine.DefaultConfig())
	var log []logged
	var queue []engine.Derived
	flush := func() {
		n := min(len(queue), 1+rng.IntN(engine.Window))
		batch := queue[:n]
		queue = queue[n:]
		rng.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
		for _, d := range batch {
			var b entry.Incident
			decodeInto(t, d.Text, &b)
			log = append(log, logged{in: engine.Input{Index: uint64(len(log)), Kind: entry.KindIncident, Body: &b}, text: d.Text})
		}
	}
	for _, in := range ins {
		in.Index = uint64(len(log))
		out, err := e.Apply(in)
		if err != nil {
			t.Fatal(err)
		}
		log = append(log, logged{in: in})
		queue = append(queue, out...)
		if rng.IntN(4) == 0 {
			flush()
		}
	}
	for len(queue) > 0 {
		flush()
	}
	return log
}

func decodeInto(t *testing.T, text string, b *entry.Incident) {
	t.Helper()
	*b = decode(t, engine.Derived{Text: text})
}

func replay(log []logged) (*engine.Replayer, error) {
	r := engine.NewReplayer(engine.DefaultConfig())
	for _, l := range log {
		if _, err := r.Next(l.in, l.text); err != nil {
			return r, err
		}
	}
	return r, nil
}

func TestReplayAcceptsTheLiveLog(t *testing.T) {
	log := simulate(t, 7, 2)
	r, err := replay(log)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Pending()) != 0 || r.Matched() == 0 || r.Matched() != r.Engine().Seq() {
		t.Fatalf("matched %d of %d, %d pending", r.Matched(), r.Engine().Seq(), len(r.Pending()))
	}
}

func TestReplayFindsTampering(t *testing.T) {
	log := simulate(t, 8, 40)
	var derived []int
	for i, l := range log {
		if l.text != "" {
			derived = append(derived, i)
		}
	}
	for _, i := range []int{derived[0], derived[len(derived)/2], derived[len(derived)-1]} {
		bad := append([]logged(nil), log...)
		bad[i].text = strings.Replace(bad[i].text, `"count":`, `"count":1`, 1)
		_, err := replay(bad)
		var d *engine.Divergence
		if !errors.As(err, &d) || d.Index != uint64(i) || d.Expected == "" || d.Found != bad[i].text {
			t.Fatalf("tampered entry %d: %v", i, err)
		}
	}
	// A derived entry dropped while later ones are logged is missed once
	// more than a writer window has gone by.
	// (An entry the engine ignores takes its place, so indexes stay.)
	short := append([]logged(nil), log...)
	short[derived[10]] = logged{in: engine.Input{Index: uint64(derived[10]), Kind: entry.KindTestimony, Body: &entry.Testimony{}}}
	_, err := replay(short)
	var d *engine.Divergence
	if !errors.As(err, &d) || !strings.Contains(d.Reason, "missing") || d.Index <= uint64(derived[10]) {
		t.Fatalf("dropped entry: %v", err)
	}
	// Dropped near the end, it is still pending when the log ends.
	last := append([]logged(nil), log...)
	gone := derived[len(derived)-3]
	last[gone] = logged{in: engine.Input{Index: uint64(gone), Kind: entry.KindTestimony, Body: &entry.Testimony{}}}
	r, err := replay(last)
	if err != nil || len(r.Pending()) != 1 || r.Pending()[0].Text != log[gone].text {
		t.Fatalf("dropped last entry: %v, %d pending", err, len(r.Pending()))
	}
	// A replayed duplicate is not the engine's.
	dup := append(append([]logged(nil), log...), log[derived[3]])
	dup[len(dup)-1].in.Index = uint64(len(dup) - 1)
	if _, err := replay(dup); !errors.As(err, &d) || d.Index != uint64(len(dup)-1) {
		t.Fatalf("duplicate: %v", err)
	}
}
