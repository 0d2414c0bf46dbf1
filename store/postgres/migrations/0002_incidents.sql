-- Incidents (engine-derived) and analysts' verifications, as in
-- store/sqlite. The log is the truth: nothing here may refuse an entry the
-- log holds, so incident revisions are keyed by their log index, not by
-- (id, revision), which two entries could in principle both claim. Bodies
-- are not copied: they are decoded from entries.raw when read.

-- Every incident revision, one row per incident entry.
CREATE TABLE incidents (
    idx         BIGINT PRIMARY KEY REFERENCES entries (idx),
    id          BIGINT NOT NULL, -- log index of the incident's first observation
    revision    BIGINT NOT NULL,
    seq         BIGINT NOT NULL,
    status      TEXT COLLATE "C" NOT NULL, -- open or merged
    merged_into BIGINT                     -- for status merged
);
CREATE INDEX incidents_id ON incidents (id, revision, idx);

-- The current revision of each incident: the one from the highest log
-- index, with the fields the filters select on.
CREATE TABLE incident_current (
    id       BIGINT PRIMARY KEY,
    idx      BIGINT NOT NULL UNIQUE REFERENCES incidents (idx),
    revision BIGINT NOT NULL,
    status   TEXT COLLATE "C" NOT NULL,
    level    TEXT COLLATE "C" NOT NULL,
    category TEXT COLLATE "C" NOT NULL,
    from_at  TEXT COLLATE "C" NOT NULL, -- RFC 3339, UTC, fixed width so it sorts
    to_at    TEXT COLLATE "C" NOT NULL,
    lon      DOUBLE PRECISION NOT NULL, -- centroid
    lat      DOUBLE PRECISION NOT NULL
);
CREATE INDEX incident_current_status ON incident_current (status, id);
CREATE INDEX incident_current_category ON incident_current (category, id);
CREATE INDEX incident_current_level ON incident_current (level, id);
CREATE INDEX incident_current_from ON incident_current (from_at);
CREATE INDEX incident_current_to ON incident_current (to_at);
CREATE INDEX incident_current_lonlat ON incident_current (lon, lat);

-- The member observations of each incident's current revision.
CREATE TABLE incident_members (
    id      BIGINT NOT NULL REFERENCES incident_current (id),
    obs_idx BIGINT NOT NULL, -- log index of the member observation
    PRIMARY KEY (id, obs_idx)
);
CREATE INDEX incident_members_obs ON incident_members (obs_idx);

-- The parties each incident's current revision is attributed to.
CREATE TABLE incident_parties (
    id    BIGINT NOT NULL REFERENCES incident_current (id),
    party TEXT COLLATE "C" NOT NULL, -- party:XX
    PRIMARY KEY (id, party)
);
CREATE INDEX incident_parties_party ON incident_parties (party, id);

-- Every accepted verification. An analyst may repeat an id: nothing here
-- is unique but the log index.
CREATE TABLE verifications (
    idx           BIGINT PRIMARY KEY REFERENCES entries (idx),
    signer        TEXT COLLATE "C" NOT NULL, -- name+hash of the first signature
    ver_id        TEXT COLLATE "C" NOT NULL,
    at            TEXT COLLATE "C" NOT NULL, -- RFC 3339, UTC
    incident      BIGINT NOT NULL,
    revision      BIGINT NOT NULL,
    verdict       TEXT COLLATE "C" NOT NULL,
    attributed_to TEXT COLLATE "C" NOT NULL -- '' when none
);
CREATE INDEX verifications_incident ON verifications (incident, idx);
