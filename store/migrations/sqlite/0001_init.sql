-- spof's store, SQLite. Times are microseconds since the Unix epoch (UTC)
-- in INTEGER columns; durations nanoseconds; JSON bodies TEXT, kept byte
-- for byte (the store never looks inside). Deleting a system deletes
-- everything about it, except journalled faults, which must still be
-- restored.

CREATE TABLE systems (
	name        TEXT PRIMARY KEY,
	description TEXT NOT NULL,
	latest      INTEGER NOT NULL, -- the latest model version; they count from 1
	updated_at  INTEGER NOT NULL
);

CREATE TABLE model_versions (
	system      TEXT NOT NULL REFERENCES systems (name) ON DELETE CASCADE,
	version     INTEGER NOT NULL,
	file        TEXT NOT NULL,
	description TEXT NOT NULL,
	source      BLOB NOT NULL,
	sha256      TEXT NOT NULL,
	created_at  INTEGER NOT NULL,
	PRIMARY KEY (system, version)
);

CREATE TABLE snapshots (
	id            INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused
	system        TEXT NOT NULL,
	model_version INTEGER NOT NULL,
	at            INTEGER NOT NULL,
	counts        TEXT NOT NULL,
	report        TEXT,
	checklist     TEXT,
	FOREIGN KEY (system, model_version) REFERENCES model_versions (system, version) ON DELETE CASCADE
);
CREATE INDEX snapshots_by_system ON snapshots (system, at, id);
CREATE INDEX snapshots_by_version ON snapshots (system, model_version);

CREATE TABLE runs (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	system       TEXT NOT NULL REFERENCES systems (name) ON DELETE CASCADE,
	experiment   TEXT NOT NULL,
	fault        TEXT NOT NULL,
	verdict      TEXT NOT NULL,
	reason       TEXT NOT NULL,
	triggered_by TEXT NOT NULL,
	node         TEXT NOT NULL,
	batch        TEXT NOT NULL, -- the spof chaos run, or the schedule and due time, it was part of
	started      INTEGER NOT NULL,
	ended        INTEGER NOT NULL,
	edges        TEXT NOT NULL, -- a JSON array of "from → to"
	flows        TEXT
);
CREATE INDEX runs_by_started ON runs (started, id);
CREATE INDEX runs_by_system ON runs (system, started, id);
CREATE INDEX runs_by_experiment ON runs (experiment, started, id);
CREATE INDEX runs_by_batch ON runs (batch, id);

CREATE TABLE samples (
	run_id  INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	seq     INTEGER NOT NULL, -- the order they were given in
	at      INTEGER NOT NULL,
	flow    TEXT NOT NULL,
	state   TEXT NOT NULL,
	latency INTEGER NOT NULL, -- nanoseconds
	detail  TEXT NOT NULL,
	PRIMARY KEY (run_id, seq)
);

CREATE TABLE baselines (
	system TEXT PRIMARY KEY REFERENCES systems (name) ON DELETE CASCADE,
	data   BLOB NOT NULL,
	at     INTEGER NOT NULL
);

-- The verification ledger: per fallback edge, the latest passed or
-- falsified run that exercised it (by its end).
CREATE TABLE verifications (
	system     TEXT NOT NULL REFERENCES systems (name) ON DELETE CASCADE,
	edge       TEXT NOT NULL,
	experiment TEXT NOT NULL,
	at         INTEGER NOT NULL,
	passed     INTEGER NOT NULL, -- 0 or 1
	run_id     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	PRIMARY KEY (system, edge)
);
CREATE INDEX verifications_by_run ON verifications (run_id);

-- The chaos journal: faults begun and not yet ended.
CREATE TABLE faults (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT, -- orders faults begun at the same time
	id         TEXT NOT NULL UNIQUE,
	system     TEXT NOT NULL,
	experiment TEXT NOT NULL,
	fault      TEXT NOT NULL,
	undo       TEXT NOT NULL,
	node       TEXT NOT NULL,
	started    INTEGER NOT NULL,
	deadline   INTEGER -- NULL: none
);
CREATE INDEX faults_by_started ON faults (started, seq);
