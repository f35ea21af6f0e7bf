-- hrm store, schema version 3: the full current schema, applied to a new
-- store as one transaction. Older stores are upgraded by store/migrations/
-- (tests check that both paths give the same schema). Documented for users
-- of sqlite3 in store/README.md.
--
-- Written only by the runner: one writer per file, kept so by an exclusive
-- lock on "<db>.lock" (store/store_lock.h). Workers append to events.jsonl in
-- their run directory and the runner ingests those logs idempotently.
-- Timestamps are UTC ISO 8601 text ("2026-11-24T02:43:06Z"); JSON columns are
-- text that sqlite3's json_extract() reads.

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL              -- keys: 'schema_version', 'created_at'
);
INSERT INTO meta (key, value) VALUES
  ('schema_version', '3'),
  ('created_at', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));

-- A grid file expanded under a profile and overrides. Re-running the same
-- command finds the same sweep (name = grid stem + profile + overrides).
CREATE TABLE sweeps (
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
CREATE TABLE runs (
  id           TEXT PRIMARY KEY,
  config       TEXT NOT NULL,              -- resolved config JSON
  model        TEXT NOT NULL,              -- copied from config for queries
  kind         TEXT NOT NULL DEFAULT 'train',  -- train | latency | genspeed | hlrole ...
  status       TEXT NOT NULL DEFAULT 'pending'
               CHECK (status IN ('pending','running','interrupted','done','failed','diverged')),
  attempts     INTEGER NOT NULL DEFAULT 0, -- times a runner started it
  step         INTEGER,                    -- step of the last event ingested
  run_dir      TEXT,
  error        TEXT,                       -- last failure or divergence reason
  provenance   TEXT,                       -- JSON of the latest start: git_commit, git_dirty,
                                           -- libtorch, cuda, device, host, data_sha256
  runner_pid   INTEGER,                    -- pid/host of the runner that set 'running'
  runner_host  TEXT,
  created_at   TEXT NOT NULL,
  started_at   TEXT,                       -- time of the latest start
  finished_at  TEXT,                       -- end of the latest attempt (done/failed/diverged)
  updated_at   TEXT NOT NULL
);
CREATE INDEX runs_by_status ON runs (status);

CREATE TABLE sweep_runs (
  sweep_id  INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
  run_id    TEXT NOT NULL REFERENCES runs(id),
  label     TEXT,                         -- the grid's name for this run, e.g. "HRM (N=2,T=4)"
  position  INTEGER NOT NULL,             -- order in the expanded grid
  PRIMARY KEY (sweep_id, run_id)
);
CREATE INDEX sweep_runs_by_run ON sweep_runs (run_id);

-- One row per evaluation. Unique on (run, step): the first row for a step
-- wins, so a replayed or resumed log adds nothing.
CREATE TABLE evals (
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

-- The newest checkpoint written at each step (a resumed run may rewrite one).
CREATE TABLE checkpoints (
  run_id   TEXT NOT NULL REFERENCES runs(id),
  step     INTEGER NOT NULL,
  path     TEXT NOT NULL,
  sha256   TEXT,
  PRIMARY KEY (run_id, step)
) WITHOUT ROWID;

-- Measurements of protocols other than training (latency, genspeed, hlrole):
-- one row per (run, metric, extra), extra being the measurement's other keys
-- as canonical JSON ('{}' when none), e.g. {"seq":512}.
CREATE TABLE measurements (
  run_id  TEXT NOT NULL REFERENCES runs(id),
  metric  TEXT NOT NULL,
  value   REAL,
  extra   TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (run_id, metric, extra)
) WITHOUT ROWID;

-- The lifecycle of each run as logged: every started, interrupted, finished,
-- diverged and error event, whole. Keeps what runs only holds the latest of
-- (each start's provenance, each failed attempt's message).
CREATE TABLE run_events (
  run_id      TEXT NOT NULL REFERENCES runs(id),
  log_offset  INTEGER NOT NULL,           -- byte offset of the line in events.jsonl
  event       TEXT NOT NULL,
  step        INTEGER,
  time        TEXT,
  body        TEXT NOT NULL,              -- the event's JSON line
  PRIMARY KEY (run_id, log_offset)
) WITHOUT ROWID;

-- How far each run's events.jsonl has been ingested: byte offset just past
-- the last complete line, and that line's number (for messages).
CREATE TABLE ingest_cursors (
  run_id  TEXT PRIMARY KEY REFERENCES runs(id),
  path    TEXT NOT NULL,
  offset  INTEGER NOT NULL,
  line    INTEGER NOT NULL DEFAULT 0
);

-- A sweep whose grid has a `search` block: what was searched and how
-- (grids/README.md, "Searches"). spec: JSON with sampler, trials, seed, keys
-- (the searched keys), scheduler {type, min_steps, reduction_factor, metric}
-- and rungs (the rung steps; [] without a scheduler).
CREATE TABLE searches (
  sweep_id  INTEGER PRIMARY KEY REFERENCES sweeps(id) ON DELETE CASCADE,
  spec      TEXT NOT NULL
);

-- Successive halving: one row per trial and rung it reached, written by the
-- runner when the trial's eval at the rung's step is ingested (metric NULL:
-- it diverged or failed first, and ranks last). decision is set, once, when
-- the rung is decided: 'promoted' trials resume from their checkpoint to the
-- next rung, 'stopped' ones stay paused. The top rung (the run's full length)
-- is never decided. A bracket is the set of trials ranked together: the runs
-- that differ only in the searched keys (hash of the rest of the config).
CREATE TABLE rung_results (
  sweep_id     INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
  run_id       TEXT NOT NULL REFERENCES runs(id),
  bracket      TEXT NOT NULL,
  rung         INTEGER NOT NULL,            -- 0, 1, ...
  step         INTEGER NOT NULL,            -- the rung's step
  metric       REAL,
  reported_at  TEXT NOT NULL,
  decision     TEXT CHECK (decision IN ('promoted', 'stopped')),
  decided_at   TEXT,
  among        INTEGER,                     -- results the rung had when it was decided
  PRIMARY KEY (sweep_id, run_id, rung)
) WITHOUT ROWID;

-- Every rung result and decision with the sweep's name, the trial's label
-- and config: `SELECT * FROM search_decisions WHERE sweep = ...`.
CREATE VIEW search_decisions AS
  SELECT s.name AS sweep, rr.sweep_id, rr.bracket, rr.run_id, sr.label, sr.position, rr.rung,
         rr.step, rr.metric, rr.decision, rr.among, rr.reported_at, rr.decided_at, r.config
  FROM rung_results rr
  JOIN sweeps s ON s.id = rr.sweep_id
  JOIN runs r ON r.id = rr.run_id
  LEFT JOIN sweep_runs sr ON sr.sweep_id = rr.sweep_id AND sr.run_id = rr.run_id;

-- The last evaluation of each run.
CREATE VIEW last_evals AS
  SELECT e.* FROM evals e
  JOIN (SELECT run_id, MAX(step) AS step FROM evals GROUP BY run_id) m
    ON e.run_id = m.run_id AND e.step = m.step;

-- Each run's last evaluation with its status and config: filter on status =
-- 'done' for finished runs only.
CREATE VIEW final_evals AS
  SELECT r.id AS run_id, r.model, r.status, e.step, e.val_ce, e.train_ce, r.config,
         r.kind, e.tokens, e.wall_s, e.extra
  FROM runs r JOIN last_evals e ON e.run_id = r.id;

-- Runs of each sweep by status.
CREATE VIEW sweep_status AS
  SELECT s.id AS sweep_id,
         s.name AS sweep,
         COUNT(r.id) AS total,
         COALESCE(SUM(r.status = 'pending'), 0) AS pending,
         COALESCE(SUM(r.status = 'running'), 0) AS running,
         COALESCE(SUM(r.status = 'interrupted'), 0) AS interrupted,
         COALESCE(SUM(r.status = 'done'), 0) AS done,
         COALESCE(SUM(r.status = 'failed'), 0) AS failed,
         COALESCE(SUM(r.status = 'diverged'), 0) AS diverged
  FROM sweeps s
  LEFT JOIN sweep_runs sr ON sr.sweep_id = s.id
  LEFT JOIN runs r ON r.id = sr.run_id
  GROUP BY s.id
  ORDER BY s.id;
