package node

import (
	"context"
	"fmt"
	"slices"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/registry"
)

// checkExchange applies to a prisoner exchange's entries the rules that
// need the log: a list or manifest part agrees with the parts of the same
// id already logged, a batch number is used once per releasing side, and
// a confirmation names a logged manifest, is signed by the side that
// released (or received) it and accounts for every person in it.
func (n *Node) checkExchange(ctx context.Context, body any, signers []*registry.Key) error {
	switch b := body.(type) {
	case *entry.ExchangeList:
		if err := n.eachExchange(ctx, b.Exchange, func(r Record) error {
			o, ok := r.Body.(*entry.ExchangeList)
			if !ok || o.ID != b.ID {
				return nil
			}
			if o.Side != b.Side || o.List != b.List || o.Count != b.Count || o.Parts != b.Parts || o.Root != b.Root {
				return guarantor.Errorf(guarantor.EConflict, "/root", "list %s is already logged (entry %d) with side %s, %s, %d people in %d parts, root %s; a part must agree", b.ID, r.Index, o.Side, o.List, o.Count, o.Parts, o.Root)
			}
			if o.Part == b.Part {
				return guarantor.Errorf(guarantor.EConflict, "/part", "part %d of list %s is already logged (entry %d) with other commitments", b.Part, b.ID, r.Index)
			}
			return nil
		}); err != nil {
			return err
		}
		if n.cfg.Exchange != nil {
			return n.cfg.Exchange.CheckList(ctx, b)
		}
	case *entry.ExchangeManifest:
		if err := n.eachExchange(ctx, b.Exchange, func(r Record) error {
			o, ok := r.Body.(*entry.ExchangeManifest)
			switch {
			case !ok:
				return nil
			case o.ID != b.ID && o.From == b.From && o.Batch == b.Batch:
				return guarantor.Errorf(guarantor.EConflict, "/batch", "batch %d from %s is already manifest %s (entry %d)", b.Batch, b.From, o.ID, r.Index)
			case o.ID == b.ID && (o.From != b.From || o.To != b.To || o.Batch != b.Batch || o.Count != b.Count || o.Parts != b.Parts || o.Root != b.Root):
				return guarantor.Errorf(guarantor.EConflict, "/root", "manifest %s is already logged (entry %d) as batch %d, %s to %s, %d people, root %s; a part must agree", b.ID, r.Index, o.Batch, o.From, o.To, o.Count, o.Root)
			case o.ID == b.ID && o.Part == b.Part:
				return guarantor.Errorf(guarantor.EConflict, "/part", "part %d of manifest %s is already logged (entry %d) with other commitments", b.Part, b.ID, r.Index)
			}
			return nil
		}); err != nil {
			return err
		}
		if n.cfg.Exchange != nil {
			return n.cfg.Exchange.CheckManifest(ctx, b)
		}
	case *entry.ExchangeConfirmation:
		return n.checkConfirmation(ctx, b, signers)
	}
	return nil
}

// checkConfirmation refuses a confirmation of a manifest not (wholly)
// logged, by a party other than the one releasing or receiving, or whose
// count and missing people do not add up to the batch.
func (n *Node) checkConfirmation(ctx context.Context, b *entry.ExchangeConfirmation, signers []*registry.Key) error {
	var m *entry.ExchangeManifest
	parts := map[int]bool{}
	var commitments []string
	if err := n.eachExchange(ctx, b.Exchange, func(r Record) error {
		if o, ok := r.Body.(*entry.ExchangeManifest); ok && o.ID == b.Manifest {
			m = o
			if !parts[o.Part] {
				parts[o.Part] = true
				commitments = append(commitments, o.Commitments...)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if m == nil {
		return guarantor.Errorf(guarantor.EInvalid, "/manifest", "no manifest %q of exchange %s is logged", b.Manifest, b.Exchange)
	}
	if len(parts) != m.Parts {
		return guarantor.Errorf(guarantor.EInvalid, "/manifest", "manifest %s has %d of its %d parts logged; confirm it once all are", m.ID, len(parts), m.Parts)
	}
	side := m.From
	if b.Event == entry.ExchangeReceived {
		side = m.To
	}
	party := false
	for _, k := range signers {
		switch string(k.Role) {
		case "party:" + side:
			party = true
		case string(guarantor.RoleVerifier):
		default:
			return guarantor.Errorf(guarantor.EForbidden, "signature", "manifest %s is %s by party:%s (the verifier may witness); key %s has role %s", m.ID, b.Event, side, k.ID, k.Role)
		}
	}
	if !party {
		return guarantor.Errorf(guarantor.EForbidden, "signature", "manifest %s is %s by party:%s, whose signature is missing", m.ID, b.Event, side)
	}
	if b.Count+len(b.Missing) != m.Count {
		return guarantor.Errorf(guarantor.EInvalid, "/count", "%d handed over and %d missing make %d, but batch %s holds %d people", b.Count, len(b.Missing), b.Count+len(b.Missing), m.ID, m.Count)
	}
	for i, c := range b.Missing {
		if !slices.Contains(commitments, c) {
			return guarantor.Errorf(guarantor.EInvalid, fmt.Sprintf("/missing/%d", i), "commitment %s is not in manifest %s", c, m.ID)
		}
	}
	return nil
}

// eachExchange calls fn with every logged entry of the exchange.
func (n *Node) eachExchange(ctx context.Context, exchange string, fn func(Record) error) error {
	err := n.store.ExchangeEntries(ctx, exchange, fn)
	if _, ok := err.(*guarantor.Error); err != nil && !ok {
		return fmt.Errorf("node: read exchange %s: %w", exchange, err)
	}
	return err
}
