// How expanded runs are shown: values, the dry-run table and its JSON.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "base/text_width.h"
#include "runner/grid.h"

namespace hrm {
namespace {

std::string Cell(const json& config, const std::string& key) {
  return config.contains(key) ? ShowValue(config[key]) : "-";
}

}  // namespace

std::string ShowValue(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return fmt::format("{:g}", v.get<double>());
  return v.dump();
}

std::string DryRunTable(const std::vector<ExpandedRun>& runs) {
  std::vector<std::string> columns = {"id", "label", "model"};
  // A key varies when two runs that have it disagree (a key that only some
  // models have, such as L or S, is not a column for that reason alone).
  for (const auto& k : ConfigKeys()) {
    const std::string key = k.name;
    std::set<std::string> values;
    for (const auto& r : runs)
      if (r.config.contains(key)) values.insert(Cell(r.config, key));
    if (key != "model" && values.size() > 1) columns.push_back(key);
  }
  std::vector<std::vector<std::string>> rows = {columns};
  for (const auto& r : runs) {
    std::vector<std::string> row = {r.id, r.label};
    for (size_t c = 2; c < columns.size(); ++c) row.push_back(Cell(r.config, columns[c]));
    rows.push_back(std::move(row));
  }
  std::vector<size_t> width(columns.size(), 0);
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], CodePoints(row[c]));
  std::string out;
  for (const auto& row : rows) {
    for (size_t c = 0; c + 1 < row.size(); ++c) out += PadRight(row[c], width[c] + 2);
    out += row.back() + "\n";
  }
  return out + fmt::format("{} {}\n", runs.size(), runs.size() == 1 ? "run" : "runs");
}

json ExpandedRunsJson(const std::vector<ExpandedRun>& runs) {
  json out = json::array();
  for (const auto& r : runs)
    out.push_back(
        {{"id", r.id}, {"label", r.label}, {"position", r.position}, {"config", r.config}});
  return out;
}

}  // namespace hrm
