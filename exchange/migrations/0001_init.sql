-- The neutral verifier's exchange database. Identity data is only ever
-- stored sealed (vault envelope encryption): the records, the
-- reconciliations (their evidence quotes birth dates) and decision notes.
-- Everything in clear is an id, a count, a commitment or a time.

-- A party's list, one row per upload; seq numbers a side's uploads.
CREATE TABLE lists (
	id        TEXT PRIMARY KEY, -- exchange:side:kind:seq
	exchange  TEXT NOT NULL,
	side      TEXT NOT NULL,
	kind      TEXT NOT NULL CHECK (kind IN ('held', 'claimed')),
	seq       INTEGER NOT NULL,
	count     INTEGER NOT NULL,
	by_status TEXT NOT NULL,    -- JSON object of counts by status
	root      TEXT NOT NULL,    -- hex Merkle root of the sorted commitments
	at        TEXT NOT NULL,
	UNIQUE (exchange, side, seq)
) WITHOUT ROWID;
CREATE INDEX lists_latest ON lists (exchange, side, kind, seq);

-- One record of a list: its record-level commitment and its sealed
-- Person (associated data: list id and record id).
CREATE TABLE records (
	list       TEXT NOT NULL REFERENCES lists (id),
	id         TEXT NOT NULL,
	idx        INTEGER NOT NULL, -- position in the upload
	commitment TEXT NOT NULL,
	sealed     BLOB NOT NULL,
	PRIMARY KEY (list, id),
	UNIQUE (list, idx)
) WITHOUT ROWID;
CREATE INDEX records_commitment ON records (list, commitment);

-- The latest reconciliation of a holder's held list against the other
-- side's claimed list: the engine's result and the result with the
-- decisions applied, both sealed JSON.
CREATE TABLE reconciliations (
	exchange     TEXT NOT NULL,
	holder       TEXT NOT NULL,
	claimant     TEXT NOT NULL,
	held_list    TEXT NOT NULL REFERENCES lists (id),
	claimed_list TEXT NOT NULL REFERENCES lists (id),
	engine       BLOB NOT NULL,
	result       BLOB NOT NULL,
	PRIMARY KEY (exchange, holder)
) WITHOUT ROWID;

-- The verifier's decisions, in the order made, re-applied after every
-- reconciliation while the records they name keep their commitments.
CREATE TABLE decisions (
	exchange           TEXT NOT NULL,
	holder             TEXT NOT NULL,
	seq                INTEGER NOT NULL,
	verdict            TEXT NOT NULL CHECK (verdict IN ('match', 'no_match')),
	held               TEXT NOT NULL,
	claimed            TEXT NOT NULL,
	held_commitment    TEXT NOT NULL, -- the records' commitments when decided
	claimed_commitment TEXT NOT NULL,
	note               BLOB,          -- sealed, or NULL
	PRIMARY KEY (exchange, holder, seq)
) WITHOUT ROWID;

-- A reconciled person: a matched pair, with its person-level commitment
-- and, once drafted, its batch. Persons in a batch are never replaced.
CREATE TABLE persons (
	id             TEXT PRIMARY KEY,
	exchange       TEXT NOT NULL,
	holder         TEXT NOT NULL,
	claimant       TEXT NOT NULL,
	held_list      TEXT NOT NULL REFERENCES lists (id),
	held_record    TEXT NOT NULL,
	claimed_list   TEXT NOT NULL REFERENCES lists (id),
	claimed_record TEXT NOT NULL,
	commitment     TEXT NOT NULL UNIQUE,
	batch          INTEGER           -- NULL until drafted
) WITHOUT ROWID;
CREATE INDEX persons_batch ON persons (exchange, holder, batch, id);

-- A drafted batch: from releases count persons to to_side.
CREATE TABLE batches (
	exchange  TEXT NOT NULL,
	from_side TEXT NOT NULL,
	batch     INTEGER NOT NULL,
	to_side   TEXT NOT NULL,
	id        TEXT NOT NULL UNIQUE, -- exchange:from:batch:n
	count     INTEGER NOT NULL,
	root      TEXT NOT NULL,
	at        TEXT NOT NULL,
	PRIMARY KEY (exchange, from_side, batch)
) WITHOUT ROWID;
