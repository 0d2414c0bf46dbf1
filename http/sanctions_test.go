package http_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
)

func TestSanctionsAPI(t *testing.T) {
	e := newEnv(t)
	uk, fr := newKey(t, "guarantor.UK"), newKey(t, "guarantor.FR")
	e.register(uk, "guarantor:UK")
	e.register(fr, "guarantor:FR")
	body := func(id, status, at string) string {
		return fmt.Sprintf(`{"id":%q,"at":%q,"authority":"UK","program":"Russia (Sanctions) Regulations","targets":[{"kind":"company","name":"Example Shipping","country":"ru"},{"kind":"state","name":"Russian Federation","country":"ru"}],"provisions":"asset freeze; import ban","status":%q,"relief":"suspended while the ceasefire holds","snapback":[{"agreement":"framework-2025","trigger":"sanctions-snapback"}]}`, id, at, status)
	}
	e.mustPost(e.sign("sanction", body("uk-2025-1", "active", "2025-03-01T00:00:00Z"), uk))
	e.mustPost(e.sign("sanction", body("uk-2025-1", "suspended", "2025-04-01T00:00:00Z"), uk))
	// FR cannot state UK's measure.
	if r, b := e.post(e.sign("sanction", body("uk-2025-2", "active", "2025-03-01T00:00:00Z"), fr)); r.StatusCode != http.StatusForbidden {
		t.Fatalf("FR stating UK's sanction: %s %s", r.Status, b)
	}
	get := func(path string) (*http.Response, []byte) {
		resp, err := http.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	var list struct {
		Sanctions []struct {
			ID, Status, Authority string
		} `json:"sanctions"`
	}
	if r, b := get("/v1/sanctions"); r.StatusCode != 200 || json.Unmarshal(b, &list) != nil || len(list.Sanctions) != 1 || list.Sanctions[0].Status != "suspended" {
		t.Fatalf("list: %s %s", r.Status, b)
	}
	var one struct {
		Current    struct{ Status string }
		Statements []struct{ Status string }
	}
	if r, b := get("/v1/sanctions/uk-2025-1"); r.StatusCode != 200 || json.Unmarshal(b, &one) != nil || one.Current.Status != "suspended" || len(one.Statements) != 2 || one.Statements[0].Status != "active" {
		t.Fatalf("one: %s %s", r.Status, b)
	}
	if r, _ := get("/v1/sanctions/none"); r.StatusCode != 404 {
		t.Fatalf("unknown: %s", r.Status)
	}
	if r, _ := get("/v1/sanctions/%20bad"); r.StatusCode != 400 {
		t.Fatalf("bad id: %s", r.Status)
	}
	r, b := get("/v1/sanctions.ftm.jsonl")
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("ftm: %s %s", r.Status, b)
	}
	schemas := map[string]int{}
	var sanction map[string][]string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var ent struct {
			ID         string
			Schema     string
			Properties map[string][]string
		}
		if err := json.Unmarshal(sc.Bytes(), &ent); err != nil || ent.ID == "" {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		schemas[ent.Schema]++
		if ent.Schema == "Sanction" {
			sanction = ent.Properties
		}
	}
	if schemas["Sanction"] != 1 || schemas["Company"] != 1 || schemas["PublicBody"] != 1 ||
		sanction["status"][0] != "Suspended" || sanction["authority"][0] != "UK" || len(sanction["entity"]) != 2 || sanction["recordId"][0] != "uk-2025-1" {
		t.Fatalf("ftm entities %v, sanction %v", schemas, sanction)
	}
}
