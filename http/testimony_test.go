package http_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	ghttp "github.com/guarantor/guarantor/http"
	"golang.org/x/mod/sumdb/note"
)

func (e *env) testify(ctype, body string) (int, []byte) {
	e.t.Helper()
	resp, err := http.Post(e.srv.URL+"/v1/testimony", ctype, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestTestimony(t *testing.T) {
	e := newEnv(t)
	now := time.Now().UTC()
	e.mustPost(e.sign(entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":"intake","not_before":%q,"not_after":%q}`, e.intake.VKey,
		now.AddDate(0, 0, -1).Format(time.RFC3339), now.AddDate(0, 0, 1).Format(time.RFC3339)), e.auth))

	const contact = "Olena, +380 00 000 0000"
	st, b := e.testify("application/json", `{"text":"Shelling hit the school in Krasnohorivka at dawn.","category":"shelling","location":{"type":"Point","coordinates":[37.5128,48.0067]},"submitter_kind":"ngo","language":"uk","contact":"`+contact+`"}`)
	if st != 201 {
		t.Fatalf("testimony: %d %s", st, b)
	}
	var tr ghttp.TestimonyReceipt
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, e.contactKey)
	m.Write([]byte(contact))
	if tr.ContactCommitment != hex.EncodeToString(m.Sum(nil)) {
		t.Fatalf("commitment %s is not the HMAC of the contact", tr.ContactCommitment)
	}
	r, err := http.Get(fmt.Sprintf("%s/v1/entries/%d", e.srv.URL, tr.Receipt.Index))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var ev ghttp.EntryView
	_ = json.NewDecoder(r.Body).Decode(&ev)
	if ev.Kind != "testimony" || ev.Signers[0] != e.intake.ID || strings.Contains(ev.Note, "Olena") || strings.Contains(ev.Note, "380") {
		t.Fatalf("logged testimony %+v", ev)
	}
	logV, _ := note.NewVerifier(e.logK.VKey)
	if _, err := tr.Receipt.Verify(logV, []byte(ev.Note)); err != nil {
		t.Fatal(err)
	}

	// Bad statements name the field and log nothing.
	size := e.node.Applied()
	for body, field := range map[string]string{
		`{"text":""}`:                      "/text",
		`{"text":"x","category":"rumour"}`: "/category",
		`{"text":"x","location":{"type":"Point","coordinates":[37,95]}}`: "/location/coordinates/1",
	} {
		st, b := e.testify("application/json", body)
		var p ghttp.Problem
		_ = json.Unmarshal(b, &p)
		if st != 400 || p.Field != field {
			t.Errorf("%s: %d field %q (%s), want 400 %q", body, st, p.Field, p.Detail, field)
		}
	}
	if st, _ := e.testify("application/json", `{"text":"x","name":"Olena"}`); st != 400 {
		t.Errorf("unknown field: %d", st)
	}
	if st, _ := e.testify("text/plain", `{"text":"x"}`); st != 400 {
		t.Errorf("wrong media type: %d", st)
	}
	// The burst of 6 per address is spent (1 logged, and the 5 refused
	// count too: they cost the server work); the next is rate limited.
	st, b = e.testify("application/json", `{"text":"again"}`)
	var p ghttp.Problem
	_ = json.Unmarshal(b, &p)
	if st != 429 || p.Code != guarantor.ERateLimited {
		t.Fatalf("over the rate: %d %s", st, b)
	}
	if e.node.Applied() != size {
		t.Fatalf("refused statements reached the log")
	}
	// Testimony is never an observation: a monitor key cannot sign one.
	mon := newKey(t, "monitor.a")
	e.register(mon, "monitor")
	raw := e.sign(entry.KindTestimony, `{"id":"t-x","received_at":"2025-03-01T00:00:00Z","text":"x"}`, mon)
	resp, body := e.post(raw)
	_ = json.Unmarshal(body, &p)
	if resp.StatusCode != 403 || p.Code != guarantor.EForbidden {
		t.Fatalf("testimony signed by a monitor: %s %s", resp.Status, body)
	}
}
