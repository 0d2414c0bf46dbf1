-- The monitoring mission's patrols: plans and reports, keyed by log
-- index. Geometry stays in the entries' raw text; these columns select.
CREATE TABLE patrol_entries (
    idx       BIGINT PRIMARY KEY REFERENCES entries (idx),
    kind      TEXT COLLATE "C" NOT NULL, -- patrol-plan or patrol-report
    id        TEXT COLLATE "C" NOT NULL, -- the plan's or report's id
    plan      TEXT COLLATE "C" NOT NULL, -- the plan (its own id for a plan)
    from_at   TEXT COLLATE "C" NOT NULL, -- RFC 3339, UTC: the plan's window or the report's span
    to_at     TEXT COLLATE "C" NOT NULL
);
CREATE INDEX patrol_entries_plan ON patrol_entries (plan, idx);
CREATE INDEX patrol_entries_time ON patrol_entries (kind, from_at);
