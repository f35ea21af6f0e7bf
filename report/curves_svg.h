// Learning curves as a self-contained SVG line chart: axes with round ticks,
// one coloured line per series, a legend. No scripts, fonts or links.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace hrm {

struct CurveSeries {
  std::string label;
  std::vector<std::pair<double, double>> points;  // (x, y), ascending x
};

struct CurveChart {
  std::string id = "chart";  // unique within a page: names the chart's clip path
  std::string title;
  std::string x_label = "step";
  std::string y_label = "val CE";
  std::vector<CurveSeries> series;
};

// The chart as an <svg> element (width × height user units, scalable). The
// y range leaves out each series' first point when it towers over the rest
// (an initial loss of 10+ nats would flatten every curve); lines are clipped
// to the plot. A chart without points says "no data yet".
std::string RenderCurvesSvg(const CurveChart& chart, int width = 720, int height = 400);

}  // namespace hrm
