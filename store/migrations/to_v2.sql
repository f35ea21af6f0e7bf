-- Schema 1 -> 2: from the first layout (the draft schema) to the one
-- schema.sql creates. RunStore::Open runs each migration in the transaction
-- that bumps meta.schema_version, with foreign_keys OFF and
-- legacy_alter_table ON, so that renaming a table away leaves the
-- REFERENCES clauses of other tables and the views pointing at its name.
-- CREATE statements are copied verbatim from schema.sql so both paths
-- leave the same schema (tests/run_store_test.cc compares them).

DROP VIEW final_evals;

-- runs.status gains 'interrupted'; a CHECK cannot be altered, so rebuild.
ALTER TABLE runs RENAME TO runs_v1;
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
INSERT INTO runs SELECT * FROM runs_v1;
DROP TABLE runs_v1;
CREATE INDEX runs_by_status ON runs (status);
CREATE INDEX sweep_runs_by_run ON sweep_runs (run_id);

-- measurements are keyed by (run, metric, extra): one metric at several settings.
ALTER TABLE measurements RENAME TO measurements_v1;
CREATE TABLE measurements (
  run_id  TEXT NOT NULL REFERENCES runs(id),
  metric  TEXT NOT NULL,
  value   REAL,
  extra   TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (run_id, metric, extra)
) WITHOUT ROWID;
INSERT INTO measurements (run_id, metric, value, extra)
  SELECT run_id, metric, value, COALESCE(extra, '{}') FROM measurements_v1;
DROP TABLE measurements_v1;

CREATE TABLE run_events (
  run_id      TEXT NOT NULL REFERENCES runs(id),
  log_offset  INTEGER NOT NULL,           -- byte offset of the line in events.jsonl
  event       TEXT NOT NULL,
  step        INTEGER,
  time        TEXT,
  body        TEXT NOT NULL,              -- the event's JSON line
  PRIMARY KEY (run_id, log_offset)
) WITHOUT ROWID;

-- Cursors gain a line number. They are a cache of progress, so they start
-- over: the next ingest re-reads every log (adding no duplicate rows) and
-- fills run_events from the whole history.
DROP TABLE ingest_cursors;
CREATE TABLE ingest_cursors (
  run_id  TEXT PRIMARY KEY REFERENCES runs(id),
  path    TEXT NOT NULL,
  offset  INTEGER NOT NULL,
  line    INTEGER NOT NULL DEFAULT 0
);

CREATE VIEW final_evals AS
  SELECT r.id AS run_id, r.model, r.status, e.step, e.val_ce, e.train_ce, r.config,
         r.kind, e.tokens, e.wall_s, e.extra
  FROM runs r JOIN last_evals e ON e.run_id = r.id;

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
