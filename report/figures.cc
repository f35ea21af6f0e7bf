#include "report/figures.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "report/aggregate.h"
#include "report/curves_svg.h"
#include "report/format.h"
#include "report/table.h"
#include "report/table_builder.h"

namespace hrm {
namespace {

constexpr int kWidth = 720, kHeight = 400;

std::vector<FigureSpec> MakeFigures() {
  FigureSpec f3;
  f3.name = "figure3";
  f3.alias = "hpsearch_curves";
  f3.title = "Figure 3: HPSearch — validation CE curves of every searched configuration";
  f3.caption =
      "Validation cross-entropy against training step for each learning-rate × warmup "
      "configuration of the search, HRM NT=12 (top) and Transformer L=4 (bottom). Regenerates "
      "the paper's Figure 3 (Section 5.9); Table 13 lists the final values.";
  f3.follows = "table13";
  f3.panels = {
      {"HRM NT=12", "hpsearch", {{"model", "hrm"}}, "lr={lr}, warmup={warmup}"},
      {"Transformer L=4", "hpsearch", {{"model", "transformer"}}, "lr={lr}, warmup={warmup}"}};
  FigureSpec f4;
  f4.name = "figure4";
  f4.alias = "equal_flops_curves";
  f4.title = "Figure 4: EqualFLOPs — validation CE curves";
  f4.caption =
      "Validation cross-entropy against training step for the HRM configurations and "
      "Transformer L=12 trained at roughly equal FLOPs per step. Regenerates the paper's "
      "Figure 4 (Section 5.3); Table 7 lists the final values.";
  f4.follows = "table7";
  f4.panels = {{"EqualFLOPs", "equal_flops", json::object(), ""}};
  return {f3, f4};
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

const std::vector<FigureSpec>& PaperFigures() {
  static const std::vector<FigureSpec> figures = MakeFigures();
  return figures;
}

const FigureSpec* FindPaperFigure(const std::string& name) {
  const std::string n = Lower(name);
  for (const auto& f : PaperFigures()) {
    const std::string number = f.name.substr(6);  // "figure3" -> "3"
    if (n == f.name || n == f.alias || n == "fig" + number || n == number) return &f;
  }
  return nullptr;
}

Figure BuildFigure(const FigureSpec& spec, StoreReader& store) {
  Figure fig{spec.name, spec.title, spec.caption, {}, {}};
  for (size_t p = 0; p < spec.panels.size(); ++p) {
    const FigurePanel& panel = spec.panels[p];
    CurveChart chart;
    chart.id = fmt::format("{}-{}", spec.name, p + 1);
    chart.title = panel.title;
    const SweepRecord* sweep = store.FindSweep(panel.sweep);
    const std::string note = SweepNote(panel.sweep, sweep);
    if (std::find(fig.notes.begin(), fig.notes.end(), note) == fig.notes.end())
      fig.notes.push_back(note);
    if (sweep) {
      std::map<std::string, size_t> index;
      std::vector<std::map<int64_t, std::vector<double>>> by_step;
      for (const auto& run : sweep->runs) {
        if (!MatchesConfig(run.config, panel.match)) continue;
        const std::string key = SeedGroupKey(run);
        auto [it, added] = index.emplace(key, chart.series.size());
        if (added) {
          chart.series.push_back(
              {panel.series_label.empty()
                   ? DescribeModel(run.config)
                   : FillTemplate(panel.series_label, run.config, {{"label", run.label}}),
               {}});
          by_step.emplace_back();
        }
        for (const auto& e : run.evals)
          if (e.val_ce) by_step[it->second][e.step].push_back(*e.val_ce);
      }
      for (size_t s = 0; s < chart.series.size(); ++s)
        for (const auto& [step, values] : by_step[s])
          chart.series[s].points.emplace_back(double(step), MeanStd(values).mean);
    }
    fig.svgs.push_back(RenderCurvesSvg(chart, kWidth, kHeight));
  }
  return fig;
}

std::string FigureSvg(const Figure& figure) {
  const int total = kHeight * int(figure.svgs.size());
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {0} {1}\" width=\"{0}\" "
      "height=\"{1}\">\n<title>{2}</title>\n",
      kWidth, total, HtmlEscape(figure.title));
  for (size_t i = 0; i < figure.svgs.size(); ++i) {
    // Each panel is a complete <svg>; placed by its y attribute.
    out += fmt::format("<svg y=\"{}\"{}", kHeight * int(i), figure.svgs[i].substr(4));
  }
  return out + "</svg>\n";
}

std::string FigureHtmlSection(const Figure& figure) {
  std::string out =
      fmt::format("<section id=\"{}\">\n<h2>{}</h2>\n<p class=\"caption\">{}</p>\n",
                  HtmlEscape(figure.name), HtmlEscape(figure.title), HtmlEscape(figure.caption));
  for (const auto& svg : figure.svgs) out += "<figure>\n" + svg + "</figure>\n";
  out += "<ul class=\"notes\">\n";
  for (const auto& note : figure.notes) out += "<li>" + HtmlEscape(note) + "</li>\n";
  return out + "</ul>\n</section>\n";
}

}  // namespace hrm
