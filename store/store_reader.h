// StoreReader: the read-only view of a store that every reader goes through
// (hrm report, hrm serve). It opens the file read-only; the store is in WAL
// mode, so a reader never blocks the runner and the runner never blocks it,
// and each query reads one committed snapshot and lets go of it when done.
// It has no method that writes. Every method throws StoreError naming the file.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/records.h"
#include "store/run_store.h"
#include "store/store_error.h"

namespace hrm {

class StoreReader {
 public:
  // Opens the store at `path`, which must exist with this hrm's schema.
  // `profile`, when not empty, restricts FindSweep to sweeps of that profile.
  explicit StoreReader(const std::string& path, std::string profile = "");

  const std::string& path() const { return path_; }

  // Every sweep with its status counts and progress, by id.
  std::vector<SweepOverview> Sweeps();
  // The sweep's row, or nullopt.
  std::optional<SweepRow> GetSweep(int64_t id);
  // The sweep with all its runs, their evaluations and measurements, or
  // nullopt. `with_extra` also parses each evaluation's extra JSON (HRM gate
  // statistics), which reports do not need. Runs come without provenance
  // (GetRun has it).
  std::optional<SweepRecord> LoadSweep(int64_t id, bool with_extra = false);

  // For reports: the sweep of grid `grid` (e.g. "equal_param"): one whose
  // name is the grid's name, or starts with it followed by a character that
  // cannot continue a name ("equal_param@mini"), or whose grid file's stem is
  // `grid`; of several, the most recently updated. Loaded on first use and
  // kept; nullptr when the store has none. `grid` may list alternatives,
  // "hlrole|equal_param": the first one found.
  const SweepRecord* FindSweep(const std::string& grid);

  // The numbers in the extra JSON of the sweep's evaluations (HRM's gate and
  // state statistics), as the last evaluation of one run per model has them:
  // their keys, sorted.
  std::vector<std::string> EvalExtraKeys(int64_t sweep_id);
  // One metric of every evaluation of the sweep's runs, ordered by run and
  // step: a column (val_ce, train_ce, lr, grad_norm, tokens, wall_s) or
  // "extra.KEY" (null where an evaluation has no such number). A sweep's
  // view reads the one metric it shows rather than whole rows.
  struct EvalValue {
    std::string run_id;
    int64_t step = 0;
    std::optional<double> value;
  };
  std::vector<EvalValue> EvalValues(int64_t sweep_id, const std::string& metric);
  // The sweep's runs in grid order, without evaluations or measurements.
  std::vector<RunRecord> SweepRuns(int64_t sweep_id);

  // The sweep's runs in grid order with their last evaluation (RunStore's).
  std::vector<RunSummary> RunSummaries(int64_t sweep_id);
  // The run, or nullopt.
  std::optional<RunRow> GetRun(const std::string& run_id);
  // The sweeps that list the run, by id.
  std::vector<SweepRow> SweepsOfRun(const std::string& run_id);
  // The run's evaluations after step `after` (all: a negative `after`), by
  // step, with their extra JSON.
  std::vector<EvalRow> EvalsAfter(const std::string& run_id, int64_t after);
  std::vector<MeasurementRow> Measurements(const std::string& run_id);
  // The run's lifecycle events in log order.
  std::vector<RunEventRow> RunEvents(const std::string& run_id);
  // Number of runs in the store by status name.
  std::map<std::string, int64_t> StatusCounts();

  // A number that changes when another connection commits to the store
  // (SQLite's data_version): a reader polls it to learn that rows arrived.
  int64_t DataVersion();
  // True when the store has table `name` (tables a newer part of hrm adds).
  bool HasTable(const std::string& name);
  // True when sweep `sweep_id` is a search (a grid with a search: block).
  bool IsSearch(int64_t sweep_id);
  // The search's spec as the runner recorded it (runner/search.h), or nullopt
  // for a sweep that is no search.
  std::optional<json> GetSearch(int64_t sweep_id);
  // The search's rung results and decisions (RunStore::RungResults).
  std::vector<RungRow> RungResults(int64_t sweep_id);

 private:
  [[noreturn]] void Fail(const std::string& what, const std::exception& e) const;

  std::string path_;
  std::string profile_;
  std::unique_ptr<RunStore> store_;                            // opened read-only
  std::map<std::string, std::unique_ptr<SweepRecord>> cache_;  // FindSweep's, by grid; null: none
};

}  // namespace hrm
