// Every write is one statement or one transaction, so a crash leaves the
// store as it was before or after it. Timestamps come from SQLite's own clock
// (strftime) so that every row uses one format.
#include "store/run_store.h"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <filesystem>
#include <utility>

#include "store/rows.h"
#include "store/schema_sql.h"

namespace hrm {
namespace {

namespace fs = std::filesystem;
using rows::kRunColumns;
using rows::OptDouble;
using rows::OptInt;
using rows::ReadRun;
using rows::Text;

constexpr int kBusyTimeoutMs = 5000;

// meta.schema_version, or 0 if the file has no meta table.
int ReadSchemaVersion(SQLite::Database& db, const std::string& path) {
  if (!db.tableExists("meta")) return 0;
  SQLite::Statement q(db, "SELECT value FROM meta WHERE key = 'schema_version'");
  if (!q.executeStep()) throw StoreError("store " + path + ": meta has no schema_version");
  const std::string text = q.getColumn(0).getString();
  try {
    size_t used = 0;
    int v = std::stoi(text, &used);
    if (used == text.size() && v > 0) return v;
  } catch (const std::exception&) {
  }
  throw StoreError("store " + path + ": meta.schema_version '" + text + "' is not a version");
}

bool HasObjects(SQLite::Database& db) {
  return db.execAndGet("SELECT count(*) FROM sqlite_master").getInt64() > 0;
}

// Refuses, before anything is written, a file this hrm must not touch: one
// from a newer hrm, or an SQLite file of something else. Returns the version
// (0: an empty file, to be created).
int CheckVersion(SQLite::Database& db, const std::string& path) {
  const int version = ReadSchemaVersion(db, path);
  if (version == 0 && HasObjects(db))
    throw StoreError("store " + path + " is an SQLite file but not an hrm store (no meta table)");
  if (version > schema_sql::kVersion)
    throw StoreError("store " + path + " has schema version " + std::to_string(version) +
                     ", newer than this hrm reads (" + std::to_string(schema_sql::kVersion) +
                     "): use a newer hrm, or another store");
  return version;
}

// Brings a read-write store to the current schema inside the caller's
// transaction: creates it when empty, migrates it when older.
void CreateOrMigrate(SQLite::Database& db, const std::string& path) {
  int version = CheckVersion(db, path);  // again: another process may have been first
  if (version == 0) db.exec(schema_sql::kSchema);
  for (; version != 0 && version < schema_sql::kVersion; ++version) {
    try {
      db.exec(schema_sql::kMigrations[version - 1]);
      SQLite::Statement bump(db, "UPDATE meta SET value = ? WHERE key = 'schema_version'");
      bump.bind(1, std::to_string(version + 1));
      bump.exec();
    } catch (const SQLite::Exception& e) {
      throw StoreError("store " + path + ": migrating schema " + std::to_string(version) + " to " +
                       std::to_string(version + 1) + ": " + e.what());
    }
  }
  SQLite::Statement fk(db, "PRAGMA foreign_key_check");
  if (fk.executeStep())
    throw StoreError("store " + path + ": table " + fk.getColumn(0).getString() +
                     " has a row whose " + fk.getColumn(2).getString() +
                     " reference is missing; the store was left as it was");
  if (ReadSchemaVersion(db, path) != schema_sql::kVersion)
    throw StoreError("store " + path + ": schema.sql and the migrations disagree on the version");
}

// Runs f, turning SQLite errors into StoreErrors that name the store.
template <class F>
auto Guarded(const std::string& path, const std::string& what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const SQLite::Exception& e) {
    throw StoreError("store " + path + ": " + what + ": " + e.what());
  }
}

}  // namespace

int RunStore::SchemaVersion() { return schema_sql::kVersion; }

RunStore::RunStore(std::string path, SQLite::Database db)
    : path_(std::move(path)), db_(std::move(db)) {}

std::unique_ptr<RunStore> RunStore::Open(const std::string& path, Mode mode) {
  const bool writable = mode == Mode::kReadWrite;
  std::error_code ec;
  if (!writable && !fs::exists(path, ec)) throw StoreError("store " + path + " does not exist");
  return Guarded(path, "opening", [&] {
    if (writable) {
      const fs::path dir = fs::path(path).parent_path();
      if (!dir.empty() && !fs::create_directories(dir, ec) && ec)
        throw StoreError("store " + path + ": cannot create directory " + dir.string() + ": " +
                         ec.message());
    }
    // A read-only connection is used by one thread at a time (hrm serve
    // holds a lock around it): SQLite's own per-call mutex is only overhead
    // when reading 200,000 rows.
    SQLite::Database db(path,
                        writable ? SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE
                                 : SQLite::OPEN_READONLY | SQLite::OPEN_NOMUTEX,
                        kBusyTimeoutMs);
    const int version = CheckVersion(db, path);
    if (writable) {
      // WAL lets status and report read while the runner writes. NORMAL
      // syncs at checkpoints only: a power cut may drop the last commits but
      // never corrupts, and ingest re-reads what a dropped commit held.
      const std::string journal = db.execAndGet("PRAGMA journal_mode = WAL").getString();
      if (journal != "wal")
        throw StoreError("store " + path + ": cannot use the WAL journal (got '" + journal +
                         "'; a network filesystem?)");
      db.exec("PRAGMA synchronous = NORMAL");
      // Up to 64 MiB of pages (taken as needed): a large ingest then commits
      // without spilling dirty pages to the WAL halfway.
      db.exec("PRAGMA cache_size = -65536");
      // Migrations rebuild tables: renaming one away must not rewrite the
      // references to it, and rows are checked once at the end instead.
      db.exec("PRAGMA foreign_keys = OFF");
      db.exec("PRAGMA legacy_alter_table = ON");
      SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
      CreateOrMigrate(db, path);
      tx.commit();
      db.exec("PRAGMA legacy_alter_table = OFF");
      db.exec("PRAGMA foreign_keys = ON");
    } else if (version == 0) {
      throw StoreError("store " + path + " is empty, not an hrm store");
    } else if (version < schema_sql::kVersion) {
      throw StoreError("store " + path + " has schema version " + std::to_string(version) +
                       ", older than this hrm reads (" + std::to_string(schema_sql::kVersion) +
                       "): open it for writing once (e.g. hrm sweep) to upgrade it");
    }
    return std::unique_ptr<RunStore>(new RunStore(path, std::move(db)));
  });
}

SQLite::Statement& RunStore::Prepared(const std::string& sql) {
  std::unique_ptr<SQLite::Statement>& s = prepared_[sql];
  if (!s) {
    s = Guarded(path_, "preparing " + sql,
                [&] { return std::make_unique<SQLite::Statement>(db_, sql); });
  } else {
    s->reset();
    s->clearBindings();
  }
  return *s;
}

int64_t RunStore::UpsertSweep(const SweepSpec& s) {
  return Guarded(path_, "saving sweep " + s.name, [&] {
    SQLite::Statement up(db_,
                         "INSERT INTO sweeps (name, grid_path, grid_sha256, profile, overrides, "
                         "created_at, updated_at) VALUES (?, ?, ?, ?, ?, "
                         "strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), "
                         "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) "
                         "ON CONFLICT (name) DO UPDATE SET grid_path = excluded.grid_path, "
                         "grid_sha256 = excluded.grid_sha256, profile = excluded.profile, "
                         "overrides = excluded.overrides, updated_at = excluded.updated_at");
    up.bind(1, s.name);
    up.bind(2, s.grid_path);
    up.bind(3, s.grid_sha256);
    if (s.profile.empty())
      up.bind(4);
    else
      up.bind(4, s.profile);
    up.bind(5, json(s.overrides).dump());
    up.exec();
    return *FindSweep(s.name);
  });
}

std::optional<int64_t> RunStore::FindSweep(const std::string& name) {
  return Guarded(path_, "finding sweep " + name, [&]() -> std::optional<int64_t> {
    SQLite::Statement q(db_, "SELECT id FROM sweeps WHERE name = ?");
    q.bind(1, name);
    if (!q.executeStep()) return std::nullopt;
    return q.getColumn(0).getInt64();
  });
}

void RunStore::AddRunToSweep(int64_t sweep_id, const SweepEntry& entry) {
  AddRunsToSweep(sweep_id, {entry});
}

void RunStore::AddRunsToSweep(int64_t sweep_id, const std::vector<SweepEntry>& entries) {
  Guarded(path_, "adding runs to sweep " + std::to_string(sweep_id), [&] {
    SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement run(db_,
                          "INSERT INTO runs (id, config, model, kind, run_dir, created_at, "
                          "updated_at) VALUES (?, ?, ?, ?, ?, "
                          "strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), "
                          "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) ON CONFLICT (id) DO NOTHING");
    SQLite::Statement link(db_,
                           "INSERT INTO sweep_runs (sweep_id, run_id, label, position) "
                           "VALUES (?, ?, ?, ?) ON CONFLICT (sweep_id, run_id) DO UPDATE SET "
                           "label = excluded.label, position = excluded.position");
    for (const SweepEntry& e : entries) {
      const json& c = e.run.config;
      run.bind(1, e.run.id);
      run.bind(2, c.dump());
      run.bind(3, c.is_object() ? c.value("model", "") : "");
      run.bind(4, e.run.kind);
      if (e.run.run_dir.empty())
        run.bind(5);
      else
        run.bind(5, e.run.run_dir);
      run.exec();
      run.reset();
      link.bind(1, sweep_id);
      link.bind(2, e.run.id);
      link.bind(3, e.label);
      link.bind(4, e.position);
      link.exec();
      link.reset();
    }
    tx.commit();
  });
}

void RunStore::MarkRunning(const std::string& run_id, int pid, const std::string& host) {
  Guarded(path_, "marking run " + run_id + " running", [&] {
    SQLite::Statement up(db_,
                         "UPDATE runs SET status = 'running', attempts = attempts + 1, "
                         "runner_pid = ?, runner_host = ?, "
                         "started_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), finished_at = NULL, "
                         "updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?");
    up.bind(1, pid);
    up.bind(2, host);
    up.bind(3, run_id);
    if (up.exec() == 0) throw StoreError("store " + path_ + ": no run " + run_id);
  });
  marked_running_.insert(run_id);
}

void RunStore::SetRunStatus(const std::string& run_id, RunStatus status, const std::string& error) {
  const bool ends =
      status == RunStatus::kDone || status == RunStatus::kFailed || status == RunStatus::kDiverged;
  Guarded(path_, "setting the status of run " + run_id, [&] {
    SQLite::Statement up(db_,
                         "UPDATE runs SET status = ?1, error = coalesce(?2, error), "
                         "finished_at = CASE WHEN ?3 THEN strftime('%Y-%m-%dT%H:%M:%SZ', 'now') "
                         "ELSE finished_at END, "
                         "updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?4");
    up.bind(1, ToString(status));
    if (error.empty())
      up.bind(2);
    else
      up.bind(2, error);
    up.bind(3, ends);
    up.bind(4, run_id);
    if (up.exec() == 0) throw StoreError("store " + path_ + ": no run " + run_id);
  });
  if (status == RunStatus::kRunning)
    marked_running_.insert(run_id);
  else
    marked_running_.erase(run_id);
}

std::optional<RunRow> RunStore::GetRun(const std::string& run_id) {
  return Guarded(path_, "reading run " + run_id, [&]() -> std::optional<RunRow> {
    SQLite::Statement q(db_, std::string("SELECT ") + kRunColumns + " FROM runs r WHERE r.id = ?");
    q.bind(1, run_id);
    if (!q.executeStep()) return std::nullopt;
    return ReadRun(q, 0, path_);
  });
}

std::vector<SweepRun> RunStore::ListRuns(int64_t sweep_id) {
  return Guarded(path_, "listing the runs of sweep " + std::to_string(sweep_id), [&] {
    SQLite::Statement q(db_, std::string("SELECT sr.position, sr.label, ") + kRunColumns +
                                 " FROM sweep_runs sr JOIN runs r ON r.id = sr.run_id "
                                 "WHERE sr.sweep_id = ? ORDER BY sr.position, r.id");
    q.bind(1, sweep_id);
    std::vector<SweepRun> out;
    while (q.executeStep())
      out.push_back({q.getColumn(0).getInt64(), Text(q.getColumn(1)), ReadRun(q, 2, path_)});
    return out;
  });
}

std::vector<RunRow> RunStore::RunsLeftRunning() {
  return Guarded(path_, "listing running runs", [&] {
    SQLite::Statement q(db_, std::string("SELECT ") + kRunColumns +
                                 " FROM runs r WHERE r.status = 'running' ORDER BY r.id");
    std::vector<RunRow> out;
    while (q.executeStep()) {
      RunRow r = ReadRun(q, 0, path_);
      if (!marked_running_.count(r.id)) out.push_back(std::move(r));
    }
    return out;
  });
}

std::vector<EvalRow> RunStore::EvalHistory(const std::string& run_id) {
  return Guarded(path_, "reading the evaluations of run " + run_id, [&] {
    SQLite::Statement q(db_, std::string("SELECT ") + rows::kEvalColumns +
                                 " FROM evals e WHERE e.run_id = ? ORDER BY e.step");
    q.bind(1, run_id);
    std::vector<EvalRow> out;
    while (q.executeStep()) {
      out.push_back(
          rows::ReadEval(q, 0, "store " + path_ + ": run " + run_id, /*with_extra=*/true));
    }
    return out;
  });
}

std::vector<SweepSummary> RunStore::SweepSummaries() {
  return Guarded(path_, "summarising sweeps", [&] {
    // The view's status columns are in RunStatus order.
    SQLite::Statement q(db_,
                        "SELECT sweep_id, sweep, total, pending, running, interrupted, done, "
                        "failed, diverged FROM sweep_status");
    std::vector<SweepSummary> out;
    while (q.executeStep()) {
      SweepSummary s;
      s.id = q.getColumn(0).getInt64();
      s.name = q.getColumn(1).getString();
      s.total = q.getColumn(2).getInt64();
      for (int i = 0; i < kRunStatusCount; ++i) s.count[i] = q.getColumn(3 + i).getInt64();
      out.push_back(std::move(s));
    }
    return out;
  });
}

std::vector<RunSummary> RunStore::RunSummaries(int64_t sweep_id) {
  return Guarded(path_, "summarising the runs of sweep " + std::to_string(sweep_id), [&] {
    // One index seek into evals per run (its primary key is run, step).
    SQLite::Statement q(db_,
                        "SELECT sr.position, sr.label, r.id, r.model, r.status, r.attempts, "
                        "r.step, r.error, e.step, e.val_ce "
                        "FROM sweep_runs sr JOIN runs r ON r.id = sr.run_id "
                        "LEFT JOIN evals e ON e.run_id = r.id AND e.step = "
                        "(SELECT max(step) FROM evals WHERE run_id = r.id) "
                        "WHERE sr.sweep_id = ? ORDER BY sr.position, r.id");
    q.bind(1, sweep_id);
    std::vector<RunSummary> out;
    while (q.executeStep()) {
      RunSummary s;
      s.position = q.getColumn(0).getInt64();
      s.label = Text(q.getColumn(1));
      s.run_id = q.getColumn(2).getString();
      s.model = Text(q.getColumn(3));
      s.status = ParseRunStatus(q.getColumn(4).getString());
      s.attempts = q.getColumn(5).getInt64();
      s.step = OptInt(q.getColumn(6));
      s.error = Text(q.getColumn(7));
      s.last_eval_step = OptInt(q.getColumn(8));
      s.last_val_ce = OptDouble(q.getColumn(9));
      out.push_back(std::move(s));
    }
    return out;
  });
}

void RunStore::PutSearch(int64_t sweep_id, const json& spec) {
  Guarded(path_, "saving the search of sweep " + std::to_string(sweep_id), [&] {
    SQLite::Statement up(db_,
                         "INSERT INTO searches (sweep_id, spec) VALUES (?, ?) "
                         "ON CONFLICT (sweep_id) DO UPDATE SET spec = excluded.spec");
    up.bind(1, sweep_id);
    up.bind(2, spec.dump());
    up.exec();
  });
}

std::optional<json> RunStore::GetSearch(int64_t sweep_id) {
  return Guarded(path_, "reading the search of sweep " + std::to_string(sweep_id),
                 [&]() -> std::optional<json> {
                   SQLite::Statement q(db_, "SELECT spec FROM searches WHERE sweep_id = ?");
                   q.bind(1, sweep_id);
                   if (!q.executeStep()) return std::nullopt;
                   return rows::JsonColumn(q.getColumn(0), "store " + path_ + ": search of sweep " +
                                                               std::to_string(sweep_id));
                 });
}

std::vector<RungRow> RunStore::RungResults(int64_t sweep_id) {
  return Guarded(path_, "reading the rung results of sweep " + std::to_string(sweep_id), [&] {
    SQLite::Statement q(db_,
                        "SELECT rr.run_id, rr.bracket, rr.rung, rr.step, rr.metric, rr.decision, "
                        "rr.reported_at, rr.decided_at, rr.among FROM rung_results rr "
                        "LEFT JOIN sweep_runs sr ON sr.sweep_id = rr.sweep_id AND "
                        "sr.run_id = rr.run_id WHERE rr.sweep_id = ? "
                        "ORDER BY rr.bracket, rr.rung, sr.position, rr.run_id");
    q.bind(1, sweep_id);
    std::vector<RungRow> out;
    while (q.executeStep()) {
      RungRow r;
      r.run_id = q.getColumn(0).getString();
      r.bracket = q.getColumn(1).getString();
      r.rung = q.getColumn(2).getInt64();
      r.step = q.getColumn(3).getInt64();
      r.metric = OptDouble(q.getColumn(4));
      r.decision = Text(q.getColumn(5));
      r.reported_at = Text(q.getColumn(6));
      r.decided_at = Text(q.getColumn(7));
      r.among = q.getColumn(8).isNull() ? 0 : q.getColumn(8).getInt64();
      out.push_back(std::move(r));
    }
    return out;
  });
}

void RunStore::AddRungResults(int64_t sweep_id, const std::vector<RungRow>& rows) {
  if (rows.empty()) return;
  Guarded(path_, "recording rung results of sweep " + std::to_string(sweep_id), [&] {
    SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement ins(db_,
                          "INSERT INTO rung_results (sweep_id, run_id, bracket, rung, step, "
                          "metric, reported_at) VALUES (?, ?, ?, ?, ?, ?, "
                          "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) "
                          "ON CONFLICT (sweep_id, run_id, rung) DO NOTHING");
    for (const RungRow& r : rows) {
      ins.bind(1, sweep_id);
      ins.bind(2, r.run_id);
      ins.bind(3, r.bracket);
      ins.bind(4, r.rung);
      ins.bind(5, r.step);
      if (r.metric)
        ins.bind(6, *r.metric);
      else
        ins.bind(6);
      ins.exec();
      ins.reset();
    }
    tx.commit();
  });
}

void RunStore::DecideRungs(int64_t sweep_id, const std::vector<RungRow>& rows) {
  if (rows.empty()) return;
  Guarded(path_, "recording decisions of sweep " + std::to_string(sweep_id), [&] {
    SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement up(db_,
                         "UPDATE rung_results SET decision = ?, among = ?, "
                         "decided_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') "
                         "WHERE sweep_id = ? AND run_id = ? AND rung = ? AND decision IS NULL");
    for (const RungRow& r : rows) {
      up.bind(1, r.decision);
      up.bind(2, r.among);
      up.bind(3, sweep_id);
      up.bind(4, r.run_id);
      up.bind(5, r.rung);
      up.exec();
      up.reset();
    }
    tx.commit();
  });
}

}  // namespace hrm
