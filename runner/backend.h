// Where workers run. The scheduler hands a backend runs to start and asks it
// which have ended; local child processes and SLURM jobs implement it, and a
// test can fake it.
#pragma once

#include <string>
#include <vector>

namespace hrm {

// One worker to start: `hrm train` for one run directory.
struct WorkerSpec {
  std::string run_id;
  std::string run_dir;
  std::vector<std::string> argv;  // full command, argv[0] the hrm binary
  int ranks = 1;                  // slots it occupies (world_size)
};

struct WorkerExit {
  std::string run_id;
  int exit_code = 0;   // ExitCode, or 128+signal when killed by a signal
  std::string detail;  // e.g. "killed by signal 9"
};

class Backend {
 public:
  virtual ~Backend() = default;
  // Free slots now (a run of `ranks` needs that many).
  virtual int FreeSlots() const = 0;
  virtual void Start(const WorkerSpec& spec) = 0;
  // A run the store says is running, left by an earlier runner: true when
  // the backend still has it live (a queued or running SLURM task) and now
  // tracks it as if started here; false when it must be started again.
  virtual bool Reattach(const WorkerSpec& spec) {
    (void)spec;
    return false;
  }
  // Workers that ended since the last call. Never blocks.
  virtual std::vector<WorkerExit> Reap() = 0;
  // Asks every worker to checkpoint and exit (SIGTERM to its process group).
  virtual void StopAll() = 0;
  // Kills every worker now (SIGKILL).
  virtual void KillAll() = 0;
  virtual int Running() const = 0;
};

}  // namespace hrm
