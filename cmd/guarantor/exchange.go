package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/exchange"
	"github.com/guarantor/guarantor/exchange/commit"
	"github.com/guarantor/guarantor/exchange/names"
	xprogress "github.com/guarantor/guarantor/exchange/progress"
	"github.com/guarantor/guarantor/exchange/vault"
	ghttp "github.com/guarantor/guarantor/http"
	"github.com/guarantor/guarantor/keyfile"
	"golang.org/x/mod/sumdb/note"
)

// runExchange is "guarantor exchange": a party uploads its list and signs
// the log's bodies of it, anyone reads an exchange's progress, and a
// family checks a relative's inclusion from the verifier's opening.
func runExchange(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("usage: guarantor exchange (upload|progress|check|rotate) ...")
	}
	switch args[0] {
	case "upload":
		return runExchangeUpload(ctx, e, args[1:])
	case "progress":
		return runExchangeProgress(ctx, e, args[1:])
	case "check":
		return runExchangeCheck(ctx, e, args[1:])
	case "rotate":
		return runExchangeRotate(ctx, e, args[1:])
	}
	return usagef("guarantor exchange %s: unknown; use upload, progress, check or rotate", args[0])
}

// signedCall makes a request signed by signer (the body included) and
// decodes the answer into out.
func (c *client) signedCall(ctx context.Context, signer note.Signer, method, path string, body, out any) error {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return err
		}
	}
	h, err := ghttp.SignRequestBody(signer, method, path, time.Now(), raw)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", h)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s%s: %w", method, c.base, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		var p ghttp.Problem
		if json.Unmarshal(b, &p) == nil && p.Code != "" {
			return &problemError{p}
		}
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	return json.Unmarshal(b, out)
}

// runExchangeUpload uploads a party's list (a JSON array of records) to
// the verifier's service over a signed request, then signs each of the
// list's log bodies with the same key and submits it.
func runExchangeUpload(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "exchange upload")
	server := fs.String("server", "", "the verifier's server URL (required)")
	keyPath := fs.String("key", "", "the party's key file (role party:ID) (required)")
	id := fs.String("exchange", "", "exchange id, e.g. all-for-all-2026 (required)")
	list := fs.String("list", "", "held (the people this party holds) or claimed (the people it says the other side holds) (required)")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *server == "" || *keyPath == "" || *id == "" || fs.NArg() != 1 || (*list != entry.ListHeld && *list != entry.ListClaimed) {
		return usagef("usage: guarantor exchange upload --server URL --key PARTY.key --exchange ID --list held|claimed PEOPLE.json")
	}
	signer, err := keyfile.Signer(*keyPath)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("read the list: %w", err)
	}
	var people []exchange.Person
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&people); err != nil {
		// Never echo the file's content: it is personal data.
		return fmt.Errorf("%s is not a JSON array of records (ref, family, given, patronymic, born, ...): %s", fs.Arg(0), describeJSONError(err))
	}
	c := newClient(*server)
	var up exchange.Upload
	if err := c.signedCall(ctx, signer, http.MethodPost, "/v1/exchanges/"+*id+"/lists", ghttp.ListUpload{List: *list, People: people}, &up); err != nil {
		return err
	}
	for _, body := range up.Bodies {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		if err := signSubmit(ctx, c, entry.KindExchangeList, raw, signer); err != nil {
			return fmt.Errorf("list %s part %d: %w", up.ListID, body.Part, err)
		}
	}
	fmt.Fprintf(e.stdout, "list %s: %d people, %d parts logged, root %s\n", up.ListID, up.Count, len(up.Bodies), up.Root)
	return nil
}

// describeJSONError says where a JSON document is malformed without
// quoting it.
func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %s must be a %s", typ.Field, typ.Type)
	}
	return "not the expected structure"
}

// runExchangeProgress prints an exchange's public progress.
func runExchangeProgress(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "exchange progress")
	server := fs.String("server", "", "server URL (required)")
	id := fs.String("exchange", "", "exchange id (required)")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *server == "" || *id == "" {
		return usagef("usage: guarantor exchange progress --server URL --exchange ID")
	}
	var p xprogress.Progress
	if err := newClient(*server).getJSON(ctx, "/v1/exchanges/"+*id, &p); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "exchange %s: %d held on both sides' lists, %d in %d batches, %d released, %d received: %.1f%% complete\n",
		p.Exchange, p.Held, p.InBatches, len(p.Batches), p.Released, p.Received, 100*p.Completeness)
	return nil
}

// runExchangeCheck is a family's check: given the opening the verifier
// handed it and its relative's names and date of birth as it knows them,
// it fetches the batch's public commitments, rebuilds the Merkle root,
// compares it with the logged one, and checks the relative's commitment
// and its proof. It learns nothing about anyone else.
func runExchangeCheck(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "exchange check")
	server := fs.String("server", "", "server URL (required)")
	id := fs.String("exchange", "", "exchange id (required)")
	openingPath := fs.String("opening", "", "the opening file the verifier gave you (required)")
	family := fs.String("family", "", "family name, in any script (required)")
	given := fs.String("given", "", "given name")
	patronymic := fs.String("patronymic", "", "patronymic")
	born := fs.String("born", "", "date of birth: YYYY, YYYY-MM or YYYY-MM-DD")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *server == "" || *id == "" || *openingPath == "" || *family == "" {
		return usagef("usage: guarantor exchange check --server URL --exchange ID --opening FILE --family NAME [--given NAME] [--patronymic NAME] [--born DATE]")
	}
	b, err := os.ReadFile(*openingPath)
	if err != nil {
		return fmt.Errorf("read the opening: %w", err)
	}
	o, err := commit.ParseOpening(b)
	if err != nil {
		return fmt.Errorf("%s is not an opening: %w", *openingPath, err)
	}
	var mv ghttp.ManifestView
	if err := newClient(*server).getJSON(ctx, "/v1/exchanges/"+*id+"/manifests/"+o.Manifest, &mv); err != nil {
		return err
	}
	who := commit.Identity{RecordID: o.RecordID, Family: *family, Given: *given, Patronymic: *patronymic, Born: *born}.Normalised(names.Key)
	if err := commit.CheckPublished(o, who, mv.Commitments, mv.Root); err != nil {
		return fmt.Errorf("not confirmed: %w", err)
	}
	fmt.Fprintf(e.stdout, "included: this person is in batch %d of exchange %s (%s to %s, %d people; manifest %s at log entries %v)\n",
		mv.Batch, mv.Exchange, mv.From, mv.To, mv.Count, mv.ID, mv.Indexes)
	return nil
}

// runExchangeRotate rotates the verifier's vault key: a new active key is
// added to the key file, every stored data key is re-wrapped under it (the
// encrypted records themselves are not rewritten), and with --retire the
// older keys are then removed from the file. The server must be stopped:
// the data directory is locked.
func runExchangeRotate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "exchange rotate")
	data := fs.String("data", "", "the verifier's data directory (required; the server must be stopped)")
	retire := fs.Bool("retire", false, "after re-wrapping, remove the older keys from the key file")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *data == "" {
		return usagef("usage: guarantor exchange rotate --data DIR [--retire]")
	}
	d := dataDir(*data)
	if os.Getenv(VaultEnv) != "" {
		return usagef("the vault's keys come from %s: rotate them there (add a new first key), then run without it set only if they are also in %s", VaultEnv, d.exchangeVault())
	}
	unlock, err := lockDataDir(d)
	if err != nil {
		return err
	}
	defer unlock()
	id, err := vault.RotateKeyFile(d.exchangeVault())
	if err != nil {
		return fmt.Errorf("rotate %s: %w", d.exchangeVault(), err)
	}
	svc, err := openExchange(ctx, d)
	if err != nil {
		return err
	}
	if svc == nil {
		return fmt.Errorf("%s holds no exchange service (init --verifier makes one)", d)
	}
	defer svc.Close()
	ring, err := vault.LoadFile(d.exchangeVault())
	if err != nil {
		return err
	}
	n, err := svc.Rewrap(ctx, ring)
	if err != nil {
		return fmt.Errorf("re-wrap under %s: %w (the new key stays in the file; run rotate again to retry)", id, err)
	}
	fmt.Fprintf(e.stdout, "active key %s; %d data keys re-wrapped\n", id, n)
	if *retire {
		for _, old := range ring.IDs() {
			if old == id {
				continue
			}
			if ring, err = ring.Retire(old); err != nil {
				return err
			}
		}
		if err := vault.WriteKeyFile(d.exchangeVault(), ring); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "older keys retired: the file holds only %s\n", id)
	}
	return nil
}
