package postgres

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// exportTables lists every table with its columns in a fixed order and
// the key its rows are written in, exactly as package sqlite's Export
// does, so that both stores export the same bytes for the same log. A new
// table or column must be added here and there.
var exportTables = []struct{ name, cols, order string }{
	{"meta", "name, value", "name"},
	{"entries", "idx, leaf_hash, kind, signers, raw, rejected", "idx"},
	{"keys", "id, vkey, role, label, not_before, not_after, zones, idx", "idx"},
	{"revocations", "key_id, idx, reason, effective", "idx"},
	{"observations", "idx, signer, obs_id, observed_at, lon, lat, category, accuracy_m, count, bearing_deg, weapon, source_type, evidence, text, external_id, source", "idx"},
	{"incidents", "idx, id, revision, seq, status, merged_into", "idx"},
	{"incident_current", "id, idx, revision, status, level, category, from_at, to_at, lon, lat", "id"},
	{"incident_members", "id, obs_idx", "id, obs_idx"},
	{"incident_parties", "id, party", "id, party"},
	{"verifications", "idx, signer, ver_id, at, incident, revision, verdict, attributed_to", "idx"},
	{"agreements", "idx, id, version, title, effective, expires", "idx"},
	{"determinations", "idx, seq, agreement, version, trigger_id, at", "idx"},
	{"determination_incidents", "idx, incident, revision", "idx, incident, revision"},
	{"obligations", "idx, id, revision, seq, status", "idx"},
	{"obligation_current", "id, idx, revision, determination, agreement, version, trigger_id, who, group_id, status, opened, deadline, settled", "id"},
	{"responses", "idx, signer, resp_id, at, obligation, answer", "idx"},
	{"sanctions", "idx, id, authority, status, at", "idx"},
	{"sanction_current", "id, idx, authority, status, reimposed_by, reimposed_idx", "id"},
	{"coverage", "idx, agreement, month, at", "idx"},
	{"exchange_entries", "idx, kind, exchange, id, signer", "idx"},
	{"patrol_entries", "idx, kind, id, plan, from_at, to_at", "idx"},
}

// Export writes every table to w: a header line "# table (columns)" and
// one tab-separated line per row in primary-key order. Text is quoted
// with strconv.Quote, blobs are hex, floats use the shortest exact form,
// NULL is \N. It reads one snapshot (a repeatable-read, read-only
// transaction). Two stores fed the same log export identical bytes, and
// so do this store and package sqlite's.
func (s *Store) Export(ctx context.Context, w io.Writer) error {
	bw := bufio.NewWriter(w)
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("postgres: export: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	for _, t := range exportTables {
		fmt.Fprintf(bw, "# %s (%s)\n", t.name, t.cols)
		rows, err := tx.Query(ctx, fmt.Sprintf("SELECT %s FROM %s ORDER BY %s", t.cols, t.name, t.order))
		if err != nil {
			return fmt.Errorf("postgres: export %s: %w", t.name, err)
		}
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				rows.Close()
				return fmt.Errorf("postgres: export %s: %w", t.name, err)
			}
			for i, v := range vals {
				if i > 0 {
					bw.WriteByte('\t')
				}
				bw.WriteString(exportValue(v))
			}
			bw.WriteByte('\n')
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgres: export %s: %w", t.name, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("postgres: export: %w", err)
	}
	return nil
}

// exportValue formats one value as package sqlite's Export does; text is
// unescaped first.
func exportValue(v any) string {
	switch x := v.(type) {
	case nil:
		return `\N`
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return strconv.Quote(unescape(x))
	case []byte:
		return hex.EncodeToString(x)
	}
	return fmt.Sprintf("%v", v)
}
