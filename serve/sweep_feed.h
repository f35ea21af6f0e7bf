// SweepFeed: one sweep as the dashboard serves it, held in memory and brought
// up to date from the store. Each change found (a run's status or step, new
// evaluation rows) is stamped with a cursor value, so that a client that has
// seen cursor c is sent only what came after c: the live view polls with
// its cursor and never receives a row twice.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/store_reader.h"

namespace hrm {

// The value of an evaluation's metric: a column (val_ce, train_ce, lr,
// grad_norm, tokens, wall_s) or "extra.KEY" for a number in its extra JSON.
std::optional<double> EvalMetric(const EvalRow& e, const std::string& metric);
// True for a metric name EvalMetric knows how to read.
bool IsEvalMetric(const std::string& metric);

class SweepFeed {
 public:
  explicit SweepFeed(int64_t sweep_id) : id_(sweep_id) {}

  // Reads what the store holds now, stamping what changed with `stamp`:
  // everything on the first call (or when the sweep's runs changed), then
  // only the runs whose row changed and their evaluations past the last step
  // held. Costs one PRAGMA when nothing was committed since the last call.
  // Returns false when the store has no such sweep.
  bool Refresh(StoreReader& store, int64_t stamp);

  // What a client that has seen cursor `since` lacks, as JSON text (the
  // format is in README.md, "hrm serve"): when `since` precedes this feed's
  // last full load every run and row ("reset": true), otherwise the runs
  // changed and the rows added after it; evaluation columns only for
  // `metrics`. `cursor` and `sweep` (JSON) are sent as they are.
  std::string View(StoreReader& store, int64_t since, const std::vector<std::string>& metrics,
                   int64_t cursor, const std::string& sweep);

 private:
  struct Run {
    RunRecord rec;                    // the run's row; its evaluations are below
    int64_t stamp = 0;                // last change to the run's row
    std::vector<int64_t> steps;       // its evaluations' steps, ascending
    std::vector<int64_t> eval_stamp;  // per evaluation: when it arrived
  };
  // A metric per run and evaluation (aligned with Run::steps), read from the
  // store the first time a client asks for it; val_ce always.
  using Column = std::vector<std::vector<std::optional<double>>>;

  void Load(StoreReader& store, int64_t stamp);
  // Sets *at to the index of run `id`, trying *at first; false if unknown.
  bool RunAt(const std::string& id, size_t* at) const;
  const Column& Values(StoreReader& store, const std::string& metric);

  int64_t id_;
  int64_t data_version_ = -1;
  int64_t reset_stamp_ = 0;  // the last full load
  std::vector<Run> runs_;
  std::unordered_map<std::string, size_t> index_;  // run id -> runs_ index
  std::vector<std::string> keys_;                  // config keys whose value differs between runs
  std::set<std::string> extra_keys_;               // numbers seen in extra
  std::map<std::string, Column> columns_;          // by metric
};

}  // namespace hrm
