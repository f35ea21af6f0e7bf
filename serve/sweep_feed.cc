// The first view of a large sweep is most of the work: the store is asked
// for the one metric shown (not whole rows), and the JSON is written directly
// (std::to_chars for numbers) rather than built as a json tree.
#include "serve/sweep_feed.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

namespace hrm {
namespace {

using json = nlohmann::json;

constexpr const char* kColumns[] = {"val_ce", "train_ce", "lr", "grad_norm", "tokens", "wall_s"};

void AppendNumber(std::string& out, const std::optional<double>& v) {
  if (!v || !std::isfinite(*v)) {  // NaN is NULL in the store; JSON has no inf
    out += "null";
    return;
  }
  char buf[32];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, *v).ptr);
}

void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

void AppendString(std::string& out, const std::string& s) {
  out += json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

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
  return metric.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_",
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
    const int64_t held = run.steps.empty() ? -1 : run.steps.back();
    if (s.last_eval_step && *s.last_eval_step > held) {
      for (const EvalRow& e : store.EvalsAfter(r.id, held)) {
        for (auto it = e.extra.begin(); e.extra.is_object() && it != e.extra.end(); ++it)
          if (it->is_number()) extra_keys_.insert(it.key());
        for (auto& [metric, column] : columns_) column[i].push_back(EvalMetric(e, metric));
        run.steps.push_back(e.step);
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
  runs_.clear();
  index_.clear();
  columns_.clear();
  for (RunRecord& r : store.SweepRuns(id_)) {
    Run run;
    run.stamp = stamp;
    index_[r.id] = runs_.size();
    run.rec = std::move(r);
    runs_.push_back(std::move(run));
  }
  // Every evaluation has a val_ce row (NULL when NaN): it gives the steps.
  Column val(runs_.size());
  size_t at = 0;
  for (auto& v : store.EvalValues(id_, "val_ce")) {
    if (!RunAt(v.run_id, &at)) continue;  // a run linked after SweepRuns read: the next load
    runs_[at].steps.push_back(v.step);
    runs_[at].eval_stamp.push_back(stamp);
    val[at].push_back(v.value);
  }
  columns_["val_ce"] = std::move(val);
  reset_stamp_ = stamp;
  // Keys with more than one value among the runs' configs (or missing from
  // some): what a user colours and groups by.
  std::map<std::string, std::pair<std::string, bool>> seen;  // key -> (first value, varies)
  std::map<std::string, size_t> present;
  for (const Run& run : runs_) {
    if (!run.rec.config.is_object()) continue;
    for (auto it = run.rec.config.begin(); it != run.rec.config.end(); ++it) {
      if (it->is_structured()) continue;
      const std::string v = it->dump();
      auto [at, added] = seen.try_emplace(it.key(), v, false);
      if (!added && at->second.first != v) at->second.second = true;
      ++present[it.key()];
    }
  }
  keys_.clear();
  for (const auto& [key, value] : seen)
    if (value.second || present[key] < runs_.size()) keys_.push_back(key);
  const std::vector<std::string> extra = store.EvalExtraKeys(id_);
  extra_keys_ = std::set<std::string>(extra.begin(), extra.end());
}

bool SweepFeed::RunAt(const std::string& id, size_t* at) const {
  if (*at < runs_.size() && runs_[*at].rec.id == id) return true;  // rows come run by run
  auto it = index_.find(id);
  if (it == index_.end()) return false;
  *at = it->second;
  return true;
}

const SweepFeed::Column& SweepFeed::Values(StoreReader& store, const std::string& metric) {
  auto it = columns_.find(metric);
  if (it != columns_.end()) return it->second;
  Column column(runs_.size());
  for (size_t i = 0; i < runs_.size(); ++i) column[i].resize(runs_[i].steps.size());
  size_t run = 0;
  for (const auto& v : store.EvalValues(id_, metric)) {
    if (!RunAt(v.run_id, &run)) continue;
    const auto& steps = runs_[run].steps;
    auto at = std::lower_bound(steps.begin(), steps.end(), v.step);
    if (at != steps.end() && *at == v.step) column[run][at - steps.begin()] = v.value;
  }
  return columns_[metric] = std::move(column);
}

std::string SweepFeed::View(StoreReader& store, int64_t since,
                            const std::vector<std::string>& metrics, int64_t cursor,
                            const std::string& sweep) {
  std::vector<const Column*> columns;  // per metric
  for (const auto& m : metrics) columns.push_back(&Values(store, m));
  const Column& val_ce = columns_.at("val_ce");
  const bool reset = since < reset_stamp_;
  std::string runs = "[", evals = "{";
  for (size_t i = 0; i < runs_.size(); ++i) {
    const Run& run = runs_[i];
    const RunRecord& r = run.rec;
    if (reset || run.stamp > since) {
      json config = json::object();
      for (const auto& k : keys_)
        if (r.config.is_object() && r.config.contains(k)) config[k] = r.config[k];
      std::optional<double> last, best;
      for (const auto& v : val_ce[i])
        if (v) {
          last = v;
          if (!best || *v < *best) best = v;
        }
      if (runs.size() > 1) runs += ",";
      runs += "{\"id\":";
      AppendString(runs, r.id);
      runs += ",\"label\":";
      AppendString(runs, r.label);
      runs += ",\"position\":";
      AppendInt(runs, r.position);
      runs += ",\"model\":";
      AppendString(runs, r.model);
      runs += ",\"status\":\"";
      runs += ToString(r.status);
      runs += "\",\"attempts\":";
      AppendInt(runs, r.attempts);
      runs += ",\"step\":";
      AppendNumber(runs, r.step ? std::optional<double>(double(*r.step)) : std::nullopt);
      runs += ",\"steps\":";
      runs += r.config.is_object() ? r.config.value("steps", json()).dump() : "null";
      runs += ",\"error\":";
      AppendString(runs, r.error);
      runs += ",\"config\":";
      runs += config.dump(-1, ' ', false, json::error_handler_t::replace);
      runs += ",\"last_val_ce\":";
      AppendNumber(runs, last);
      runs += ",\"best_val_ce\":";
      AppendNumber(runs, best);
      runs += "}";
    }
    // Stamps ascend with the rows: the new rows are a suffix.
    const size_t first =
        reset ? 0
              : size_t(std::upper_bound(run.eval_stamp.begin(), run.eval_stamp.end(), since) -
                       run.eval_stamp.begin());
    if (first == run.steps.size()) continue;
    if (evals.size() > 1) evals += ",";
    AppendString(evals, r.id);
    evals += ":{\"step\":[";
    for (size_t e = first; e < run.steps.size(); ++e) {
      if (e > first) evals += ",";
      AppendInt(evals, run.steps[e]);
    }
    evals += "]";
    for (size_t m = 0; m < metrics.size(); ++m) {
      evals += ",\"" + metrics[m] + "\":[";  // checked by IsEvalMetric: nothing to escape
      for (size_t e = first; e < run.steps.size(); ++e) {
        if (e > first) evals += ",";
        AppendNumber(evals, (*columns[m])[i][e]);
      }
      evals += "]";
    }
    evals += "}";
  }
  json available = json::array();
  for (const char* c : kColumns) available.push_back(c);
  for (const auto& k : extra_keys_) available.push_back("extra." + k);
  std::string out = "{\"cursor\":";
  AppendInt(out, cursor);
  out += ",\"reset\":";
  out += reset ? "true" : "false";
  out += ",\"sweep_id\":";
  AppendInt(out, id_);
  out += ",\"sweep\":" + sweep;
  out += ",\"keys\":" + json(keys_).dump();
  out += ",\"metrics\":" + available.dump();
  out += ",\"runs\":" + runs + "],\"evals\":" + evals + "}}";
  return out;
}

}  // namespace hrm
