// Running a search inside `hrm sweep`: the plan (brackets and rungs, checked
// against the expanded trials), and the driver that turns what the store
// holds into rung results, decisions and the next stretch of each trial.
// Everything it knows is re-read from the store on each call, so a runner
// killed at any moment continues the same search when started again.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "runner/grid.h"
#include "runner/halving.h"
#include "store/run_store.h"

namespace hrm {

struct SearchPlan {
  SearchSpec spec;
  std::vector<int64_t> rungs;                     // empty without a scheduler
  std::map<std::string, std::string> bracket_of;  // run id -> bracket
  std::vector<std::string> trials;                // run ids in grid order
  json ToJson() const;                            // what searches.spec records
  std::string Describe() const;                   // one line for dry runs and logs
};

// The plan of a grid's search. Throws GridError at the scheduler's line when
// trials differ in `steps`, the first rung is not below `steps`, or a rung
// falls between evaluations.
SearchPlan PlanSearch(const SearchSpec& spec, const std::vector<ExpandedRun>& runs);

class Search {
 public:
  // Records the plan as the sweep's search (searches row).
  Search(SearchPlan plan, RunStore& store, int64_t sweep_id);

  // Records the rung results the store's evals now hold, then the decisions
  // they make due (each set in one transaction), and returns the trials with
  // training to do that are not in `busy` (queued or running), those in
  // higher rungs first. Without a scheduler: every trial not yet done.
  std::vector<std::string> Advance(const std::set<std::string>& busy);
  // The --stop-after of the trial's next stretch: its rung's step, or -1 to
  // train to the end.
  int64_t StopAfter(const std::string& run_id) const;

 private:
  std::vector<HalvingTrial> Snapshot();

  SearchPlan plan_;
  RunStore& store_;
  int64_t sweep_id_;
  std::unique_ptr<Halving> halving_;       // null without a scheduler
  std::map<std::string, int64_t> target_;  // run id -> step of its next stretch
  bool queued_all_ = false;                // without a scheduler: the trials were handed out
};

}  // namespace hrm
