// Read-only access to an hrm store (store/schema.sql) for reports: a sweep's
// runs with their configs, evaluations and measurements, loaded once per
// sweep with plain SQL so that reports never take the runner's write lock.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/config.h"

namespace hrm {

// The store cannot be opened or is not an hrm store; what() names the file.
class StoreReadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One row of `evals`. Absent values (NULL, e.g. a NaN loss) are nullopt.
struct EvalRecord {
  int64_t step = 0;
  std::optional<double> val_ce, train_ce, lr, grad_norm, tokens, wall_s;
};

// One row of `measurements`; extra is the measurement's other keys.
struct MeasurementRecord {
  std::string metric;
  std::optional<double> value;
  json extra = json::object();
};

struct RunRecord {
  std::string id;
  json config = json::object();  // resolved config ({} if the stored text is not JSON)
  std::string status;            // pending | running | interrupted | done | failed | diverged
  std::string kind;
  std::string label;  // the grid's label for the run in this sweep
  int64_t position = 0;
  std::vector<EvalRecord> evals;  // ascending step
  std::vector<MeasurementRecord> measurements;
  mutable std::string seed_group;  // cache of SeedGroupKey (report/aggregate.h)
};

struct SweepRecord {
  int64_t id = 0;
  std::string name;       // sweeps.name, e.g. "equal_param" or "equal_param@mini"
  std::string grid_path;
  std::string profile;
  std::vector<RunRecord> runs;  // in grid order (sweep_runs.position)
};

class StoreReader {
 public:
  // Opens `path` read-only. `profile`, when not empty, restricts sweeps to
  // that scale profile. Throws StoreReadError.
  explicit StoreReader(const std::string& path, std::string profile = "");

  // The sweep of grid `grid` (e.g. "equal_param"): a sweep whose name is the
  // grid's name, or starts with it followed by a character that cannot
  // continue a name ("equal_param@mini", "equal_param mini"), or whose grid
  // file's stem is `grid`. When several match, the most recently updated.
  // Loaded on first use and kept; nullptr when the store has none.
  // `grid` may list alternatives, "hlrole|equal_param": the first one found.
  const SweepRecord* FindSweep(const std::string& grid);

  // Number of runs in the store by status.
  std::map<std::string, int64_t> StatusCounts();

  const std::string& path() const { return path_; }

 private:
  std::unique_ptr<SweepRecord> Load(int64_t id, std::string name, std::string grid_path,
                                    std::string profile);

  std::string path_;
  std::string profile_;
  SQLite::Database db_;
  std::map<std::string, std::unique_ptr<SweepRecord>> cache_;  // by grid name; null = none
};

}  // namespace hrm
