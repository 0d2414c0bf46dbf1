package exchange

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/guarantor/guarantor/exchange/vault"
)

// Rewrap re-wraps, in one transaction, the data key of every sealed value
// in the database (records, reconciliations, decision notes) that ring's
// active key does not wrap, and from then on seals under ring. It returns
// how many values it re-wrapped. ring must hold the keys the values are
// wrapped under (typically the service's ring after vault.Ring.Rotate);
// once Rewrap returns without error, the older keys may be retired. The
// encrypted data itself is neither decrypted nor rewritten. The service
// seals under ring from the call on, even if Rewrap fails (the
// rewrapping is then rolled back and may be retried).
func (s *Service) Rewrap(ctx context.Context, ring *vault.Ring) (int, error) {
	if ring == nil || ring.ActiveID() == "" {
		return 0, errors.New("exchange: rewrap: empty key ring")
	}
	columns := []struct {
		table, column string
		key           []string // the primary key
	}{
		{"records", "sealed", []string{"list", "id"}},
		{"reconciliations", "engine", []string{"exchange", "holder"}},
		{"reconciliations", "result", []string{"exchange", "holder"}},
		{"decisions", "note", []string{"exchange", "holder", "seq"}},
	}
	// Swap first: a transaction that began before the swap, and may seal
	// under the old ring, holds the one connection, so it commits before
	// the rewrapping transaction starts and its values are rewrapped too.
	s.mu.Lock()
	s.ring = ring
	s.mu.Unlock()
	n := 0
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for _, c := range columns {
			type pending struct {
				key    []any
				sealed []byte
			}
			var todo []pending
			rows, err := tx.QueryContext(ctx, fmt.Sprintf("SELECT %s, %s FROM %s WHERE %s IS NOT NULL", strings.Join(c.key, ", "), c.column, c.table, c.column))
			if err != nil {
				return err
			}
			for rows.Next() {
				key := make([]any, len(c.key))
				dest := make([]any, len(c.key)+1)
				for i := range key {
					dest[i] = &key[i]
				}
				var b []byte
				dest[len(key)] = &b
				if err := rows.Scan(dest...); err != nil {
					rows.Close()
					return err
				}
				sealed, err := vault.ParseSealed(b)
				if err == nil && !ring.NeedsRewrap(sealed) {
					continue
				}
				if err == nil {
					sealed, err = ring.Rewrap(sealed)
				}
				var out []byte
				if err == nil {
					out, err = sealed.MarshalBinary()
				}
				if err != nil {
					rows.Close()
					return fmt.Errorf("%s.%s: %w", c.table, c.column, err)
				}
				todo = append(todo, pending{key, out})
			}
			if err := errors.Join(rows.Err(), rows.Close()); err != nil {
				return err
			}
			update := fmt.Sprintf("UPDATE %s SET %s = ? WHERE %s = ?", c.table, c.column, strings.Join(c.key, " = ? AND "))
			stmt, err := tx.PrepareContext(ctx, update)
			if err != nil {
				return err
			}
			for _, p := range todo {
				if _, err := stmt.ExecContext(ctx, append([]any{p.sealed}, p.key...)...); err != nil {
					stmt.Close()
					return err
				}
				n++
			}
			if err := stmt.Close(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("exchange: rewrap: %w", err)
	}
	return n, nil
}
