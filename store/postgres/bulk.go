package postgres

import (
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/node"
	"github.com/guarantor/guarantor/store/internal/column"
	"github.com/jackc/pgx/v5"
)

// bulkRows buffers the entries and observations rows of a batch, the bulk
// of every batch, to send them as one INSERT ... SELECT FROM unnest(...)
// per table: one statement for a thousand rows costs a fraction of a
// thousand statements. Entries go first, observations second, and both
// before the statements queued with them, which may refer to them.
type bulkRows struct {
	n       int    // rows buffered
	first   uint64 // the index of the first record buffered
	entries struct {
		idx                     []int64
		leaf, raw               [][]byte
		kind, signers, rejected []string
	}
	obs struct {
		idx                                               []int64
		signer, id, at, category                          []string
		lon, lat                                          []float64
		acc, bearing                                      []*float64
		count                                             []*int64
		weapon, sourceType, evidence, text, extID, source []string
	}
}

// entry buffers the entries row of r.
func (b *bulkRows) entry(r node.Record, signers string) {
	if b.n == 0 {
		b.first = r.Index
	}
	b.n++
	e := &b.entries
	e.idx = append(e.idx, int64(r.Index))
	e.leaf = append(e.leaf, r.LeafHash)
	e.raw = append(e.raw, r.Raw)
	e.kind = append(e.kind, escape(string(r.Kind)))
	e.signers = append(e.signers, escape(signers))
	e.rejected = append(e.rejected, escape(r.Rejected))
}

// observation buffers the observations row of r, whose body is ob.
func (b *bulkRows) observation(r node.Record, ob *entry.Observation, evidence string) {
	b.n++
	o := &b.obs
	o.idx = append(o.idx, int64(r.Index))
	o.signer = append(o.signer, escape(r.Signers[0]))
	o.id = append(o.id, escape(ob.ID))
	o.at = append(o.at, column.Time(ob.ObservedAt))
	o.lon = append(o.lon, plusZero(ob.Location.Coordinates[0]))
	o.lat = append(o.lat, plusZero(ob.Location.Coordinates[1]))
	o.category = append(o.category, escape(ob.Category))
	o.acc = append(o.acc, plusZeroP(ob.AccuracyM))
	var count *int64
	if ob.Count != nil {
		c := int64(*ob.Count)
		count = &c
	}
	o.count = append(o.count, count)
	o.bearing = append(o.bearing, plusZeroP(ob.BearingDeg))
	o.weapon = append(o.weapon, escape(ob.Weapon))
	o.sourceType = append(o.sourceType, escape(ob.SourceType))
	o.evidence = append(o.evidence, escape(evidence))
	o.text = append(o.text, escape(ob.Text))
	o.extID = append(o.extID, escape(ob.ExternalID))
	o.source = append(o.source, escape(ob.Source))
}

// queue queues the buffered rows on batch and returns their labels.
func (b *bulkRows) queue(batch *pgx.Batch) []label {
	var labels []label
	if e := &b.entries; len(e.idx) > 0 {
		batch.Queue(`INSERT INTO entries (idx, leaf_hash, kind, signers, raw, rejected)
			SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::text[], $4::text[], $5::bytea[], $6::text[])`,
			e.idx, e.leaf, e.kind, e.signers, e.raw, e.rejected)
		labels = append(labels, label{b.first, "entries rows sent in bulk"})
	}
	if o := &b.obs; len(o.idx) > 0 {
		batch.Queue(`INSERT INTO observations (idx, signer, obs_id, observed_at, lon, lat, category, accuracy_m, count,
			bearing_deg, weapon, source_type, evidence, text, external_id, source)
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::text[], $8::float8[],
				$9::bigint[], $10::float8[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[])`,
			o.idx, o.signer, o.id, o.at, o.lon, o.lat, o.category, o.acc, o.count, o.bearing,
			o.weapon, o.sourceType, o.evidence, o.text, o.extID, o.source)
		labels = append(labels, label{uint64(o.idx[0]), "observations rows sent in bulk"})
	}
	return labels
}

// reset empties the buffers.
func (b *bulkRows) reset() { *b = bulkRows{} }

// plusZero returns x with negative zero made positive, as SQLite stores it.
func plusZero(x float64) float64 {
	if x == 0 {
		return 0
	}
	return x
}

func plusZeroP(p *float64) *float64 {
	if p == nil {
		return nil
	}
	x := plusZero(*p)
	return &x
}
