// SweepFeed: one sweep as the dashboard serves it, held in memory and brought
// up to date from the store. Each change found (a run's status or step, new
// evaluation rows) is stamped with a cursor value, so that a client that has
// seen cursor c is sent only what came after c: the live view polls with
// its cursor and never receives a row twice.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
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

  // What a client that has seen cursor `since` lacks, as JSON (the format is
  // in README.md, "hrm serve"): when `since` precedes this feed's last full
  // load every run and row ("reset": true), otherwise the runs changed and
  // the rows added after it; evaluation columns only for `metrics`.
  nlohmann::json View(int64_t since, const std::vector<std::string>& metrics) const;

 private:
  struct Run {
    RunRecord rec;
    int64_t stamp = 0;                // last change to the run's row
    std::vector<int64_t> eval_stamp;  // per evaluation (ascending, like rec.evals)
  };
  void Load(StoreReader& store, int64_t stamp);
  void Summarize();

  int64_t id_;
  int64_t data_version_ = -1;
  int64_t reset_stamp_ = 0;  // the last full load
  SweepRow sweep_;
  std::vector<Run> runs_;
  nlohmann::json keys_;     // config keys whose value differs between runs
  nlohmann::json metrics_;  // metrics any evaluation has (columns, then extra.*)
};

}  // namespace hrm
