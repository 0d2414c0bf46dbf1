package engine

import (
	"fmt"
	"slices"

	"github.com/guarantor/guarantor/entry"
)

// Window is how many derived entries a writer may have in flight at once.
// Entries added to the log together may be integrated in any order, so a
// derived entry may appear up to Window places out of seq order, never
// more: a writer waits for each window to be integrated before the next.
const Window = 1024

// Replayer runs an engine over a log and checks that every derived entry
// the log holds is the one the engine emitted with that seq, byte for
// byte. Both the live server and an outside replay use it.
type Replayer struct {
	eng     *Engine
	pending map[uint64]Derived // emitted, not yet found in the log
	low     uint64             // the smallest seq not yet found
	matched uint64
}

// NewReplayer returns a replayer at the start of a log.
func NewReplayer(cfg Config) *Replayer {
	return &Replayer{eng: New(cfg), pending: map[uint64]Derived{}}
}

// Engine returns the engine the replayer drives.
func (r *Replayer) Engine() *Engine { return r.eng }

// Matched returns how many derived entries were found in the log and
// equalled the engine's.
func (r *Replayer) Matched() uint64 { return r.matched }

// Divergence is a derived entry in the log that the engine did not emit,
// or one the engine emitted that the log lacks although later ones are
// there.
type Divergence struct {
	Index    uint64 // the log index where replay stopped agreeing
	Seq      uint64
	Expected string // the note text the engine emitted ("" if none)
	Found    string // the note text in the log ("" if missing)
	Reason   string
}

func (d *Divergence) Error() string {
	return fmt.Sprintf("replay diverges at entry %d (derived seq %d): %s", d.Index, d.Seq, d.Reason)
}

// Next feeds the accepted entry at in.Index. For a derived entry, text is
// its note text (entry.Entry.Text), which must equal what the engine
// emitted with the same seq. It returns what the engine emitted for this
// input; those are pending until found.
func (r *Replayer) Next(in Input, text string) ([]Derived, error) {
	if entry.Derived(in.Kind) {
		return nil, r.found(in, text)
	}
	out, err := r.eng.Apply(in)
	if err != nil {
		return nil, err
	}
	for _, d := range out {
		r.pending[d.Seq] = d
	}
	return out, nil
}

func (r *Replayer) found(in Input, text string) error {
	seq, ok := entry.DerivedSeq(in.Body)
	if !ok {
		return fmt.Errorf("engine: derived entry %d has body %T", in.Index, in.Body)
	}
	want, ok := r.pending[seq]
	if !ok {
		reason := "the engine never emitted this seq"
		if seq < r.eng.Seq() {
			reason = "this seq is already in the log"
		}
		return &Divergence{Index: in.Index, Seq: seq, Found: text, Reason: reason}
	}
	if want.Text != text {
		return &Divergence{Index: in.Index, Seq: seq, Expected: want.Text, Found: text, Reason: "the logged entry differs from the one the engine emits"}
	}
	delete(r.pending, seq)
	r.matched++
	for r.low < r.eng.Seq() {
		if _, ok := r.pending[r.low]; ok {
			break
		}
		r.low++
	}
	if r.low+Window < seq {
		miss := r.pending[r.low]
		return &Divergence{Index: in.Index, Seq: r.low, Expected: miss.Text,
			Reason: fmt.Sprintf("derived seq %d (emitted after entry %d) is missing although seq %d is logged", r.low, miss.After, seq)}
	}
	return nil
}

// PendingCount returns how many derived entries are emitted but not yet
// found in the log, without listing them.
func (r *Replayer) PendingCount() int { return len(r.pending) }

// Pending returns the derived entries emitted but not yet found in the
// log, in seq order: what a writer still has to append.
func (r *Replayer) Pending() []Derived {
	out := make([]Derived, 0, len(r.pending))
	for _, d := range r.pending {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Derived) int {
		if a.Seq < b.Seq {
			return -1
		}
		if a.Seq > b.Seq {
			return 1
		}
		return 0
	})
	return out
}
