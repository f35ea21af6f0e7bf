#include "report/curves_svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/text_width.h"
#include "report/table.h"

namespace hrm {
namespace {

const char* const kPalette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#7f7f7f"};
const char* const kDashes[] = {"", "6 3", "2 2", "8 3 2 3"};

// The smallest of 1, 2, 5 × 10^k that cuts `range` into at most `parts`.
double NiceStep(double range, int parts) {
  const double raw = range / parts;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

std::string Num(double v) { return fmt::format("{:.6g}", std::abs(v) < 1e-12 ? 0.0 : v); }

std::string Tick(double v, double step) {
  if (step >= 1000 && std::fmod(v, 1000) == 0) return Num(v / 1000) + "k";
  return Num(v);
}

}  // namespace

std::string RenderCurvesSvg(const CurveChart& chart, int width, int height) {
  const double left = 62, right = 210, top = 34, bottom = 46;
  const double pw = width - left - right, ph = height - top - bottom;

  double xmax = 0, ymin = std::numeric_limits<double>::infinity(), ymax = -ymin;
  bool any = false;
  for (const auto& s : chart.series) {
    double rest_max = -std::numeric_limits<double>::infinity();
    for (size_t i = 1; i < s.points.size(); ++i) rest_max = std::max(rest_max, s.points[i].second);
    for (size_t i = 0; i < s.points.size(); ++i) {
      const auto [x, y] = s.points[i];
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      any = true;
      xmax = std::max(xmax, x);
      if (i == 0 && s.points.size() > 1 && y > rest_max) continue;  // towering initial loss
      ymin = std::min(ymin, y);
      ymax = std::max(ymax, y);
    }
  }
  if (!any || !std::isfinite(ymin)) ymin = 0, ymax = 1;
  if (ymax - ymin < 1e-9) ymin -= 0.5, ymax += 0.5;
  if (xmax <= 0) xmax = 1;
  const double ystep = NiceStep(ymax - ymin, 5), xstep = NiceStep(xmax, 6);
  ymin = std::floor(ymin / ystep) * ystep;
  ymax = std::ceil(ymax / ystep) * ystep;
  const double xend = std::ceil(xmax / xstep) * xstep;
  auto X = [&](double x) { return left + pw * x / xend; };
  auto Y = [&](double y) { return top + ph * (1 - (y - ymin) / (ymax - ymin)); };

  const std::string clip = "clip-" + chart.id;
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {0} {1}\" width=\"{0}\" "
      "height=\"{1}\" role=\"img\" font-family=\"sans-serif\" font-size=\"12\">\n",
      width, height);
  svg += fmt::format("<title>{}</title>\n", HtmlEscape(chart.title));
  svg += fmt::format(
      "<defs><clipPath id=\"{}\"><rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" "
      "height=\"{:.1f}\"/></clipPath></defs>\n",
      HtmlEscape(clip), left, top, pw, ph);
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n";
  svg += fmt::format("<text x=\"{:.1f}\" y=\"20\" font-size=\"14\" font-weight=\"600\">{}</text>\n",
                     left, HtmlEscape(chart.title));

  for (double y = ymin; y <= ymax + ystep / 2; y += ystep) {
    svg += fmt::format(
        "<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#e6e6e6\"/>", left,
        left + pw, Y(y), Y(y));
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", left - 6,
                       Y(y) + 4, Num(y));
  }
  for (double x = 0; x <= xend + xstep / 2; x += xstep) {
    svg += fmt::format(
        "<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#555\"/>", X(x),
        X(x), top + ph, top + ph + 5);
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", X(x),
                       top + ph + 18, Tick(x, xstep));
  }
  svg += fmt::format(
      "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" "
      "stroke=\"#555\"/>\n",
      left, top, pw, ph);
  svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n",
                     left + pw / 2, height - 8.0, HtmlEscape(chart.x_label));
  svg += fmt::format(
      "<text transform=\"translate(16 {:.1f}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
      top + ph / 2, HtmlEscape(chart.y_label));

  // Legend rows that fit beside the plot; the last one says how many more when not all do.
  const size_t capacity = size_t(std::max(2.0, (ph - 10) / 18));
  const size_t legend_rows = chart.series.size() > capacity ? capacity - 1 : capacity;
  for (size_t i = 0; i < chart.series.size(); ++i) {
    const auto& s = chart.series[i];
    const std::string color = kPalette[i % std::size(kPalette)];
    const std::string dash = kDashes[(i / std::size(kPalette)) % std::size(kDashes)];
    const std::string style =
        fmt::format("fill=\"none\" stroke=\"{}\" stroke-width=\"1.8\"{}", color,
                    dash.empty() ? "" : fmt::format(" stroke-dasharray=\"{}\"", dash));
    std::string pts;
    for (const auto& [x, y] : s.points)
      if (std::isfinite(x) && std::isfinite(y)) pts += fmt::format("{:.1f},{:.1f} ", X(x), Y(y));
    if (!pts.empty()) {
      pts.pop_back();
      svg += fmt::format(
          "<polyline clip-path=\"url(#{})\" {} points=\"{}\"><title>{}</title></polyline>\n",
          HtmlEscape(clip), style, pts, HtmlEscape(s.label));
    }
    if (i < legend_rows) {
      const double ly = top + 8 + 18.0 * double(i);
      const double lx = left + pw + 14;
      svg += fmt::format(
          "<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" {}/><text x=\"{:.1f}\" "
          "y=\"{:.1f}\">{}</text>\n",
          lx, lx + 22, ly, ly, style, lx + 28, ly + 4, HtmlEscape(Ellipsize(s.label, 30)));
    } else if (i == legend_rows) {
      svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">+{} more</text>\n", left + pw + 14,
                         top + 12 + 18.0 * double(i), chart.series.size() - legend_rows);
    }
  }
  if (!any)
    svg += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" fill=\"#888\">no data yet</text>\n",
        left + pw / 2, top + ph / 2);
  return svg + "</svg>\n";
}

}  // namespace hrm
