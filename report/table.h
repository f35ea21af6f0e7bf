// A finished report table (text cells, ready to print) and its renderers:
// Markdown for terminals, CSV with a header row, LaTeX with booktabs, HTML.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace hrm {

// One row: a cell per header, or a section heading (cells[0] only) that
// groups the rows below it (Table 11's "K ablation", ...).
struct TableRow {
  std::vector<std::string> cells;
  bool section = false;
};

struct Table {
  std::string name;     // command-line name, e.g. "table6"
  std::string title;    // "Table 6: EqualParam — ..."
  std::string caption;  // what the table shows and which paper table it regenerates
  std::vector<std::string> headers;
  std::vector<bool> published;  // per column: holds the paper's numbers (styled apart)
  std::vector<TableRow> rows;
  std::vector<std::string> notes;  // footnotes: markers, data source, paper remarks
};

enum class Format { kMarkdown, kCsv, kTex, kHtml, kJson };

// "md", "csv", "tex", "html", "json" -> Format; anything else -> nullopt.
std::optional<Format> ParseFormat(const std::string& name);

// Title, caption, a pipe table padded to align in a terminal (first column
// left, the others right), then the notes.
std::string RenderMarkdown(const Table& t);

// RFC 4180: a header row, then one row per data row. When the table has
// sections, a first "section" column carries each row's section instead.
std::string RenderCsv(const Table& t);

// A table float with caption and label, booktabs rules, LaTeX specials
// escaped and the report's Unicode symbols written as LaTeX.
std::string RenderTex(const Table& t);

// A <section id=NAME> with the title, caption, <table> and notes; the
// styles are in HtmlDocument (report/html_page.h).
std::string RenderHtmlSection(const Table& t);

// For programs: {"name", "title", "caption", "headers", "published", "rows":
// [{"section": the row's section or null, "cells": [...]}], "notes"}, one
// JSON document ending in a newline.
std::string RenderJson(const Table& t);

// The table in `format`; kHtml gives a complete, self-contained page.
std::string Render(const Table& t, Format format);

// Escapes &, <, >, " for HTML text and attributes.
std::string HtmlEscape(const std::string& s);

}  // namespace hrm
