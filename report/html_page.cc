#include "report/html_page.h"

#include "report/table.h"

namespace hrm {
namespace {

// Published columns are grey and italic so measured and paper numbers can be
// told apart at a glance; numbers are right-aligned in tabular figures.
const char* const kStyle = R"css(
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1b1b1b; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5rem 2rem 4rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.2rem; margin: 2.2rem 0 0.3rem; border-bottom: 1px solid #ddd; }
p.caption { margin: 0.3rem 0 0.8rem; color: #333; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 0.4rem 0; }
caption { caption-side: bottom; }
th, td { padding: 0.25rem 0.7rem; border-bottom: 1px solid #e4e4e4; }
thead th { border-bottom: 2px solid #555; text-align: right; vertical-align: bottom; }
thead th:first-child, td:first-child { text-align: left; }
td { text-align: right; white-space: nowrap; }
td.paper, th.paper { color: #777; font-style: italic; }
tr.section td { text-align: left; font-weight: 600; background: #f4f4f4; }
ul.notes { font-size: 0.85rem; color: #555; margin-top: 0.3rem; }
nav ol { columns: 2; font-size: 0.9rem; }
figure { margin: 1rem 0; }
figcaption { font-size: 0.9rem; color: #333; }
svg { max-width: 100%; height: auto; }
)css";

}  // namespace

std::string HtmlDocument(const std::string& title, const std::string& body) {
  return "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<link rel=\"icon\" href=\"data:,\">\n"
         "<title>" +
         HtmlEscape(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<main>\n" +
         body + "</main>\n</body>\n</html>\n";
}

}  // namespace hrm
