#include "report/paper_report.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "report/html_page.h"
#include "report/paper_tables.h"

namespace hrm {
namespace {

// Written beside and renamed into place, so a reader never sees half a file.
// Not fsynced, unlike the store's files: a report is rebuilt in a second.
void PublishFile(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << bytes;
    if (!f.flush()) throw std::runtime_error(tmp + ": cannot write report file");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw std::runtime_error(path + ": cannot publish report file");
}

}  // namespace

std::string PaperReportHtml(const std::string& store_path,
                            const std::map<std::string, int64_t>& status_counts,
                            const std::vector<Table>& tables, const std::vector<Figure>& figures) {
  int64_t total = 0;
  std::string counts;
  for (const auto& [status, n] : status_counts) {
    total += n;
    counts += (counts.empty() ? "" : ", ") + std::to_string(n) + " " + status;
  }
  std::string body =
      "<h1>Hierarchical vs. Flat Iteration in Shared-Weight Transformers — reproduction</h1>\n"
      "<p>Store <code>" +
      HtmlEscape(store_path) + "</code>: " + std::to_string(total) + " runs" +
      (counts.empty() ? "" : " (" + HtmlEscape(counts) + ")") +
      ". Written by <code>hrm report --paper</code>.</p>\n"
      "<p>Each table shows the measured values and, in grey italics, the numbers the paper "
      "prints at its scale (d = 4096, 10k steps, OpenWebText). Runs at a smaller profile "
      "reproduce the paper when the orderings and gaps agree, not the values.</p>\n";

  std::vector<std::pair<std::string, std::string>> contents;  // id, title
  std::string sections;
  auto add_figures_after = [&](const std::string& table) {
    for (size_t i = 0; i < figures.size(); ++i) {
      const FigureSpec* spec = FindPaperFigure(figures[i].name);
      if (spec && spec->follows == table) {
        contents.emplace_back(figures[i].name, figures[i].title);
        sections += FigureHtmlSection(figures[i]);
      }
    }
  };
  for (const auto& t : tables) {
    contents.emplace_back(t.name, t.title);
    sections += RenderHtmlSection(t);
    add_figures_after(t.name);
  }
  for (const auto& f : figures) {  // figures that follow no table of this report
    const FigureSpec* spec = FindPaperFigure(f.name);
    bool placed = false;
    for (const auto& t : tables) placed |= spec && spec->follows == t.name;
    if (!placed) {
      contents.emplace_back(f.name, f.title);
      sections += FigureHtmlSection(f);
    }
  }
  body += "<nav>\n<ol>\n";
  for (const auto& [id, title] : contents)
    body += "<li><a href=\"#" + HtmlEscape(id) + "\">" + HtmlEscape(title) + "</a></li>\n";
  body += "</ol>\n</nav>\n" + sections;
  return HtmlDocument("hrm report — hierarchical vs flat iteration", body);
}

std::string PaperReportPage(StoreReader& store, const BuildOptions& options) {
  std::vector<Table> tables;
  for (const auto& spec : PaperTables()) tables.push_back(BuildTable(spec, store, options));
  std::vector<Figure> figures;
  for (const auto& spec : PaperFigures()) figures.push_back(BuildFigure(spec, store));
  return PaperReportHtml(store.path(), store.StatusCounts(), tables, figures);
}

std::vector<std::string> WritePaperReport(StoreReader& store, const std::string& dir,
                                          const BuildOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error(dir + ": cannot create report directory: " + ec.message());
  std::vector<std::string> written;
  auto write = [&](const std::string& name, const std::string& bytes) {
    const std::string path = (std::filesystem::path(dir) / name).string();
    PublishFile(path, bytes);
    written.push_back(path);
  };
  std::vector<Table> tables;
  for (const auto& spec : PaperTables()) {
    tables.push_back(BuildTable(spec, store, options));
    write(spec.name + ".md", RenderMarkdown(tables.back()));
    write(spec.name + ".csv", RenderCsv(tables.back()));
    write(spec.name + ".tex", RenderTex(tables.back()));
  }
  std::vector<Figure> figures;
  for (const auto& spec : PaperFigures()) {
    figures.push_back(BuildFigure(spec, store));
    write(spec.name + ".svg", FigureSvg(figures.back()));
  }
  write("report.html", PaperReportHtml(store.path(), store.StatusCounts(), tables, figures));
  return written;
}

}  // namespace hrm
