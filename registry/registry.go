// Package registry is the key registry replayed from the log: which keys
// exist, with what role and validity window, and which were revoked. It is
// pure: the same entries in the same order always give the same registry,
// which is what lets an outside auditor recompute every signature decision.
//
// The rules, applied to an entry at log position i:
//   - key and revocation entries must be signed by the mission authority;
//   - every other entry must be signed only by keys registered at positions
//     before i, each with a role allowed for the entry's kind;
//   - testimony must be signed by an intake key, observations by monitor,
//     sensor or analyst keys;
//   - an entry that claims a time (an observation's observed_at) must fall
//     inside each signer's [not_before, not_after] window;
//   - a signer revoked before i with an effective time at or before the
//     entry's time is refused. An entry logged before the revocation stands.
package registry

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"golang.org/x/mod/sumdb/note"
)

// Key is a registered signing key.
type Key struct {
	ID        string // name+hash, as in signature lines and revocations
	VKey      string
	Role      guarantor.Role
	Label     string
	NotBefore time.Time
	NotAfter  time.Time
	Zones     []string
	Index     uint64 // log index of the key entry
	Revoked   *Revocation

	verifier note.Verifier
}

// Revocation records when and why a key was ended.
type Revocation struct {
	Index     uint64 // log index of the revocation entry
	Reason    string
	Effective time.Time
}

// Registry holds the keys registered so far. It is not safe for concurrent
// use; callers that share one serialise access themselves.
type Registry struct {
	authority note.Verifier
	keys      map[string]*Key
}

// New returns an empty registry trusting the given mission authority
// verifier key.
func New(authorityVKey string) (*Registry, error) {
	v, err := note.NewVerifier(authorityVKey)
	if err != nil {
		return nil, fmt.Errorf("authority verifier key %q: %w", authorityVKey, err)
	}
	return &Registry{authority: v, keys: make(map[string]*Key)}, nil
}

// Authority returns the mission authority's verifier.
func (r *Registry) Authority() note.Verifier { return r.authority }

// Key returns the key with the given name+hash identifier.
func (r *Registry) Key(id string) (*Key, bool) {
	k, ok := r.keys[id]
	return k, ok
}

// Keys returns every registered key in log order.
func (r *Registry) Keys() []*Key {
	out := make([]*Key, 0, len(r.keys))
	for _, k := range r.keys {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b *Key) int { return int(a.Index) - int(b.Index) })
	return out
}

// Len returns the number of registered keys.
func (r *Registry) Len() int { return len(r.keys) }

// Verifier implements note.Verifiers over the authority and every
// registered key, revoked ones included (whether a revoked key may sign is
// decided by Check, which knows the entry's time).
func (r *Registry) Verifier(name string, hash uint32) (note.Verifier, error) {
	if name == r.authority.Name() && hash == r.authority.KeyHash() {
		return r.authority, nil
	}
	if k, ok := r.keys[entry.KeyID(name, hash)]; ok {
		return k.verifier, nil
	}
	return nil, &note.UnknownVerifierError{Name: name, KeyHash: hash}
}

// Check decides whether e, whose validated body is body (from
// e.Validate), may be logged next. It verifies every signature and applies
// the role, window and revocation rules. It returns the signing keys (nil
// for the authority). It does not change the registry.
func (r *Registry) Check(e *entry.Entry, body any) ([]*Key, error) {
	signers, err := e.Verify(r)
	if err != nil {
		return nil, err
	}
	return r.rules(e, body, signers)
}

// CheckOwn is Check for an entry the caller signed itself a moment ago
// (the engine's derived entries): the same role, window and revocation
// rules, but the signatures are looked up, not verified again. Every
// auditor still verifies them.
func (r *Registry) CheckOwn(e *entry.Entry, body any) ([]*Key, error) {
	signers := make([]note.Verifier, 0, len(e.Sigs))
	for _, sig := range e.Sigs {
		v, err := r.Verifier(sig.Name, sig.Hash)
		if err != nil {
			return nil, guarantor.Errorf(guarantor.EUnknownKey, "signature", "signed by unregistered key %s", entry.KeyID(sig.Name, sig.Hash))
		}
		signers = append(signers, v)
	}
	return r.rules(e, body, signers)
}

// rules applies the role, window and revocation rules to an entry signed
// by signers.
func (r *Registry) rules(e *entry.Entry, body any, signers []note.Verifier) ([]*Key, error) {
	switch e.Kind {
	case entry.KindKey, entry.KindRevocation:
		if len(signers) != 1 || signers[0] != r.authority {
			return nil, guarantor.Errorf(guarantor.EForbidden, "signature", "%s entries must be signed by the mission authority %s alone", e.Kind, entry.KeyID(r.authority.Name(), r.authority.KeyHash()))
		}
		return nil, r.checkRegistryChange(e, body)
	}
	at, hasTime := entry.Time(body)
	keys := make([]*Key, 0, len(signers))
	for _, v := range signers {
		if v == r.authority {
			return nil, guarantor.Errorf(guarantor.EForbidden, "signature", "the mission authority signs only key and revocation entries")
		}
		k := r.keys[entry.KeyID(v.Name(), v.KeyHash())]
		if err := k.maySign(e.Kind, at, hasTime); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	if a, ok := body.(*entry.Agreement); ok {
		if err := coSigned(a, keys); err != nil {
			return nil, err
		}
	}
	switch b := body.(type) {
	case *entry.ExchangeList:
		for _, k := range keys {
			if string(k.Role) != "party:"+b.Side {
				return nil, guarantor.Errorf(guarantor.EForbidden, "signature", "list %s is party:%s's to sign; key %s has role %s", b.ID, b.Side, k.ID, k.Role)
			}
		}
	case *entry.ExchangeManifest:
		have := map[string]bool{}
		for _, k := range keys {
			if r := string(k.Role); r != "party:"+b.From && r != "party:"+b.To && k.Role != guarantor.RoleVerifier {
				return nil, guarantor.Errorf(guarantor.EForbidden, "signature", "key %s (role %s) signed manifest %s, which is between party:%s and party:%s", k.ID, k.Role, b.ID, b.From, b.To)
			}
			have[string(k.Role)] = true
		}
		var missing []string
		for _, r := range []string{"party:" + b.From, "party:" + b.To, string(guarantor.RoleVerifier)} {
			if !have[r] {
				missing = append(missing, r)
			}
		}
		if len(missing) > 0 {
			return nil, guarantor.Errorf(guarantor.EForbidden, "signature", "manifest %s lacks the co-signature of %s: both parties and the verifier sign each batch", b.ID, strings.Join(missing, ", "))
		}
	}
	if sn, ok := body.(*entry.Sanction); ok {
		for _, k := range keys {
			if string(k.Role) != "guarantor:"+sn.Authority {
				return nil, guarantor.Errorf(guarantor.EForbidden, "signature", "sanction %s is the authority %s's to state; key %s has role %s", sn.ID, sn.Authority, k.ID, k.Role)
			}
		}
	}
	return keys, nil
}

// coSigned checks that an agreement carries a signature by a key of every
// party and guarantor it binds, and by no one else.
func coSigned(a *entry.Agreement, keys []*Key) error {
	need := a.Signatories()
	have := map[string]bool{}
	for _, k := range keys {
		if !slices.Contains(need, string(k.Role)) {
			return guarantor.Errorf(guarantor.EForbidden, "signature", "key %s (role %s) signed agreement %s, which does not bind %s", k.ID, k.Role, a.ID, k.Role)
		}
		have[string(k.Role)] = true
	}
	var missing []string
	for _, r := range need {
		if !have[r] {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		return guarantor.Errorf(guarantor.EForbidden, "signature", "agreement %s lacks the co-signature of %s: it binds %s", a.ID, strings.Join(missing, ", "), strings.Join(need, ", "))
	}
	return nil
}

func (k *Key) maySign(kind entry.Kind, at time.Time, hasTime bool) error {
	switch kind {
	case entry.KindObservation:
		if !k.Role.Observes() {
			return guarantor.Errorf(guarantor.EForbidden, "signature", "key %s has role %s, which may not sign observations (monitor, sensor or analyst only)", k.ID, k.Role)
		}
	case entry.KindTestimony:
		if k.Role != guarantor.RoleIntake {
			return guarantor.Errorf(guarantor.EForbidden, "signature", "key %s has role %s; testimony is signed by the server's intake key only", k.ID, k.Role)
		}
	case entry.KindVerification:
		if k.Role != guarantor.RoleAnalyst {
			return guarantor.Errorf(guarantor.EForbidden, "signature", "key %s has role %s; verifications are signed by analyst keys only", k.ID, k.Role)
		}
	case entry.KindAgreement, entry.KindAmendment, entry.KindResponse:
		if !strings.HasPrefix(string(k.Role), "party:") && !strings.HasPrefix(string(k.Role), "guarantor:") {
			return guarantor.Errorf(guarantor.EForbidden, "signature", "key %s has role %s; %s entries are signed by parties and guarantors only", k.ID, k.Role, kind)
		}
	case entry.KindPledge, entry.KindDeployment:
		if !strings.HasPrefix(string(k.Role), "guarantor:") {
			return guarantor.Errorf(guarantor.EForbidden, "signature", "key %s has role %s; %s entries are signed by a contributing state's guarantor key", k.ID, k.Role, kind)
		}
	case entry.KindSanction:
		if !strings.HasPrefix(string(k.Role), "guarantor:") {
			return guarantor.Errorf(guarantor.EForbidden, "signature", "key %s has role %s; sanctions are stated by a sanctioning authority's guarantor key only", k.ID, k.Role)
		}
	case entry.KindExchangeList, entry.KindExchangeConfirmation:
		if !strings.HasPrefix(string(k.Role), "party:") && !(kind == entry.KindExchangeConfirmation && k.Role == guarantor.RoleVerifier) {
			return guarantor.Errorf(guarantor.EForbidden, "signature", "key %s has role %s; %s entries are signed by a party's key", k.ID, k.Role, kind)
		}
	case entry.KindPatrolPlan:
		if k.Role != guarantor.RoleOperator && k.Role != guarantor.RoleMonitor {
			return guarantor.Errorf(guarantor.EForbidden, "signature", "key %s has role %s; patrol plans are signed by an operator or a monitor (the team's lead)", k.ID, k.Role)
		}
	case entry.KindPatrolReport:
		if k.Role != guarantor.RoleMonitor && k.Role != guarantor.RoleSensor {
			return guarantor.Errorf(guarantor.EForbidden, "signature", "key %s has role %s; patrol reports are signed by the team's monitor or sensor keys", k.ID, k.Role)
		}
	case entry.KindExchangeManifest:
		if !strings.HasPrefix(string(k.Role), "party:") && k.Role != guarantor.RoleVerifier {
			return guarantor.Errorf(guarantor.EForbidden, "signature", "key %s has role %s; exchange manifests are co-signed by both parties and the verifier", k.ID, k.Role)
		}
	case entry.KindIncident, entry.KindTick, entry.KindDetermination, entry.KindObligation, entry.KindCoverage:
		if k.Role != guarantor.RoleEngine {
			return guarantor.Errorf(guarantor.EForbidden, "signature", "key %s has role %s; %s entries are signed by the engine's key only", k.ID, k.Role, kind)
		}
	default:
		return guarantor.Errorf(guarantor.EUnsupported, "kind", "no signing rule for kind %s", kind)
	}
	if hasTime {
		if at.Before(k.NotBefore) || at.After(k.NotAfter) {
			return guarantor.Errorf(guarantor.EOutOfWindow, "signature", "key %s is valid from %s to %s; the entry's time %s is outside that window", k.ID, k.NotBefore.Format(time.RFC3339), k.NotAfter.Format(time.RFC3339), at.Format(time.RFC3339))
		}
		if k.Revoked != nil && !at.Before(k.Revoked.Effective) {
			return guarantor.Errorf(guarantor.ERevoked, "signature", "key %s was revoked effective %s (%s); the entry's time is %s", k.ID, k.Revoked.Effective.Format(time.RFC3339), k.Revoked.Reason, at.Format(time.RFC3339))
		}
	} else if k.Revoked != nil {
		return guarantor.Errorf(guarantor.ERevoked, "signature", "key %s was revoked (%s)", k.ID, k.Revoked.Reason)
	}
	return nil
}

func (r *Registry) checkRegistryChange(e *entry.Entry, body any) error {
	switch b := body.(type) {
	case *entry.KeyBody:
		v, err := note.NewVerifier(b.VKey)
		if err != nil {
			return guarantor.Errorf(guarantor.EInvalid, "/vkey", "%v", err)
		}
		id := entry.KeyID(v.Name(), v.KeyHash())
		if v.Name() == r.authority.Name() && v.KeyHash() == r.authority.KeyHash() {
			return guarantor.Errorf(guarantor.EConflict, "/vkey", "the mission authority's key cannot be registered as another role")
		}
		if k, ok := r.keys[id]; ok {
			return guarantor.Errorf(guarantor.EConflict, "/vkey", "key %s is already registered (log index %d)", id, k.Index)
		}
	case *entry.RevocationBody:
		k, ok := r.keys[b.Key]
		if !ok {
			return guarantor.Errorf(guarantor.EInvalid, "/key", "key %s is not registered, so it cannot be revoked", b.Key)
		}
		if k.Revoked != nil {
			return guarantor.Errorf(guarantor.EConflict, "/key", "key %s was already revoked (log index %d)", b.Key, k.Revoked.Index)
		}
	default:
		return fmt.Errorf("registry: %s entry with body %T", e.Kind, body)
	}
	return nil
}

// Apply records the effect of an entry logged at index that Check
// accepted. Entries of kinds other than key and revocation change nothing.
func (r *Registry) Apply(index uint64, e *entry.Entry, body any) error {
	switch b := body.(type) {
	case *entry.KeyBody:
		v, err := note.NewVerifier(b.VKey)
		if err != nil {
			return fmt.Errorf("registry: apply key at %d: %w", index, err)
		}
		role, err := guarantor.ParseRole(b.Role)
		if err != nil {
			return fmt.Errorf("registry: apply key at %d: %w", index, err)
		}
		id := entry.KeyID(v.Name(), v.KeyHash())
		r.keys[id] = &Key{
			ID: id, VKey: b.VKey, Role: role, Label: b.Label,
			NotBefore: b.NotBefore, NotAfter: b.NotAfter, Zones: slices.Clone(b.Zones),
			Index: index, verifier: v,
		}
	case *entry.RevocationBody:
		k, ok := r.keys[b.Key]
		if !ok {
			return fmt.Errorf("registry: apply revocation at %d: key %s not registered", index, b.Key)
		}
		k.Revoked = &Revocation{Index: index, Reason: b.Reason, Effective: b.Effective}
	}
	return nil
}

// Admit parses, validates and checks raw as the entry at index, and applies
// it. It is the whole decision an auditor replays for each log entry.
func (r *Registry) Admit(index uint64, raw []byte) (*entry.Entry, any, error) {
	e, err := entry.Parse(raw)
	if err != nil {
		return nil, nil, err
	}
	body, err := e.Validate()
	if err != nil {
		return e, nil, err
	}
	if _, err := r.Check(e, body); err != nil {
		return e, body, err
	}
	return e, body, r.Apply(index, e, body)
}

// Restore adds a key recorded earlier (from a projection's Keys), with its
// revocation if any, so that a live registry resumes without a replay.
func (r *Registry) Restore(k Key) error {
	v, err := note.NewVerifier(k.VKey)
	if err != nil {
		return fmt.Errorf("registry: restore %s: %w", k.ID, err)
	}
	if id, _ := entry.VKeyID(k.VKey); id != k.ID {
		return fmt.Errorf("registry: restore: id %s does not match vkey %s", k.ID, id)
	}
	k.verifier = v
	k.Zones = slices.Clone(k.Zones)
	if k.Revoked != nil {
		rv := *k.Revoked
		k.Revoked = &rv
	}
	r.keys[k.ID] = &k
	return nil
}
