-- Sanctions held as leverage. Every statement by a sanctioning authority
-- is a row keyed by its log index; the current state of each measure is
-- its latest statement, unless a later fulfilled sanction obligation
-- re-imposed it by snap-back.
CREATE TABLE sanctions (
    idx       INTEGER PRIMARY KEY REFERENCES entries (idx),
    id        TEXT    NOT NULL,
    authority TEXT    NOT NULL,
    status    TEXT    NOT NULL,
    at        TEXT    NOT NULL -- RFC 3339, UTC
) STRICT;
CREATE INDEX sanctions_id ON sanctions (id, idx);

CREATE TABLE sanction_current (
    id            TEXT    PRIMARY KEY,
    idx           INTEGER NOT NULL REFERENCES sanctions (idx), -- the latest statement
    authority     TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    reimposed_by  INTEGER,          -- the obligation whose fulfilment re-imposed it
    reimposed_idx INTEGER           -- the log index of that obligation revision
) STRICT;
CREATE INDEX sanction_current_authority ON sanction_current (authority, id);
