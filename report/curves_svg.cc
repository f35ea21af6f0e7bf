#include "report/curves_svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

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

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", std::abs(v) < 1e-12 ? 0.0 : v);
  return buf;
}

std::string Tick(double v, double step) {
  if (step >= 1000 && std::fmod(v, 1000) == 0) return Num(v / 1000) + "k";
  return Num(v);
}

std::string Fixed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
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
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " +
                    std::to_string(width) + " " + std::to_string(height) + "\" width=\"" +
                    std::to_string(width) + "\" height=\"" + std::to_string(height) +
                    "\" role=\"img\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg += "<title>" + HtmlEscape(chart.title) + "</title>\n";
  svg += "<defs><clipPath id=\"" + HtmlEscape(clip) + "\"><rect x=\"" + Fixed(left) + "\" y=\"" +
         Fixed(top) + "\" width=\"" + Fixed(pw) + "\" height=\"" + Fixed(ph) +
         "\"/></clipPath></defs>\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n";
  svg += "<text x=\"" + Fixed(left) + "\" y=\"20\" font-size=\"14\" font-weight=\"600\">" +
         HtmlEscape(chart.title) + "</text>\n";

  for (double y = ymin; y <= ymax + ystep / 2; y += ystep) {
    svg += "<line x1=\"" + Fixed(left) + "\" x2=\"" + Fixed(left + pw) + "\" y1=\"" + Fixed(Y(y)) +
           "\" y2=\"" + Fixed(Y(y)) + "\" stroke=\"#e6e6e6\"/>";
    svg += "<text x=\"" + Fixed(left - 6) + "\" y=\"" + Fixed(Y(y) + 4) +
           "\" text-anchor=\"end\">" + Num(y) + "</text>\n";
  }
  for (double x = 0; x <= xend + xstep / 2; x += xstep) {
    svg += "<line x1=\"" + Fixed(X(x)) + "\" x2=\"" + Fixed(X(x)) + "\" y1=\"" + Fixed(top + ph) +
           "\" y2=\"" + Fixed(top + ph + 5) + "\" stroke=\"#555\"/>";
    svg += "<text x=\"" + Fixed(X(x)) + "\" y=\"" + Fixed(top + ph + 18) +
           "\" text-anchor=\"middle\">" + Tick(x, xstep) + "</text>\n";
  }
  svg += "<rect x=\"" + Fixed(left) + "\" y=\"" + Fixed(top) + "\" width=\"" + Fixed(pw) +
         "\" height=\"" + Fixed(ph) + "\" fill=\"none\" stroke=\"#555\"/>\n";
  svg += "<text x=\"" + Fixed(left + pw / 2) + "\" y=\"" + Fixed(height - 8.0) +
         "\" text-anchor=\"middle\">" + HtmlEscape(chart.x_label) + "</text>\n";
  svg += "<text transform=\"translate(16 " + Fixed(top + ph / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">" + HtmlEscape(chart.y_label) + "</text>\n";

  // Legend rows that fit beside the plot; the last one says how many more when not all do.
  const size_t capacity = size_t(std::max(2.0, (ph - 10) / 18));
  const size_t legend_rows = chart.series.size() > capacity ? capacity - 1 : capacity;
  for (size_t i = 0; i < chart.series.size(); ++i) {
    const auto& s = chart.series[i];
    const std::string color = kPalette[i % std::size(kPalette)];
    const std::string dash = kDashes[(i / std::size(kPalette)) % std::size(kDashes)];
    const std::string style = "fill=\"none\" stroke=\"" + color + "\" stroke-width=\"1.8\"" +
                              (dash.empty() ? "" : " stroke-dasharray=\"" + dash + "\"");
    std::string pts;
    for (const auto& [x, y] : s.points)
      if (std::isfinite(x) && std::isfinite(y)) pts += Fixed(X(x)) + "," + Fixed(Y(y)) + " ";
    if (!pts.empty()) {
      pts.pop_back();
      svg += "<polyline clip-path=\"url(#" + HtmlEscape(clip) + ")\" " + style + " points=\"" +
             pts + "\"><title>" + HtmlEscape(s.label) + "</title></polyline>\n";
    }
    if (i < legend_rows) {
      const double ly = top + 8 + 18.0 * double(i);
      const double lx = left + pw + 14;
      std::string label = s.label;
      if (label.size() > 30) {
        size_t cut = 29;
        while (cut > 0 && (static_cast<unsigned char>(label[cut]) & 0xC0) == 0x80) --cut;
        label = label.substr(0, cut) + "…";
      }
      svg += "<line x1=\"" + Fixed(lx) + "\" x2=\"" + Fixed(lx + 22) + "\" y1=\"" + Fixed(ly) +
             "\" y2=\"" + Fixed(ly) + "\" " + style + "/><text x=\"" + Fixed(lx + 28) + "\" y=\"" +
             Fixed(ly + 4) + "\">" + HtmlEscape(label) + "</text>\n";
    } else if (i == legend_rows) {
      svg += "<text x=\"" + Fixed(left + pw + 14) + "\" y=\"" +
             Fixed(top + 12 + 18.0 * double(i)) + "\">+" +
             std::to_string(chart.series.size() - legend_rows) + " more</text>\n";
    }
  }
  if (!any)
    svg += "<text x=\"" + Fixed(left + pw / 2) + "\" y=\"" + Fixed(top + ph / 2) +
           "\" text-anchor=\"middle\" fill=\"#888\">no data yet</text>\n";
  return svg + "</svg>\n";
}

}  // namespace hrm
