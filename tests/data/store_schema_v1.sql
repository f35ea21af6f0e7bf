-- Fixture: a store as schema version 1 (the first, draft layout) created it,
-- for the migration test. Frozen: never edit.
-- hrm store, schema version 1. One SQLite file per sweep store (runs/hrm.db).
-- Written only by the runner (one writer, guarded by the `runner_lock` row and
-- a POSIX lock on the file); workers append to events.jsonl in their run
-- directory and the runner ingests those logs idempotently.
PRAGMA foreign_keys = ON;

CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL              -- 'schema_version' -> '1', 'created_at', ...
);

-- A grid file expanded under a profile and overrides. Re-running the same
-- command finds the same sweep (name = grid stem + profile + overrides).
CREATE TABLE IF NOT EXISTS sweeps (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  grid_path   TEXT NOT NULL,
  grid_sha256 TEXT NOT NULL,
  profile     TEXT,
  overrides   TEXT NOT NULL DEFAULT '[]',   -- JSON list of "key=value"
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);

-- One row per distinct resolved config (id = RunId: 12 hex of SHA-256 of the
-- canonical identity fields). Shared by every sweep that lists it.
CREATE TABLE IF NOT EXISTS runs (
  id           TEXT PRIMARY KEY,
  config       TEXT NOT NULL,              -- resolved config JSON
  model        TEXT NOT NULL,              -- copied from config for queries
  kind         TEXT NOT NULL DEFAULT 'train',  -- train | latency | genspeed | hlrole ...
  status       TEXT NOT NULL DEFAULT 'pending'
               CHECK (status IN ('pending','running','done','failed','diverged')),
  attempts     INTEGER NOT NULL DEFAULT 0,
  step         INTEGER,                    -- last step seen in the event log
  run_dir      TEXT,
  error        TEXT,                       -- last failure message
  provenance   TEXT,                       -- JSON: git commit, dirty, libtorch, device, host, data sha256
  runner_pid   INTEGER,                    -- pid/host of the runner that set 'running'
  runner_host  TEXT,
  created_at   TEXT NOT NULL,
  started_at   TEXT,
  finished_at  TEXT,
  updated_at   TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS sweep_runs (
  sweep_id  INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
  run_id    TEXT NOT NULL REFERENCES runs(id),
  label     TEXT,                         -- the grid's name for this run, e.g. "HRM (N=2,T=4)"
  position  INTEGER NOT NULL,             -- order in the expanded grid
  PRIMARY KEY (sweep_id, run_id)
);

-- One row per evaluation. Unique on (run, step): a replayed log adds nothing.
CREATE TABLE IF NOT EXISTS evals (
  run_id     TEXT NOT NULL REFERENCES runs(id),
  step       INTEGER NOT NULL,
  val_ce     REAL,
  train_ce   REAL,
  lr         REAL,
  grad_norm  REAL,
  tokens     INTEGER,
  wall_s     REAL,
  extra      TEXT,                        -- JSON: HRM gate/state statistics, ...
  PRIMARY KEY (run_id, step)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS checkpoints (
  run_id   TEXT NOT NULL REFERENCES runs(id),
  step     INTEGER NOT NULL,
  path     TEXT NOT NULL,
  sha256   TEXT,
  PRIMARY KEY (run_id, step)
) WITHOUT ROWID;

-- Measurements of protocols other than training (latency, genspeed, hlrole):
-- one row per (run, metric).
CREATE TABLE IF NOT EXISTS measurements (
  run_id  TEXT NOT NULL REFERENCES runs(id),
  metric  TEXT NOT NULL,
  value   REAL,
  extra   TEXT,
  PRIMARY KEY (run_id, metric)
) WITHOUT ROWID;

-- Byte offset up to which each run's events.jsonl has been ingested.
CREATE TABLE IF NOT EXISTS ingest_cursors (
  run_id  TEXT PRIMARY KEY REFERENCES runs(id),
  path    TEXT NOT NULL,
  offset  INTEGER NOT NULL
);

CREATE VIEW IF NOT EXISTS last_evals AS
  SELECT e.* FROM evals e
  JOIN (SELECT run_id, MAX(step) AS step FROM evals GROUP BY run_id) m
    ON e.run_id = m.run_id AND e.step = m.step;

CREATE VIEW IF NOT EXISTS final_evals AS
  SELECT r.id AS run_id, r.model, r.status, e.step, e.val_ce, e.train_ce, r.config
  FROM runs r JOIN last_evals e ON e.run_id = r.id;

INSERT INTO meta (key, value) VALUES ('schema_version', '1');
