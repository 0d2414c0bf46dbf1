-- Agreements, the engine's determinations and obligations under them, and
-- the responses of those obliged. As for incidents, the log is the truth:
-- nothing here may refuse an entry the log holds, so every row is keyed by
-- the log index of its entry, never by the ids the body claims (two
-- entries could claim the same agreement version, determination seq or
-- obligation revision). Bodies are not copied: they are decoded from
-- entries.raw when read.

-- Every accepted agreement entry: each version of each agreement.
CREATE TABLE agreements (
    idx       INTEGER PRIMARY KEY REFERENCES entries (idx),
    id        TEXT    NOT NULL,
    version   INTEGER NOT NULL,
    title     TEXT    NOT NULL,
    effective TEXT    NOT NULL, -- RFC 3339, UTC, fixed width so it sorts
    expires   TEXT              -- NULL when open-ended
) STRICT;
CREATE INDEX agreements_id ON agreements (id, version, idx);

-- Every determination: a trigger of an agreement version fired.
CREATE TABLE determinations (
    idx        INTEGER PRIMARY KEY REFERENCES entries (idx),
    seq        INTEGER NOT NULL,
    agreement  TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    trigger_id TEXT    NOT NULL,
    at         TEXT    NOT NULL -- engine time, RFC 3339, UTC
) STRICT;
CREATE INDEX determinations_agreement ON determinations (agreement, trigger_id, idx);
CREATE INDEX determinations_trigger ON determinations (trigger_id, idx);
CREATE INDEX determinations_at ON determinations (at);

-- The incident revisions each determination names (a revision named
-- twice by one body is listed once).
CREATE TABLE determination_incidents (
    idx      INTEGER NOT NULL REFERENCES determinations (idx),
    incident INTEGER NOT NULL, -- incident id
    revision INTEGER NOT NULL,
    PRIMARY KEY (idx, incident, revision)
) STRICT, WITHOUT ROWID;
CREATE INDEX determination_incidents_incident ON determination_incidents (incident, idx);

-- Every obligation revision, one row per obligation entry.
CREATE TABLE obligations (
    idx      INTEGER PRIMARY KEY REFERENCES entries (idx),
    id       INTEGER NOT NULL, -- the seq of the obligation's first revision
    revision INTEGER NOT NULL,
    seq      INTEGER NOT NULL,
    status   TEXT    NOT NULL
) STRICT;
CREATE INDEX obligations_id ON obligations (id, idx);

-- The current revision of each obligation: the one from the highest log
-- index, with the fields the filters select on.
CREATE TABLE obligation_current (
    id            INTEGER PRIMARY KEY,
    idx           INTEGER NOT NULL UNIQUE REFERENCES obligations (idx),
    revision      INTEGER NOT NULL,
    determination INTEGER NOT NULL, -- the seq of the determination
    agreement     TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    trigger_id    TEXT    NOT NULL,
    who           TEXT    NOT NULL, -- the debtor's role: guarantor:UK, party:RU
    group_id      TEXT    NOT NULL, -- the collective group, '' when none
    status        TEXT    NOT NULL,
    opened        TEXT    NOT NULL, -- engine time, RFC 3339, UTC
    deadline      TEXT    NOT NULL,
    settled       TEXT              -- NULL while open
) STRICT;
CREATE INDEX obligation_current_who ON obligation_current (who, id);
CREATE INDEX obligation_current_group ON obligation_current (group_id, id);
CREATE INDEX obligation_current_status ON obligation_current (status, id);
CREATE INDEX obligation_current_agreement ON obligation_current (agreement, id);
CREATE INDEX obligation_current_determination ON obligation_current (determination, id);

-- Every accepted response. A signer may repeat an id, and may answer an
-- obligation it does not owe (the engine ignores that): nothing here is
-- unique but the log index.
CREATE TABLE responses (
    idx        INTEGER PRIMARY KEY REFERENCES entries (idx),
    signer     TEXT    NOT NULL, -- name+hash of the first signature
    resp_id    TEXT    NOT NULL,
    at         TEXT    NOT NULL, -- RFC 3339, UTC
    obligation INTEGER NOT NULL, -- obligation id
    answer     TEXT    NOT NULL
) STRICT;
CREATE INDEX responses_obligation ON responses (obligation, idx);
