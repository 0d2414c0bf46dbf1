-- The public side of prisoner exchanges: list parts, manifest parts and
-- confirmations, keyed by log index. No identity data exists here (nor
-- in the log): only counts and keyed commitments, which stay in the
-- entries' raw text.
CREATE TABLE exchange_entries (
    idx      BIGINT PRIMARY KEY REFERENCES entries (idx),
    kind     TEXT COLLATE "C" NOT NULL, -- exchange-list, exchange-manifest, exchange-confirmation
    exchange TEXT COLLATE "C" NOT NULL,
    id       TEXT COLLATE "C" NOT NULL, -- the list's, manifest's or confirmation's id
    signer   TEXT COLLATE "C" NOT NULL  -- name+hash of the first signature
);
CREATE INDEX exchange_entries_exchange ON exchange_entries (exchange, idx);
CREATE INDEX exchange_entries_id ON exchange_entries (kind, id, idx);
