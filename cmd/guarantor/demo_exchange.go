package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/exchange"
	xprogress "github.com/guarantor/guarantor/exchange/progress"
	"github.com/guarantor/guarantor/exchange/synth"
	ghttp "github.com/guarantor/guarantor/http"
	"github.com/guarantor/guarantor/keyfile"
	"golang.org/x/mod/sumdb/note"
)

// demoExchangeID is the demo's prisoner exchange.
const demoExchangeID = "all-for-all-demo"

// demoExchange runs an all-for-all exchange of SYNTHETIC people through
// the verifier's API, in both directions: each side uploads the list of
// the people it holds and of those it claims, signs its lists' log
// bodies, the demo's verifier reconciles each direction and drafts a
// first batch, which both parties and the verifier co-sign, and the sides
// confirm release and receipt. It returns the public progress.
func demoExchange(ctx context.Context, c *client, d dataDir, auth note.Signer, keys map[string]note.Signer, now time.Time) (*xprogress.Progress, error) {
	ua, ru := keys["party:UA"], keys["party:RU"]
	if ua == nil || ru == nil {
		return nil, nil
	}
	vkey, err := keyfile.Generate(d.key("verifier.demo"), "verifier.demo")
	if err != nil {
		return nil, err
	}
	vsigner, err := keyfile.Signer(d.key("verifier.demo"))
	if err != nil {
		return nil, err
	}
	raw, err := keyEntry(auth, vkey, guarantor.RoleVerifier, "the exchange's neutral verifier (demo key)", now.AddDate(0, 0, -30), now.AddDate(1, 0, 0))
	if err == nil {
		_, _, err = c.submit(ctx, raw)
	}
	if err != nil {
		return nil, fmt.Errorf("register the verifier: %w", err)
	}
	at := now.UTC().Truncate(time.Second).Add(-2 * time.Hour)
	path := "/v1/exchanges/" + demoExchangeID
	for i, dir := range []struct {
		holder, claimant string
		hs, cs           note.Signer
	}{{"RU", "UA", ru, ua}, {"UA", "RU", ua, ru}} {
		held, claimed := synth.Generate(synth.Config{Seed: uint64(100 + i), People: 300 + 200*i}).Submissions()
		for _, up := range []struct {
			list   string
			people []exchange.Person
			s      note.Signer
		}{{entry.ListHeld, held, dir.hs}, {entry.ListClaimed, claimed, dir.cs}} {
			var u exchange.Upload
			if err := c.signedCall(ctx, up.s, http.MethodPost, path+"/lists", ghttp.ListUpload{List: up.list, At: at, People: up.people}, &u); err != nil {
				return nil, fmt.Errorf("%s's %s list: %w", dir.holder, up.list, err)
			}
			for _, b := range u.Bodies {
				body, _ := json.Marshal(b)
				if err := signSubmit(ctx, c, entry.KindExchangeList, body, up.s); err != nil {
					return nil, fmt.Errorf("list %s: %w", u.ListID, err)
				}
			}
		}
		var rec exchange.Reconciliation
		if err := c.signedCall(ctx, vsigner, http.MethodPost, path+"/reconcile", ghttp.ReconcileRequest{Holder: dir.holder}, &rec); err != nil {
			return nil, fmt.Errorf("reconcile %s: %w", dir.holder, err)
		}
		var m exchange.Manifest
		if err := c.signedCall(ctx, vsigner, http.MethodPost, path+"/manifests", ghttp.ManifestRequest{From: dir.holder, Batch: 1, Limit: rec.Counts.Matched * 2 / 3, At: at.Add(time.Hour)}, &m); err != nil {
			return nil, fmt.Errorf("draft %s's batch: %w", dir.holder, err)
		}
		for _, b := range m.Bodies {
			body, _ := json.Marshal(b)
			if err := signSubmit(ctx, c, entry.KindExchangeManifest, body, dir.hs, dir.cs, vsigner); err != nil {
				return nil, fmt.Errorf("manifest %s: %w", m.ID, err)
			}
		}
		for _, ev := range []struct {
			event string
			s     note.Signer
		}{{entry.ExchangeReleased, dir.hs}, {entry.ExchangeReceived, dir.cs}} {
			body, _ := json.Marshal(entry.ExchangeConfirmation{ID: m.ID + "-" + ev.event, Exchange: demoExchangeID, Manifest: m.ID, Event: ev.event,
				At: at.Add(90 * time.Minute), Count: m.Count, Text: "SYNTHETIC demo exchange"})
			if err := signSubmit(ctx, c, entry.KindExchangeConfirmation, body, ev.s); err != nil {
				return nil, fmt.Errorf("%s %s: %w", m.ID, ev.event, err)
			}
		}
	}
	var p xprogress.Progress
	if err := c.getJSON(ctx, path, &p); err != nil {
		return nil, err
	}
	return &p, nil
}
