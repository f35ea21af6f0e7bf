// Subcommands of the `hrm` binary. Each area registers its own commands on the
// CLI11 app; a command's callback stores its exit code in *rc.
#pragma once

#include <CLI/CLI.hpp>

namespace hrm {

// Exit codes shared by every command.
enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,      // runtime failure
  kExitUsage = 2,      // bad usage, config or input; nothing written
  kExitDiverged = 3,   // training diverged (NaN/inf loss or exploding grads)
  kExitInterrupted = 130,  // stopped by a signal after writing a checkpoint
};

void RegisterConfigCommands(CLI::App& app, int* rc);   // config, params      (runner/cli_config.cc)
void RegisterCoreCommands(CLI::App& app, int* rc);     // train               (runner/cli_train.cc)
void RegisterDataCommands(CLI::App& app, int* rc);     // prepare, tokenize   (runner/cli_data.cc)

}  // namespace hrm
