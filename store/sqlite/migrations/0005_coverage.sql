-- The coalition's coverage snapshots (derived by the engine). Every
-- snapshot is a row keyed by its log index; the current one for an
-- agreement and month is the one from the highest index.
CREATE TABLE coverage (
    idx       INTEGER PRIMARY KEY REFERENCES entries (idx),
    agreement TEXT    NOT NULL,
    month     TEXT    NOT NULL, -- YYYY-MM
    at        TEXT    NOT NULL  -- RFC 3339, UTC
) STRICT;
CREATE INDEX coverage_agreement_month ON coverage (agreement, month, idx);
