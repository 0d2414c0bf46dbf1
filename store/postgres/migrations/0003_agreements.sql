-- Agreements, the engine's determinations and obligations under them, and
-- the responses of those obliged, as in store/sqlite. Every row is keyed
-- by the log index of its entry, never by the ids the body claims (two
-- entries could claim the same agreement version, determination seq or
-- obligation revision). Bodies are decoded from entries.raw when read.

-- Every accepted agreement entry: each version of each agreement.
CREATE TABLE agreements (
    idx       BIGINT PRIMARY KEY REFERENCES entries (idx),
    id        TEXT COLLATE "C" NOT NULL,
    version   BIGINT NOT NULL,
    title     TEXT COLLATE "C" NOT NULL,
    effective TEXT COLLATE "C" NOT NULL, -- RFC 3339, UTC, fixed width so it sorts
    expires   TEXT COLLATE "C"           -- NULL when open-ended
);
CREATE INDEX agreements_id ON agreements (id, version, idx);

-- Every determination: a trigger of an agreement version fired.
CREATE TABLE determinations (
    idx        BIGINT PRIMARY KEY REFERENCES entries (idx),
    seq        BIGINT NOT NULL,
    agreement  TEXT COLLATE "C" NOT NULL,
    version    BIGINT NOT NULL,
    trigger_id TEXT COLLATE "C" NOT NULL,
    at         TEXT COLLATE "C" NOT NULL -- engine time, RFC 3339, UTC
);
CREATE INDEX determinations_agreement ON determinations (agreement, trigger_id, idx);
CREATE INDEX determinations_trigger ON determinations (trigger_id, idx);
CREATE INDEX determinations_at ON determinations (at);

-- The incident revisions each determination names (a revision named
-- twice by one body is listed once).
CREATE TABLE determination_incidents (
    idx      BIGINT NOT NULL REFERENCES determinations (idx),
    incident BIGINT NOT NULL, -- incident id
    revision BIGINT NOT NULL,
    PRIMARY KEY (idx, incident, revision)
);
CREATE INDEX determination_incidents_incident ON determination_incidents (incident, idx);

-- Every obligation revision, one row per obligation entry.
CREATE TABLE obligations (
    idx      BIGINT PRIMARY KEY REFERENCES entries (idx),
    id       BIGINT NOT NULL, -- the seq of the obligation's first revision
    revision BIGINT NOT NULL,
    seq      BIGINT NOT NULL,
    status   TEXT COLLATE "C" NOT NULL
);
CREATE INDEX obligations_id ON obligations (id, idx);

-- The current revision of each obligation: the one from the highest log
-- index, with the fields the filters select on.
CREATE TABLE obligation_current (
    id            BIGINT PRIMARY KEY,
    idx           BIGINT NOT NULL UNIQUE REFERENCES obligations (idx),
    revision      BIGINT NOT NULL,
    determination BIGINT NOT NULL, -- the seq of the determination
    agreement     TEXT COLLATE "C" NOT NULL,
    version       BIGINT NOT NULL,
    trigger_id    TEXT COLLATE "C" NOT NULL,
    who           TEXT COLLATE "C" NOT NULL, -- the debtor's role: guarantor:UK, party:RU
    group_id      TEXT COLLATE "C" NOT NULL, -- the collective group, '' when none
    status        TEXT COLLATE "C" NOT NULL,
    opened        TEXT COLLATE "C" NOT NULL, -- engine time, RFC 3339, UTC
    deadline      TEXT COLLATE "C" NOT NULL,
    settled       TEXT COLLATE "C"           -- NULL while open
);
CREATE INDEX obligation_current_who ON obligation_current (who, id);
CREATE INDEX obligation_current_group ON obligation_current (group_id, id);
CREATE INDEX obligation_current_status ON obligation_current (status, id);
CREATE INDEX obligation_current_agreement ON obligation_current (agreement, id);
CREATE INDEX obligation_current_determination ON obligation_current (determination, id);

-- Every accepted response. A signer may repeat an id, and may answer an
-- obligation it does not owe (the engine ignores that): nothing here is
-- unique but the log index.
CREATE TABLE responses (
    idx        BIGINT PRIMARY KEY REFERENCES entries (idx),
    signer     TEXT COLLATE "C" NOT NULL, -- name+hash of the first signature
    resp_id    TEXT COLLATE "C" NOT NULL,
    at         TEXT COLLATE "C" NOT NULL, -- RFC 3339, UTC
    obligation BIGINT NOT NULL, -- obligation id
    answer     TEXT COLLATE "C" NOT NULL
);
CREATE INDEX responses_obligation ON responses (obligation, idx);
