// Subcommands of the `hrm` binary. Each area registers its own commands on the
// CLI11 app; a command's callback stores its exit code in *rc.
#pragma once

#include <CLI/CLI.hpp>

#include <iostream>

#include "base/exit_code.h"

namespace hrm {

void RegisterBestCommands(CLI::App& app, int* rc);     // best                (runner/cli_best.cc)
void RegisterConfigCommands(CLI::App& app, int* rc);   // config, params      (runner/cli_config.cc)
void RegisterCoreCommands(CLI::App& app, int* rc);     // train               (runner/cli_train.cc)
void RegisterDataCommands(CLI::App& app, int* rc);     // prepare, tokenize   (runner/cli_data.cc)
void RegisterFlopsCommands(CLI::App& app, int* rc);    // flops               (runner/cli_flops.cc)
void RegisterGridCommands(CLI::App& app, int* rc);     // grid                (runner/cli_grid.cc)
void RegisterModelCommands(CLI::App& app, int* rc);    // generate, export, import, reproduce
                                                       //                     (runner/cli_model.cc)
void RegisterReportCommands(CLI::App& app, int* rc);   // report              (runner/cli_report.cc)
void RegisterSweepCommands(CLI::App& app, int* rc);    // sweep, status, show (runner/cli_sweep.cc)

// Runs a command's body, which returns its exit code; an exception is a
// message "hrm CMD: what" and exit code 2, since what a command reads (a
// store, a run id, a file) is the user's input.
template <typename F>
void Guard(const char* cmd, int* rc, F body) {
  try {
    *rc = body();
  } catch (const std::exception& e) {
    std::cerr << "hrm " << cmd << ": " << e.what() << "\n";
    *rc = kExitUsage;
  }
}

}  // namespace hrm
