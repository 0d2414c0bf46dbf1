package storetest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/guarantor/guarantor/engine"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/internal/testkeys"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/scenario"
	"golang.org/x/mod/sumdb/note"
)

// EngineLog returns a log as a live server writes it: the synthetic
// scenario's observations over the given days (package scenario, from
// 2025-03-01) by its monitors' keys, under an agreement whose trigger
// fires on shelling in a zone on the line of contact, with the real
// engine's derived entries (incidents, determinations, obligations) signed
// by the engine key and appended right after the input that caused them,
// and an engine tick closing each day (settling obligations that fell
// due). Every entry is registry-checked.
func EngineLog(tb testing.TB, days int) []node.Record {
	tb.Helper()
	l := newLogBuilder(tb)
	start := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	cfg := scenario.Config{Seed: 11, Start: start, Days: days, Monitors: 8}
	monitors := scenario.Monitors(cfg)
	keys := make([]key, len(monitors))
	l.key(tb, l.engine, "engine", "")
	for i, m := range monitors {
		keys[i] = testkeys.New(tb, m.Name)
		l.key(tb, keys[i], "monitor", fmt.Sprintf(`,"label":%q`, m.SourceType))
	}
	for _, k := range []struct {
		k    key
		role string
	}{{l.uk, "guarantor:UK"}, {l.fr, "guarantor:FR"}, {l.ua, "party:UA"}, {l.ru, "party:RU"}} {
		l.key(tb, k.k, k.role, "")
	}
	// The security zone spans the middle of the line of contact.
	l.agreement(tb, true, `{"id":"line","version":1,"title":"The line","effective":"2025-01-01T00:00:00Z",
"parties":[{"id":"UA","name":"Ukraine"},{"id":"RU","name":"Russia"}],
"guarantors":[{"id":"coalition","name":"Coalition","kind":"collective","members":["UK","FR"]}],
"zones":[{"id":"sz","kind":"security_zone","geometry":{"type":"Polygon","coordinates":[[[36.5,47.0],[39.5,47.0],[39.5,49.5],[36.5,49.5],[36.5,47.0]]]}}],
"triggers":[{"id":"fire","title":"Fire in the zone","when":"incident.category == 'shelling' && in_zone(incident, 'sz')",
 "obligations":[{"who":"coalition","action":"consult","within":"24h","on_request_of":"UA"},{"who":"RU","action":"report","within":"72h"}]}]}`, l.ua, l.ru, l.uk, l.fr)

	eng := engine.New(engine.DefaultConfig())
	// feed gives the engine the accepted record r and logs what it derives.
	var feed func(r node.Record)
	feed = func(r node.Record) {
		tb.Helper()
		if r.Rejected != "" {
			return
		}
		out, err := eng.Apply(engine.Input{Index: r.Index, LeafHash: r.LeafHash, Kind: r.Kind, Signers: r.Signers, Body: r.Body})
		if err != nil {
			tb.Fatalf("engine at entry %d: %v", r.Index, err)
		}
		for _, d := range out {
			raw, err := note.Sign(&note.Note{Text: d.Text}, l.engine.S)
			if err != nil {
				tb.Fatal(err)
			}
			feed(l.addRaw(tb, true, raw))
		}
	}
	for _, r := range l.recs {
		feed(r)
	}
	items := scenario.Generate(cfg)
	day := start
	for _, it := range items {
		for !it.Observation.ObservedAt.Before(day.Add(24 * time.Hour)) {
			day = day.Add(24 * time.Hour)
			feed(l.addJSON(tb, true, entry.KindTick, entry.Tick{At: day}, l.engine))
		}
		b, err := json.Marshal(it.Observation)
		if err != nil {
			tb.Fatal(err)
		}
		feed(l.add(tb, true, entry.KindObservation, string(b), keys[it.Monitor]))
	}
	feed(l.addJSON(tb, true, entry.KindTick, entry.Tick{At: start.Add(time.Duration(days+3) * 24 * time.Hour)}, l.engine))
	return l.recs
}
