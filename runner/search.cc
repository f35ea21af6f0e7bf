// The search driver (runner/search.h).
#include "runner/search.h"

#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

namespace hrm {
namespace {

[[noreturn]] void Fail(const std::string& where, const std::string& key,
                       const std::string& reason) {
  throw GridError(where + ": " + key + ": " + reason);
}

// Tests kill the runner at the points a crash is most costly:
// HRM_SEARCH_FAULT=after_results (rung results written, their decisions not
// yet) or after_decisions. SIGKILL, as kill -9 would.
void FaultPoint(const char* name) {
  const char* want = std::getenv("HRM_SEARCH_FAULT");
  if (want && std::string(want) == name) ::raise(SIGKILL);
}

}  // namespace

json SearchPlan::ToJson() const {
  json j = {{"sampler", spec.sampler},
            {"trials", spec.trials},
            {"seed", spec.seed},
            {"keys", SearchedKeys(spec)},
            {"rungs", rungs}};
  if (!spec.scheduler.type.empty())
    j["scheduler"] = {{"type", spec.scheduler.type},
                      {"reduction_factor", spec.scheduler.eta},
                      {"metric", spec.scheduler.metric}};
  return j;
}

std::string SearchPlan::Describe() const {
  std::set<std::string> brackets;
  for (const auto& [id, b] : bracket_of) brackets.insert(b);
  std::ostringstream out;
  out << "search: " << spec.trials << " trials (" << spec.sampler << ", seed " << spec.seed
      << ") in " << brackets.size() << " bracket" << (brackets.size() == 1 ? "" : "s");
  if (!rungs.empty()) {
    out << "; " << spec.scheduler.type << " (η = " << spec.scheduler.eta << ", "
        << spec.scheduler.metric << ") at rungs";
    for (size_t i = 0; i < rungs.size(); ++i) out << (i ? ", " : " ") << rungs[i];
  }
  out << "\n";
  return out.str();
}

SearchPlan PlanSearch(const SearchSpec& spec, const std::vector<ExpandedRun>& runs) {
  SearchPlan plan;
  plan.spec = spec;
  for (const auto& r : runs) {
    plan.bracket_of[r.id] = r.bracket;
    plan.trials.push_back(r.id);
  }
  const SearchScheduler& s = spec.scheduler;
  if (s.type.empty() || runs.empty()) return plan;
  const std::string key = s.min_steps > 0 ? "scheduler.min_steps" : "scheduler.min_evals";
  const json& first = runs.front().config;
  const int64_t steps = first["steps"], eval_interval = first["eval_interval"];
  for (const auto& r : runs) {
    if (r.config.value("protocol", "train") != "train")
      Fail(s.where, "scheduler", "successive halving needs training runs (protocol: train)");
    if (r.config["steps"] != first["steps"] || r.config["eval_interval"] != first["eval_interval"])
      Fail(s.where, "scheduler",
           "trials differ in steps or eval_interval (" + r.label + " and " + runs.front().label +
               "); successive halving compares runs of one schedule");
  }
  const int64_t min_steps = s.min_steps > 0 ? s.min_steps : s.min_evals * eval_interval;
  if (min_steps >= steps)
    Fail(s.where, key,
         "the first rung (step " + std::to_string(min_steps) + ") is not below steps (" +
             std::to_string(steps) + ")");
  plan.rungs = RungSteps(min_steps, s.eta, steps);
  for (int64_t r : plan.rungs)
    if (r % eval_interval != 0 && r != steps)
      Fail(s.where, key,
           "rung at step " + std::to_string(r) + " falls between evaluations (eval_interval " +
               std::to_string(eval_interval) + ")");
  return plan;
}

Search::Search(SearchPlan plan, RunStore& store, int64_t sweep_id)
    : plan_(std::move(plan)), store_(store), sweep_id_(sweep_id) {
  store_.PutSearch(sweep_id_, plan_.ToJson());
  if (!plan_.rungs.empty())
    halving_ =
        std::make_unique<Halving>(plan_.spec.scheduler.type, plan_.spec.scheduler.eta, plan_.rungs);
}

std::vector<HalvingTrial> Search::Snapshot() {
  std::vector<HalvingTrial> trials;
  const bool val = plan_.spec.scheduler.metric != "train_ce";
  int64_t position = 0;
  for (const auto& id : plan_.trials) {
    HalvingTrial t;
    t.run_id = id;
    t.bracket = plan_.bracket_of.at(id);
    t.position = position++;
    const auto run = store_.GetRun(id);
    t.ended = run && (run->status == RunStatus::kDiverged || run->status == RunStatus::kFailed);
    for (const auto& e : store_.EvalHistory(id)) {
      const std::optional<double>& m = val ? e.val_ce : e.train_ce;
      if (m) t.metric[e.step] = *m;
    }
    trials.push_back(std::move(t));
  }
  return trials;
}

std::vector<std::string> Search::Advance(const std::set<std::string>& busy) {
  target_.clear();
  std::vector<std::string> work;
  if (!halving_) {  // sampled trials, each trained to the end, queued once as a sweep's runs
    if (queued_all_) return work;
    queued_all_ = true;
    for (const auto& id : plan_.trials) {
      const auto run = store_.GetRun(id);
      if (busy.count(id) ||
          (run && (run->status == RunStatus::kDone || run->status == RunStatus::kDiverged)))
        continue;
      target_[id] = -1;
      work.push_back(id);
    }
    return work;
  }
  std::vector<HalvingTrial> trials = Snapshot();
  std::vector<RungRow> rows = store_.RungResults(sweep_id_);
  for (;;) {
    std::vector<RungRow> results = halving_->Results(trials, rows);
    if (!results.empty()) {
      store_.AddRungResults(sweep_id_, results);
      rows = store_.RungResults(sweep_id_);
    }
    bool idle = busy.empty();
    for (const auto& t : trials) idle = idle && !halving_->Target(t, rows);
    std::vector<RungRow> decisions = halving_->Decisions(trials, rows, idle);
    if (decisions.empty()) break;
    if (!results.empty()) FaultPoint("after_results");
    store_.DecideRungs(sweep_id_, decisions);
    FaultPoint("after_decisions");
    rows = store_.RungResults(sweep_id_);
  }
  std::vector<std::pair<int64_t, std::string>> ranked;  // (-step, position order kept)
  for (const auto& t : trials) {
    const auto step = halving_->Target(t, rows);
    if (!step) continue;
    target_[t.run_id] = *step == plan_.rungs.back() ? -1 : *step;
    if (!busy.count(t.run_id)) ranked.emplace_back(-*step, t.run_id);
  }
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [step, id] : ranked) work.push_back(id);
  return work;
}

int64_t Search::StopAfter(const std::string& run_id) const {
  auto it = target_.find(run_id);
  return it == target_.end() ? -1 : it->second;
}

}  // namespace hrm
