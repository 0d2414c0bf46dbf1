-- The projection of the log. Every row is derived from log entries and
-- can be rebuilt from the log at any time.
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;
INSERT INTO meta (name, value) VALUES ('applied', 0);

CREATE TABLE entries (
    idx       INTEGER PRIMARY KEY,
    leaf_hash BLOB    NOT NULL UNIQUE,
    kind      TEXT    NOT NULL,
    signers   TEXT    NOT NULL, -- JSON array of name+hash
    raw       BLOB    NOT NULL,
    rejected  TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE keys (
    id         TEXT    PRIMARY KEY, -- name+hash
    vkey       TEXT    NOT NULL,
    role       TEXT    NOT NULL,
    label      TEXT    NOT NULL,
    not_before TEXT    NOT NULL, -- RFC 3339, UTC
    not_after  TEXT    NOT NULL,
    zones      TEXT    NOT NULL, -- JSON array
    idx        INTEGER NOT NULL UNIQUE REFERENCES entries (idx)
) STRICT;

CREATE TABLE revocations (
    key_id    TEXT    PRIMARY KEY REFERENCES keys (id),
    idx       INTEGER NOT NULL UNIQUE REFERENCES entries (idx),
    reason    TEXT    NOT NULL,
    effective TEXT    NOT NULL
) STRICT;

CREATE TABLE observations (
    idx         INTEGER PRIMARY KEY REFERENCES entries (idx),
    signer      TEXT    NOT NULL,
    obs_id      TEXT    NOT NULL,
    observed_at TEXT    NOT NULL, -- RFC 3339, UTC, fixed width so it sorts
    lon         REAL    NOT NULL,
    lat         REAL    NOT NULL,
    category    TEXT    NOT NULL,
    accuracy_m  REAL,
    count       INTEGER,
    bearing_deg REAL,
    weapon      TEXT    NOT NULL,
    source_type TEXT    NOT NULL,
    evidence    TEXT    NOT NULL, -- JSON array
    text        TEXT    NOT NULL,
    external_id TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    UNIQUE (signer, obs_id)
) STRICT;
CREATE INDEX observations_time ON observations (observed_at);
CREATE INDEX observations_category ON observations (category, observed_at);
