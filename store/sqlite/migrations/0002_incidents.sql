-- Incidents (engine-derived) and analysts' verifications. The log is the
-- truth: nothing here may refuse an entry the log holds, so incident
-- revisions are keyed by their log index, not by (id, revision), which two
-- entries could in principle both claim. Bodies are not copied: they are
-- decoded from entries.raw when read.

-- Every incident revision, one row per incident entry.
CREATE TABLE incidents (
    idx         INTEGER PRIMARY KEY REFERENCES entries (idx),
    id          INTEGER NOT NULL, -- log index of the incident's first observation
    revision    INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    status      TEXT    NOT NULL, -- open or merged
    merged_into INTEGER           -- for status merged
) STRICT;
CREATE INDEX incidents_id ON incidents (id, revision, idx);

-- The current revision of each incident: the one from the highest log
-- index, with the fields the filters select on.
CREATE TABLE incident_current (
    id       INTEGER PRIMARY KEY,
    idx      INTEGER NOT NULL UNIQUE REFERENCES incidents (idx),
    revision INTEGER NOT NULL,
    status   TEXT    NOT NULL,
    level    TEXT    NOT NULL,
    category TEXT    NOT NULL,
    from_at  TEXT    NOT NULL, -- RFC 3339, UTC, fixed width so it sorts
    to_at    TEXT    NOT NULL,
    lon      REAL    NOT NULL, -- centroid
    lat      REAL    NOT NULL
) STRICT;
CREATE INDEX incident_current_status ON incident_current (status, id);
CREATE INDEX incident_current_category ON incident_current (category, id);
CREATE INDEX incident_current_level ON incident_current (level, id);
CREATE INDEX incident_current_from ON incident_current (from_at);
CREATE INDEX incident_current_to ON incident_current (to_at);
CREATE INDEX incident_current_lonlat ON incident_current (lon, lat);

-- The member observations of each incident's current revision.
CREATE TABLE incident_members (
    id      INTEGER NOT NULL REFERENCES incident_current (id),
    obs_idx INTEGER NOT NULL, -- log index of the member observation
    PRIMARY KEY (id, obs_idx)
) STRICT, WITHOUT ROWID;
CREATE INDEX incident_members_obs ON incident_members (obs_idx);

-- The parties each incident's current revision is attributed to.
CREATE TABLE incident_parties (
    id    INTEGER NOT NULL REFERENCES incident_current (id),
    party TEXT    NOT NULL, -- party:XX
    PRIMARY KEY (id, party)
) STRICT, WITHOUT ROWID;
CREATE INDEX incident_parties_party ON incident_parties (party, id);

-- Every accepted verification. An analyst may repeat an id: nothing here
-- is unique but the log index.
CREATE TABLE verifications (
    idx           INTEGER PRIMARY KEY REFERENCES entries (idx),
    signer        TEXT    NOT NULL, -- name+hash of the first signature
    ver_id        TEXT    NOT NULL,
    at            TEXT    NOT NULL, -- RFC 3339, UTC
    incident      INTEGER NOT NULL,
    revision      INTEGER NOT NULL,
    verdict       TEXT    NOT NULL,
    attributed_to TEXT    NOT NULL -- '' when none
) STRICT;
CREATE INDEX verifications_incident ON verifications (incident, idx);
