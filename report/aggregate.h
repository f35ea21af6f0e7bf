// The arithmetic of report cells: which runs a row holds, the value of one
// run at a point of its curve, groups of seeds, and the aggregations the
// paper's tables use (mean ± std, best, top-k mean, median, worst).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/config.h"
#include "report/table_spec.h"
#include "store/store_reader.h"

namespace hrm {

// True when config has every key of `match` with an equal value (numbers
// compare by value: 2 == 2.0).
bool MatchesConfig(const json& config, const json& match);

// The fields of `config` that identify its group: `fields`, or when empty
// every identity field (base/config.h) except the seed.
json GroupFields(const json& config, const std::vector<std::string>& fields);

// The identity fields but the seed of a run's config as text (what
// GroupFields(config, {}) holds): runs that differ only in their seed share it.
std::string SeedGroupKey(const RunRecord& run);

// True for statuses whose values may still change: pending, running, interrupted.
bool IsUnfinished(RunStatus status);

// A run's value of eval metric `metric` at `at`. nullopt when the run has no
// such value yet, or never will (it ended before reaching the point).
std::optional<double> EvalValue(const RunRecord& run, const std::string& metric,
                                const CurvePoint& at);

// A run's measurement `metric` whose extra holds every key of `extra`; when
// several rows qualify, the one with the fewest extra keys (then the first
// by extra's text).
std::optional<double> MeasurementValue(const RunRecord& run, const std::string& metric,
                                       const json& extra);

// Mean and population standard deviation (numpy's default, as the paper's
// Table 15 computes it) of `v`.
struct Stats {
  double mean = 0;
  double std = 0;
  int n = 0;
};
Stats MeanStd(const std::vector<double>& v);

double Best(const std::vector<double>& v);     // lowest; v not empty
double Worst(const std::vector<double>& v);    // highest; v not empty
double TopMean(std::vector<double> v, int k);  // mean of the k lowest
double Median(std::vector<double> v);          // v not empty

// Combines group values as `how` says (not kOnly).
double CombineValues(const std::vector<double>& v, Combine how, int top_k);

}  // namespace hrm
