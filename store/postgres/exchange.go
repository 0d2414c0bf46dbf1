package postgres

import (
	"context"
	"fmt"

	"github.com/guarantor/guarantor/node"
)

// insertExchange projects an exchange list part, manifest part or
// confirmation logged at r.Index.
func (ins *inserter) insertExchange(r node.Record, exchange, id string) {
	signer := ""
	if len(r.Signers) > 0 {
		signer = r.Signers[0]
	}
	ins.exec(fmt.Sprintf("%s %s", r.Kind, id), "INSERT INTO exchange_entries (idx, kind, exchange, id, signer) VALUES ($1, $2, $3, $4, $5)",
		int64(r.Index), string(r.Kind), exchange, id, signer)
}

// ExchangeEntries calls fn with every accepted entry of the exchange (list
// parts, manifest parts, confirmations), in log order, streaming; with
// exchange "" it visits every exchange's.
func (s *Store) ExchangeEntries(ctx context.Context, exchange string, fn func(node.Record) error) error {
	q := "SELECT " + recordColumns + " FROM exchange_entries x JOIN entries e ON e.idx = x.idx"
	var args []any
	if exchange != "" {
		q += " WHERE x.exchange = $1"
		args = append(args, exchange)
	}
	return visit(ctx, s, "exchange entries", q+" ORDER BY x.idx", args, scanRecordRows("exchange entries"), fn)
}
