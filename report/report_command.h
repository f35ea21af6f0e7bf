// What `hrm report` does, apart from parsing its command line
// (runner/cli_report.cc), so that tests can run it without the binary.
#pragma once

#include <ostream>
#include <string>

namespace hrm {

struct ReportOptions {
  std::string name;   // table6 … table22, figure3, figure4 (or an alias), search
  std::string sweep;  // with `search`: the search's sweep (report/search_report.h)
  std::string store = "runs/hrm.db";
  std::string format;     // md | csv | tex | html, svg for figures; "" = md / svg
  std::string out;        // file (one table) or directory (--paper); "" = stdout
  std::string profile;    // read only sweeps of this scale profile
  bool paper = false;     // every table and figure plus report.html into `out`
  bool list = false;      // print the names of the tables and figures
  bool published = true;  // show the paper's numbers beside the measured ones
};

// Runs the command: output on `out` (or into files), messages on `err`.
// Returns an ExitCode (base/exit_code.h): kExitUsage for a bad name, format
// or store path, kExitError when a file cannot be written.
int RunReport(const ReportOptions& options, std::ostream& out, std::ostream& err);

}  // namespace hrm
