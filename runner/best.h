// `hrm best SWEEP`: the sweep's (or search's) best finished run by its final
// metric, with its config as --set arguments to paste. Reads the store only.
#pragma once

#include <string>
#include <vector>

#include "store/run_store.h"

namespace hrm {

struct BestRun {
  std::string group;  // the --by key's value ("" without --by)
  std::string run_id, label;
  int64_t step = 0;
  double metric = 0;
  std::vector<std::string> sets;  // "key=value" for every key that varies in the group
  json config;
};

// The sweep named `sweep` (exactly, or the only one whose name starts with
// it), its best finished run per value of config key `by` ("" = overall),
// lowest final `metric` (val_ce | train_ce) first. Throws std::runtime_error
// for an unknown or ambiguous sweep, or one with no finished run.
std::vector<BestRun> FindBest(RunStore& store, const std::string& sweep, const std::string& metric,
                              const std::string& by);

}  // namespace hrm
