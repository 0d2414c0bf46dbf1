package node_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/exchange/progress"
	"github.com/guarantor/guarantor/node"
)

func fakeCommitments(n int, salt string) []string {
	out := make([]string, n)
	for i := range out {
		h := sha256.Sum256(fmt.Appendf(nil, "%s-%d", salt, i))
		out[i] = hex.EncodeToString(h[:])
	}
	return out
}

// TestExchangeEntries: a list is signed by its own party and its parts
// agree; a manifest needs both parties and the verifier; a confirmation
// names a logged manifest, comes from the side that released or received
// it, and accounts for every person. The projection's progress follows.
func TestExchangeEntries(t *testing.T) {
	f := newFixture(t)
	keys := map[string]key{}
	for _, role := range []string{"party:UA", "party:RU", "verifier", "guarantor:UK"} {
		keys[role] = newKey(t, strings.ReplaceAll(role, ":", "."))
		f.must(f.sign(entry.KindKey, fmt.Sprintf(`{"vkey":%q,"role":%q,"not_before":"2020-01-01T00:00:00Z","not_after":"2099-01-01T00:00:00Z"}`, keys[role].VKey, role), f.auth))
	}
	root := strings.Repeat("ab", 32)
	list := func(id, side string, part int, cs []string) string {
		return fmt.Sprintf(`{"id":%q,"exchange":"x","side":%q,"list":"held","at":"2026-03-01T00:00:00Z","count":1000,"part":%d,"parts":2,"root":%q,"commitments":[%s]}`,
			id, side, part, root, `"`+strings.Join(cs, `","`)+`"`)
	}
	cs := fakeCommitments(1000, "ru")
	refuse := func(raw []byte, code, field, says string) {
		t.Helper()
		_, err := f.submit(raw)
		var ge *guarantor.Error
		if !errors.As(err, &ge) || ge.Code != code || ge.Field != field || !strings.Contains(ge.Message, says) {
			t.Fatalf("got %v, want %s at %s saying %q", err, code, field, says)
		}
	}
	refuse(f.sign(entry.KindExchangeList, list("ru-1", "RU", 1, cs[:800]), keys["party:UA"]), guarantor.EForbidden, "signature", "list ru-1 is party:RU's to sign")
	refuse(f.sign(entry.KindExchangeList, list("ru-1", "RU", 1, cs[:799]), keys["party:RU"]), guarantor.EInvalid, "/commitments", "carries 800 commitments, not 799")
	refuse(f.sign(entry.KindExchangeList, list("ru-1", "RU", 1, cs[:800]), keys["guarantor:UK"]), guarantor.EForbidden, "signature", "signed by a party's key")
	f.must(f.sign(entry.KindExchangeList, list("ru-1", "RU", 1, cs[:800]), keys["party:RU"]))
	other := strings.Replace(list("ru-1", "RU", 2, cs[800:]), root, strings.Repeat("cd", 32), 1)
	refuse(f.sign(entry.KindExchangeList, other, keys["party:RU"]), guarantor.EConflict, "/root", "a part must agree")
	f.must(f.sign(entry.KindExchangeList, list("ru-1", "RU", 2, cs[800:]), keys["party:RU"]))

	people := fakeCommitments(3, "people")
	manifest := fmt.Sprintf(`{"id":"b1","exchange":"x","batch":1,"from":"RU","to":"UA","at":"2026-03-02T00:00:00Z","count":3,"part":1,"parts":1,"root":%q,"commitments":["%s"]}`, root, strings.Join(people, `","`))
	raw := f.sign(entry.KindExchangeManifest, manifest, keys["party:RU"])
	raw, _ = entry.Cosign(raw, keys["party:UA"].S)
	refuse(raw, guarantor.EForbidden, "signature", "lacks the co-signature of verifier")
	refuse(f.sign(entry.KindExchangeConfirmation, `{"id":"c0","exchange":"x","manifest":"b1","event":"released","at":"2026-03-03T00:00:00Z","count":3}`, keys["party:RU"]),
		guarantor.EInvalid, "/manifest", `no manifest "b1"`)
	raw, _ = entry.Cosign(raw, keys["verifier"].S)
	f.must(raw)
	again := strings.Replace(strings.Replace(manifest, `"id":"b1"`, `"id":"b1-bis"`, 1), `"batch":1`, `"batch":1`, 1)
	raw = f.sign(entry.KindExchangeManifest, again, keys["party:RU"])
	raw, _ = entry.Cosign(raw, keys["party:UA"].S)
	raw, _ = entry.Cosign(raw, keys["verifier"].S)
	refuse(raw, guarantor.EConflict, "/batch", "batch 1 from RU is already manifest b1")

	confirm := func(id, event string, count int, missing ...string) string {
		m := ""
		if len(missing) > 0 {
			m = `,"missing":["` + strings.Join(missing, `","`) + `"]`
		}
		return fmt.Sprintf(`{"id":%q,"exchange":"x","manifest":"b1","event":%q,"at":"2026-03-03T00:00:00Z","count":%d%s}`, id, event, count, m)
	}
	refuse(f.sign(entry.KindExchangeConfirmation, confirm("c1", "released", 3), keys["party:UA"]), guarantor.EForbidden, "signature", "released by party:RU")
	refuse(f.sign(entry.KindExchangeConfirmation, confirm("c1", "released", 2), keys["party:RU"]), guarantor.EInvalid, "/count", "batch b1 holds 3 people")
	refuse(f.sign(entry.KindExchangeConfirmation, confirm("c1", "released", 2, cs[0]), keys["party:RU"]), guarantor.EInvalid, "/missing/0", "is not in manifest b1")
	f.must(f.sign(entry.KindExchangeConfirmation, confirm("c1", "released", 3), keys["party:RU"]))
	raw = f.sign(entry.KindExchangeConfirmation, confirm("c2", "received", 2, people[1]), keys["party:UA"])
	raw, _ = entry.Cosign(raw, keys["verifier"].S)
	f.must(raw)

	var recs []progress.Record
	if err := f.store.ExchangeEntries(context.Background(), "x", func(r node.Record) error {
		recs = append(recs, progress.Record{Index: r.Index, Body: r.Body})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	p := progress.Compute("x", recs)
	if len(recs) != 5 || p.Held != 1000 || p.InBatches != 3 || p.Released != 3 || p.Received != 2 || p.Complete {
		t.Fatalf("%d records, progress %+v", len(recs), p)
	}
	replayStore(t, f)
}
