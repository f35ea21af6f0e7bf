// What the store holds, as plain structs: sweeps, runs, evaluations, the
// status summaries `hrm status` prints, and the whole-sweep records reports
// and the dashboard read (store/store_reader.h). Torch-free.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace hrm {

using json = nlohmann::json;

// Where a run is in its life. Stored as text in runs.status.
enum class RunStatus { kPending, kRunning, kInterrupted, kDone, kFailed, kDiverged };
inline constexpr int kRunStatusCount = 6;

// "pending", "running", "interrupted", "done", "failed", "diverged".
const char* ToString(RunStatus status);
// The inverse of ToString; throws StoreError naming the text.
RunStatus ParseRunStatus(const std::string& text);

// A grid expanded under a profile and overrides; `name` identifies it.
struct SweepSpec {
  std::string name;
  std::string grid_path;
  std::string grid_sha256;
  std::string profile;                 // empty: none
  std::vector<std::string> overrides;  // "key=value", as given
};

// One row of `sweeps`.
struct SweepRow {
  int64_t id = 0;
  std::string name;
  std::string grid_path;
  std::string grid_sha256;
  std::string profile;  // empty: none
  json overrides = json::array();
  std::string created_at, updated_at;
};

// A run as the runner defines it: identity and resolved config.
struct RunSpec {
  std::string id;              // RunId(config)
  json config;                 // resolved; its "model" is copied to runs.model
  std::string kind = "train";  // train | latency | genspeed | hlrole ...
  std::string run_dir;
};

// One row of `runs`. JSON columns are parsed; null where the column is NULL.
struct RunRow {
  std::string id;
  json config;
  std::string model;
  std::string kind;
  RunStatus status = RunStatus::kPending;
  int64_t attempts = 0;
  std::optional<int64_t> step;
  std::string run_dir;
  std::string error;
  json provenance;
  std::optional<int64_t> runner_pid;
  std::string runner_host;
  std::string created_at, started_at, finished_at, updated_at;
};

// A run as a member of a sweep, in grid order.
struct SweepRun {
  int64_t position = 0;
  std::string label;
  RunRow run;
};

// One row of `evals`; a missing or null value is nullopt.
struct EvalRow {
  int64_t step = 0;
  std::optional<double> val_ce, train_ce, lr, grad_norm;
  std::optional<int64_t> tokens;
  std::optional<double> wall_s;
  json extra;  // object of the other keys (HRM gate/state statistics); null if none
};

// One row of `measurements`: a protocol's metric; extra holds its other keys
// ({} when none).
struct MeasurementRow {
  std::string metric;
  std::optional<double> value;
  json extra = json::object();
};

// One row of `run_events`: a lifecycle event (started, interrupted, finished,
// diverged, error) as logged.
struct RunEventRow {
  int64_t log_offset = 0;
  std::string event;
  std::optional<int64_t> step;
  std::string time;
  json body;
};

// A run of a sweep with everything recorded about it: what reports and the
// dashboard read.
struct RunRecord : RunRow {
  int64_t position = 0;                      // in the sweep's grid
  std::string label;                         // the grid's name for it
  std::vector<EvalRow> evals;                // ascending step
  std::vector<MeasurementRow> measurements;  // by metric, then extra
};

// A sweep with all its runs, in grid order.
struct SweepRecord : SweepRow {
  std::vector<RunRecord> runs;
};

// A sweep and how many of its runs are in each status.
struct SweepSummary {
  int64_t id = 0;
  std::string name;
  int64_t total = 0;
  std::array<int64_t, kRunStatusCount> count{};  // indexed by RunStatus

  int64_t Count(RunStatus s) const { return count[static_cast<int>(s)]; }
};

// A sweep as the dashboard lists it: its row, its runs by status, and how far
// its training has got.
struct SweepOverview {
  SweepRow sweep;
  SweepSummary status;
  int64_t steps_done = 0;     // over its runs: done runs count their configured steps
  int64_t steps_total = 0;    // sum of the runs' configured steps
  std::string first_started;  // earliest start of any of its runs; empty if none
};

// One line of `hrm status` for a run of a sweep.
struct RunSummary {
  int64_t position = 0;
  std::string label;
  std::string run_id;
  std::string model;
  RunStatus status = RunStatus::kPending;
  int64_t attempts = 0;
  std::optional<int64_t> step;  // last event's step
  std::optional<int64_t> last_eval_step;
  std::optional<double> last_val_ce;  // val CE of the last evaluation
  std::string error;
};

}  // namespace hrm
