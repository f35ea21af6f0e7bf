// `hrm report NAME` and `hrm report --paper`: the paper's tables and figures
// from the store (report/report_command.h does the work).
#include <iostream>
#include <memory>

#include "report/report_command.h"
#include "runner/cli.h"

namespace hrm {

void RegisterReportCommands(CLI::App& app, int* rc) {
  auto o = std::make_shared<ReportOptions>();
  auto as_json = std::make_shared<bool>(false);
  auto no_published = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "report",
      "the paper's tables (table6 … table22) and figures (figure3, figure4) from the store");
  cmd->add_option("name", o->name,
                  "table or figure, e.g. table6 or equal_param (see --list), or search");
  AddStoreOption(cmd, &o->store);
  auto* format = cmd->add_option("--format", o->format,
                                 "md, csv, tex, html or json for tables; svg or html for figures")
                     ->check(CLI::IsMember({"md", "csv", "tex", "html", "json", "svg"}));
  cmd->add_flag("--json", *as_json, "a table as JSON (same as --format json)")->excludes(format);
  cmd->add_option("sweep", o->sweep, "with search: the sweep of the search");
  cmd->add_option("--out", o->out, "output file (default stdout); with --paper, a directory");
  cmd->add_option("--profile", o->profile, "read only sweeps run at this scale profile");
  cmd->add_flag("--paper", o->paper,
                "write every table (md, csv, tex), every figure (svg) and report.html into --out");
  cmd->add_flag("--list", o->list, "list the tables and figures");
  cmd->add_flag("--no-published", *no_published, "leave out the paper's published numbers");
  cmd->callback([o, as_json, no_published, rc] {
    if (*as_json) o->format = "json";
    o->published = !*no_published;
    Guard("report", rc, [&] { return RunReport(*o, std::cout, std::cerr); });
  });
}

}  // namespace hrm
