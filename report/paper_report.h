// `hrm report --paper`: every paper table and figure from one store, written
// as files a paper build or a browser can use directly.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "report/figures.h"
#include "report/table.h"
#include "report/table_builder.h"
#include "store/store_reader.h"

namespace hrm {

// Builds Tables 6–22 and Figures 3–4 and writes, under `dir` (created if
// needed): NAME.md, NAME.csv and NAME.tex per table, NAME.svg per figure,
// and one self-contained report.html with all of them. Each file appears
// whole (written beside, then renamed). Returns the paths written,
// report.html last.
// Throws StoreError, or std::runtime_error naming a file it cannot write.
std::vector<std::string> WritePaperReport(StoreReader& store, const std::string& dir,
                                          const BuildOptions& options);

// The report.html page built from the store as it is now (what `hrm serve`
// shows at /report): the same tables and figures, nothing written.
std::string PaperReportPage(StoreReader& store, const BuildOptions& options);

// The report.html page: the store's run counts, a table of contents, then
// every table with each figure after the table it illustrates.
std::string PaperReportHtml(const std::string& store_path,
                            const std::map<std::string, int64_t>& status_counts,
                            const std::vector<Table>& tables, const std::vector<Figure>& figures);

}  // namespace hrm
