// Subcommands of the `hrm` binary. Each area registers its own commands on the
// CLI11 app; a command's callback stores its exit code in *rc, through Guard
// (runner/cli_errors.h), which maps failures to exit codes in one place.
#pragma once

#include <CLI/CLI.hpp>

#include "base/exit_code.h"
#include "runner/cli_errors.h"
#include "runner/cli_run.h"

namespace hrm {

void RegisterBestCommands(CLI::App& app, int* rc);    // best                (runner/cli_best.cc)
void RegisterConfigCommands(CLI::App& app, int* rc);  // config, params      (runner/cli_config.cc)
void RegisterCoreCommands(CLI::App& app, int* rc);    // train               (runner/cli_train.cc)
void RegisterDataCommands(CLI::App& app, int* rc);    // prepare, tokenize   (runner/cli_data.cc)
void RegisterFlopsCommands(CLI::App& app, int* rc);   // flops               (runner/cli_flops.cc)
void RegisterGridCommands(CLI::App& app, int* rc);    // grid                (runner/cli_grid.cc)
void RegisterModelCommands(CLI::App& app, int* rc);   // generate, export, import, reproduce
                                                      //                     (runner/cli_model.cc)
void RegisterReportCommands(CLI::App& app, int* rc);  // report              (runner/cli_report.cc)
void RegisterServeCommands(CLI::App& app, int* rc);   // serve               (runner/cli_serve.cc)
void RegisterSweepCommands(CLI::App& app, int* rc);   // sweep, status, show (runner/cli_sweep.cc)

}  // namespace hrm
