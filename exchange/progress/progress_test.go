package progress_test

import (
	"strings"
	"testing"
	"time"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/exchange/progress"
)

func commitments(n int, b byte) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strings.Repeat(string(rune('a'+b)), 62) + string(rune('0'+i/10)) + string(rune('0'+i%10))
	}
	return out
}

// TestProgress: completeness counts only complete lists and batches, uses
// each side's latest list, and the latest confirmation of each batch.
func TestProgress(t *testing.T) {
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	list := func(id, side, kind string, count, part, parts int) *entry.ExchangeList {
		return &entry.ExchangeList{ID: id, Exchange: "x", Side: side, List: kind, At: at, Count: count, Part: part, Parts: parts, ByStatus: map[string]int{"held": count - 1, "deceased": 1}}
	}
	man := func(id string, batch, count int, from, to string) *entry.ExchangeManifest {
		return &entry.ExchangeManifest{ID: id, Exchange: "x", Batch: batch, From: from, To: to, At: at, Count: count, Part: 1, Parts: 1, Commitments: commitments(count, byte(batch))}
	}
	conf := func(m, event string, count int, missing ...string) *entry.ExchangeConfirmation {
		return &entry.ExchangeConfirmation{ID: m + event, Exchange: "x", Manifest: m, Event: event, At: at, Count: count, Missing: missing}
	}
	recs := []progress.Record{
		{0, list("ru-held-1", "RU", "held", 50, 1, 1)}, // replaced by ru-held-2
		{1, list("ru-held-2", "RU", "held", 11, 1, 1)}, // 10 held, 1 deceased
		{2, list("ua-held-1", "UA", "held", 21, 1, 2)}, // incomplete: one part of two
		{3, list("ua-claimed-1", "UA", "claimed", 12, 1, 1)},
		{4, man("b1", 1, 6, "RU", "UA")},
		{5, man("b2", 2, 4, "RU", "UA")},
		{6, conf("b1", "released", 5, commitments(6, 1)[0])},
		{7, conf("b1", "released", 6)},
		{8, conf("b1", "received", 6)},
		{9, conf("b2", "released", 4)},
	}
	p := progress.Compute("x", recs)
	if p.Held != 10 || p.InBatches != 10 || p.Released != 10 || p.Received != 6 || p.Complete || p.Completeness != 0.6 {
		t.Fatalf("progress %+v", p)
	}
	if len(p.Lists) != 3 || p.Lists[0].ID != "ru-held-2" || p.Lists[2].PartsLogged != 1 || p.Lists[2].Parts != 2 {
		t.Fatalf("lists %+v", p.Lists)
	}
	recs = append(recs, progress.Record{Index: 10, Body: conf("b2", "received", 4)})
	if p := progress.Compute("x", recs); !p.Complete || p.Completeness != 1 {
		t.Fatalf("after the last receipt: %+v", p)
	}
	if p := progress.Compute("x", nil); p.Complete || p.Held != 0 || p.Lists == nil || p.Batches == nil {
		t.Fatalf("empty: %+v", p)
	}
}
