// Package progress computes the public figures of a prisoner exchange
// from its logged entries alone: the parties' lists (counts), the batches
// (manifests) and their confirmations, and the "all for all" completeness
// — every person held on both sides' lists released and received. It
// reads only what anyone can read in the log: counts and commitments,
// never an identity. It is pure: the same entries give the same figures.
package progress

import (
	"cmp"
	"slices"
	"time"

	"github.com/guarantor/guarantor/entry"
)

// Record is one logged exchange entry: its log index and decoded body
// (*entry.ExchangeList, *entry.ExchangeManifest or
// *entry.ExchangeConfirmation).
type Record struct {
	Index uint64
	Body  any
}

// Progress is where an exchange stands.
type Progress struct {
	Exchange string `json:"exchange"`
	// Lists are the latest list of each side and kind.
	Lists   []List  `json:"lists"`
	Batches []Batch `json:"batches"`
	// Held is how many people the sides' latest complete held lists hold
	// (status held); InBatches, Released and Received count the people
	// of logged batches, and of their confirmations.
	Held      int `json:"held"`
	InBatches int `json:"in_batches"`
	Released  int `json:"released"`
	Received  int `json:"received"`
	// Completeness is Received / Held (0 when nothing is held); Complete
	// is set when every held person was released and received.
	Completeness float64 `json:"completeness"`
	Complete     bool    `json:"complete"`
}

// List is one party's list as the log holds it.
type List struct {
	ID          string         `json:"id"`
	Side        string         `json:"side"`
	List        string         `json:"list"`
	At          time.Time      `json:"at"`
	Count       int            `json:"count"`
	ByStatus    map[string]int `json:"by_status,omitempty"`
	Parts       int            `json:"parts"`
	PartsLogged int            `json:"parts_logged"`
	Root        string         `json:"root"`
	Indexes     []uint64       `json:"indexes"`
}

// Batch is one manifest and what its sides confirmed of it.
type Batch struct {
	ID          string    `json:"id"`
	Batch       int       `json:"batch"`
	From        string    `json:"from"`
	To          string    `json:"to"`
	At          time.Time `json:"at"`
	Count       int       `json:"count"`
	Parts       int       `json:"parts"`
	PartsLogged int       `json:"parts_logged"`
	Root        string    `json:"root"`
	Indexes     []uint64  `json:"indexes"`
	// Released and Received are the latest confirmations' counts (nil:
	// none logged), with the commitments of the people not handed over.
	Released *Confirmed `json:"released,omitempty"`
	Received *Confirmed `json:"received,omitempty"`
}

// Confirmed is a side's latest confirmation of a batch.
type Confirmed struct {
	Index   uint64    `json:"index"`
	At      time.Time `json:"at"`
	Count   int       `json:"count"`
	Missing []string  `json:"missing,omitempty"`
}

// Compute returns the progress of exchange from its records, in log
// order.
func Compute(exchange string, recs []Record) Progress {
	p := Progress{Exchange: exchange, Lists: []List{}, Batches: []Batch{}}
	lists := map[string]*List{}
	latest := map[[2]string]string{} // side, kind -> the list id logged last
	batches := map[string]*Batch{}
	var batchOrder []string
	for _, r := range recs {
		switch b := r.Body.(type) {
		case *entry.ExchangeList:
			l := lists[b.ID]
			if l == nil {
				l = &List{ID: b.ID, Side: b.Side, List: b.List, At: b.At, Count: b.Count, ByStatus: b.ByStatus, Parts: b.Parts, Root: b.Root}
				lists[b.ID] = l
				latest[[2]string{b.Side, b.List}] = b.ID
			}
			l.PartsLogged++
			l.Indexes = append(l.Indexes, r.Index)
		case *entry.ExchangeManifest:
			m := batches[b.ID]
			if m == nil {
				m = &Batch{ID: b.ID, Batch: b.Batch, From: b.From, To: b.To, At: b.At, Count: b.Count, Parts: b.Parts, Root: b.Root}
				batches[b.ID] = m
				batchOrder = append(batchOrder, b.ID)
			}
			m.PartsLogged++
			m.Indexes = append(m.Indexes, r.Index)
		case *entry.ExchangeConfirmation:
			m := batches[b.Manifest]
			if m == nil {
				continue
			}
			c := &Confirmed{Index: r.Index, At: b.At, Count: b.Count, Missing: b.Missing}
			if b.Event == entry.ExchangeReleased {
				m.Released = c
			} else {
				m.Received = c
			}
		}
	}
	for _, id := range latest {
		l := lists[id]
		p.Lists = append(p.Lists, *l)
		if l.List == entry.ListHeld && l.PartsLogged == l.Parts {
			if n, ok := l.ByStatus["held"]; ok {
				p.Held += n
			} else {
				p.Held += l.Count
			}
		}
	}
	slices.SortFunc(p.Lists, func(a, b List) int { return cmp.Or(cmp.Compare(a.Side, b.Side), cmp.Compare(a.List, b.List)) })
	for _, id := range batchOrder {
		m := batches[id]
		p.Batches = append(p.Batches, *m)
		if m.PartsLogged == m.Parts {
			p.InBatches += m.Count
			if m.Released != nil {
				p.Released += m.Released.Count
			}
			if m.Received != nil {
				p.Received += m.Received.Count
			}
		}
	}
	if p.Held > 0 {
		p.Completeness = float64(p.Received) / float64(p.Held)
		p.Complete = p.Received >= p.Held && p.Released >= p.Held
	}
	return p
}
