#include "report/table.h"

#include <algorithm>
#include <utility>

#include "base/config.h"
#include "base/text_width.h"
#include "report/format.h"
#include "report/html_page.h"

namespace hrm {
namespace {

bool HasSections(const Table& t) {
  return std::any_of(t.rows.begin(), t.rows.end(), [](const TableRow& r) { return r.section; });
}

std::string Cell(const TableRow& r, size_t i) { return i < r.cells.size() ? r.cells[i] : ""; }

std::string Pad(const std::string& s, size_t width, bool left) {
  return left ? PadRight(s, width) : PadLeft(s, width);
}

std::string MdEscape(std::string s) {
  for (size_t i = 0; (i = s.find('|', i)) != std::string::npos; i += 2) s.insert(i, "\\");
  return s;
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos &&
      (s.empty() || (s.front() != ' ' && s.back() != ' ')))
    return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// LaTeX for the few non-ASCII symbols the report prints; other text escaped.
std::string TexEscape(const std::string& s) {
  static const std::pair<const char*, const char*> kSymbols[] = {
      {"—", "---"},           {"–", "--"},         {"±", "$\\pm$"},         {"†", "$^\\dagger$"},
      {"‡", "$^\\ddagger$"},  {"×", "$\\times$"},  {"Δ", "$\\Delta$"},      {"‖", "$\\|$"},
      {"·", "$\\cdot$"},      {"≈", "$\\approx$"}, {"→", "$\\to$"},         {"−", "$-$"},
      {"✓", "$\\checkmark$"}, {"λ", "$\\lambda$"}, {"½", "$\\frac{1}{2}$"},
  };
  std::string out;
  for (size_t i = 0; i < s.size();) {
    bool replaced = false;
    for (const auto& [from, to] : kSymbols) {
      const size_t n = std::char_traits<char>::length(from);
      if (s.compare(i, n, from) == 0) {
        out += to;
        i += n;
        replaced = true;
        break;
      }
    }
    if (replaced) continue;
    const char c = s[i++];
    switch (c) {
      case '\\':
        out += "\\textbackslash{}";
        break;
      case '~':
        out += "\\textasciitilde{}";
        break;
      case '^':
        out += "\\textasciicircum{}";
        break;
      case '&':
      case '%':
      case '$':
      case '#':
      case '_':
      case '{':
      case '}':
        out += '\\';
        out += c;
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::optional<Format> ParseFormat(const std::string& name) {
  if (name == "md") return Format::kMarkdown;
  if (name == "csv") return Format::kCsv;
  if (name == "tex") return Format::kTex;
  if (name == "html") return Format::kHtml;
  if (name == "json") return Format::kJson;
  return std::nullopt;
}

std::string HtmlEscape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string RenderMarkdown(const Table& t) {
  const size_t n = t.headers.size();
  std::vector<size_t> width(n, 3);  // "---" is the narrowest rule markdown allows
  for (size_t i = 0; i < n; ++i) width[i] = std::max(width[i], CodePoints(MdEscape(t.headers[i])));
  for (const auto& r : t.rows)
    for (size_t i = 0; i < n && !r.section; ++i)
      width[i] = std::max(width[i], CodePoints(MdEscape(Cell(r, i))));
  for (const auto& r : t.rows)
    if (r.section) width[0] = std::max(width[0], CodePoints(MdEscape("*" + Cell(r, 0) + "*")));

  auto line = [&](auto cell_of) {
    std::string s = "|";
    for (size_t i = 0; i < n; ++i) s += " " + Pad(cell_of(i), width[i], i == 0) + " |";
    return s + "\n";
  };
  std::string out = "## " + t.title + "\n\n";
  if (!t.caption.empty()) out += t.caption + "\n\n";
  out += line([&](size_t i) { return MdEscape(t.headers[i]); });
  out += "|";
  for (size_t i = 0; i < n; ++i)
    out +=
        i == 0 ? ":" + std::string(width[i] + 1, '-') + "|" : std::string(width[i] + 1, '-') + ":|";
  out += "\n";
  for (const auto& r : t.rows) {
    if (r.section)
      out += line([&](size_t i) { return i == 0 ? MdEscape("*" + Cell(r, 0) + "*") : ""; });
    else
      out += line([&](size_t i) { return MdEscape(Cell(r, i)); });
  }
  if (!t.notes.empty()) {
    out += "\n";
    for (const auto& note : t.notes) out += "- " + note + "\n";
  }
  return out;
}

std::string RenderCsv(const Table& t) {
  const bool sections = HasSections(t);
  auto row = [](const std::vector<std::string>& cells) {
    std::string s;
    for (size_t i = 0; i < cells.size(); ++i) s += (i ? "," : "") + CsvField(cells[i]);
    return s + "\r\n";
  };
  std::vector<std::string> header = t.headers;
  if (sections) header.insert(header.begin(), "section");
  std::string out = row(header);
  std::string section;
  for (const auto& r : t.rows) {
    if (r.section) {
      section = Cell(r, 0);
      continue;
    }
    std::vector<std::string> cells;
    if (sections) cells.push_back(section);
    for (size_t i = 0; i < t.headers.size(); ++i) cells.push_back(Cell(r, i));
    out += row(cells);
  }
  return out;
}

std::string RenderTex(const Table& t) {
  const size_t n = t.headers.size();
  std::string out = "% " + t.title + " (hrm report " + t.name + ")\n";
  out += "\\begin{table}[ht]\n\\centering\n\\small\n";
  out += "\\caption{" + TexEscape(t.title + (t.caption.empty() ? "" : ". " + t.caption)) + "}\n";
  out += "\\label{tab:" + t.name + "}\n\\begin{tabular}{l" + std::string(n > 0 ? n - 1 : 0, 'r') +
         "}\n\\toprule\n";
  auto row = [&](auto cell_of) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += (i ? " & " : "") + cell_of(i);
    return s + " \\\\\n";
  };
  out += row([&](size_t i) {
    const std::string h = TexEscape(t.headers[i]);
    return i < t.published.size() && t.published[i] ? "\\textit{" + h + "}" : h;
  });
  out += "\\midrule\n";
  bool first = true;
  for (const auto& r : t.rows) {
    if (r.section) {
      if (!first) out += "\\midrule\n";
      out += "\\multicolumn{" + std::to_string(n) + "}{l}{\\textit{" + TexEscape(Cell(r, 0)) +
             "}} \\\\\n";
    } else {
      out += row([&](size_t i) { return TexEscape(Cell(r, i)); });
    }
    first = false;
  }
  out += "\\bottomrule\n\\end{tabular}\n";
  if (!t.notes.empty()) {
    out += "\\par\\smallskip\\footnotesize\n";
    for (const auto& note : t.notes) out += TexEscape(note) + "\\\\\n";
  }
  out += "\\end{table}\n";
  return out;
}

std::string RenderHtmlSection(const Table& t) {
  auto cls = [&](size_t i) {
    return i < t.published.size() && t.published[i] ? std::string(" class=\"paper\"") : "";
  };
  std::string out =
      "<section id=\"" + HtmlEscape(t.name) + "\">\n<h2>" + HtmlEscape(t.title) + "</h2>\n";
  if (!t.caption.empty()) out += "<p class=\"caption\">" + HtmlEscape(t.caption) + "</p>\n";
  out += "<table>\n<thead><tr>";
  for (size_t i = 0; i < t.headers.size(); ++i)
    out += "<th" + cls(i) + ">" + HtmlEscape(t.headers[i]) + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& r : t.rows) {
    if (r.section) {
      out += "<tr class=\"section\"><td colspan=\"" + std::to_string(t.headers.size()) + "\">" +
             HtmlEscape(Cell(r, 0)) + "</td></tr>\n";
      continue;
    }
    out += "<tr>";
    for (size_t i = 0; i < t.headers.size(); ++i)
      out += "<td" + cls(i) + ">" + HtmlEscape(Cell(r, i)) + "</td>";
    out += "</tr>\n";
  }
  out += "</tbody>\n</table>\n";
  if (!t.notes.empty()) {
    out += "<ul class=\"notes\">\n";
    for (const auto& note : t.notes) out += "<li>" + HtmlEscape(note) + "</li>\n";
    out += "</ul>\n";
  }
  return out + "</section>\n";
}

std::string RenderJson(const Table& t) {
  json rows = json::array();
  json section = nullptr;
  for (const auto& r : t.rows) {
    if (r.section)
      section = Cell(r, 0);
    else
      rows.push_back({{"section", section}, {"cells", r.cells}});
  }
  return json{{"name", t.name},       {"title", t.title},         {"caption", t.caption},
              {"headers", t.headers}, {"published", t.published}, {"rows", rows},
              {"notes", t.notes}}
             .dump(2) +
         "\n";
}

std::string Render(const Table& t, Format format) {
  switch (format) {
    case Format::kMarkdown:
      return RenderMarkdown(t);
    case Format::kCsv:
      return RenderCsv(t);
    case Format::kTex:
      return RenderTex(t);
    case Format::kHtml:
      return HtmlDocument(t.title, RenderHtmlSection(t));
    case Format::kJson:
      return RenderJson(t);
  }
  return "";
}

}  // namespace hrm
