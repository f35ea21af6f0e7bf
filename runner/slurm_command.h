// Running SLURM's client commands (sbatch, squeue, scancel, scontrol) and
// capturing what they print.
#pragma once

#include <string>
#include <vector>

namespace hrm {

struct CommandResult {
  int exit_code = 0;  // 127 when the program cannot be started; 128+signal when killed
  std::string out;    // stdout
  std::string err;    // stderr
};

// Runs argv (argv[0] looked up on PATH) with stdin from /dev/null and waits
// for it. The child leads its own process group, so the terminal's Ctrl-C
// (meant for the runner) does not kill a squeue in flight.
CommandResult RunCommand(const std::vector<std::string>& argv);

}  // namespace hrm
