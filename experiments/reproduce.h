// `hrm reproduce`: what produced a recorded run (command, config, code and
// library versions), and with --run a rerun compared with the record.
// Torch-free header so the CLI in runner/ can call it.
#pragma once

#include <string>

namespace hrm {

struct ReproduceArgs {
  std::string run_dir;
  bool run = false;     // execute the command, then compare its evaluations
  std::string out_dir;  // the rerun's directory; default RUN_DIR-reproduce
  bool json = false;    // stdout: one JSON object instead of the recipe and table
};

// Prints the recipe to stdout and a warning on stderr for each recorded
// version (git commit, dirty tree, libtorch, data checksums) that differs
// from this build's. With run, trains into out_dir and prints, per
// evaluation step, the recorded and reproduced val CE and whether they are
// bit-identical (with json, all of it as one object: run_id, recorded,
// checkout, command, config_file, config, warnings, and with run evals and
// reproduced). Returns an ExitCode: the training's, or 1 when the rerun's
// evaluations differ from the record.
int ReproduceMain(const ReproduceArgs& args);

}  // namespace hrm
