// The search report (report/search_report.h).
#include "report/search_report.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "report/format.h"
#include "report/html_page.h"
#include "report/table.h"
#include "store/store_reader.h"

namespace hrm {
namespace {

struct Trial {
  std::string run_id, label, status;
  int64_t position = 0;
  json config;
  std::optional<double> final_metric;  // at the highest rung it reached
  int64_t rung = -1;                   // highest rung reached
  std::string decision;                // there
};

struct RungEntry {
  std::string run_id;
  int64_t rung, step;
  std::optional<double> metric;
  std::string decision, decided_at;
  int64_t among;
};

struct SearchData {
  std::string sweep;
  json spec;
  std::vector<std::string> keys;
  std::vector<Trial> trials;  // grid order
  std::vector<RungEntry> rungs;
};

std::string MetricOf(const json& spec) {
  return spec.contains("scheduler") ? spec["scheduler"].value("metric", "val_ce") : "val_ce";
}

// The search of sweep `sweep` (its name, or a prefix naming one sweep), read
// through the store's read-only API.
SearchData Read(const std::string& path, const std::string& sweep) {
  StoreReader store(path);
  std::optional<SweepRow> found;
  int prefixed = 0;
  for (const SweepOverview& o : store.Sweeps()) {
    if (o.sweep.name == sweep) {
      found = o.sweep;
      prefixed = 1;
      break;
    }
    if (o.sweep.name.rfind(sweep, 0) == 0) {
      found = o.sweep;
      ++prefixed;
    }
  }
  if (!found || prefixed != 1) throw std::runtime_error("store " + path + ": no sweep " + sweep);
  SearchData d;
  d.sweep = found->name;
  const std::optional<json> spec = store.GetSearch(found->id);
  if (!spec) throw std::runtime_error("store " + path + ": sweep " + d.sweep + " is not a search");
  d.spec = *spec;
  d.keys = d.spec.value("keys", std::vector<std::string>{});
  std::map<std::string, std::optional<double>> last;  // each run's last evaluation
  for (const auto& v : store.EvalValues(found->id, MetricOf(d.spec))) last[v.run_id] = v.value;
  for (const RunRecord& r : store.SweepRuns(found->id))
    d.trials.push_back({r.id, r.label, ToString(r.status), r.position, r.config, last[r.id]});
  for (const RungRow& r : store.RungResults(found->id))
    d.rungs.push_back({r.run_id, r.rung, r.step, r.metric, r.decision, r.decided_at, r.among});
  // By rung, each rung's results best first, trials without a result last.
  std::stable_sort(d.rungs.begin(), d.rungs.end(), [](const RungEntry& a, const RungEntry& b) {
    if (a.rung != b.rung) return a.rung < b.rung;
    if (a.metric.has_value() != b.metric.has_value()) return a.metric.has_value();
    return a.metric && *a.metric < *b.metric;
  });
  for (auto& tr : d.trials)
    for (const auto& e : d.rungs)
      if (e.run_id == tr.run_id && e.rung > tr.rung) {
        tr.rung = e.rung;
        tr.decision = e.decision;
        tr.final_metric = e.metric;
      }
  return d;
}

std::string Metric(const std::optional<double>& m) { return m ? FormatFixed(*m, 4) : "–"; }

std::string MetricName(const SearchData& d) {
  return MetricOf(d.spec);
}

Table TrialsTable(const SearchData& d) {
  Table t;
  t.name = "search";
  t.title = "Search " + d.sweep + ": trials, best first";
  t.caption = std::to_string(d.trials.size()) + " trials (" + d.spec.value("sampler", "") +
              ", seed " + std::to_string(d.spec.value("seed", 0)) + "); " + MetricName(d) +
              " at the highest rung each reached.";
  t.headers = {"rank", "trial", "run"};
  for (const auto& k : d.keys) t.headers.push_back(k);
  for (const char* h : {"step", "metric", "status"}) t.headers.push_back(h);
  t.headers[t.headers.size() - 2] = MetricName(d);
  std::vector<const Trial*> order;
  for (const auto& tr : d.trials) order.push_back(&tr);
  std::stable_sort(order.begin(), order.end(), [](const Trial* a, const Trial* b) {
    if (a->rung != b->rung) return a->rung > b->rung;  // furthest first
    const double inf = std::numeric_limits<double>::infinity();
    return a->final_metric.value_or(inf) < b->final_metric.value_or(inf);
  });
  const json rungs = d.spec.value("rungs", json::array());
  int rank = 0;
  for (const Trial* tr : order) {
    TableRow row;
    row.cells = {std::to_string(++rank), tr->label, tr->run_id};
    for (const auto& k : d.keys) row.cells.push_back(FormatScalar(tr->config.value(k, json())));
    row.cells.push_back(tr->rung >= 0 && tr->rung < int64_t(rungs.size())
                            ? std::to_string(rungs[tr->rung].get<int64_t>())
                            : "–");
    row.cells.push_back(Metric(tr->final_metric));
    row.cells.push_back(tr->status == "done"   ? "done"
                        : tr->decision.empty() ? tr->status
                                               : tr->decision);
    t.rows.push_back(row);
  }
  return t;
}

Table RungTable(const SearchData& d) {
  Table t;
  t.name = "search_rungs";
  t.title = "Search " + d.sweep + ": rungs";
  const json sched = d.spec.value("scheduler", json::object());
  t.caption = sched.empty() ? "No scheduler: every trial trained to the end."
                            : sched.value("type", "") + ", reduction factor " +
                                  std::to_string(sched.value("reduction_factor", 0)) +
                                  "; each rung's results best first, with the decision taken.";
  t.headers = {"rung", "step", "trial", "run", MetricName(d), "decision", "among"};
  std::map<std::string, const Trial*> by_id;
  for (const auto& tr : d.trials) by_id[tr.run_id] = &tr;
  int64_t last = -1;
  for (const auto& e : d.rungs) {
    if (e.rung != last) {
      t.rows.push_back(
          {{"rung " + std::to_string(e.rung) + " (step " + std::to_string(e.step) + ")"}, true});
      last = e.rung;
    }
    const Trial* tr = by_id.count(e.run_id) ? by_id[e.run_id] : nullptr;
    t.rows.push_back({{std::to_string(e.rung), std::to_string(e.step), tr ? tr->label : "",
                       e.run_id, Metric(e.metric), e.decision.empty() ? "–" : e.decision,
                       e.among ? std::to_string(e.among) : "–"},
                      false});
  }
  return t;
}

// Blue (best) to red (worst) along the metric's range.
std::string Colour(double v, double lo, double hi) {
  const double f = hi > lo ? (v - lo) / (hi - lo) : 0;
  char buf[16];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", int(40 + 200 * f), 60, int(240 - 200 * f));
  return buf;
}

// A searched value as a number for an axis (a choice's index for text).
double AxisValue(const json& v, const std::vector<json>& seen) {
  if (v.is_number()) return v.get<double>();
  return double(std::find(seen.begin(), seen.end(), v) - seen.begin());
}

struct Axis {
  std::string name;
  double lo = 0, hi = 1;
  bool log = false;
  std::vector<json> values;
  double Scale(double v) const {
    if (log) v = std::log10(v);
    const double a = log ? std::log10(lo) : lo, b = log ? std::log10(hi) : hi;
    return b > a ? (v - a) / (b - a) : 0.5;
  }
};

std::vector<Axis> Axes(const SearchData& d) {
  std::vector<Axis> axes;
  for (const auto& k : d.keys) {
    Axis a{k};
    for (const auto& tr : d.trials) {
      const json v = tr.config.value(k, json());
      if (std::find(a.values.begin(), a.values.end(), v) == a.values.end()) a.values.push_back(v);
    }
    std::vector<double> nums;
    for (const auto& v : a.values) nums.push_back(AxisValue(v, a.values));
    if (nums.empty()) continue;
    a.lo = *std::min_element(nums.begin(), nums.end());
    a.hi = *std::max_element(nums.begin(), nums.end());
    a.log = a.lo > 0 && a.hi / a.lo >= 20;  // learning rates and the like
    axes.push_back(a);
  }
  return axes;
}

std::pair<double, double> MetricRange(const SearchData& d) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& tr : d.trials)
    if (tr.final_metric) lo = std::min(lo, *tr.final_metric), hi = std::max(hi, *tr.final_metric);
  return {lo, hi};
}

std::string ParallelCoordinates(const SearchData& d) {
  std::vector<Axis> axes = Axes(d);
  auto [lo, hi] = MetricRange(d);
  Axis metric{MetricName(d), lo, hi};
  axes.push_back(metric);
  const int w = 160 * int(axes.size()) + 80, h = 360, top = 40, bottom = 320;
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << w << "\" height=\"" << h
    << "\" font-family=\"sans-serif\" font-size=\"11\">\n<title>" << HtmlEscape(d.sweep)
    << ": parallel coordinates</title>\n";
  auto x = [&](size_t i) { return 60 + 160 * int(i); };
  for (const auto& tr : d.trials) {
    if (!tr.final_metric) continue;
    s << "<polyline fill=\"none\" stroke-opacity=\"0.8\" stroke=\""
      << Colour(*tr.final_metric, lo, hi) << "\" points=\"";
    for (size_t i = 0; i < axes.size(); ++i) {
      const double v = i + 1 == axes.size()
                           ? *tr.final_metric
                           : AxisValue(tr.config.value(axes[i].name, json()), axes[i].values);
      s << x(i) << "," << FormatFixed(bottom - (bottom - top) * axes[i].Scale(v), 1) << " ";
    }
    s << "\"><title>" << HtmlEscape(tr.label) << " " << Metric(tr.final_metric)
      << "</title></polyline>\n";
  }
  for (size_t i = 0; i < axes.size(); ++i) {
    s << "<line x1=\"" << x(i) << "\" x2=\"" << x(i) << "\" y1=\"" << top << "\" y2=\"" << bottom
      << "\" stroke=\"#333\"/>\n<text x=\"" << x(i) << "\" y=\"" << top - 12
      << "\" text-anchor=\"middle\" font-weight=\"bold\">" << HtmlEscape(axes[i].name)
      << "</text>\n";
    const bool numeric = i + 1 == axes.size() || axes[i].values.front().is_number();
    const std::string hi_text = numeric ? FormatScalar(axes[i].hi) : axes[i].values.back().dump();
    const std::string lo_text = numeric ? FormatScalar(axes[i].lo) : axes[i].values.front().dump();
    s << "<text x=\"" << x(i) + 4 << "\" y=\"" << top + 4 << "\">" << HtmlEscape(hi_text)
      << "</text>\n<text x=\"" << x(i) + 4 << "\" y=\"" << bottom + 14 << "\">"
      << HtmlEscape(lo_text) << "</text>\n";
  }
  s << "</svg>\n";
  return s.str();
}

std::string Scatter(const SearchData& d, const Axis& axis) {
  auto [lo, hi] = MetricRange(d);
  const int w = 360, h = 260, left = 56, right = 340, top = 20, bottom = 220;
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << w << "\" height=\"" << h
    << "\" font-family=\"sans-serif\" font-size=\"11\">\n<title>" << HtmlEscape(MetricName(d))
    << " vs " << HtmlEscape(axis.name) << "</title>\n<rect x=\"" << left << "\" y=\"" << top
    << "\" width=\"" << right - left << "\" height=\"" << bottom - top
    << "\" fill=\"none\" stroke=\"#333\"/>\n";
  for (const auto& tr : d.trials) {
    if (!tr.final_metric) continue;
    const double px = left + (right - left) * axis.Scale(AxisValue(
                                                  tr.config.value(axis.name, json()), axis.values));
    const double py =
        bottom - (bottom - top) * (hi > lo ? (*tr.final_metric - lo) / (hi - lo) : 0.5);
    s << "<circle cx=\"" << FormatFixed(px, 1) << "\" cy=\"" << FormatFixed(py, 1)
      << "\" r=\"4\" fill=\"" << Colour(*tr.final_metric, lo, hi) << "\"><title>"
      << HtmlEscape(tr.label) << " " << Metric(tr.final_metric) << "</title></circle>\n";
  }
  s << "<text x=\"" << (left + right) / 2 << "\" y=\"" << h - 8 << "\" text-anchor=\"middle\">"
    << HtmlEscape(axis.name) << (axis.log ? " (log)" : "") << "</text>\n<text x=\"12\" y=\""
    << (top + bottom) / 2 << "\" transform=\"rotate(-90 12 " << (top + bottom) / 2
    << ")\" text-anchor=\"middle\">" << HtmlEscape(MetricName(d)) << "</text>\n</svg>\n";
  return s.str();
}

}  // namespace

std::string SearchReport(const std::string& store_path, const std::string& sweep,
                         const std::string& format) {
  const SearchData d = Read(store_path, sweep);
  if (format == "svg") return ParallelCoordinates(d);
  const Table trials = TrialsTable(d), rungs = RungTable(d);
  if (format == "html") {
    std::string body = RenderHtmlSection(trials) + RenderHtmlSection(rungs) +
                       "<section><h2>Parallel coordinates</h2>\n" + ParallelCoordinates(d) +
                       "</section>\n<section><h2>" + HtmlEscape(MetricName(d)) +
                       " against each searched key</h2>\n";
    for (const Axis& a : Axes(d)) body += Scatter(d, a);
    return HtmlDocument("Search " + d.sweep, body + "</section>\n");
  }
  const std::optional<Format> f = ParseFormat(format.empty() ? "md" : format);
  if (!f) throw std::runtime_error("search renders as md, csv, tex, html or svg, not " + format);
  return Render(trials, *f) + "\n" + Render(rungs, *f);
}

}  // namespace hrm
