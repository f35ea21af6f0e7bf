#include "report/custom_tables.h"

#include <map>
#include <optional>
#include <set>

#include "base/param_count.h"
#include "report/aggregate.h"
#include "report/format.h"

namespace hrm {
namespace {

Table Header(const TableSpec& spec) {
  Table t;
  t.name = spec.name;
  t.title = spec.title;
  t.caption = spec.caption;
  return t;
}

void AddColumn(Table& t, const std::string& header, bool published) {
  t.headers.push_back(header);
  t.published.push_back(published);
}

struct TraceColumn {
  const char* metric;
  const char* header;
  int decimals;  // < 0: a yes/no column
};

const TraceColumn kTraceColumns[] = {
    {"trace.h_fired", "H fired", -1},     {"trace.gate_mean", "gate g_L", 3},
    {"trace.zl_norm", "‖z_L‖", 2},        {"trace.zh_norm", "‖z_H‖", 2},
    {"trace.cos_lh", "cos(z_L, z_H)", 3},
};

// The paper's Table 18 (HRM NT=12), in kTraceColumns order; ‖z_H‖ is the
// norm after the step (the paper also prints it before).
const char* const kPaperTrace[][5] = {
    {"", "0.281", "16.36", "56.57", "0.048"}, {"", "0.268", "10.32", "56.57", "0.040"},
    {"✓", "0.281", "8.73", "10.21", "0.084"}, {"", "0.281", "7.94", "10.21", "0.085"},
    {"", "0.288", "7.76", "10.21", "0.080"},  {"✓", "0.292", "7.68", "6.85", "0.134"},
    {"", "0.308", "7.70", "6.85", "0.174"},   {"", "0.313", "7.79", "6.85", "0.182"},
    {"✓", "0.316", "7.82", "8.11", "0.296"},  {"", "0.327", "7.91", "8.11", "0.334"},
    {"", "0.330", "7.97", "8.11", "0.342"},   {"✓", "0.331", "7.99", "8.61", "0.390"},
};

bool HasTrace(const RunRecord& r) {
  for (const auto& m : r.measurements)
    if (m.metric.compare(0, 6, "trace.") == 0) return true;
  return false;
}

std::string FormatBillions(double n) { return FormatFixed(n / 1e9, 2) + "B"; }
std::string FormatGb(double bytes) { return FormatFixed(bytes / 1e9, 1) + " GB"; }

ParamCount CountAt4096(json given) {
  given["d"] = 4096;
  return CountParams(ResolveConfig(given));
}

ColumnSpec ValCeColumn() {
  ColumnSpec c;
  c.kind = ColumnKind::kEval;
  c.field = "val_ce";
  return c;
}

ColumnSpec LatencyColumn() {
  ColumnSpec c;
  c.kind = ColumnKind::kMeasurement;
  c.field = "latency_ms";
  return c;
}

}  // namespace

Table BuildStepTraceTable(const TableSpec& spec, StoreReader& store, const BuildOptions& options) {
  Table t = Header(spec);
  AddColumn(t, spec.row_header, false);
  for (const auto& c : kTraceColumns) {
    AddColumn(t, c.header, false);
    if (options.published) AddColumn(t, std::string(c.header) + " (paper)", true);
  }
  const SweepRecord* sweep = store.FindSweep(spec.sweep);
  const json& match = spec.rows.at(0).match;
  const RunRecord* run = nullptr;
  if (sweep)
    for (const auto& r : sweep->runs)
      if (MatchesConfig(r.config, match) && HasTrace(r) &&
          (!run || (run->status != RunStatus::kDone && r.status == RunStatus::kDone)))
        run = &r;

  std::map<int64_t, std::map<std::string, double>> steps;  // step -> metric -> value
  const int64_t paper_steps = int64_t(sizeof kPaperTrace / sizeof kPaperTrace[0]);
  for (int64_t i = 0; i < paper_steps; ++i) steps[i];
  if (run)
    for (const auto& m : run->measurements)
      if (m.metric.compare(0, 6, "trace.") == 0 && m.extra.contains("step") &&
          m.extra["step"].is_number_integer() && m.value)
        steps[m.extra["step"].get<int64_t>()][m.metric] = *m.value;

  for (const auto& [step, values] : steps) {
    TableRow row;
    row.cells.push_back(std::to_string(step));
    for (size_t c = 0; c < std::size(kTraceColumns); ++c) {
      auto v = values.find(kTraceColumns[c].metric);
      if (v == values.end())
        row.cells.push_back("—");
      else if (kTraceColumns[c].decimals < 0)
        row.cells.push_back(v->second >= 0.5 ? "✓" : "");
      else
        row.cells.push_back(FormatFixed(v->second, kTraceColumns[c].decimals));
      if (options.published) row.cells.push_back(step < paper_steps ? kPaperTrace[step][c] : "");
    }
    t.rows.push_back(std::move(row));
  }
  if (run)
    t.notes.push_back("Trace of run " + run->id + " (" + DescribeModel(run->config) + ", " +
                      ToString(run->status) + ").");
  else
    t.notes.push_back("No " + spec.rows[0].label +
                      " run with a step trace (trace.* measurements) "
                      "in sweep " +
                      spec.sweep + " yet.");
  if (options.published)
    t.notes.push_back(
        "(paper): the paper's HRM NT=12 (N=4, T=3) at d = 4096; ‖z_H‖ after the step.");
  t.notes.push_back(SweepNote(spec.sweep, sweep));
  return t;
}

Table BuildWeightMemoryTable(const TableSpec& spec, StoreReader&, const BuildOptions& options) {
  Table t = Header(spec);
  const char* const headers[] = {"Blocks", "Block params", "bf16 weights", "Block applications",
                                 "Saving vs TF L=12"};
  AddColumn(t, "Model", false);
  for (const char* h : headers) {
    AddColumn(t, h, false);
    if (options.published) AddColumn(t, std::string(h) + " (paper)", true);
  }
  const ParamCount l4 = CountAt4096({{"model", "transformer"}, {"L", 4}});
  const ParamCount l12 = CountAt4096({{"model", "transformer"}, {"L", 12}});
  const ParamCount hrm = CountAt4096({{"model", "hrm"}, {"N", 4}, {"T", 3}});
  struct Line {
    std::string label;
    const ParamCount& count;
    std::string blocks, applications, saving;
    std::vector<std::string> paper;
  };
  const Line lines[] = {
      {"TF L=4", l4, "4 independent", "4", "—", {"4 indep.", "1.07B", "2.1 GB", "4", "—"}},
      {"TF L=12", l12, "12 independent", "12", "—", {"12 indep.", "3.22B", "6.4 GB", "12", "—"}},
      {"HRM (any N, T)",
       hrm,
       "3 shared",
       "1 + M + N (17 at N=4, T=3)",
       FormatFixed(double(l12.block_params) / double(hrm.block_params), 1) + "× fewer",
       {"3 shared", "0.81B", "1.6 GB", "", ""}},
  };
  for (const auto& line : lines) {
    const std::string cells[] = {line.blocks, FormatBillions(double(line.count.block_params)),
                                 FormatGb(2.0 * double(line.count.block_params)), line.applications,
                                 line.saving};
    TableRow row;
    row.cells.push_back(line.label);
    for (size_t i = 0; i < std::size(cells); ++i) {
      row.cells.push_back(cells[i]);
      if (options.published) row.cells.push_back(line.paper[i]);
    }
    t.rows.push_back(std::move(row));
  }
  t.notes.push_back(
      "Block params = blocks · (16d² + 2d); bf16 = 2 bytes each, GB = 10⁹ bytes. "
      "Embedding, gates and norms are left out, as in the paper.");
  if (options.published)
    t.notes.push_back(
        "(paper): its HRM step count and saving cells were lost in the text rendering.");
  return t;
}

Table BuildTurboQuantTable(const TableSpec& spec, StoreReader& store, const BuildOptions& options) {
  Table t = Header(spec);
  AddColumn(t, spec.row_header, false);
  AddColumn(t, "HRM-LM", false);
  if (options.published) AddColumn(t, "HRM-LM (paper)", true);
  AddColumn(t, "TurboQuant (paper)", true);

  const json hrm = {{"model", "hrm"}, {"N", 4}, {"T", 3}};
  const json tl4 = {{"model", "transformer"}, {"L", 4}};
  const ParamCount l12 = CountAt4096({{"model", "transformer"}, {"L", 12}});
  const ParamCount h = CountAt4096(hrm);
  std::string quality = "—", latency = "—";
  const auto ce_hrm = CellNumber(store, "equal_param", hrm, ValCeColumn());
  const auto ce_tl4 = CellNumber(store, "equal_param", tl4, ValCeColumn());
  if (ce_hrm && ce_tl4) quality = FormatSigned(*ce_hrm - *ce_tl4, 3) + " nats vs T-L4 (N=4,T=3)";
  const auto lat_hrm = CellNumber(store, "latency", hrm, LatencyColumn());
  const auto lat_tl4 = CellNumber(store, "latency", tl4, LatencyColumn());
  if (lat_hrm && lat_tl4 && *lat_tl4 > 0)
    latency = FormatFixed(*lat_hrm / *lat_tl4, 2) + "× T-L4's latency (N=4,T=3)";

  const std::vector<std::vector<std::string>> rows = {
      {"Target", "Stored model weights", "Stored model weights", "KV cache activations"},
      {"Stored param. memory",
       FormatFixed(double(l12.block_params) / double(h.block_params), 1) +
           "× fewer block weights than TF L=12",
       "L/3-fold fewer", "Unchanged"},
      {"KV cache memory", "M/L of a Transformer's: 3.00× T-L4's at N=4,T=3 vs L=4",
       "M/L (a saving only when M < L)", "About 3.5 bits per value"},
      {"Quality cost", quality, "None (CE improved)", "Quality-neutral at 3.5 bits"},
      {"Requires retraining", "Yes", "Yes", "No"},
      {"Latency overhead", latency, "Slower (4.5× at N=4,T=3, Table 10)", "Negligible"},
  };
  for (const auto& r : rows) {
    TableRow row;
    row.cells = {r[0], r[1]};
    if (options.published) row.cells.push_back(r[2]);
    row.cells.push_back(r[3]);
    t.rows.push_back(std::move(row));
  }
  t.notes.push_back(
      "Quality cost = val CE of HRM N=4,T=3 − Transformer L=4's; latency overhead "
      "= their forward latency ratio.");
  t.notes.push_back(SweepNote("equal_param", store.FindSweep("equal_param")));
  t.notes.push_back(SweepNote("latency", store.FindSweep("latency")));
  return t;
}

}  // namespace hrm
