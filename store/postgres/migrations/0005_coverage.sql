-- The coalition's coverage snapshots (derived by the engine). Every
-- snapshot is a row keyed by its log index; the current one for an
-- agreement and month is the one from the highest index.
CREATE TABLE coverage (
    idx       BIGINT PRIMARY KEY REFERENCES entries (idx),
    agreement TEXT COLLATE "C" NOT NULL,
    month     TEXT COLLATE "C" NOT NULL, -- YYYY-MM
    at        TEXT COLLATE "C" NOT NULL  -- RFC 3339, UTC
);
CREATE INDEX coverage_agreement_month ON coverage (agreement, month, idx);
