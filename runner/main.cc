// The `hrm` command line: dispatches to the subcommands each area registers.
#include <iostream>

#include "runner/cli.h"

int main(int argc, char** argv) {
  CLI::App app{"hrm: hierarchical vs flat iteration experiments"};
  app.require_subcommand(1);
  int rc = hrm::kExitOk;
  hrm::RegisterConfigCommands(app, &rc);
  hrm::RegisterCoreCommands(app, &rc);
  hrm::RegisterDataCommands(app, &rc);
  hrm::RegisterFlopsCommands(app, &rc);
  hrm::RegisterGridCommands(app, &rc);
  hrm::RegisterReportCommands(app, &rc);
  hrm::RegisterSweepCommands(app, &rc);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : hrm::kExitUsage;
  }
  return rc;
}
