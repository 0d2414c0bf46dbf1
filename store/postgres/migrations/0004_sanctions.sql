-- Sanctions held as leverage. Every statement by a sanctioning authority
-- is a row keyed by its log index; the current state of each measure is
-- its latest statement, unless a later fulfilled sanction obligation
-- re-imposed it by snap-back.
CREATE TABLE sanctions (
    idx       BIGINT PRIMARY KEY REFERENCES entries (idx),
    id        TEXT COLLATE "C" NOT NULL,
    authority TEXT COLLATE "C" NOT NULL,
    status    TEXT COLLATE "C" NOT NULL,
    at        TEXT COLLATE "C" NOT NULL -- RFC 3339, UTC
);
CREATE INDEX sanctions_id ON sanctions (id, idx);

CREATE TABLE sanction_current (
    id            TEXT COLLATE "C" PRIMARY KEY,
    idx           BIGINT NOT NULL REFERENCES sanctions (idx), -- the latest statement
    authority     TEXT COLLATE "C" NOT NULL,
    status        TEXT COLLATE "C" NOT NULL,
    reimposed_by  BIGINT,          -- the obligation whose fulfilment re-imposed it
    reimposed_idx BIGINT           -- the log index of that obligation revision
);
CREATE INDEX sanction_current_authority ON sanction_current (authority, id);
