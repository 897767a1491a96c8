-- spof's store, PostgreSQL. Names sort byte by byte (COLLATE "C", as in
-- SQLite) whatever the database's locale; JSON bodies are TEXT, kept byte
-- for byte (JSONB would reorder them; the store never looks inside).
-- Deleting a system deletes everything about it, except journalled
-- faults, which must still be restored.

CREATE TABLE systems (
	name        TEXT COLLATE "C" PRIMARY KEY,
	description TEXT NOT NULL,
	latest      BIGINT NOT NULL, -- the latest model version; they count from 1
	updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE model_versions (
	system      TEXT COLLATE "C" NOT NULL REFERENCES systems (name) ON DELETE CASCADE,
	version     BIGINT NOT NULL,
	file        TEXT NOT NULL,
	description TEXT NOT NULL,
	source      BYTEA NOT NULL,
	sha256      TEXT NOT NULL,
	created_at  TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (system, version)
);

CREATE TABLE snapshots (
	id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	system        TEXT COLLATE "C" NOT NULL,
	model_version BIGINT NOT NULL,
	at            TIMESTAMPTZ NOT NULL,
	counts        TEXT NOT NULL,
	report        TEXT,
	checklist     TEXT,
	FOREIGN KEY (system, model_version) REFERENCES model_versions (system, version) ON DELETE CASCADE
);
CREATE INDEX snapshots_by_system ON snapshots (system, at, id);
CREATE INDEX snapshots_by_version ON snapshots (system, model_version);

CREATE TABLE runs (
	id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	system       TEXT COLLATE "C" NOT NULL REFERENCES systems (name) ON DELETE CASCADE,
	experiment   TEXT COLLATE "C" NOT NULL,
	fault        TEXT NOT NULL,
	verdict      TEXT NOT NULL,
	reason       TEXT NOT NULL,
	triggered_by TEXT NOT NULL,
	node         TEXT NOT NULL,
	batch        TEXT NOT NULL, -- the spof chaos run, or the schedule and due time, it was part of
	started      TIMESTAMPTZ NOT NULL,
	ended        TIMESTAMPTZ NOT NULL,
	edges        TEXT NOT NULL, -- a JSON array of "from → to"
	flows        TEXT
);
CREATE INDEX runs_by_started ON runs (started, id);
CREATE INDEX runs_by_system ON runs (system, started, id);
CREATE INDEX runs_by_experiment ON runs (experiment, started, id);
CREATE INDEX runs_by_batch ON runs (batch, id);

CREATE TABLE samples (
	run_id  BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	seq     BIGINT NOT NULL, -- the order they were given in
	at      TIMESTAMPTZ NOT NULL,
	flow    TEXT NOT NULL,
	state   TEXT NOT NULL,
	latency BIGINT NOT NULL, -- nanoseconds
	detail  TEXT NOT NULL,
	PRIMARY KEY (run_id, seq)
);

CREATE TABLE baselines (
	system TEXT COLLATE "C" PRIMARY KEY REFERENCES systems (name) ON DELETE CASCADE,
	data   BYTEA NOT NULL,
	at     TIMESTAMPTZ NOT NULL
);

-- The verification ledger: per fallback edge, the latest passed or
-- falsified run that exercised it (by its end).
CREATE TABLE verifications (
	system     TEXT COLLATE "C" NOT NULL REFERENCES systems (name) ON DELETE CASCADE,
	edge       TEXT COLLATE "C" NOT NULL,
	experiment TEXT NOT NULL,
	at         TIMESTAMPTZ NOT NULL,
	passed     BOOLEAN NOT NULL,
	run_id     BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	PRIMARY KEY (system, edge)
);
CREATE INDEX verifications_by_run ON verifications (run_id);

-- The chaos journal: faults begun and not yet ended.
CREATE TABLE faults (
	seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- orders faults begun at the same time
	id         TEXT COLLATE "C" NOT NULL UNIQUE,
	system     TEXT NOT NULL,
	experiment TEXT NOT NULL,
	fault      TEXT NOT NULL,
	undo       TEXT NOT NULL,
	node       TEXT NOT NULL,
	started    TIMESTAMPTZ NOT NULL,
	deadline   TIMESTAMPTZ -- NULL: none
);
CREATE INDEX faults_by_started ON faults (started, seq);
