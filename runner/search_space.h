// A grid's `search:` block (grids/README.md, "Searches"): a space of per-key
// distributions, a sampler that draws a fixed list of trials from it, and an
// optional successive-halving scheduler. Trial i's values depend only on
// (seed, i), so the list is the same on every machine and after any crash.
#pragma once

#include <string>
#include <vector>

#include "base/config.h"

namespace YAML {
class Node;
}

namespace hrm {

struct GridAxis;

// One key of the space: a distribution, or a value fixed for every trial.
struct SearchDim {
  enum class Kind { kFixed, kUniform, kLogUniform, kInt, kChoice };
  std::string key;
  Kind kind = Kind::kFixed;
  double lo = 0, hi = 0;      // uniform, loguniform: [lo, hi]; int: [lo, hi] inclusive
  std::vector<json> choices;  // choice: the values; fixed: the one value
  int digits = 3;             // uniform, loguniform: significant digits kept
  std::string where;          // "file:line" of the key
};

// Successive halving (runner/halving.h): rungs at min_steps · η^k below the
// run's `steps`, then `steps` itself. `min_evals` gives min_steps as a number
// of eval intervals, so that it scales with a profile's schedule.
struct SearchScheduler {
  std::string type;       // "" (every trial to the end), sha, asha
  int64_t min_steps = 0;  // one of min_steps and min_evals is given
  int64_t min_evals = 0;
  int64_t eta = 3;                // reduction_factor
  std::string metric = "val_ce";  // val_ce | train_ce, lower is better
  std::string where;
};

struct SearchSpec {
  std::string sampler = "random";  // random | sobol | grid
  int64_t trials = 0;              // random, sobol: how many; grid: the product's size
  uint64_t seed = 0;
  std::vector<SearchDim> space;  // in file order
  SearchScheduler scheduler;
  std::string where;  // "file:line" of `search`
};

// Reads the `search` block written at `where` in `path`. Throws GridError
// ("file:line: key: reason") for anything malformed.
SearchSpec LoadSearch(const YAML::Node& node, const std::string& path, const std::string& where);

// The trials as one zip axis over the space's keys (trial i = point i), so
// that they combine with runs, seeds, profiles and --set as any grid axis.
GridAxis TrialAxis(const SearchSpec& spec);

// The keys the search varies (fixed values excluded).
std::vector<std::string> SearchedKeys(const SearchSpec& spec);

// Rounds x to `digits` significant decimal digits: the value's text is then
// short and the same everywhere, and so is the run id it enters.
double RoundSignificant(double x, int digits);

}  // namespace hrm
