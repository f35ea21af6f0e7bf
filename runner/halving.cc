// Successive halving decisions (runner/halving.h).
#include "runner/halving.h"

#include <algorithm>
#include <limits>
#include <set>

namespace hrm {
namespace {

// Best first: lower metric, a missing metric last, then grid order.
void Rank(std::vector<std::pair<const RungRow*, int64_t>>& rows) {
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    const double inf = std::numeric_limits<double>::infinity();
    const double ma = a.first->metric.value_or(inf), mb = b.first->metric.value_or(inf);
    if (ma != mb) return ma < mb;
    return a.second < b.second;
  });
}

RungRow Decided(const RungRow& row, const char* decision, size_t among) {
  RungRow out = row;
  out.decision = decision;
  out.among = int64_t(among);
  return out;
}

}  // namespace

std::vector<int64_t> RungSteps(int64_t min_steps, int64_t eta, int64_t steps) {
  std::vector<int64_t> rungs;
  for (int64_t r = min_steps; r < steps; r *= eta) rungs.push_back(r);
  rungs.push_back(steps);
  return rungs;
}

Halving::Halving(std::string type, int64_t eta, std::vector<int64_t> rungs)
    : type_(std::move(type)), eta_(eta), rungs_(std::move(rungs)) {}

Halving::Index Halving::IndexRows(const std::vector<RungRow>& rows) {
  Index index;
  for (const auto& r : rows) index[{r.run_id, r.rung}] = &r;
  return index;
}

int64_t Halving::CurrentRung(const std::string& run_id, const Index& index) const {
  int64_t k = 0;
  while (k + 1 < int64_t(rungs_.size())) {
    auto it = index.find({run_id, k});
    if (it == index.end() || it->second->decision != "promoted") break;
    ++k;
  }
  return k;
}

std::vector<RungRow> Halving::Results(const std::vector<HalvingTrial>& trials,
                                      const std::vector<RungRow>& rows) const {
  const Index index = IndexRows(rows);
  std::vector<RungRow> out;
  for (const auto& t : trials) {
    const int64_t k = CurrentRung(t.run_id, index);
    if (index.count({t.run_id, k})) continue;
    RungRow r;
    r.run_id = t.run_id;
    r.bracket = t.bracket;
    r.rung = k;
    r.step = rungs_[k];
    auto m = t.metric.find(rungs_[k]);
    if (m != t.metric.end())
      r.metric = m->second;
    else if (!t.ended)
      continue;
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<RungRow> Halving::DecideSync(const std::vector<const HalvingTrial*>& bracket,
                                         const Index& index) const {
  std::vector<RungRow> out;
  for (int64_t k = 0; k + 1 < int64_t(rungs_.size()); ++k) {
    std::vector<std::pair<const RungRow*, int64_t>> in_rung;
    bool complete = true, decided = false;
    for (const HalvingTrial* t : bracket) {
      if (CurrentRung(t->run_id, index) < k) continue;  // not promoted into rung k
      auto it = index.find({t->run_id, k});
      if (it == index.end()) {
        complete = false;
        continue;
      }
      decided = decided || !it->second->decision.empty();
      in_rung.emplace_back(it->second, t->position);
    }
    if (decided) continue;  // decided in one transaction: all or none
    if (!complete || in_rung.empty()) break;
    Rank(in_rung);
    const size_t promote = std::max<size_t>(1, in_rung.size() / size_t(eta_));
    for (size_t i = 0; i < in_rung.size(); ++i)
      out.push_back(
          Decided(*in_rung[i].first, i < promote ? "promoted" : "stopped", in_rung.size()));
    break;  // the next rung has no results until the promoted trials train
  }
  return out;
}

std::vector<RungRow> Halving::DecideAsync(const std::vector<const HalvingTrial*>& bracket,
                                          const Index& index, bool idle) const {
  std::vector<RungRow> out;
  for (int64_t k = 0; k + 1 < int64_t(rungs_.size()); ++k) {
    std::vector<std::pair<const RungRow*, int64_t>> in_rung;
    for (const HalvingTrial* t : bracket) {
      auto it = index.find({t->run_id, k});
      if (it != index.end()) in_rung.emplace_back(it->second, t->position);
    }
    Rank(in_rung);
    const size_t quota = in_rung.size() / size_t(eta_);
    size_t promoted = 0, undecided = 0;
    std::set<std::string> now;  // promoted by this call
    for (size_t i = 0; i < in_rung.size(); ++i) {
      const RungRow& r = *in_rung[i].first;
      if (r.decision.empty() && i < quota) {
        out.push_back(Decided(r, "promoted", in_rung.size()));
        now.insert(r.run_id);
        ++promoted;
      } else if (r.decision == "promoted") {
        ++promoted;
      } else if (r.decision.empty()) {
        ++undecided;
      }
    }
    if (!idle || undecided == 0) continue;
    // Nothing left to train: the rest of this rung is stopped, except that
    // a rung which promoted none sends its best on.
    bool sent = promoted > 0;
    for (const auto& [row, position] : in_rung) {
      if (!row->decision.empty() || now.count(row->run_id)) continue;
      out.push_back(Decided(*row, sent ? "stopped" : "promoted", in_rung.size()));
      sent = true;
    }
    if (promoted == 0) break;  // its promoted trial trains on before the next rung closes
  }
  return out;
}

std::vector<RungRow> Halving::Decisions(const std::vector<HalvingTrial>& trials,
                                        const std::vector<RungRow>& rows, bool idle) const {
  const Index index = IndexRows(rows);
  std::map<std::string, std::vector<const HalvingTrial*>> brackets;
  for (const auto& t : trials) brackets[t.bracket].push_back(&t);
  std::vector<RungRow> out;
  for (const auto& [name, members] : brackets) {
    std::vector<RungRow> d =
        type_ == "asha" ? DecideAsync(members, index, idle) : DecideSync(members, index);
    out.insert(out.end(), d.begin(), d.end());
  }
  return out;
}

std::optional<int64_t> Halving::Target(const HalvingTrial& trial,
                                       const std::vector<RungRow>& rows) const {
  const Index index = IndexRows(rows);
  const int64_t k = CurrentRung(trial.run_id, index);
  if (trial.ended || index.count({trial.run_id, k})) return std::nullopt;
  return rungs_[k];
}

}  // namespace hrm
