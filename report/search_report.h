// `hrm report search SWEEP`: a search's result from the store — the best
// trials with their searched values, a table per rung (metric, decision),
// a parallel-coordinates SVG (one polyline per trial across the searched
// axes and the metric, coloured by the metric) and metric-vs-parameter
// scatter plots. Reads the store through its read-only API (store/store_reader.h).
#pragma once

#include <string>

namespace hrm {

// The report in `format`: md, csv or tex (the two tables), html (tables and
// plots in one page) or svg (the parallel-coordinates plot). Throws
// std::runtime_error naming the store for an unknown sweep or one that is
// not a search.
std::string SearchReport(const std::string& store_path, const std::string& sweep,
                         const std::string& format);

}  // namespace hrm
