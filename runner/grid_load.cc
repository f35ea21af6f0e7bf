// Reading a grid file: every key, type and list length is checked here, so
// that expansion only meets errors that depend on combinations of values.
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <set>

#include "runner/grid.h"

namespace hrm {
namespace {

// Profiles scale a run; they may not change what the experiment compares.
const std::set<std::string> kProfileForbidden = {"model",  "L", "M",    "N",  "T",     "K",
                                                 "K_frac", "S", "seed", "lr", "min_lr"};

[[noreturn]] void Fail(const std::string& where, const std::string& key,
                       const std::string& reason) {
  throw GridError(where + ": " + key + ": " + reason);
}

// Reads one YAML file and names its lines as "file:line".
class GridReader {
 public:
  explicit GridReader(std::string path) : path_(std::move(path)) {}

  YAML::Node Load() const {
    try {
      return YAML::LoadFile(path_);
    } catch (const YAML::BadFile&) {
      throw GridError(path_ + ": cannot read grid file");
    } catch (const YAML::Exception& e) {
      throw GridError(path_ + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
  }

  std::string Where(const YAML::Node& n) const {
    return path_ + ":" + std::to_string(n.Mark().line + 1);
  }

  // One entry of a mapping: its key, where the key is written, and the value.
  struct Entry {
    std::string key, where;
    YAML::Node value;
  };

  // The entries of a mapping (`what`, written at `where`), in file order;
  // rejects a non-mapping and keys given twice.
  std::vector<Entry> Entries(const YAML::Node& map, const std::string& what,
                             const std::string& where) const {
    if (!map.IsMap()) Fail(where, what, "expected a mapping");
    std::vector<Entry> entries;
    std::set<std::string> seen;
    for (const auto& kv : map) {
      Entry e{kv.first.Scalar(), Where(kv.first), kv.second};
      if (!seen.insert(e.key).second) Fail(e.where, e.key, "given twice");
      entries.push_back(std::move(e));
    }
    return entries;
  }

  // A scalar value of a config key or of K_frac, checked for type and range.
  json Value(const std::string& key, const YAML::Node& node, const std::string& where) const {
    if (!node.IsScalar()) Fail(where, key, "expected a single value");
    try {
      return ParseGridValue(key, node.Scalar());
    } catch (const ConfigError& e) {
      throw GridError(where + ": " + e.what());
    }
  }

  // A list of values for one axis key.
  GridValue AxisValues(const std::string& key, const std::string& where,
                       const YAML::Node& v) const {
    if (key == "label") Fail(where, key, "labels are not axes; use {key} placeholders");
    if (!v.IsSequence()) Fail(where, key, "expected a list of values");
    if (v.size() == 0) Fail(where, key, "empty axis");
    json values = json::array();
    for (const auto& e : v) values.push_back(Value(key, e, Where(e)));
    return {key, values, where};
  }

  std::vector<GridAxis> Product(const YAML::Node& node, const std::string& where) const {
    std::vector<GridAxis> axes;
    for (const auto& e : Entries(node, "product", where))
      axes.push_back({{AxisValues(e.key, e.where, e.value)}});
    return axes;
  }

  // `zip`: one group (a mapping) or a list of groups.
  std::vector<GridAxis> Zip(const YAML::Node& node, const std::string& where) const {
    std::vector<GridAxis> axes;
    auto group = [&](const YAML::Node& g, const std::string& gwhere) {
      GridAxis axis;
      for (const auto& e : Entries(g, "zip", gwhere)) {
        axis.keys.push_back(AxisValues(e.key, e.where, e.value));
        const GridValue& first = axis.keys.front();
        if (axis.keys.back().value.size() != first.value.size())
          Fail(e.where, e.key,
               "zip lists of unequal length (" + first.key + " has " +
                   std::to_string(first.value.size()) + " values, " + e.key + " has " +
                   std::to_string(e.value.size()) + ")");
      }
      if (axis.keys.empty()) Fail(gwhere, "zip", "empty group");
      axes.push_back(std::move(axis));
    };
    if (node.IsMap()) {
      group(node, where);
    } else if (node.IsSequence() && node.size() > 0) {
      for (const auto& g : node) group(g, Where(g));
    } else {
      Fail(where, "zip", "expected a group {key: [values], ...} or a non-empty list of groups");
    }
    return axes;
  }

  // Config values of `base` or a run entry; `label` goes to *label, and a run
  // entry's own `product`/`zip` to *axes (null where not allowed).
  std::vector<GridValue> Values(const YAML::Node& node, const std::string& what,
                                const std::string& where, std::string* label,
                                std::string* label_where, std::vector<GridAxis>* axes) const {
    std::vector<GridValue> values;
    for (const auto& e : Entries(node, what, where)) {
      if (e.key == "label") {
        if (!e.value.IsScalar()) Fail(e.where, e.key, "expected a string");
        *label = e.value.Scalar();
        *label_where = e.where;
      } else if (axes && e.key == "product") {
        for (auto& a : Product(e.value, e.where)) axes->push_back(std::move(a));
      } else if (axes && e.key == "zip") {
        for (auto& a : Zip(e.value, e.where)) axes->push_back(std::move(a));
      } else {
        values.push_back({e.key, Value(e.key, e.value, e.where), e.where});
      }
    }
    return values;
  }

  ProfileEntry ProfileValue(const std::string& key, const std::string& where,
                            const YAML::Node& v) const {
    ProfileEntry e{key, json(), false, {}, where};
    if (kProfileForbidden.count(key))
      Fail(e.where, key,
           "a profile may not change it (profiles keep the experiment's model, N/T/K/S/L, "
           "seeds and learning rates)");
    if (!FindKey(key)) Fail(e.where, key, "unknown key");
    if (!v.IsMap()) {
      e.value = Value(key, v, e.where);
      return e;
    }
    e.is_map = true;
    if (v.size() == 0) Fail(e.where, key, "empty mapping");
    for (const auto& m : Entries(v, key, e.where)) {
      json from = Value(key, YAML::Node(m.key), m.where), to = Value(key, m.value, m.where);
      for (const auto& [f, t] : e.map)
        if (t == to)
          Fail(m.where, key,
               "maps " + f.dump() + " and " + from.dump() + " both to " + to.dump() +
                   ", which would merge different runs");
      e.map.emplace_back(std::move(from), std::move(to));
    }
    return e;
  }

  std::vector<GridProfile> Profiles(const YAML::Node& node, const std::string& where) const {
    std::vector<GridProfile> profiles;
    for (const auto& named : Entries(node, "profiles", where)) {
      GridProfile p{named.key, {}, named.where};
      for (const auto& e : Entries(named.value, named.key, named.where))
        p.entries.push_back(ProfileValue(e.key, e.where, e.value));
      profiles.push_back(std::move(p));
    }
    return profiles;
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// `profiles` inline, or the name of a file of profiles beside the grid.
void ReadProfiles(const GridReader& r, const YAML::Node& node, const std::string& where, Grid& g) {
  g.profiles_where = where;
  if (!node.IsScalar()) {
    g.profiles = r.Profiles(node, where);
    return;
  }
  const auto file = std::filesystem::path(r.path()).parent_path() / node.Scalar();
  GridReader pr(file.string());
  YAML::Node root = pr.Load();
  g.profiles = pr.Profiles(root, pr.Where(root));
}

void CheckAxesDistinct(const std::vector<GridAxis>& outer, const std::vector<GridAxis>& inner) {
  std::set<std::string> keys;
  for (const auto* axes : {&outer, &inner})
    for (const auto& a : *axes)
      for (const auto& k : a.keys)
        if (!keys.insert(k.key).second) Fail(k.where, k.key, "axis given twice");
}

}  // namespace

json ParseGridValue(const std::string& key, const std::string& text) {
  if (key != "K_frac") {
    if (!FindKey(key)) throw ConfigError(key, "", "unknown key");
    return ParseValue(key, text);
  }
  size_t used = 0;
  double f = 0;
  try {
    f = std::stod(text, &used);
  } catch (const std::exception&) {
  }
  if (used == 0 || used != text.size()) throw ConfigError(key, text, "expected a number");
  if (!(f > 0 && f <= 1)) throw ConfigError(key, text, "must be in (0, 1]");
  return f;
}

Grid LoadGrid(const std::string& path) {
  GridReader r(path);
  YAML::Node root = r.Load();
  Grid g;
  g.path = path;
  g.name = std::filesystem::path(path).stem().string();
  const std::string top = path + ":1";
  std::vector<YAML::Node> runs;  // read once every grid axis is known
  std::string default_profile_where;
  for (const auto& e : r.Entries(root, "(grid)", top)) {
    const std::string& key = e.key;
    auto text = [&] {
      if (!e.value.IsScalar()) Fail(e.where, key, "expected a string");
      return e.value.Scalar();
    };
    if (key == "name") {
      g.name = text();
    } else if (key == "description") {
      g.description = text();
    } else if (key == "base") {
      g.base = r.Values(e.value, key, e.where, &g.base_label, &g.base_label_where, nullptr);
    } else if (key == "profiles") {
      ReadProfiles(r, e.value, e.where, g);
    } else if (key == "default_profile") {
      g.default_profile = text();
      default_profile_where = e.where;
    } else if (key == "runs") {
      if (!e.value.IsSequence()) Fail(e.where, key, "expected a list of runs");
      if (e.value.size() == 0) Fail(e.where, key, "empty list; leave runs out to use base alone");
      for (const auto& run : e.value) runs.push_back(run);
    } else if (key == "product") {
      for (auto& a : r.Product(e.value, e.where)) g.axes.push_back(std::move(a));
    } else if (key == "zip") {
      for (auto& a : r.Zip(e.value, e.where)) g.axes.push_back(std::move(a));
    } else if (key == "seeds") {
      g.axes.push_back({{r.AxisValues("seed", e.where, e.value)}});
    } else if (key == "search") {
      g.search = LoadSearch(e.value, path, e.where);
      g.axes.push_back(TrialAxis(*g.search));
    } else if (key == "exclude") {
      if (!e.value.IsSequence() || e.value.size() == 0)
        Fail(e.where, key, "expected a non-empty list of mappings");
      for (const auto& entry : e.value) {
        GridExclude ex{{}, r.Where(entry)};
        std::string label, label_where;
        ex.values = r.Values(entry, key, ex.where, &label, &label_where, nullptr);
        if (!label_where.empty()) Fail(label_where, "label", "not a key to exclude on");
        if (ex.values.empty()) Fail(ex.where, key, "empty entry would exclude every run");
        g.excludes.push_back(std::move(ex));
      }
    } else {
      Fail(e.where, key, "unknown key");
    }
  }
  CheckAxesDistinct(g.axes, {});
  for (const auto& node : runs) {
    GridRun run;
    run.where = r.Where(node);
    run.values = r.Values(node, "runs", run.where, &run.label, &run.label_where, &run.axes);
    CheckAxesDistinct(g.axes, run.axes);
    g.runs.push_back(std::move(run));
  }
  if (runs.empty()) g.runs.push_back(GridRun{{}, "", "", {}, top});
  if (!default_profile_where.empty()) {
    bool found = false;
    for (const auto& p : g.profiles) found = found || p.name == g.default_profile;
    if (!found) Fail(default_profile_where, "default_profile", "no profile " + g.default_profile);
  }
  return g;
}

}  // namespace hrm
