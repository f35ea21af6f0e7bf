// `hrm sweep`: expand a grid, record its runs in the store, run every run
// that is not done on a backend, ingest their event logs as they grow, and
// survive anything: the same command after a crash, Ctrl-C or preemption
// picks up where it stopped.
#pragma once

#include <string>
#include <vector>

namespace hrm {

struct SweepOptions {
  std::string grid_path;
  std::string store_path = "runs/hrm.db";
  std::string runs_dir;                 // run directories; default <store dir>/runs
  std::string profile;                  // "" = the grid's default profile
  std::vector<std::string> sets;        // key=value overrides after expansion
  bool dry_run = false;                 // print the expansion, write nothing
  bool json = false;                    // dry run: print the expansion as JSON
  std::string backend = "local";        // local | slurm
  int slots = 1;                        // local CPU slots
  std::vector<int> gpus;                // local GPU slots (CUDA_VISIBLE_DEVICES)
  int max_retries = 2;                  // failed attempts retried per invocation
  int threads = 0;                      // torch threads per worker; 0 = cores / slots
  std::vector<std::string> train_args;  // extra args for every worker (tests)
  // SLURM backend (runner/slurm_backend.h).
  std::string partition;
  std::string time_limit;
  std::vector<std::string> sbatch_args;
};

// Returns an ExitCode: 0 when every run ended done or diverged, 1 when some
// failed, 130 on Ctrl-C. Throws before anything is written for a bad grid
// (GridError) or a bad option (UsageError), and StoreInUse when another
// runner holds the store (runner/cli_errors.h maps them to exit codes).
int SweepMain(const SweepOptions& options);

}  // namespace hrm
