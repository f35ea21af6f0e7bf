-- Schema 2 -> 3: searches and successive-halving decisions (new tables and a
-- view only). CREATE statements copied verbatim from schema.sql.

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
