// Finding a sweep's best runs (runner/best.h).
#include "runner/best.h"

#include <map>
#include <optional>
#include <stdexcept>

#include "base/config.h"
#include "runner/cli_errors.h"

namespace hrm {
namespace {

int64_t ResolveSweep(RunStore& store, const std::string& name) {
  if (auto id = store.FindSweep(name)) return *id;
  std::vector<SweepSummary> matches;
  std::string all;
  for (const auto& s : store.SweepSummaries()) {
    all += (all.empty() ? "" : ", ") + s.name;
    if (s.name.rfind(name, 0) == 0) matches.push_back(s);
  }
  if (matches.size() == 1) return matches.front().id;
  if (matches.empty())
    throw UsageError("store " + store.path() + ": no sweep " + name +
                     (all.empty() ? "" : " (have " + all + ")"));
  std::string names;
  for (const auto& m : matches) names += (names.empty() ? "" : ", ") + m.name;
  throw UsageError("sweep " + name + " is ambiguous: " + names);
}

// A value as --set takes it back: strings bare, numbers as JSON writes them
// (the shortest text that reads back to the same double).
std::string SetValue(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

}  // namespace

std::vector<BestRun> FindBest(RunStore& store, const std::string& sweep, const std::string& metric,
                              const std::string& by) {
  if (metric != "val_ce" && metric != "train_ce")
    throw UsageError("--metric: expected val_ce or train_ce (got " + metric + ")");
  const int64_t sweep_id = ResolveSweep(store, sweep);
  std::map<std::string, std::vector<SweepRun>> groups;  // group -> runs, grid order
  for (auto& r : store.ListRuns(sweep_id)) {
    std::string group;
    if (!by.empty()) {
      if (!r.run.config.contains(by)) continue;
      const json& v = r.run.config[by];
      group = v.is_string() ? v.get<std::string>() : v.dump();
    }
    groups[group].push_back(std::move(r));
  }
  std::vector<BestRun> out;
  for (const auto& [group, runs] : groups) {
    std::optional<BestRun> best;
    for (const auto& r : runs) {
      if (r.run.status != RunStatus::kDone) continue;
      const auto evals = store.EvalHistory(r.run.id);
      if (evals.empty()) continue;
      const auto& last = evals.back();
      const std::optional<double> m = metric == "val_ce" ? last.val_ce : last.train_ce;
      if (!m || (best && *m >= best->metric)) continue;  // ties: the first in grid order
      best = BestRun{group, r.run.id, r.label, last.step, *m, {}, r.run.config};
    }
    if (!best) continue;
    // The keys that vary within the group say what was chosen; a derived
    // one (min_lr = lr/10, ...) follows from the others and is left out.
    for (const auto& [key, value] : best->config.items()) {
      if (!FindKey(key) || !FindKey(key)->identity) continue;
      bool varies = false;
      for (const auto& r : runs) varies = varies || r.run.config.value(key, json()) != value;
      if (!varies) continue;
      json without = best->config;
      without.erase(key);
      try {
        if (ResolveConfig(without).value(key, json()) == value) continue;
      } catch (const ConfigError&) {
      }
      best->sets.push_back(key + "=" + SetValue(value));
    }
    out.push_back(std::move(*best));
  }
  if (out.empty())
    throw std::runtime_error("sweep " + sweep + " has no finished run" +
                             (by.empty() ? "" : " with key " + by));
  return out;
}

}  // namespace hrm
