// `hrm train`: resolve a config, open (or resume) a run directory, train.
// Torch-free header so the CLI in runner/ can call it.
#pragma once

#include <string>
#include <vector>

namespace hrm {

struct TrainArgs {
  std::string run_dir;
  std::string config_path;        // YAML of key: value; empty: RUN_DIR/config.json when present
  std::vector<std::string> sets;  // key=value overrides, applied after the file
  bool progress = true;
  long long stop_after = -1;  // checkpoint and exit 130 after this many steps
};

// Returns an ExitCode (runner/cli.h): 0 finished, 2 bad config (nothing
// written), 3 diverged, 130 interrupted after a checkpoint, 1 other failure.
int TrainMain(const TrainArgs& args);

}  // namespace hrm
