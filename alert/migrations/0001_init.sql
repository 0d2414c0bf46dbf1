-- Subscriptions are operator configuration, not log content: this
-- database lives beside the projection and survives its rebuilds.
CREATE TABLE subscriptions (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	who        TEXT NOT NULL,    -- the debtor role followed, or '*'
	url        TEXT NOT NULL,
	secret     TEXT NOT NULL,    -- the HMAC-SHA-256 key; shown once, never logged
	owner      TEXT NOT NULL,    -- the role of the key that subscribed
	created_by TEXT NOT NULL,    -- name+hash of that key
	created    TEXT NOT NULL
);
CREATE INDEX subscriptions_who ON subscriptions (who);
CREATE INDEX subscriptions_owner ON subscriptions (owner);

-- Every event emitted, once: its id is stable, so following the log
-- again, or the due-soon check passing again, enqueues nothing twice.
CREATE TABLE events (
	id         TEXT PRIMARY KEY, -- obligation-412-r1, obligation-412-due-soon
	type       TEXT NOT NULL,
	obligation INTEGER NOT NULL,
	who        TEXT NOT NULL,
	log_index  INTEGER NOT NULL,
	created    TEXT NOT NULL
) WITHOUT ROWID;

-- One delivery of one event to one subscription, and its fate.
CREATE TABLE deliveries (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	subscription     INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
	event            TEXT NOT NULL REFERENCES events (id),
	type             TEXT NOT NULL,
	payload          BLOB NOT NULL,
	attempts         INTEGER NOT NULL DEFAULT 0,
	next_attempt     TEXT,         -- NULL unless pending
	status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
	last_status_code INTEGER NOT NULL DEFAULT 0,
	last_error       TEXT NOT NULL DEFAULT '',
	created          TEXT NOT NULL,
	delivered_at     TEXT,
	UNIQUE (subscription, event)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt) WHERE status = 'pending';

-- The open obligations, by their latest revision, waiting for their
-- due-soon moment (due_at).
CREATE TABLE watch (
	obligation INTEGER PRIMARY KEY,
	who        TEXT NOT NULL,
	due_at     TEXT NOT NULL,
	deadline   TEXT NOT NULL,
	log_index  INTEGER NOT NULL,
	revision   BLOB NOT NULL     -- the entry.Obligation, as JSON
);
CREATE INDEX watch_due ON watch (due_at);

-- How far the dispatcher has followed the log: the index of the next
-- entry to read.
CREATE TABLE cursor (
	one        INTEGER PRIMARY KEY CHECK (one = 1),
	next_index INTEGER NOT NULL
);
INSERT INTO cursor (one, next_index) VALUES (1, 0);
