#include "serve/sweep_feed.h"

#include <algorithm>
#include <set>

namespace hrm {
namespace {

using json = nlohmann::json;

constexpr const char* kColumns[] = {"val_ce", "train_ce", "lr", "grad_norm", "tokens", "wall_s"};

// A number, or null (NaN and missing values are null in the store too).
json Num(const std::optional<double>& v) { return v ? json(*v) : json(); }

}  // namespace

std::optional<double> EvalMetric(const EvalRow& e, const std::string& metric) {
  if (metric == "val_ce") return e.val_ce;
  if (metric == "train_ce") return e.train_ce;
  if (metric == "lr") return e.lr;
  if (metric == "grad_norm") return e.grad_norm;
  if (metric == "tokens") return e.tokens ? std::optional<double>(double(*e.tokens)) : std::nullopt;
  if (metric == "wall_s") return e.wall_s;
  if (metric.compare(0, 6, "extra.") == 0 && e.extra.is_object()) {
    auto it = e.extra.find(metric.substr(6));
    if (it != e.extra.end() && it->is_number()) return it->get<double>();
  }
  return std::nullopt;
}

bool IsEvalMetric(const std::string& metric) {
  for (const char* c : kColumns)
    if (metric == c) return true;
  if (metric.size() <= 6 || metric.size() > 70 || metric.compare(0, 6, "extra.") != 0) return false;
  return metric.find_first_not_of(
             "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
             "0123456789_.",
             6) == std::string::npos;
}

bool SweepFeed::Refresh(StoreReader& store, int64_t stamp) {
  const int64_t version = store.DataVersion();
  if (version == data_version_) return true;
  if (data_version_ < 0) {
    if (!store.GetSweep(id_)) return false;
    data_version_ = version;
    Load(store, stamp);
    return true;
  }
  data_version_ = version;
  const std::vector<RunSummary> now = store.RunSummaries(id_);
  bool same_runs = now.size() == runs_.size();
  for (size_t i = 0; same_runs && i < now.size(); ++i) same_runs = now[i].run_id == runs_[i].rec.id;
  if (!same_runs) {  // runs added to the sweep (or the grid re-expanded): start over
    Load(store, stamp);
    return true;
  }
  for (size_t i = 0; i < now.size(); ++i) {
    const RunSummary& s = now[i];
    Run& run = runs_[i];
    RunRecord& r = run.rec;
    bool changed =
        r.status != s.status || r.step != s.step || r.attempts != s.attempts || r.error != s.error;
    const int64_t held = r.evals.empty() ? -1 : r.evals.back().step;
    if (s.last_eval_step && *s.last_eval_step > held) {
      for (EvalRow& e : store.EvalsAfter(r.id, held)) {
        for (auto it = e.extra.begin(); e.extra.is_object() && it != e.extra.end(); ++it)
          if (it->is_number() && !std::count(metrics_.begin(), metrics_.end(), "extra." + it.key()))
            metrics_.push_back("extra." + it.key());
        r.evals.push_back(std::move(e));
        run.eval_stamp.push_back(stamp);
      }
      changed = true;
    }
    if (changed) {
      r.status = s.status;
      r.step = s.step;
      r.attempts = s.attempts;
      r.error = s.error;
      run.stamp = stamp;
    }
  }
  return true;
}

void SweepFeed::Load(StoreReader& store, int64_t stamp) {
  std::optional<SweepRecord> sweep = store.LoadSweep(id_, /*with_extra=*/true);
  if (!sweep) return;  // deleted meanwhile: the next refresh says so
  sweep_ = static_cast<const SweepRow&>(*sweep);
  runs_.clear();
  runs_.reserve(sweep->runs.size());
  for (RunRecord& r : sweep->runs) {
    Run run;
    run.stamp = stamp;
    run.eval_stamp.assign(r.evals.size(), stamp);
    r.measurements.clear();  // the run's own endpoint serves them
    run.rec = std::move(r);
    runs_.push_back(std::move(run));
  }
  reset_stamp_ = stamp;
  Summarize();
}

void SweepFeed::Summarize() {
  // Keys with more than one value among the runs' configs: what a user
  // colours and groups by.
  std::map<std::string, std::set<std::string>> values;
  for (const Run& run : runs_)
    if (run.rec.config.is_object())
      for (auto it = run.rec.config.begin(); it != run.rec.config.end(); ++it)
        if (!it->is_structured()) values[it.key()].insert(it->dump());
  keys_ = json::array();
  for (const auto& [key, seen] : values) {
    size_t with = 0;
    for (const Run& run : runs_) with += run.rec.config.is_object() && run.rec.config.contains(key);
    if (seen.size() > 1 || (with > 0 && with < runs_.size())) keys_.push_back(key);
  }
  std::set<std::string> extra;
  for (const Run& run : runs_)
    for (const EvalRow& e : run.rec.evals)
      if (e.extra.is_object())
        for (auto it = e.extra.begin(); it != e.extra.end(); ++it)
          if (it->is_number()) extra.insert("extra." + it.key());
  metrics_ = json::array();
  for (const char* c : kColumns) metrics_.push_back(c);
  for (const auto& m : extra) metrics_.push_back(m);
}

json SweepFeed::View(int64_t since, const std::vector<std::string>& metrics) const {
  const bool reset = since < reset_stamp_;
  json runs = json::array(), evals = json::object();
  for (const Run& run : runs_) {
    const RunRecord& r = run.rec;
    if (reset || run.stamp > since) {
      json config = json::object();
      for (const auto& key : keys_) {
        const std::string k = key.get<std::string>();
        if (r.config.is_object() && r.config.contains(k)) config[k] = r.config[k];
      }
      std::optional<double> last, best;
      for (const EvalRow& e : r.evals)
        if (e.val_ce) {
          last = e.val_ce;
          if (!best || *e.val_ce < *best) best = e.val_ce;
        }
      runs.push_back({{"id", r.id},
                      {"label", r.label},
                      {"position", r.position},
                      {"model", r.model},
                      {"status", ToString(r.status)},
                      {"attempts", r.attempts},
                      {"step", r.step ? json(*r.step) : json()},
                      {"steps", r.config.is_object() ? r.config.value("steps", json()) : json()},
                      {"error", r.error},
                      {"config", std::move(config)},
                      {"last_val_ce", Num(last)},
                      {"best_val_ce", Num(best)}});
    }
    // Stamps ascend with the rows: the new rows are a suffix.
    const size_t first =
        reset ? 0
              : size_t(std::upper_bound(run.eval_stamp.begin(), run.eval_stamp.end(), since) -
                       run.eval_stamp.begin());
    if (first == r.evals.size()) continue;
    json cols = json::object();
    json& steps = cols["step"] = json::array();
    for (size_t i = first; i < r.evals.size(); ++i) steps.push_back(r.evals[i].step);
    for (const auto& m : metrics) {
      json& col = cols[m] = json::array();
      for (size_t i = first; i < r.evals.size(); ++i) col.push_back(Num(EvalMetric(r.evals[i], m)));
    }
    evals[r.id] = std::move(cols);
  }
  return {{"reset", reset},      {"sweep_id", id_},         {"keys", keys_},
          {"metrics", metrics_}, {"runs", std::move(runs)}, {"evals", std::move(evals)}};
}

}  // namespace hrm
