// Successive halving over a search's trials: which rung results are due,
// which decisions are due, and how far each trial trains next. Pure logic
// over what the store holds, so that a runner killed at any point and
// started again takes exactly the decisions it had not yet written.
//
// Trials are ranked within their bracket (the runs that differ only in the
// searched keys). Rungs are steps r_0 < r_1 < ... < r_top = the run's steps.
//   sha:  rung k is decided once every trial promoted into it (all trials
//         for k = 0) has a result there: the best max(1, ⌊n/η⌋) by (metric,
//         grid position) are promoted, the others stopped. Deterministic.
//   asha: a result is promoted as soon as it is among the best ⌊n/η⌋ of the
//         n results its rung has so far; when nothing is left to train, the
//         rest is stopped (the best of a rung that promoted none goes on, so
//         some trial always reaches the top). Depends on timing; recorded.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/run_store.h"

namespace hrm {

// One trial as the scheduler sees it.
struct HalvingTrial {
  std::string run_id;
  std::string bracket;
  int64_t position = 0;              // grid order: breaks ties
  bool ended = false;                // diverged or failed: ranks last where it stopped
  std::map<int64_t, double> metric;  // the metric at each evaluated step
};

// The rung steps of a run of `steps`: min_steps · η^k below steps, then steps.
std::vector<int64_t> RungSteps(int64_t min_steps, int64_t eta, int64_t steps);

class Halving {
 public:
  Halving(std::string type, int64_t eta, std::vector<int64_t> rungs);

  // Results due: a trial in a rung it has no result at, whose metric at the
  // rung's step is known (or that ended before it).
  std::vector<RungRow> Results(const std::vector<HalvingTrial>& trials,
                               const std::vector<RungRow>& rows) const;
  // Decisions due (rows with `decision` set). `idle`: no trial is training
  // or has training to do; asha then stops what it has not promoted.
  std::vector<RungRow> Decisions(const std::vector<HalvingTrial>& trials,
                                 const std::vector<RungRow>& rows, bool idle) const;
  // The step the trial trains to next, or nullopt while it waits for a
  // decision, after it was stopped, ended, or reached the top rung.
  std::optional<int64_t> Target(const HalvingTrial& trial, const std::vector<RungRow>& rows) const;

  const std::vector<int64_t>& rungs() const { return rungs_; }

 private:
  using Index = std::map<std::pair<std::string, int64_t>, const RungRow*>;  // (run, rung)
  static Index IndexRows(const std::vector<RungRow>& rows);
  // The highest rung the trial was promoted into (0 for every trial).
  int64_t CurrentRung(const std::string& run_id, const Index& index) const;
  std::vector<RungRow> DecideSync(const std::vector<const HalvingTrial*>& bracket,
                                  const Index& index) const;
  std::vector<RungRow> DecideAsync(const std::vector<const HalvingTrial*>& bracket,
                                   const Index& index, bool idle) const;

  std::string type_;
  int64_t eta_;
  std::vector<int64_t> rungs_;
};

}  // namespace hrm
