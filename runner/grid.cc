// Grid expansion: runs x axes, excludes, profile, overrides, resolution,
// labels and merging of duplicate runs, in that order (grids/README.md).
#include "runner/grid.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "base/sha256.h"

namespace hrm {
namespace {

[[noreturn]] void Fail(const std::string& where, const std::string& key,
                       const std::string& reason) {
  throw GridError(where + ": " + key + ": " + reason);
}

// A run's given values, each with where it was written (or which --set).
struct Given {
  json values = json::object();
  std::map<std::string, std::string> where;
  void Set(const std::string& key, const json& value, const std::string& at) {
    values[key] = value;
    where[key] = at;
  }
};

// One combination before resolution, at the paper's scale until a profile applies.
struct PendingRun {
  Given given;
  const GridRun* entry;
  int trial = -1;
};

// The value a run has for key before resolution: given, else the key's
// default; null where it is derived.
json GivenOrDefault(const Given& g, const std::string& key) {
  if (g.values.contains(key)) return g.values[key];
  const KeySpec* spec = FindKey(key);
  return spec ? spec->default_value : json();
}

std::string Show(const json& v) { return v.is_null() ? "(derived)" : ShowValue(v); }

// Appends every point of axes[i..] (the last axis varying fastest) to out.
void Cross(const std::vector<const GridAxis*>& axes, size_t i, const PendingRun& run,
           std::vector<PendingRun>& out) {
  if (i == axes.size()) {
    out.push_back(run);
    return;
  }
  for (size_t p = 0; p < axes[i]->size(); ++p) {
    PendingRun next = run;
    for (const auto& k : axes[i]->keys) next.given.Set(k.key, k.value[p], k.where);
    if (axes[i]->trials) next.trial = int(p);
    Cross(axes, i + 1, next, out);
  }
}

std::vector<PendingRun> CrossRuns(const Grid& g) {
  std::vector<PendingRun> out;
  for (const auto& entry : g.runs) {
    PendingRun run{{}, &entry, -1};
    for (const auto& v : g.base) run.given.Set(v.key, v.value, v.where);
    for (const auto& v : entry.values) run.given.Set(v.key, v.value, v.where);
    std::vector<const GridAxis*> axes;
    for (const auto& a : entry.axes) axes.push_back(&a);
    for (const auto& a : g.axes) axes.push_back(&a);
    Cross(axes, 0, run, out);
  }
  return out;
}

void Exclude(const Grid& g, std::vector<PendingRun>& runs) {
  for (const auto& ex : g.excludes) {
    auto matches = [&](const PendingRun& r) {
      for (const auto& v : ex.values)
        if (GivenOrDefault(r.given, v.key) != v.value) return false;
      return true;
    };
    const size_t before = runs.size();
    runs.erase(std::remove_if(runs.begin(), runs.end(), matches), runs.end());
    if (runs.size() == before) Fail(ex.where, "exclude", "matches no run");
    if (runs.empty()) Fail(ex.where, "exclude", "leaves no run");
  }
}

const GridProfile* FindProfile(const Grid& g, const std::string& requested) {
  const std::string name = requested.empty() ? g.default_profile : requested;
  if (name.empty()) return nullptr;
  std::string have;
  for (const auto& p : g.profiles) {
    if (p.name == name) return &p;
    have += (have.empty() ? "" : ", ") + p.name;
  }
  Fail(g.profiles_where.empty() ? g.path + ":1" : g.profiles_where, "profile",
       "no profile " + name + (have.empty() ? " (the grid defines none)" : " (have " + have + ")"));
}

// Replaces paper values by machine values. A single value may not replace
// values that differ between runs: that would silently merge them.
void ApplyProfile(const GridProfile& p, std::vector<PendingRun>& runs) {
  for (const auto& e : p.entries) {
    if (!e.is_map) {
      std::vector<json> seen;
      for (const auto& r : runs) {
        json v = GivenOrDefault(r.given, e.key);
        if (std::find(seen.begin(), seen.end(), v) == seen.end()) seen.push_back(v);
      }
      if (seen.size() > 1) {
        std::string list;
        for (const auto& v : seen) list += (list.empty() ? "" : ", ") + Show(v);
        Fail(e.where, e.key,
             "profile " + p.name + " sets one value but the runs use " + list +
                 "; map each value instead, {paper: machine}");
      }
      for (auto& r : runs) r.given.Set(e.key, e.value, e.where);
      continue;
    }
    for (auto& r : runs) {
      json v = GivenOrDefault(r.given, e.key);
      auto hit =
          std::find_if(e.map.begin(), e.map.end(), [&](const auto& m) { return m.first == v; });
      if (hit == e.map.end())
        Fail(e.where, e.key,
             "profile " + p.name + " has no entry for " + Show(v) + " (run at " + r.entry->where +
                 ")");
      r.given.Set(e.key, hit->second, e.where);
    }
  }
}

// Whether runs of this model have key (K_frac: whether they have K), judged
// from the model's defaults so that the key table stays in base/config.cc.
bool ModelHasKey(const json& model, const std::string& key) {
  return ResolveConfig(json{{"model", model}}).contains(key == "K_frac" ? "K" : key);
}

// Applies --set overrides to the runs whose model has the key (so --set K=4
// leaves a Transformer alone); K and K_frac replace each other.
void ApplySets(const std::vector<std::string>& sets, std::vector<PendingRun>& runs) {
  for (const auto& s : sets) {
    const std::string where = "--set " + s;
    const size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0) Fail(where, s, "expected key=value");
    const std::string key = s.substr(0, eq);
    json value;
    try {
      value = ParseGridValue(key, s.substr(eq + 1));
    } catch (const ConfigError& e) {
      throw GridError(where + ": " + e.what());
    }
    bool reached = false;
    for (auto& r : runs) {
      if (!ModelHasKey(GivenOrDefault(r.given, "model"), key)) continue;
      reached = true;
      if (key == "K") r.given.values.erase("K_frac");
      if (key == "K_frac") r.given.values.erase("K");
      r.given.Set(key, value, where);
    }
    if (!reached && !runs.empty()) Fail(where, key, "no run of this grid has this key");
  }
}

// ResolveConfig, after turning K_frac into K = max(1, round(K_frac * M)).
json ResolveGiven(json given) {
  if (!given.contains("K_frac")) return ResolveConfig(given);
  const json frac = given["K_frac"];
  given.erase("K_frac");
  if (given.contains("K")) throw ConfigError("K_frac", Show(frac), "give K or K_frac, not both");
  const json first = ResolveConfig(given);
  if (!first.contains("M"))
    throw ConfigError("K_frac", Show(frac),
                      "not a key of model " + first["model"].get<std::string>());
  given["K"] = std::max<int64_t>(1, std::llround(frac.get<double>() * first["M"].get<int64_t>()));
  return ResolveConfig(given);
}

json Resolve(const PendingRun& r, const std::vector<std::string>& sets) {
  try {
    return ResolveGiven(r.given.values);
  } catch (const ConfigError& e) {
    // A derived K reports where its K_frac was written.
    std::string key = e.key == "K" && r.given.values.contains("K_frac") ? "K_frac" : e.key;
    auto at = r.given.where.find(key);
    std::string where = at == r.given.where.end() ? r.entry->where : at->second;
    std::string context;
    if (!sets.empty() && where.rfind("--set", 0) != 0) {
      for (const auto& s : sets) context += (context.empty() ? " (with --set " : ", ") + s;
      context += ")";
    }
    throw GridError(where + ": " + e.what() + context);
  }
}

// The run's label: its entry's template, else base's, else the model and the
// keys the entry sets; {key} placeholders filled from the resolved config.
std::string Label(const Grid& g, const PendingRun& r, const json& config) {
  std::string tmpl = r.entry->label, where = r.entry->label_where;
  if (tmpl.empty()) tmpl = g.base_label, where = g.base_label_where;
  if (tmpl.empty()) {
    if (r.entry->values.empty()) return g.name;
    tmpl = "{model}";
    for (const auto& v : r.entry->values)
      if (v.key != "model") tmpl += " " + v.key + "={" + v.key + "}";
  }
  std::string out;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] != '{') {
      out += tmpl[i];
      continue;
    }
    const size_t close = tmpl.find('}', i);
    if (close == std::string::npos) Fail(where, "label", "unclosed { in \"" + tmpl + "\"");
    const std::string key = tmpl.substr(i + 1, close - i - 1);
    if (config.contains(key))
      out += Show(config[key]);
    else if (key == "K_frac" && r.given.values.contains(key))
      out += Show(r.given.values[key]);
    else
      Fail(where, "label", "placeholder {" + key + "} names no key of this run");
    i = close;
  }
  return out;
}

// The trials of one bracket share every given value but the searched ones.
std::string Bracket(const Grid& g, const PendingRun& r) {
  if (r.trial < 0) return "";
  json rest = r.given.values;
  for (const auto& a : g.axes)
    if (a.trials)
      for (const auto& k : a.keys) rest.erase(k.key);
  return Sha256Hex(rest.dump()).substr(0, 12);
}

}  // namespace

std::vector<ExpandedRun> ExpandGrid(const Grid& grid, const std::string& profile,
                                    const std::vector<std::string>& sets) {
  const GridProfile* p = FindProfile(grid, profile);
  std::vector<PendingRun> pending = CrossRuns(grid);
  Exclude(grid, pending);
  if (p) ApplyProfile(*p, pending);
  ApplySets(sets, pending);
  std::vector<ExpandedRun> runs;
  std::set<std::string> ids;
  for (const auto& r : pending) {
    json config = Resolve(r, sets);
    std::string label = Label(grid, r, config);
    std::string id = RunId(config);
    if (!ids.insert(id).second) continue;  // the same run, listed once
    runs.push_back({id, label, config, static_cast<int>(runs.size()), r.trial, Bracket(grid, r)});
  }
  return runs;
}

}  // namespace hrm
