package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/agreements"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/keyfile"
	"golang.org/x/mod/sumdb/note"
)

// demoAgreement makes a key for every party and guarantor a shipped
// agreement binds, registers them, and logs the agreement co-signed by
// all of them. It returns the agreement and the keys by role.
func demoAgreement(ctx context.Context, c *client, d dataDir, auth note.Signer, name string, notBefore, notAfter time.Time) (*entry.Agreement, map[string]note.Signer, error) {
	body, err := agreements.JSON(name)
	if err != nil {
		return nil, nil, err
	}
	var doc entry.Agreement
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, nil, fmt.Errorf("agreement %s: %w", name, err)
	}
	keys := map[string]note.Signer{}
	var signers []note.Signer
	for _, role := range doc.Signatories() {
		keyName := strings.ReplaceAll(role, ":", ".")
		vkey, err := keyfile.Generate(d.key(keyName), keyName)
		if err != nil {
			return nil, nil, err
		}
		s, err := keyfile.Signer(d.key(keyName))
		if err != nil {
			return nil, nil, err
		}
		raw, err := keyEntry(auth, vkey, guarantor.Role(role), keyName+" (demo key)", notBefore, notAfter)
		if err != nil {
			return nil, nil, err
		}
		if _, _, err := c.submit(ctx, raw); err != nil {
			return nil, nil, fmt.Errorf("register %s: %w", role, err)
		}
		keys[role] = s
		signers = append(signers, s)
	}
	raw, err := entry.Sign(entry.KindAgreement, body, signers...)
	if err != nil {
		return nil, nil, err
	}
	if _, _, err := c.submit(ctx, raw); err != nil {
		return nil, nil, fmt.Errorf("agreement %s: %w", name, err)
	}
	return &doc, keys, nil
}

// demoResponses answers some of the open obligations, so that the
// fulfilment record shows every path: the first debtor fulfils, the
// second acknowledges, the third declines; the rest stay open until their
// deadlines pass. It returns how many responses it logged.
func demoResponses(ctx context.Context, c *client, keys map[string]note.Signer, now time.Time) (int, error) {
	var list struct {
		Obligations []struct {
			entry.Obligation
		} `json:"obligations"`
	}
	if err := c.getJSON(ctx, "/v1/obligations?status=open&limit=100", &list); err != nil {
		return 0, err
	}
	answers := []string{entry.AnswerFulfilled, entry.AnswerAcknowledge, entry.AnswerDeclined}
	n := 0
	seen := map[string]bool{}
	for _, o := range list.Obligations {
		if seen[o.Who] || n >= len(answers) {
			continue
		}
		s := keys[o.Who]
		if s == nil {
			continue
		}
		seen[o.Who] = true
		r := entry.Response{ID: fmt.Sprintf("demo-%d", o.ID), At: now.UTC().Truncate(time.Second), Obligation: o.ID, Answer: answers[n]}
		switch r.Answer {
		case entry.AnswerDeclined:
			r.Reason = "SYNTHETIC demo answer: no capacity available in the period"
		case entry.AnswerFulfilled:
			r.Text = "SYNTHETIC demo answer: consultations held"
		}
		body, err := json.Marshal(r)
		if err != nil {
			return n, err
		}
		raw, err := entry.Sign(entry.KindResponse, body, s)
		if err != nil {
			return n, err
		}
		if _, _, err := c.submit(ctx, raw); err != nil {
			return n, fmt.Errorf("response to obligation %d: %w", o.ID, err)
		}
		n++
	}
	return n, nil
}
