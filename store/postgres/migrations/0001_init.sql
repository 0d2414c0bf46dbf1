-- The projection of the log. Every row is derived from log entries and
-- can be rebuilt from the log at any time. The tables and columns mirror
-- store/sqlite's migrations one for one: INTEGER is BIGINT, REAL is
-- DOUBLE PRECISION, BLOB is BYTEA, and TEXT compares byte by byte
-- (COLLATE "C", as SQLite's BINARY), whatever the database's collation,
-- so that filters and ORDER BY agree with SQLite's. Times stay RFC 3339
-- text in UTC with nanoseconds, which timestamptz (microseconds) could
-- not hold.
CREATE TABLE meta (
    name  TEXT COLLATE "C" PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO meta (name, value) VALUES ('applied', 0);

CREATE TABLE entries (
    idx       BIGINT PRIMARY KEY,
    leaf_hash BYTEA  NOT NULL UNIQUE,
    kind      TEXT COLLATE "C" NOT NULL,
    signers   TEXT COLLATE "C" NOT NULL, -- JSON array of name+hash
    raw       BYTEA  NOT NULL,
    rejected  TEXT COLLATE "C" NOT NULL DEFAULT ''
);

CREATE TABLE keys (
    id         TEXT COLLATE "C" PRIMARY KEY, -- name+hash
    vkey       TEXT COLLATE "C" NOT NULL,
    role       TEXT COLLATE "C" NOT NULL,
    label      TEXT COLLATE "C" NOT NULL,
    not_before TEXT COLLATE "C" NOT NULL, -- RFC 3339, UTC
    not_after  TEXT COLLATE "C" NOT NULL,
    zones      TEXT COLLATE "C" NOT NULL, -- JSON array
    idx        BIGINT NOT NULL UNIQUE REFERENCES entries (idx)
);

CREATE TABLE revocations (
    key_id    TEXT COLLATE "C" PRIMARY KEY REFERENCES keys (id),
    idx       BIGINT NOT NULL UNIQUE REFERENCES entries (idx),
    reason    TEXT COLLATE "C" NOT NULL,
    effective TEXT COLLATE "C" NOT NULL
);

CREATE TABLE observations (
    idx         BIGINT PRIMARY KEY REFERENCES entries (idx),
    signer      TEXT COLLATE "C" NOT NULL,
    obs_id      TEXT COLLATE "C" NOT NULL,
    observed_at TEXT COLLATE "C" NOT NULL, -- RFC 3339, UTC, fixed width so it sorts
    lon         DOUBLE PRECISION NOT NULL,
    lat         DOUBLE PRECISION NOT NULL,
    category    TEXT COLLATE "C" NOT NULL,
    accuracy_m  DOUBLE PRECISION,
    count       BIGINT,
    bearing_deg DOUBLE PRECISION,
    weapon      TEXT COLLATE "C" NOT NULL,
    source_type TEXT COLLATE "C" NOT NULL,
    evidence    TEXT COLLATE "C" NOT NULL, -- JSON array
    text        TEXT COLLATE "C" NOT NULL,
    external_id TEXT COLLATE "C" NOT NULL,
    source      TEXT COLLATE "C" NOT NULL,
    UNIQUE (signer, obs_id)
);
CREATE INDEX observations_time ON observations (observed_at);
CREATE INDEX observations_category ON observations (category, observed_at);
