-- foreign_keys: off
-- A log that several servers append to may hold the same bytes twice;
-- the later copy is projected as a rejected entry ("duplicate of entry
-- N"), so leaf hashes are no longer unique in entries. SQLite cannot drop
-- a column's UNIQUE constraint: the table is rebuilt, with foreign keys
-- off (the runner checks them before committing).
CREATE TABLE entries_new (
    idx       INTEGER PRIMARY KEY,
    leaf_hash BLOB    NOT NULL,
    kind      TEXT    NOT NULL,
    signers   TEXT    NOT NULL, -- JSON array of name+hash
    raw       BLOB    NOT NULL,
    rejected  TEXT    NOT NULL DEFAULT ''
) STRICT;
INSERT INTO entries_new (idx, leaf_hash, kind, signers, raw, rejected)
    SELECT idx, leaf_hash, kind, signers, raw, rejected FROM entries;
DROP TABLE entries;
ALTER TABLE entries_new RENAME TO entries;
CREATE INDEX entries_leaf_hash ON entries (leaf_hash);
