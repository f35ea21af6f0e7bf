// How expanded runs are shown: values, and the dry-run table.
#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>

#include "runner/grid.h"

namespace hrm {
namespace {

std::string Cell(const json& config, const std::string& key) {
  return config.contains(key) ? ShowValue(config[key]) : "-";
}

}  // namespace

std::string ShowValue(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v.get<double>());
    return buf;
  }
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
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  std::ostringstream out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c)
      line += row[c] + (c + 1 < row.size() ? std::string(width[c] - row[c].size() + 2, ' ') : "");
    out << line << "\n";
  }
  out << runs.size() << (runs.size() == 1 ? " run" : " runs") << "\n";
  return out.str();
}

}  // namespace hrm
