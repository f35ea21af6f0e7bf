// The paper's learning-curve figures as data, and their rendering from the
// store: Figure 3 (HPSearch, one curve per configuration, a panel per model)
// and Figure 4 (EqualFLOPs, one curve per model).
#pragma once

#include <string>
#include <vector>

#include "base/config.h"
#include "store/store_reader.h"

namespace hrm {

struct FigurePanel {
  std::string title;
  std::string sweep;            // grid name
  json match = json::object();  // config fields every run of the panel has
  std::string series_label;     // template: {field}, {label} (the grid's label)
};

struct FigureSpec {
  std::string name;   // "figure3"
  std::string alias;  // "hpsearch_curves"
  std::string title;
  std::string caption;
  std::string follows;  // the table it is shown after in report.html
  std::vector<FigurePanel> panels;
};

// A rendered figure: one SVG chart per panel.
struct Figure {
  std::string name, title, caption;
  std::vector<std::string> svgs;
  std::vector<std::string> notes;  // data source of each panel
};

// Figures 3 and 4, in order.
const std::vector<FigureSpec>& PaperFigures();

// The figure called `name` ("figure3", "fig3", "3"... or its alias), or nullptr.
const FigureSpec* FindPaperFigure(const std::string& name);

// Validation CE against step for every config group (all fields but the seed)
// of each panel, averaged over seeds at each evaluated step.
Figure BuildFigure(const FigureSpec& spec, StoreReader& store);

// The figure as a standalone SVG document (panels stacked) or an HTML
// <section id=NAME> with a <figure> per panel.
std::string FigureSvg(const Figure& figure);
std::string FigureHtmlSection(const Figure& figure);

}  // namespace hrm
