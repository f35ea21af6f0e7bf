#include "report/table_builder.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "base/param_count.h"
#include "report/aggregate.h"
#include "report/format.h"

namespace hrm {
namespace {

// A cell before formatting.
struct CellValue {
  std::optional<double> value;
  double std = 0;
  int n = 0;         // seeds behind the value (kOnly)
  std::string text;  // the cell when there is no value, or a text column's value
  bool provisional = false, diverged = false, failed = false, ambiguous = false;
};

// A row with its runs resolved: fixed rows as written, expanded rows one per group.
struct ResolvedRow {
  const RowSpec* spec = nullptr;
  std::string label;
  json match = json::object();
  std::string sweep;
  json first_config = json::object();
  std::string run_label;
  std::map<std::string, std::string> paper;
  std::vector<CellValue> cells;
};

using Group = std::vector<const RunRecord*>;

json Merge(json a, const json& b) {
  for (auto it = b.begin(); it != b.end(); ++it) a[it.key()] = it.value();
  return a;
}

std::vector<Group> GroupRuns(const std::vector<const RunRecord*>& runs,
                             const std::vector<std::string>& fields) {
  std::vector<Group> groups;
  std::map<std::string, size_t> index;
  for (const RunRecord* r : runs) {
    const std::string key =
        fields.empty() ? SeedGroupKey(*r) : GroupFields(r->config, fields).dump();
    auto [it, added] = index.emplace(key, groups.size());
    if (added) groups.emplace_back();
    groups[it->second].push_back(r);
  }
  return groups;
}

// What a cell without a value says about its runs.
std::string StatusWord(const std::vector<Group>& groups) {
  std::set<std::string> seen;
  for (const auto& g : groups)
    for (const RunRecord* r : g) seen.insert(ToString(r->status));
  for (const char* s : {"running", "interrupted", "pending", "diverged", "failed"})
    if (seen.count(s)) return s;
  return "—";
}

// The single text of `f(config)` over the groups, "varies" when they differ.
template <typename F>
CellValue SameForAll(const std::vector<Group>& groups, F f) {
  CellValue c;
  std::set<std::string> texts;
  for (const auto& g : groups) {
    CellValue one = f(g.front()->config);
    texts.insert(one.text);
    c = one;
  }
  if (texts.size() > 1) return CellValue{std::nullopt, 0, 0, "varies"};
  return c;
}

CellValue ConfigCell(const ColumnSpec& col, const json& config) {
  CellValue c;
  auto has = [&](const char* k) { return config.contains(k) && config[k].is_number(); };
  switch (col.kind) {
    case ColumnKind::kConfig:
      c.text = config.contains(col.field) ? FormatScalar(config[col.field]) : "—";
      break;
    case ColumnKind::kParams:
      try {
        c.value = double(CountParams(config).params);
        c.text = FormatCount(int64_t(*c.value));
      } catch (const std::exception&) {
        c.text = "?";  // a config too incomplete to count (not a resolved config)
      }
      break;
    case ColumnKind::kKOverM:
      if (has("K") && has("M") && config["M"].get<double>() > 0) {
        c.value = 100.0 * config["K"].get<double>() / config["M"].get<double>();
        c.text = FormatFixed(*c.value, 0) + "%";
      } else {
        c.text = "—";
      }
      break;
    case ColumnKind::kKvSteps: {
      const char* key = config.value("model", "") == std::string("transformer") ? "L" : "M";
      if (has(key)) {
        c.value = config[key].get<double>();
        c.text = FormatScalar(config[key]);
      } else {
        c.text = "—";
      }
      break;
    }
    default:
      break;
  }
  return c;
}

CellValue StatusCell(const std::vector<Group>& groups) {
  std::map<std::string, int> counts;
  for (const auto& g : groups)
    for (const RunRecord* r : g) ++counts[ToString(r->status)];
  CellValue c;
  if (counts.size() == 1) {
    c.text = counts.begin()->first;
    return c;
  }
  std::vector<std::pair<int, std::string>> order;
  for (const auto& [status, n] : counts) order.emplace_back(-n, status);
  std::sort(order.begin(), order.end());
  for (const auto& [n, status] : order)
    c.text += (c.text.empty() ? "" : ", ") + std::to_string(-n) + " " + status;
  return c;
}

CellValue MetricCell(const std::vector<Group>& groups, const ColumnSpec& col, const RowSpec& row) {
  CellValue c;
  if (row.combine == Combine::kOnly && groups.size() > 1) {
    c.text = std::to_string(groups.size()) + " configs";
    c.ambiguous = true;
    return c;
  }
  std::vector<double> group_means;
  Stats only;
  for (const auto& g : groups) {
    std::vector<double> values;
    for (const RunRecord* r : g) {
      const std::optional<double> v = col.kind == ColumnKind::kEval
                                          ? EvalValue(*r, col.field, col.at)
                                          : MeasurementValue(*r, col.field, col.extra);
      if (v && std::isfinite(*v)) values.push_back(*v);
      // A value read at a fixed point the run has passed will not change;
      // a final or best value of an unfinished run may.
      const bool fixed_point =
          col.kind == ColumnKind::kEval && col.at.kind == CurvePoint::kFraction;
      if (IsUnfinished(r->status) && (!v || !fixed_point)) c.provisional = true;
      c.diverged |= r->status == RunStatus::kDiverged;
      c.failed |= r->status == RunStatus::kFailed;
    }
    if (values.empty()) continue;
    only = MeanStd(values);
    group_means.push_back(only.mean);
  }
  if (group_means.empty()) return CellValue{std::nullopt, 0, 0, StatusWord(groups)};
  if (row.combine == Combine::kOnly) {
    c.value = only.mean;
    c.std = only.std;
    c.n = only.n;
  } else {
    c.value = CombineValues(group_means, row.combine, row.top_k);
    c.n = 1;
  }
  return c;
}

std::string Markers(const CellValue& c) {
  return std::string(c.provisional ? "*" : "") + (c.diverged ? "†" : "") + (c.failed ? "‡" : "");
}

// Compares two rows by one order key (a column's value, or a config field,
// which a config column also stands for); missing values sort last (±2).
int CompareKey(const ResolvedRow& a, const ResolvedRow& b, std::string key,
               const std::vector<ColumnSpec>& columns) {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].id != key) continue;
    if (columns[i].kind == ColumnKind::kConfig) {
      key = columns[i].field;
      break;
    }
    const auto& va = a.cells[i].value;
    const auto& vb = b.cells[i].value;
    if (!va || !vb) return va ? -2 : vb ? 2 : 0;
    return *va < *vb ? -1 : *vb < *va ? 1 : 0;
  }
  const bool ha = a.first_config.contains(key), hb = b.first_config.contains(key);
  if (!ha || !hb) return ha ? -2 : hb ? 2 : 0;
  const json& va = a.first_config[key];
  const json& vb = b.first_config[key];
  return va < vb ? -1 : vb < va ? 1 : 0;
}

class Builder {
 public:
  Builder(const TableSpec& spec, StoreReader& store, const BuildOptions& options)
      : spec_(spec), store_(store), options_(options) {}

  Table Build();
  CellValue Evaluate(const ResolvedRow& row, const ColumnSpec& col);

 private:
  const SweepRecord* Sweep(const std::string& grid);
  const std::vector<Group>& Groups(const SweepRecord& sweep, const json& match);
  std::vector<ResolvedRow> Resolve(const RowSpec& row);
  ResolvedRow Fixed(const RowSpec& row, json match);
  void Fill(ResolvedRow& row);
  void Derive(std::vector<ResolvedRow>& rows);
  std::string Text(const CellValue& c, const ColumnSpec& col) const;

  const TableSpec& spec_;
  StoreReader& store_;
  BuildOptions options_;
  std::vector<std::string> sweeps_used_;
  // The seed groups of each (sweep, match): a row's columns mostly share one.
  std::map<std::pair<const SweepRecord*, std::string>, std::vector<Group>> groups_;
};

const SweepRecord* Builder::Sweep(const std::string& grid) {
  if (std::find(sweeps_used_.begin(), sweeps_used_.end(), grid) == sweeps_used_.end())
    sweeps_used_.push_back(grid);
  return store_.FindSweep(grid);
}

const std::vector<Group>& Builder::Groups(const SweepRecord& sweep, const json& match) {
  auto [it, added] = groups_.try_emplace({&sweep, match.dump()});
  if (added) {
    std::vector<const RunRecord*> runs;
    for (const auto& r : sweep.runs)
      if (MatchesConfig(r.config, match)) runs.push_back(&r);
    it->second = GroupRuns(runs, {});
  }
  return it->second;
}

CellValue Builder::Evaluate(const ResolvedRow& row, const ColumnSpec& col) {
  const RowSpec& rs = *row.spec;
  const std::string grid = !col.sweep.empty() ? col.sweep : row.sweep;
  const SweepRecord* sweep = Sweep(grid);
  if (!sweep) return CellValue{std::nullopt, 0, 0, "—"};
  std::vector<Group> groups = Groups(*sweep, Merge(row.match, col.match));
  if (!rs.pick_max.empty() && groups.size() > 1) {
    json best;
    for (const auto& g : groups)
      if (g.front()->config.contains(rs.pick_max) &&
          (best.is_null() || best < g.front()->config[rs.pick_max]))
        best = g.front()->config[rs.pick_max];
    groups.erase(std::remove_if(groups.begin(), groups.end(),
                                [&](const Group& g) {
                                  return g.front()->config.value(rs.pick_max, json()) != best;
                                }),
                 groups.end());
  }
  if (groups.empty()) return CellValue{std::nullopt, 0, 0, "—"};
  switch (col.kind) {
    case ColumnKind::kConfig:
    case ColumnKind::kParams:
    case ColumnKind::kKOverM:
    case ColumnKind::kKvSteps:
      return SameForAll(groups, [&](const json& config) { return ConfigCell(col, config); });
    case ColumnKind::kStatus:
      return StatusCell(groups);
    case ColumnKind::kEval:
    case ColumnKind::kMeasurement:
      return MetricCell(groups, col, rs);
    default:
      return CellValue{};  // derived columns are filled by Derive
  }
}

ResolvedRow Builder::Fixed(const RowSpec& row, json match) {
  ResolvedRow r;
  r.spec = &row;
  r.label = row.label;
  r.match = std::move(match);
  r.sweep = row.sweep.empty() ? spec_.sweep : row.sweep;
  r.paper = row.paper;
  return r;
}

void Builder::Fill(ResolvedRow& row) {
  row.cells.clear();
  for (const auto& col : spec_.columns) row.cells.push_back(Evaluate(row, col));
}

std::vector<ResolvedRow> Builder::Resolve(const RowSpec& row) {
  if (row.section) {
    ResolvedRow r = Fixed(row, row.match);
    r.cells.assign(spec_.columns.size(), CellValue{});
    return {r};
  }
  if (!row.expand) {
    ResolvedRow r = Fixed(row, row.match);
    Fill(r);
    return {r};
  }
  const RowExpansion& ex = row.expansion;
  std::vector<ResolvedRow> rows;
  if (const SweepRecord* sweep = Sweep(row.sweep.empty() ? spec_.sweep : row.sweep)) {
    std::vector<const RunRecord*> runs;
    for (const auto& r : sweep->runs)
      if (MatchesConfig(r.config, row.match)) runs.push_back(&r);
    for (const Group& g : GroupRuns(runs, ex.group_by)) {
      ResolvedRow r = Fixed(row, Merge(row.match, GroupFields(g.front()->config, ex.group_by)));
      r.first_config = g.front()->config;
      r.run_label = g.front()->label;
      Fill(r);
      rows.push_back(std::move(r));
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [&](const ResolvedRow& a, const ResolvedRow& b) {
    for (const auto& key : ex.order) {
      const bool desc = !key.empty() && key[0] == '-';
      const int c = CompareKey(a, b, desc ? key.substr(1) : key, spec_.columns);
      if (c == 2 || c == -2) return c < 0;  // missing values last
      if (c != 0) return desc ? c > 0 : c < 0;
    }
    return false;
  });
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i].label = FillTemplate(row.label, rows[i].first_config,
                                 {{"rank", std::to_string(i + 1)}, {"label", rows[i].run_label}});
    rows[i].paper =
        i < ex.paper_rows.size() ? ex.paper_rows[i].second : std::map<std::string, std::string>{};
  }
  for (size_t i = rows.size(); i < ex.paper_rows.size(); ++i) {
    ResolvedRow r = Fixed(row, row.match);
    r.label = ex.paper_rows[i].first;
    r.paper = ex.paper_rows[i].second;
    r.cells.assign(spec_.columns.size(), CellValue{std::nullopt, 0, 0, "—"});
    rows.push_back(std::move(r));
  }
  return rows;
}

void Builder::Derive(std::vector<ResolvedRow>& rows) {
  auto column = [&](const std::string& id) -> int {
    for (size_t i = 0; i < spec_.columns.size(); ++i)
      if (spec_.columns[i].id == id) return int(i);
    return -1;
  };
  for (size_t ci = 0; ci < spec_.columns.size(); ++ci) {
    const ColumnSpec& col = spec_.columns[ci];
    if (col.kind != ColumnKind::kDelta && col.kind != ColumnKind::kRatio &&
        col.kind != ColumnKind::kDiff)
      continue;
    const int of = column(col.of), minus = column(col.minus);
    for (auto& row : rows) {
      if (row.spec->section) continue;
      CellValue& out = row.cells[ci];
      out = CellValue{std::nullopt, 0, 0, "—"};
      const CellValue* a = of >= 0 ? &row.cells[of] : nullptr;
      const CellValue* b = nullptr;
      if (col.kind == ColumnKind::kDiff) {
        b = minus >= 0 ? &row.cells[minus] : nullptr;
      } else {
        const std::string base = row.spec->baseline.empty() ? spec_.baseline : row.spec->baseline;
        if (row.label == base && col.kind == ColumnKind::kDelta) continue;
        for (const auto& other : rows)
          if (other.label == base && !other.spec->section && of >= 0) b = &other.cells[of];
      }
      if (!a || !b || !a->value || !b->value) continue;
      if (col.kind == ColumnKind::kRatio && *b->value == 0) continue;
      out.value = col.kind == ColumnKind::kRatio ? *a->value / *b->value : *a->value - *b->value;
      out.n = 1;
      out.provisional = a->provisional || b->provisional;
      out.diverged = a->diverged || b->diverged;
      out.failed = a->failed || b->failed;
    }
  }
}

std::string Builder::Text(const CellValue& c, const ColumnSpec& col) const {
  if (!c.value) return c.text;
  std::string s;
  switch (col.kind) {
    case ColumnKind::kEval:
    case ColumnKind::kMeasurement:
      if (col.show == Show::kStd) {
        s = c.n > 1 ? FormatFixed(c.std, col.decimals) : "—";
      } else {
        s = FormatFixed(*c.value, col.decimals);
        if (col.show == Show::kMeanStd && c.n > 1) s += " ± " + FormatFixed(c.std, col.decimals);
      }
      break;
    case ColumnKind::kDelta:
    case ColumnKind::kDiff:
      s = FormatSigned(*c.value, col.decimals);
      break;
    case ColumnKind::kRatio:
      s = FormatFixed(*c.value, col.decimals) + "×";
      break;
    default:
      return c.text;
  }
  return s + Markers(c);
}

Table Builder::Build() {
  std::vector<ResolvedRow> rows;
  for (const auto& row : spec_.rows)
    for (auto& r : Resolve(row)) rows.push_back(std::move(r));
  Derive(rows);

  Table t;
  t.name = spec_.name;
  t.title = spec_.title;
  t.caption = spec_.caption;
  t.headers.push_back(spec_.row_header);
  t.published.push_back(false);
  std::vector<bool> with_paper;
  for (const auto& col : spec_.columns) {
    bool any = false;
    for (const auto& r : rows) any |= r.paper.count(col.id) > 0;
    with_paper.push_back(options_.published && any);
    t.headers.push_back(col.header);
    t.published.push_back(false);
    if (with_paper.back()) {
      t.headers.push_back(col.header + " (paper)");
      t.published.push_back(true);
    }
  }
  bool provisional = false, diverged = false, failed = false, ambiguous = false, spread = false;
  for (const auto& r : rows) {
    TableRow out;
    out.section = r.spec->section;
    out.cells.push_back(r.label);
    if (!out.section) {
      for (size_t i = 0; i < spec_.columns.size(); ++i) {
        const CellValue& c = r.cells[i];
        out.cells.push_back(Text(c, spec_.columns[i]));
        if (with_paper[i]) {
          auto p = r.paper.find(spec_.columns[i].id);
          out.cells.push_back(p == r.paper.end() ? "" : p->second);
        }
        const bool shown = c.value.has_value();
        provisional |= shown && c.provisional;
        diverged |= shown && c.diverged;
        failed |= shown && c.failed;
        ambiguous |= c.ambiguous;
        spread |= shown && c.n > 1 && spec_.columns[i].show == Show::kMeanStd &&
                  (spec_.columns[i].kind == ColumnKind::kEval ||
                   spec_.columns[i].kind == ColumnKind::kMeasurement);
      }
    }
    t.rows.push_back(std::move(out));
  }
  t.notes = spec_.notes;
  if (spread) t.notes.push_back("x ± s: mean ± standard deviation (population) over seeds.");
  if (provisional) t.notes.push_back("* a run is still pending or running: the value may change.");
  if (diverged)
    t.notes.push_back(
        "† a run diverged (NaN/inf loss or exploding gradient norm); "
        "its value is the last one before.");
  if (failed) t.notes.push_back("‡ a run failed; the value is from the runs that have one.");
  if (ambiguous)
    t.notes.push_back(
        "\"N configs\": several configurations match the row (choose one with "
        "--profile, or the grid differs from the paper's).");
  if (options_.published &&
      std::find(with_paper.begin(), with_paper.end(), true) != with_paper.end())
    t.notes.push_back("(paper): the value the paper prints, at the paper's scale.");
  for (const auto& grid : sweeps_used_) t.notes.push_back(SweepNote(grid, store_.FindSweep(grid)));
  return t;
}

}  // namespace

std::string SweepNote(const std::string& grid, const SweepRecord* sweep) {
  if (!sweep) {
    const std::string first = grid.substr(0, grid.find('|'));
    std::string names = grid;
    for (size_t i; (i = names.find('|')) != std::string::npos;) names.replace(i, 1, " or ");
    return "No sweep of grid " + names + " in this store yet (hrm sweep grids/" + first + ".yaml).";
  }
  std::map<std::string, int> counts;
  for (const auto& r : sweep->runs) ++counts[ToString(r.status)];
  const size_t n = sweep->runs.size();
  std::string s =
      "Data: sweep " + sweep->name + ", " + std::to_string(n) + (n == 1 ? " run" : " runs");
  std::string parts;
  for (const char* status : {"done", "running", "interrupted", "pending", "diverged", "failed"})
    if (counts[status])
      parts += (parts.empty() ? "" : ", ") + std::to_string(counts[status]) + " " + status;
  return s + (parts.empty() ? "" : " (" + parts + ")") + ".";
}

Table BuildTable(const TableSpec& spec, StoreReader& store, const BuildOptions& options) {
  if (spec.build) return spec.build(spec, store, options);
  return Builder(spec, store, options).Build();
}

std::optional<double> CellNumber(StoreReader& store, const std::string& sweep, const json& match,
                                 const ColumnSpec& column) {
  TableSpec spec;
  RowSpec row;
  Builder builder(spec, store, BuildOptions{});
  ResolvedRow r;
  r.spec = &row;
  r.match = match;
  r.sweep = sweep;
  return builder.Evaluate(r, column).value;
}

}  // namespace hrm
