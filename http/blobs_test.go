package http_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	ghttp "github.com/guarantor/guarantor/http"
)

// jpeg is the smallest byte string http.DetectContentType calls image/jpeg.
var jpeg = append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), bytes.Repeat([]byte{7}, 600)...)

func sum(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }

type blobReq struct {
	method, path string
	signer       *key
	at           time.Time
	body         []byte
	ctype        string
	restricted   bool
}

func (e *env) blob(r blobReq) (int, ghttp.Problem, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest(r.method, e.srv.URL+r.path, bytes.NewReader(r.body))
	if r.ctype != "" {
		req.Header.Set("Content-Type", r.ctype)
	}
	if r.restricted {
		req.Header.Set("Guarantor-Restricted", "true")
	}
	if r.signer != nil {
		at := r.at
		if at.IsZero() {
			at = time.Now()
		}
		h, err := ghttp.SignRequest(r.signer.S, r.method, r.path, at)
		if err != nil {
			e.t.Fatal(err)
		}
		req.Header.Set("Authorization", h)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var p ghttp.Problem
	_ = json.Unmarshal(b, &p)
	return resp.StatusCode, p, b
}

// TestEvidenceAndWhoMayTouchIt proves, for the blob endpoints, who may
// store and read evidence and who may not.
func TestEvidenceAndWhoMayTouchIt(t *testing.T) {
	e := newEnv(t)
	now := time.Now().UTC()
	reg := func(k key, role string) {
		e.mustPost(e.sign(entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":%q,"not_before":%q,"not_after":%q}`, k.VKey, role,
			now.AddDate(0, 0, -1).Format(time.RFC3339), now.AddDate(0, 0, 1).Format(time.RFC3339)), e.auth))
	}
	mon, analyst, party, cam, stranger, revoked := newKey(t, "monitor.a"), newKey(t, "analyst.a"), newKey(t, "party.ua"), newKey(t, "camera.1"), newKey(t, "monitor.x"), newKey(t, "monitor.r")
	reg(mon, "monitor")
	reg(analyst, "analyst")
	reg(party, "party:UA")
	reg(cam, "sensor")
	reg(revoked, "monitor")
	e.mustPost(e.sign(entry.KindRevocation, fmt.Sprintf(`{"key":%q,"reason":"lost","effective":%q}`, revoked.ID, now.Add(-time.Hour).Format(time.RFC3339)), e.auth))

	name := sum(jpeg)
	path := "/v1/blobs/" + name
	put := func(signer *key, body []byte, ctype string, restricted bool) (int, ghttp.Problem) {
		st, p, _ := e.blob(blobReq{method: "PUT", path: path, signer: signer, body: body, ctype: ctype, restricted: restricted})
		return st, p
	}
	// Who may not store evidence.
	for _, c := range []struct {
		name   string
		signer *key
		status int
		code   string
	}{
		{"unsigned", nil, 401, guarantor.EUnauthenticated},
		{"unregistered key", &stranger, 401, guarantor.EUnauthenticated},
		{"party", &party, 403, guarantor.EForbidden},
		{"revoked", &revoked, 401, guarantor.EUnauthenticated}, // a revoked key authenticates no one
	} {
		if st, p := put(c.signer, jpeg, "image/jpeg", true); st != c.status || p.Code != c.code {
			t.Errorf("%s storing: %d %s (%s), want %d %s", c.name, st, p.Code, p.Detail, c.status, c.code)
		}
	}
	// A signed request for another path, or too old, is refused.
	if st, p, _ := e.blob(blobReq{method: "PUT", path: path, signer: &mon, at: now.Add(-10 * time.Minute), body: jpeg, ctype: "image/jpeg"}); st != 401 || p.Field != "Authorization" {
		t.Errorf("stale signature: %d %+v", st, p)
	}
	// Bad uploads by a permitted key.
	if st, p := put(&mon, append([]byte{1}, jpeg...), "image/jpeg", true); st != 400 || p.Field != "sha256" {
		t.Errorf("wrong hash: %d %+v", st, p)
	}
	if st, p := put(&mon, jpeg, "image/png", true); st != 400 || p.Code != guarantor.EUnsupported {
		t.Errorf("declared png, bytes jpeg: %d %+v", st, p)
	}
	if st, p := put(&mon, jpeg, "application/x-msdownload", true); st != 400 || p.Field != "Content-Type" {
		t.Errorf("disallowed type: %d %+v", st, p)
	}
	big := bytes.Repeat([]byte("x"), 2<<20)
	if st, _, _ := e.blob(blobReq{method: "PUT", path: "/v1/blobs/" + sum(big), signer: &mon, body: big, ctype: "text/plain"}); st != 413 {
		t.Errorf("too large: %d", st)
	}
	// Stored, restricted, once.
	if st, p := put(&cam, jpeg, "image/jpeg", true); st != 201 {
		t.Fatalf("sensor storing: %d %+v", st, p)
	}
	if st, _ := put(&mon, jpeg, "image/jpeg", true); st != 200 {
		t.Errorf("second store: %d", st)
	}
	// Who may read restricted evidence.
	for _, c := range []struct {
		name   string
		signer *key
		status int
	}{
		{"public", nil, 401}, {"party", &party, 403}, {"analyst", &analyst, 200}, {"uploader", &cam, 200}, {"monitor", &mon, 200},
	} {
		st, _, body := e.blob(blobReq{method: "GET", path: path, signer: c.signer})
		if st != c.status || (st == 200 && !bytes.Equal(body, jpeg)) {
			t.Errorf("%s reading restricted: %d", c.name, st)
		}
	}
	// Public evidence: anyone reads it.
	txt := []byte("acoustic trace 2025-03-01 18:30\n")
	if st, _, _ := e.blob(blobReq{method: "PUT", path: "/v1/blobs/" + sum(txt), signer: &mon, body: txt, ctype: "text/plain"}); st != 201 {
		t.Fatalf("public store: %d", st)
	}
	if st, _, body := e.blob(blobReq{method: "GET", path: "/v1/blobs/" + sum(txt)}); st != 200 || !bytes.Equal(body, txt) {
		t.Fatalf("public read: %d", st)
	}
	// Observations may cite stored evidence only.
	cite := func(id, sha string) []byte {
		return e.sign(entry.KindObservation, fmt.Sprintf(`{"id":%q,"observed_at":%q,"location":{"type":"Point","coordinates":[37.8,48.0]},"category":"shelling","evidence":[{"sha256":%q,"media_type":"image/jpeg"}]}`,
			id, now.Add(-time.Minute).Format(time.RFC3339), sha), mon)
	}
	e.mustPost(cite("with-evidence", name))
	resp, b := e.post(cite("missing-evidence", sum([]byte("nothing"))))
	var p ghttp.Problem
	_ = json.Unmarshal(b, &p)
	if resp.StatusCode != 400 || p.Field != "/evidence/0/sha256" {
		t.Fatalf("citing unstored evidence: %s %+v", resp.Status, p)
	}
}
