// RunStore: the SQLite file that records sweeps, runs and every evaluation
// (schema and meaning: store/schema.sql, store/README.md). One writer per
// file (the runner, holding a StoreLock); readers (status, report, sqlite3)
// may open it at the same time. Every method throws StoreError naming the
// store file.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/records.h"
#include "store/store_error.h"

namespace hrm {

// One row of rung_results: a search trial's result at a rung, and the
// decision taken on it (schema.sql).
struct RungRow {
  std::string run_id;
  std::string bracket;
  int64_t rung = 0;
  int64_t step = 0;
  std::optional<double> metric;  // nullopt: diverged or failed before the rung
  std::string decision;          // "" (not decided), "promoted", "stopped"
  int64_t among = 0;             // results the rung had when it was decided
  std::string reported_at, decided_at;
};

class RunStore {
 public:
  enum class Mode {
    kReadWrite,  // creates the file (and its directory) or upgrades an older schema
    kReadOnly,   // the file must exist with the current schema
  };

  // Opens the store at `path`: WAL journal, synchronous=NORMAL, foreign keys
  // on, 5 s busy timeout. A new file gets the current schema; an older schema
  // is migrated in one transaction (read-write only). A file from a newer
  // hrm, or one that is not an hrm store, is refused and left untouched.
  static std::unique_ptr<RunStore> Open(const std::string& path, Mode mode = Mode::kReadWrite);
  // The schema version this build creates and reads.
  static int SchemaVersion();

  const std::string& path() const { return path_; }
  // The connection, for read queries (report, tests). Writes go through the
  // methods below so that they stay consistent.
  SQLite::Database& db() { return db_; }
  // The statement for `sql`, prepared once and kept while the store is open;
  // reset, with bindings cleared, on each call. For the store's frequent
  // writers (ingest); reset it after reading rows so that it holds no snapshot.
  SQLite::Statement& Prepared(const std::string& sql);

  // Finds the sweep by name or creates it; updates grid path, checksum,
  // profile and overrides. Returns its id.
  int64_t UpsertSweep(const SweepSpec& sweep);
  // The id of the sweep with this name, if any.
  std::optional<int64_t> FindSweep(const std::string& name);

  // Inserts the run if its id is new (a known run keeps its row and status)
  // and links it to the sweep with the grid's label and position (a relink
  // updates them). AddRunsToSweep does many in one transaction.
  struct SweepEntry {
    RunSpec run;
    std::string label;
    int64_t position = 0;
  };
  void AddRunToSweep(int64_t sweep_id, const SweepEntry& entry);
  void AddRunsToSweep(int64_t sweep_id, const std::vector<SweepEntry>& entries);

  // A runner starts the run: status 'running', attempts + 1, the runner's
  // pid and host recorded, started_at now, finished_at cleared.
  void MarkRunning(const std::string& run_id, int pid, const std::string& host);
  // Sets the status; done/failed/diverged also set finished_at. A non-empty
  // error replaces runs.error.
  void SetRunStatus(const std::string& run_id, RunStatus status, const std::string& error = "");

  // The run, or nullopt if the store does not know the id.
  std::optional<RunRow> GetRun(const std::string& run_id);
  // The sweep's runs in grid order.
  std::vector<SweepRun> ListRuns(int64_t sweep_id);
  // Runs left 'running' by a runner that is gone. Call while holding the
  // StoreLock: the lock proves no other runner is alive, so every 'running'
  // row not marked through this object is left over, whatever pid it names
  // (a restarted container reuses pids).
  std::vector<RunRow> RunsLeftRunning();
  // Every evaluation of the run, by step.
  std::vector<EvalRow> EvalHistory(const std::string& run_id);

  // `hrm status`: each sweep with its runs counted by status ...
  std::vector<SweepSummary> SweepSummaries();
  // ... and one line per run of a sweep, in grid order, with its last
  // evaluation. Index lookups only: well under a second for 10,000 runs.
  std::vector<RunSummary> RunSummaries(int64_t sweep_id);

  // Searches (runner/search.h). The search's spec (searches.spec), replaced
  // by a rerun; nullopt for a sweep that is not a search.
  void PutSearch(int64_t sweep_id, const json& spec);
  std::optional<json> GetSearch(int64_t sweep_id);
  // Rung results and decisions of the sweep, by bracket, rung and position.
  std::vector<RungRow> RungResults(int64_t sweep_id);
  // Records rung results in one transaction; a result already recorded keeps
  // its row, so replaying them adds nothing.
  void AddRungResults(int64_t sweep_id, const std::vector<RungRow>& rows);
  // Records decisions (RungRow::decision) in one transaction; a result
  // already decided keeps its decision, so no decision is taken twice.
  void DecideRungs(int64_t sweep_id, const std::vector<RungRow>& rows);

  RunStore(const RunStore&) = delete;
  RunStore& operator=(const RunStore&) = delete;

 private:
  RunStore(std::string path, SQLite::Database db);
  [[noreturn]] void Fail(const std::string& what, const std::exception& e) const;

  std::string path_;
  SQLite::Database db_;
  std::set<std::string> marked_running_;  // run ids this object set 'running'
  // After db_: statements are finalized before the connection closes.
  std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>> prepared_;
};

}  // namespace hrm
