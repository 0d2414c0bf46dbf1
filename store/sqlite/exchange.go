package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/guarantor/guarantor/node"
)

// exchangeStmts project the public entries of prisoner exchanges.
type exchangeStmts struct {
	exchange *sql.Stmt
}

func (st *exchangeStmts) prepareExchange(prep func(string) *sql.Stmt) {
	st.exchange = prep("INSERT INTO exchange_entries (idx, kind, exchange, id, signer) VALUES (?, ?, ?, ?, ?)")
}

func (st *exchangeStmts) all() []*sql.Stmt { return []*sql.Stmt{st.exchange} }

// insertExchange projects an exchange list part, manifest part or
// confirmation logged at index.
func (ins *inserter) insertExchange(ctx context.Context, r node.Record, exchange, id string) error {
	signer := ""
	if len(r.Signers) > 0 {
		signer = r.Signers[0]
	}
	if _, err := ins.exchange.ExecContext(ctx, int64(r.Index), string(r.Kind), exchange, id, signer); err != nil {
		return fmt.Errorf("%s %s: %w", r.Kind, id, err)
	}
	return nil
}

// ExchangeEntries calls fn with every accepted entry of the exchange (list
// parts, manifest parts, confirmations), in log order, streaming; with
// exchange "" it visits every exchange's.
func (s *Store) ExchangeEntries(ctx context.Context, exchange string, fn func(node.Record) error) error {
	q := "SELECT e.idx, e.leaf_hash, e.kind, e.signers, e.raw, e.rejected FROM exchange_entries x JOIN entries e ON e.idx = x.idx"
	var args []any
	if exchange != "" {
		q += " WHERE x.exchange = ?"
		args = append(args, exchange)
	}
	scan := func(rows *sql.Rows) (node.Record, error) { return scanRecord(rows) }
	return each(ctx, s.r, "exchange entries", q+" ORDER BY x.idx", args, scan, fn)
}
