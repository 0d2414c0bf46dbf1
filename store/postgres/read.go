package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/registry"
	"github.com/guarantor/guarantor/store/internal/column"
	"github.com/jackc/pgx/v5"
)

// IndexByLeafHash returns the index of the entry with the given leaf hash,
// if one has been applied.
func (s *Store) IndexByLeafHash(ctx context.Context, leafHash []byte) (uint64, bool, error) {
	var idx int64
	err := s.pool.QueryRow(ctx, "SELECT idx FROM entries WHERE leaf_hash = $1 ORDER BY idx LIMIT 1", leafHash).Scan(&idx)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("postgres: look up leaf hash: %w", err)
	}
	return uint64(idx), true, nil
}

// ObservationByID returns the index and leaf hash of the observation with
// client id id whose first signature is signer's (name+hash), if one has
// been applied.
func (s *Store) ObservationByID(ctx context.Context, signer, id string) (uint64, []byte, bool, error) {
	var idx int64
	var leaf []byte
	err := s.pool.QueryRow(ctx, `SELECT o.idx, e.leaf_hash FROM observations o JOIN entries e ON e.idx = o.idx
		WHERE o.signer = $1 AND o.obs_id = $2`, escape(signer), escape(id)).Scan(&idx, &leaf)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil, false, nil
	}
	if err != nil {
		return 0, nil, false, fmt.Errorf("postgres: look up observation %q: %w", id, err)
	}
	return uint64(idx), leaf, true, nil
}

// recordColumns are the columns scanRecord reads, of entries e.
const recordColumns = "e.idx, e.leaf_hash, e.kind, e.signers, e.raw, e.rejected"

// Entry returns the applied entry at index, or ok=false. For an accepted
// entry, Body is decoded again from the raw note (entry.Parse and
// DecodeValidated: it was validated when it was applied), so the record
// is the one Apply was given; a rejected entry has no Body.
func (s *Store) Entry(ctx context.Context, index uint64) (node.Record, bool, error) {
	rec, err := scanRecord(s.pool.QueryRow(ctx, "SELECT "+recordColumns+" FROM entries e WHERE e.idx = $1", int64(index)))
	if errors.Is(err, pgx.ErrNoRows) {
		return rec, false, nil
	}
	if err != nil {
		return node.Record{}, false, fmt.Errorf("postgres: read entry %d: %w", index, err)
	}
	return rec, true, nil
}

// scanRecord reads one row of recordColumns and, for an accepted entry,
// decodes its body again.
func scanRecord(row pgx.Row) (node.Record, error) {
	var rec node.Record
	var idx int64
	var kind, signers, rejected string
	if err := row.Scan(&idx, &rec.LeafHash, &kind, &signers, &rec.Raw, &rejected); err != nil {
		return rec, err
	}
	rec.Index, rec.Kind, rec.Rejected = uint64(idx), entry.Kind(unescape(kind)), unescape(rejected)
	var err error
	if rec.Signers, err = decodeSigners(unescape(signers)); err != nil {
		return node.Record{}, fmt.Errorf("entry %d signers: %w", rec.Index, err)
	}
	if rec.Rejected == "" {
		e, err := entry.Parse(rec.Raw)
		if err == nil {
			rec.Body, err = e.DecodeValidated() // validated when it was applied
		}
		if err != nil {
			return node.Record{}, fmt.Errorf("entry %d no longer decodes: %w", rec.Index, err)
		}
	}
	return rec, nil
}

// scanRecordRows is scanRecord for each's rows, wrapping its errors.
func scanRecordRows(what string) func(pgx.Rows) (node.Record, error) {
	return func(rows pgx.Rows) (node.Record, error) {
		rec, err := scanRecord(rows)
		if err != nil {
			return rec, fmt.Errorf("postgres: read %s: %w", what, err)
		}
		return rec, nil
	}
}

// Identities calls fn with the leaf hash of every applied entry and, for
// accepted observations, its signer NUL id key ("" otherwise), in no
// particular order, from one consistent snapshot.
func (s *Store) Identities(ctx context.Context, fn func(leafHash []byte, obsKey string)) error {
	return s.each(ctx, "identities", `SELECT e.leaf_hash, o.signer, o.obs_id FROM entries e LEFT JOIN observations o ON o.idx = e.idx`, nil,
		func(rows pgx.Rows) error {
			var leaf []byte
			var signer, id *string
			if err := rows.Scan(&leaf, &signer, &id); err != nil {
				return fmt.Errorf("postgres: read identities: %w", err)
			}
			key := ""
			if signer != nil && id != nil {
				key = unescape(*signer) + "\x00" + unescape(*id)
			}
			fn(leaf, key)
			return nil
		})
}

// Observations calls fn with every applied observation f selects, in log
// order, streaming from one snapshot; it stops at fn's first error and
// returns it unwrapped. Times compare in UTC; a BBox is inclusive and does
// not wrap around the antimeridian.
func (s *Store) Observations(ctx context.Context, f node.ObservationFilter, fn func(node.ObservationRow) error) error {
	q := newFilter(`SELECT idx, signer, obs_id, observed_at, lon, lat, category, accuracy_m, count, bearing_deg,
		weapon, source_type, evidence, text, external_id, source FROM observations WHERE 1=1`)
	q.timeRange("observed_at", "observed_at", f.From, f.To)
	q.bbox("lon", "lat", f.BBox)
	q.eq("category", f.Category)
	q.eq("source_type", f.SourceType)
	q.order("idx", f.Limit)
	return visit(ctx, s, "observations", q.sql, q.args, scanObservation, fn)
}

// scanObservation reads one row of the observations table.
func scanObservation(rows pgx.Rows) (node.ObservationRow, error) {
	var r node.ObservationRow
	o := &r.Observation
	var idx int64
	var count *int64
	var signer, at, evidence string
	if err := rows.Scan(&idx, &signer, &o.ID, &at, &o.Location.Coordinates[0], &o.Location.Coordinates[1], &o.Category,
		&o.AccuracyM, &count, &o.BearingDeg, &o.Weapon, &o.SourceType, &evidence, &o.Text, &o.ExternalID, &o.Source); err != nil {
		return r, fmt.Errorf("postgres: read observation: %w", err)
	}
	r.Index, r.Signer = uint64(idx), unescape(signer)
	for _, p := range []*string{&o.ID, &o.Category, &o.Weapon, &o.SourceType, &o.Text, &o.ExternalID, &o.Source} {
		*p = unescape(*p)
	}
	o.Location.Type = "Point"
	var err error
	if o.ObservedAt, err = time.Parse(column.TimeLayout, at); err != nil {
		return r, fmt.Errorf("postgres: observation %d time: %w", r.Index, err)
	}
	if count != nil {
		c := int(*count)
		o.Count = &c
	}
	if err := json.Unmarshal([]byte(unescape(evidence)), &o.Evidence); err != nil {
		return r, fmt.Errorf("postgres: observation %d evidence: %w", r.Index, err)
	}
	if len(o.Evidence) == 0 {
		o.Evidence = nil
	}
	return r, nil
}

// Keys returns every registered key, with its revocation if any, in log
// order; times are in UTC.
func (s *Store) Keys(ctx context.Context) ([]registry.Key, error) {
	return collect(ctx, s, "keys", `SELECT k.id, k.vkey, k.role, k.label, k.not_before, k.not_after, k.zones, k.idx,
		r.idx, r.reason, r.effective FROM keys k LEFT JOIN revocations r ON r.key_id = k.id ORDER BY k.idx`, nil,
		func(rows pgx.Rows) (registry.Key, error) {
			var k registry.Key
			var role, label, nb, na, zones string
			var idx int64
			var rIdx *int64
			var reason, eff *string
			if err := rows.Scan(&k.ID, &k.VKey, &role, &label, &nb, &na, &zones, &idx, &rIdx, &reason, &eff); err != nil {
				return k, fmt.Errorf("postgres: read keys: %w", err)
			}
			k.ID, k.VKey, k.Label = unescape(k.ID), unescape(k.VKey), unescape(label)
			k.Role, k.Index = guarantor.Role(unescape(role)), uint64(idx)
			var err error
			if k.NotBefore, err = time.Parse(column.TimeLayout, nb); err == nil {
				k.NotAfter, err = time.Parse(column.TimeLayout, na)
			}
			if err == nil {
				err = json.Unmarshal([]byte(unescape(zones)), &k.Zones)
			}
			if err == nil && rIdx != nil {
				rv := registry.Revocation{Index: uint64(*rIdx), Reason: unescape(*reason)}
				rv.Effective, err = time.Parse(column.TimeLayout, *eff)
				k.Revoked = &rv
			}
			if err != nil {
				return k, fmt.Errorf("postgres: key %s: %w", k.ID, err)
			}
			if len(k.Zones) == 0 {
				k.Zones = nil
			}
			return k, nil
		})
}

// Records calls fn with every applied entry in [from, to), in log order,
// decoded as Entry decodes it. Rows are read in pages so that no query
// stays open while fn runs.
func (s *Store) Records(ctx context.Context, from, to uint64, fn func(node.Record) error) error {
	const page = 1024
	for from < to {
		recs, err := s.recordPage(ctx, from, min(to, from+page))
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			return nil
		}
		for _, rec := range recs {
			if err := fn(rec); err != nil {
				return err
			}
		}
		from = recs[len(recs)-1].Index + 1
	}
	return nil
}

func (s *Store) recordPage(ctx context.Context, from, to uint64) ([]node.Record, error) {
	what := fmt.Sprintf("entries [%d, %d)", from, to)
	return collect(ctx, s, what, "SELECT "+recordColumns+" FROM entries e WHERE e.idx >= $1 AND e.idx < $2 ORDER BY e.idx",
		[]any{int64(from), int64(to)}, scanRecordRows(what))
}
