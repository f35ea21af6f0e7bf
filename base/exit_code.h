// Exit codes shared by every `hrm` command and the workers the runner starts.
#pragma once

namespace hrm {

enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,          // runtime failure
  kExitUsage = 2,          // bad usage, config or input; nothing written
  kExitDiverged = 3,       // training diverged (NaN/inf loss or exploding grads)
  kExitInterrupted = 130,  // stopped by a signal after writing a checkpoint
};

}  // namespace hrm
