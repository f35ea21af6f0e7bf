#include "report/aggregate.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace hrm {
namespace {

std::optional<double> Metric(const EvalRow& e, const std::string& metric) {
  if (metric == "val_ce") return e.val_ce;
  if (metric == "train_ce") return e.train_ce;
  if (metric == "grad_norm") return e.grad_norm;
  if (metric == "lr") return e.lr;
  if (metric == "tokens") return e.tokens ? std::optional<double>(double(*e.tokens)) : std::nullopt;
  if (metric == "wall_s") return e.wall_s;
  return std::nullopt;
}

}  // namespace

bool MatchesConfig(const json& config, const json& match) {
  for (auto it = match.begin(); it != match.end(); ++it) {
    auto have = config.find(it.key());
    if (have == config.end() || *have != it.value()) return false;
  }
  return true;
}

json GroupFields(const json& config, const std::vector<std::string>& fields) {
  json key = json::object();
  if (!fields.empty()) {
    for (const auto& f : fields) key[f] = config.contains(f) ? config[f] : json();
    return key;
  }
  for (const auto& k : ConfigKeys())
    if (k.identity && std::string(k.name) != "seed" && config.contains(k.name))
      key[k.name] = config[k.name];
  return key;
}

std::string SeedGroupKey(const RunRecord& run) {
  std::string key = "|";
  for (const auto& k : ConfigKeys()) {
    if (!k.identity || std::string(k.name) == "seed") continue;
    auto v = run.config.find(k.name);
    if (v != run.config.end()) key += std::string(k.name) + "=" + v->dump() + "|";
  }
  return key;
}

bool IsUnfinished(RunStatus status) {
  return status == RunStatus::kPending || status == RunStatus::kRunning ||
         status == RunStatus::kInterrupted;
}

std::optional<double> EvalValue(const RunRecord& run, const std::string& metric,
                                const CurvePoint& at) {
  if (run.evals.empty()) return std::nullopt;
  switch (at.kind) {
    case CurvePoint::kFinal:
      for (auto e = run.evals.rbegin(); e != run.evals.rend(); ++e)
        if (auto v = Metric(*e, metric)) return v;
      return std::nullopt;
    case CurvePoint::kBest: {
      std::optional<double> best;
      for (const auto& e : run.evals)
        if (auto v = Metric(e, metric); v && (!best || *v < *best)) best = v;
      return best;
    }
    case CurvePoint::kFraction: {
      const int64_t last = run.evals.back().step;
      const int64_t steps = run.config.value("steps", last);
      const double target = at.fraction * double(steps);
      // Until the run has passed the point (or finished) the nearest
      // evaluation may still come; a run that ended early never gets one.
      if (double(last) < target && run.status != RunStatus::kDone) return std::nullopt;
      const EvalRow* nearest = nullptr;
      for (const auto& e : run.evals) {
        if (!Metric(e, metric)) continue;
        if (!nearest ||
            std::abs(double(e.step) - target) < std::abs(double(nearest->step) - target))
          nearest = &e;
      }
      return nearest ? Metric(*nearest, metric) : std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<double> MeasurementValue(const RunRecord& run, const std::string& metric,
                                       const json& extra) {
  const MeasurementRow* pick = nullptr;
  for (const auto& m : run.measurements) {
    if (m.metric != metric || !MatchesConfig(m.extra, extra)) continue;
    if (!pick || m.extra.size() < pick->extra.size() ||
        (m.extra.size() == pick->extra.size() && m.extra.dump() < pick->extra.dump()))
      pick = &m;
  }
  return pick ? pick->value : std::nullopt;
}

Stats MeanStd(const std::vector<double>& v) {
  Stats s;
  s.n = int(v.size());
  if (v.empty()) return s;
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
  double ss = 0;
  for (double x : v) ss += (x - s.mean) * (x - s.mean);
  s.std = std::sqrt(ss / double(v.size()));
  return s;
}

double Best(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

double Worst(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }

double TopMean(std::vector<double> v, int k) {
  std::sort(v.begin(), v.end());
  const size_t n = std::min(v.size(), size_t(std::max(k, 1)));
  return std::accumulate(v.begin(), v.begin() + n, 0.0) / double(n);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double CombineValues(const std::vector<double>& v, Combine how, int top_k) {
  switch (how) {
    case Combine::kBest:
      return Best(v);
    case Combine::kTopMean:
      return TopMean(v, top_k);
    case Combine::kMedian:
      return Median(v);
    case Combine::kWorst:
      return Worst(v);
    case Combine::kOnly:
      break;
  }
  return v.front();
}

}  // namespace hrm
