package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/registry"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// LatestEntries is how many of the newest entries the explorer lists.
const LatestEntries = 20

// maxQuery is the longest search the explorer accepts.
const maxQuery = 128

// entryLine is one entry in a list of entries.
type entryLine struct {
	Index    uint64
	Kind     string
	Signers  []string
	Rejected bool
}

// searchHit is one thing a search found: an entry, an incident or an
// observation (Kind), and where to see it.
type searchHit struct {
	Kind   string // entry, incident or observation
	Index  uint64 // the entry's log index, or the incident's id
	Signer string // an observation's signer
	URL    string
}

// explorerData is what GET /explorer shows.
type explorerData struct {
	base
	Log      *logState
	Applied  uint64
	Query    string
	Searched bool
	Error    string // the query's fault, translated
	Hits     []searchHit
	Latest   []entryLine // newest first
	// The checkpoint's signature lines: the log's (nil when none is) and
	// its state (see checkpointSigs), then the others, the witnesses'.
	LogSig      *checkpointSig
	LogSigState string
	Cosigs      []checkpointSig
}

// handleExplorer serves GET /explorer: the log's checkpoint (origin,
// size, root hash, the signatures on it), the newest entries, and a
// search (?q=) by entry index, incident id or observation id.
func (h *handler) handleExplorer(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := h.lang(r)
	d := explorerData{base: h.page(r, "explorer"), Log: h.checkpoint(ctx)}
	var err error
	if d.Log != nil {
		if d.LogSig, d.LogSigState, d.Cosigs, err = checkpointSigs([]byte(d.Log.Text), h.logV); err != nil {
			h.logger.WarnContext(ctx, "web: checkpoint signatures", "err", err)
		}
	}
	if d.Applied, err = h.src.Applied(ctx); err != nil {
		h.internal(w, r, err)
		return
	}
	status := http.StatusOK
	if q, ok := r.URL.Query()["q"]; ok {
		d.Query, d.Searched = strings.TrimSpace(q[0]), true
		switch {
		case d.Query == "":
			d.Error, _ = translate(lang, "explorer.error.empty")
		case len(d.Query) > maxQuery || !utf8.ValidString(d.Query):
			d.Error, _ = translate(lang, "explorer.error.long", maxQuery)
		}
		if d.Error != "" {
			status = http.StatusBadRequest
		} else if d.Hits, err = h.search(ctx, d.Query, d.Applied); err != nil {
			h.internal(w, r, err)
			return
		}
	}
	from := d.Applied - min(d.Applied, LatestEntries)
	err = h.src.Records(ctx, from, d.Applied, func(rec node.Record) error {
		d.Latest = append(d.Latest, entryLine{Index: rec.Index, Kind: string(rec.Kind), Signers: rec.Signers, Rejected: rec.Rejected != ""})
		return nil
	})
	if err != nil {
		h.internal(w, r, err)
		return
	}
	for i, j := 0, len(d.Latest)-1; i < j; i, j = i+1, j-1 {
		d.Latest[i], d.Latest[j] = d.Latest[j], d.Latest[i]
	}
	h.render(w, r, status, "explorer", d)
}

// search finds q as an entry index and an incident id, when it is a
// number, and as the client id of an observation by any registered key.
func (h *handler) search(ctx context.Context, q string, applied uint64) ([]searchHit, error) {
	var hits []searchHit
	if n, err := strconv.ParseUint(q, 10, 64); err == nil {
		if n < applied {
			hits = append(hits, searchHit{Kind: "entry", Index: n, URL: "/explorer/entries/" + q})
		}
		revs, err := h.src.Incident(ctx, n)
		if err != nil {
			return nil, err
		}
		if len(revs) > 0 {
			hits = append(hits, searchHit{Kind: "incident", Index: n, URL: "/incidents/" + q})
		}
	}
	keys, err := h.src.Keys(ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		idx, _, ok, err := h.src.ObservationByID(ctx, k.ID, q)
		if err != nil {
			return nil, err
		}
		if ok {
			hits = append(hits, searchHit{Kind: "observation", Index: idx, Signer: k.ID, URL: "/explorer/entries/" + strconv.FormatUint(idx, 10)})
		}
	}
	return hits, nil
}

// signerView is a signature on an entry and the key that made it.
type signerView struct {
	ID    string
	Key   *registry.Key // nil when no registered key has that name+hash
	Label string
}

// proofHash is one hash of an inclusion proof.
type proofHash struct {
	Hex, Base64 string
}

// entryData is what an entry's page shows.
type entryData struct {
	base
	Rec        node.Record
	Header     string // the note's first line, guarantor.v1/<kind>
	Body       string // the signed JSON body, indented
	Raw        string // the whole signed note
	LeafHex    string
	LeafBase64 string
	Signers    []signerView
	Log        *logState
	Pending    bool // the published checkpoint does not cover the entry yet
	Proof      []proofHash
	Verified   bool   // the proof leads from the leaf hash to the checkpoint's root
	ProofError string // why no proof is shown; "" when one is
	Prev, Next int64  // neighbouring indexes; -1 for none
	Incident   uint64 // for an incident entry (IsIncident), its incident
	IsIncident bool
	Server     string // the base URL, for the commands
}

// entryIndex reads the {i} of an entry's URL, or answers 404.
func (h *handler) entryIndex(w http.ResponseWriter, r *http.Request) (node.Record, bool) {
	lang := h.lang(r)
	notFound := func() {
		msg, _ := translate(lang, "error.entry.text", r.PathValue("i"))
		h.fail(w, r, http.StatusNotFound, "error.entry.title", msg)
	}
	i, err := strconv.ParseUint(r.PathValue("i"), 10, 64)
	if err != nil {
		notFound()
		return node.Record{}, false
	}
	rec, ok, err := h.src.Entry(r.Context(), i)
	if err != nil {
		h.internal(w, r, err)
		return node.Record{}, false
	}
	if !ok {
		notFound()
	}
	return rec, ok
}

// handleEntry serves GET /explorer/entries/{i}: the entry's signed note,
// its body, each signature's key, and its inclusion proof in the tree of
// the latest published checkpoint, checked here.
func (h *handler) handleEntry(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := h.lang(r)
	rec, ok := h.entryIndex(w, r)
	if !ok {
		return
	}
	d := entryData{base: h.page(r, "explorer"), Rec: rec, Raw: string(rec.Raw), Prev: int64(rec.Index) - 1, Next: -1,
		LeafHex: hex.EncodeToString(rec.LeafHash), LeafBase64: base64.StdEncoding.EncodeToString(rec.LeafHash), Server: baseURL(r)}
	text, _, _ := strings.Cut(string(rec.Raw), "\n\n")
	header, body, _ := strings.Cut(text, "\n")
	d.Header = header
	var buf bytes.Buffer
	if json.Indent(&buf, []byte(body), "", "  ") == nil {
		d.Body = buf.String()
	} else {
		d.Body = body
	}
	if in, ok := rec.Body.(*entry.Incident); ok {
		d.Incident, d.IsIncident = in.ID, true
	}
	applied, err := h.src.Applied(ctx)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	if rec.Index+1 < applied {
		d.Next = int64(rec.Index) + 1
	}
	keys, err := h.src.Keys(ctx)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	for _, s := range rec.Signers {
		sv := signerView{ID: s}
		for i := range keys {
			if keys[i].ID == s {
				sv.Key = &keys[i]
			}
		}
		d.Signers = append(d.Signers, sv)
	}

	d.Log = h.checkpoint(ctx)
	switch {
	case d.Log == nil:
		d.ProofError, _ = translate(lang, "entry.proof.nolog")
	case rec.Index >= d.Log.Size:
		d.Pending = true
		d.ProofError, _ = translate(lang, "entry.proof.pending", d.Log.Size)
	default:
		hashes, err := h.log.InclusionProof(ctx, rec.Index, d.Log.Size)
		if err != nil {
			h.logger.WarnContext(ctx, "web: inclusion proof", "index", rec.Index, "size", d.Log.Size, "err", err)
			d.ProofError, _ = translate(lang, "entry.proof.error")
			break
		}
		for _, p := range hashes {
			d.Proof = append(d.Proof, proofHash{Hex: hex.EncodeToString(p), Base64: base64.StdEncoding.EncodeToString(p)})
		}
		root, err := base64.StdEncoding.DecodeString(d.Log.Root)
		d.Verified = err == nil && proof.VerifyInclusion(rfc6962.DefaultHasher, rec.Index, d.Log.Size, rec.LeafHash, hashes, root) == nil
	}
	h.render(w, r, http.StatusOK, "entry", d)
}

// handleEntryNote serves GET /explorer/entries/{i}/note: the signed note
// exactly as it is in the log, for guarantor receipt verify.
func (h *handler) handleEntryNote(w http.ResponseWriter, r *http.Request) {
	rec, ok := h.entryIndex(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="entry-`+strconv.FormatUint(rec.Index, 10)+`.note"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(rec.Raw)
}

// errNotCovered is why an entry has no receipt yet.
var errNotCovered = errors.New("the published checkpoint does not cover the entry yet")

// handleEntryReceipt serves GET /explorer/entries/{i}/receipt.json: a
// receipt of the entry at the latest published checkpoint (index, leaf
// hash, the signed checkpoint and the inclusion proof), which guarantor
// receipt verify checks offline with the log's verifier key.
func (h *handler) handleEntryReceipt(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	rec, ok := h.entryIndex(w, r)
	if !ok {
		return
	}
	var cp []byte
	var size uint64
	var err error
	if h.log == nil {
		err = errors.New("no log")
	} else if cp, err = h.log.ReadCheckpoint(ctx); err == nil {
		size, err = node.CheckpointSize(cp)
	}
	if err == nil && rec.Index >= size {
		err = errNotCovered
	}
	if err != nil {
		h.logger.WarnContext(ctx, "web: receipt", "index", rec.Index, "err", err)
		msg, _ := translate(h.lang(r), "entry.receipt.unavailable")
		h.fail(w, r, http.StatusServiceUnavailable, "entry.receipt.title", msg)
		return
	}
	hashes, err := h.log.InclusionProof(ctx, rec.Index, size)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	b, err := json.MarshalIndent(guarantor.Receipt{Index: rec.Index, LeafHash: rec.LeafHash, Checkpoint: string(cp), InclusionProof: hashes}, "", "  ")
	if err != nil {
		h.internal(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="entry-`+strconv.FormatUint(rec.Index, 10)+`.receipt.json"`)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(append(b, '\n'))
}
