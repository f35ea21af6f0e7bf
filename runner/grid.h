// Sweep grids: a YAML file (grids/README.md) that expands into resolved run
// configs. Loading checks the file's shape and every value's key and type;
// expansion crosses runs and axes, drops excluded combinations, applies a
// scale profile and --set overrides, resolves each run and merges duplicates.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "base/config.h"
#include "runner/search_space.h"

namespace hrm {

// A bad grid, profile or override. what() is "file:line: key: reason" (or
// "--set key=value: key: reason" for an override).
class GridError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One value written in a grid, with where it was written ("file:line").
struct GridValue {
  std::string key;
  json value;
  std::string where;
};

// One axis: a single key with its values (a `product` entry or `seeds`), or a
// `zip` group of keys whose value lists have equal length and are paired.
struct GridAxis {
  std::vector<GridValue> keys;  // value: a JSON array, one element per point
  bool trials = false;          // a `search` block's trials (runner/search_space.h)
  size_t size() const { return keys.front().value.size(); }
};

// One entry of `runs` (or the implicit single run when a grid has none).
struct GridRun {
  std::vector<GridValue> values;  // over base; may hold K_frac
  std::string label;              // template with {key} placeholders; "" = none
  std::string label_where;
  std::vector<GridAxis> axes;  // this entry's own product and zip axes
  std::string where;
};

// A profile key: one value for every run, or a map from paper to machine values.
struct ProfileEntry {
  std::string key;
  json value;  // when !is_map
  bool is_map = false;
  std::vector<std::pair<json, json>> map;  // paper value -> machine value
  std::string where;
};

// A scale profile (`paper`, `mini`, `smoke`, ...).
struct GridProfile {
  std::string name;
  std::vector<ProfileEntry> entries;
  std::string where;
};

// A partial config: a run whose values match every key is dropped.
struct GridExclude {
  std::vector<GridValue> values;
  std::string where;
};

// A loaded, shape-checked grid file.
struct Grid {
  std::string path;
  std::string name;  // `name`, default the file stem
  std::string description;
  std::vector<GridValue> base;
  std::string base_label;  // `label` in base: the default label template
  std::string base_label_where;
  std::vector<GridProfile> profiles;
  std::string profiles_where;
  std::string default_profile;  // "" = no profile unless --profile names one
  std::vector<GridRun> runs;    // never empty: one implicit run if none given
  std::vector<GridAxis> axes;   // product axes, zip groups, then seeds
  std::vector<GridExclude> excludes;
  std::optional<SearchSpec> search;  // a `search` block: its trials are one of `axes`
};

// One run of an expanded grid.
struct ExpandedRun {
  std::string id;       // RunId(config)
  std::string label;    // label template filled from config
  json config;          // resolved (ResolveConfig)
  int position;         // 0-based order in the expansion, after merging duplicates
  int trial = -1;       // its point of a search's trials; -1 in a grid without search
  std::string bracket;  // search trials ranked together: a hash of every given value but
                        // the searched ones ("" without search)
};

// Parses a value of a config key, or of the grid-only key K_frac (a number in
// (0, 1]; K = max(1, round(K_frac * M))), from text. Throws ConfigError.
json ParseGridValue(const std::string& key, const std::string& text);

// Reads and checks a grid file. Throws GridError naming file, line and key.
Grid LoadGrid(const std::string& path);

// Expands a grid under a profile ("" = the grid's default_profile) and
// "key=value" overrides applied last. Runs with the same id are merged into
// the first. Throws GridError naming where the offending value was written.
std::vector<ExpandedRun> ExpandGrid(const Grid& grid, const std::string& profile,
                                    const std::vector<std::string>& sets);

// A config value as labels and tables show it: strings bare, floats as %g.
std::string ShowValue(const json& value);

// The expansion as a text table: id, label, model and every key whose value
// differs between runs, then the run count.
std::string DryRunTable(const std::vector<ExpandedRun>& runs);

// The expansion as JSON: an array of {id, label, position, config}.
json ExpandedRunsJson(const std::vector<ExpandedRun>& runs);

}  // namespace hrm
