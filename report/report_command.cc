#include "report/report_command.h"

#include "base/atomic_file.h"
#include "base/exit_code.h"
#include "report/figures.h"
#include "report/html_page.h"
#include "report/paper_report.h"
#include "report/paper_tables.h"
#include "report/search_report.h"

namespace hrm {
namespace {

std::string Listing() {
  std::string s;
  auto line = [&](const std::string& name, const std::string& alias, const std::string& title) {
    const std::string pad1(name.size() < 9 ? 9 - name.size() : 1, ' ');
    const std::string pad2(alias.size() < 20 ? 20 - alias.size() : 1, ' ');
    s += name + pad1 + alias + pad2 + title + "\n";
  };
  for (const auto& t : PaperTables()) line(t.name, t.alias, t.title);
  for (const auto& f : PaperFigures()) line(f.name, f.alias, f.title);
  return s;
}

void Emit(const ReportOptions& o, const std::string& text, std::ostream& out) {
  if (o.out.empty())
    out << text;
  else
    WriteFileAtomic(o.out, text);
}

}  // namespace

int RunReport(const ReportOptions& o, std::ostream& out, std::ostream& err) {
  if (o.list) {
    out << Listing();
    return kExitOk;
  }
  if (o.name == "search") {  // a search's result, not a paper table
    if (o.sweep.empty()) {
      err << "hrm report search: name the sweep, e.g. hrm report search hpsearch_sha\n";
      return kExitUsage;
    }
    try {
      Emit(o, SearchReport(o.store, o.sweep, o.format), out);
    } catch (const std::exception& e) {
      err << "hrm report search: " << e.what() << "\n";
      return kExitUsage;
    }
    return kExitOk;
  }
  const TableSpec* table = o.name.empty() ? nullptr : FindPaperTable(o.name);
  const FigureSpec* figure = o.name.empty() ? nullptr : FindPaperFigure(o.name);
  if (o.paper) {
    if (!o.name.empty()) {
      err << "hrm report: --paper writes every table; drop the name " << o.name << "\n";
      return kExitUsage;
    }
    if (o.out.empty()) {
      err << "hrm report: --paper needs --out DIR\n";
      return kExitUsage;
    }
  } else if (o.name.empty()) {
    err << "hrm report: name a table or figure (or --paper, --list):\n" << Listing();
    return kExitUsage;
  } else if (!table && !figure) {
    err << "hrm report: no table or figure called " << o.name << "; these exist:\n" << Listing();
    return kExitUsage;
  }
  std::string format = o.format.empty() ? (figure ? "svg" : "md") : o.format;
  if (table && !ParseFormat(format)) {
    err << "hrm report: " << table->name << " renders as md, csv, tex or html, not " << format
        << "\n";
    return kExitUsage;
  }
  if (figure && format != "svg" && format != "html") {
    err << "hrm report: " << figure->name << " renders as svg or html, not " << format << "\n";
    return kExitUsage;
  }
  try {
    StoreReader store(o.store, o.profile);
    BuildOptions build;
    build.published = o.published;
    if (o.paper) {
      const auto files = WritePaperReport(store, o.out, build);
      out << "wrote " << files.size() << " files to " << o.out << "; open " << files.back() << "\n";
    } else if (table) {
      Emit(o, Render(BuildTable(*table, store, build), *ParseFormat(format)), out);
    } else {
      const Figure f = BuildFigure(*figure, store);
      Emit(o, format == "svg" ? FigureSvg(f) : HtmlDocument(f.title, FigureHtmlSection(f)), out);
    }
  } catch (const StoreError& e) {
    err << "hrm report: " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    err << "hrm report: " << e.what() << "\n";
    return kExitError;
  }
  return kExitOk;
}

}  // namespace hrm
