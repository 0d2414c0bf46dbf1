package web

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/exchange/progress"
	"github.com/guarantor/guarantor/node"
)

// exchangeName is the form of an exchange id, as the entries' schemas and
// the API have it.
var exchangeName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// partLink is one logged part of a list or a batch: its part number and
// log entry.
type partLink struct {
	Part  int
	Index uint64
}

// exchangeList is one side's latest list of one kind, with each logged
// part's entry.
type exchangeList struct {
	progress.List
	Entries []partLink // in part order
}

// exchangeBatch is one batch, with each logged part's entry and the URL
// of its commitments in the API.
type exchangeBatch struct {
	progress.Batch
	Entries     []partLink // in part order
	ManifestURL string
}

// exchangeView is an exchange's public progress as the pages show it:
// counts and commitments only, never an identity, which the log does not
// hold.
type exchangeView struct {
	progress.Progress
	URL     string // its page
	JSONURL string // GET /v1/exchanges/{id}
	// ListRows and BatchRows are Progress's lists and batches, with
	// their parts' entries.
	ListRows  []exchangeList
	BatchRows []exchangeBatch
}

// newExchangeView computes the progress of exchange id from its records,
// in log order, as GET /v1/exchanges/{id} does.
func newExchangeView(id string, recs []progress.Record) exchangeView {
	p := progress.Compute(id, recs)
	v := exchangeView{Progress: p, URL: "/exchanges/" + url.PathEscape(id), JSONURL: "/v1/exchanges/" + url.PathEscape(id)}
	part := map[uint64]int{}
	for _, r := range recs {
		switch b := r.Body.(type) {
		case *entry.ExchangeList:
			part[r.Index] = b.Part
		case *entry.ExchangeManifest:
			part[r.Index] = b.Part
		}
	}
	links := func(indexes []uint64) []partLink {
		out := make([]partLink, 0, len(indexes))
		for _, i := range indexes {
			out = append(out, partLink{Part: part[i], Index: i})
		}
		slices.SortStableFunc(out, func(a, b partLink) int { return cmp.Compare(a.Part, b.Part) })
		return out
	}
	for _, l := range p.Lists {
		v.ListRows = append(v.ListRows, exchangeList{List: l, Entries: links(l.Indexes)})
	}
	for _, b := range p.Batches {
		v.BatchRows = append(v.BatchRows, exchangeBatch{Batch: b, Entries: links(b.Indexes),
			ManifestURL: v.JSONURL + "/manifests/" + url.PathEscape(b.ID)})
	}
	return v
}

// statusCount is one status of an exchange list's breakdown.
type statusCount struct {
	Status string
	Count  int
}

// statusOrder is the order the pages list the statuses of a list in; any
// other follows, by name.
var statusOrder = []string{"held", "deceased", "claimed", "missing"}

// statuses returns a list's counts by status in statusOrder.
func statuses(by map[string]int) []statusCount {
	out := make([]statusCount, 0, len(by))
	for s, n := range by {
		out = append(out, statusCount{s, n})
	}
	rank := func(s string) int {
		if i := slices.Index(statusOrder, s); i >= 0 {
			return i
		}
		return len(statusOrder)
	}
	slices.SortFunc(out, func(a, b statusCount) int {
		return cmp.Or(cmp.Compare(rank(a.Status), rank(b.Status)), cmp.Compare(a.Status, b.Status))
	})
	return out
}

// exchangeOf returns the exchange an exchange entry's body belongs to;
// "" for any other body.
func exchangeOf(body any) string {
	switch b := body.(type) {
	case *entry.ExchangeList:
		return b.Exchange
	case *entry.ExchangeManifest:
		return b.Exchange
	case *entry.ExchangeConfirmation:
		return b.Exchange
	}
	return ""
}

// exchanges returns the progress of every exchange with an entry in the
// log, by id.
func (h *handler) exchanges(ctx context.Context) ([]exchangeView, error) {
	byID := map[string][]progress.Record{}
	err := h.src.ExchangeEntries(ctx, "", func(rec node.Record) error {
		if id := exchangeOf(rec.Body); id != "" {
			byID[id] = append(byID[id], progress.Record{Index: rec.Index, Body: rec.Body})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]exchangeView, 0, len(byID))
	for id, recs := range byID {
		out = append(out, newExchangeView(id, recs))
	}
	slices.SortFunc(out, func(a, b exchangeView) int { return cmp.Compare(a.Exchange, b.Exchange) })
	return out, nil
}

// exchangeData is what an exchange's page shows.
type exchangeData struct {
	base
	exchangeView
	Server string // the base URL, for the family's command
}

// handleExchange serves GET /exchanges/{id}: an all-for-all prisoner
// exchange's lists (counts by status, parts, roots), its batches and
// their confirmations, each linked to its log entries, the totals and
// completeness, and how a family checks that its relative is in a batch.
func (h *handler) handleExchange(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	notFound := func() {
		msg, _ := translate(h.lang(r), "error.exchange.text", id)
		h.fail(w, r, http.StatusNotFound, "error.exchange.title", msg)
	}
	if !exchangeName.MatchString(id) {
		notFound()
		return
	}
	var recs []progress.Record
	err := h.src.ExchangeEntries(r.Context(), id, func(rec node.Record) error {
		recs = append(recs, progress.Record{Index: rec.Index, Body: rec.Body})
		return nil
	})
	if err != nil {
		h.internal(w, r, err)
		return
	}
	if len(recs) == 0 {
		notFound()
		return
	}
	h.render(w, r, http.StatusOK, "exchange", exchangeData{base: h.page(r, "board"), exchangeView: newExchangeView(id, recs), Server: baseURL(r)})
}
