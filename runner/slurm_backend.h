// Workers as SLURM job array tasks (sbatch), one task per run, tracked with
// squeue and the exit record each task leaves in its run directory, so that
// nothing depends on accounting (sacct) being enabled. Run directories must
// be on a filesystem the compute nodes share.
//
// In the sweep directory: sbatch-K.sh (the K-th job array's batch script, for
// a human to read or resubmit), sbatch-K.json (its task map: array index ->
// run id, run dir, argv; and its job id once submitted), slurm-JOB_INDEX.out
// (what a task's script printed), stop-JOB (the runner stopped this job).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "runner/backend.h"
#include "runner/slurm_script.h"

namespace hrm {

struct SlurmBackendOptions {
  std::string sweep_dir;                 // created if missing
  std::string partition;                 // "" = the cluster's default partition
  std::string time_limit;                // per task, HH:MM:SS; "" = the partition's default
  std::vector<std::string> sbatch_args;  // extra sbatch options, e.g. "--gres=gpu:1"
  int max_parallel = 0;                  // tasks of one array running at once; 0 = no limit
  bool gpus = false;                     // a GPU per rank for every run (else: runs on cuda)
  int signal_seconds = 60;               // SIGUSR1 (checkpoint, requeue) before the time limit
  std::chrono::milliseconds poll_interval{1000};  // squeue at most this often
};

class SlurmBackend : public Backend {
 public:
  // Throws std::runtime_error when sbatch cannot be run (not a SLURM host) or
  // the sweep directory cannot be created.
  explicit SlurmBackend(SlurmBackendOptions options);
  // Leaves submitted tasks alone: they outlive the runner, and the next
  // `hrm sweep` reattaches to them.
  ~SlurmBackend() override = default;

  // SLURM queues whatever it is given; the array's %max_parallel throttles.
  int FreeSlots() const override { return 1 << 20; }
  // Buffers the run; the next Reap() submits every buffered run as one job
  // array per world size and GPU use (from the run's run.json: world_size,
  // and a device cuda or cuda:N, which asks for a GPU per rank).
  void Start(const WorkerSpec& spec) override;
  // True when this sweep directory's task map names a task of this run that
  // squeue still shows queued or running under the same batch script.
  bool Reattach(const WorkerSpec& spec) override;
  // Submits what Start() buffered, then (at most every poll_interval) asks
  // squeue which tasks are still live; a task that left the queue ends with
  // the code in its RUN_DIR/slurm_exit, or 130 (interrupted) when it left
  // none: cancelled, timed out or lost with its node. A failed submission
  // ends its runs with code 2 and sbatch's message. Never blocks on a task.
  std::vector<WorkerExit> Reap() override;
  // Marks every job stopped (no self-requeue), signals running tasks with
  // SIGUSR1 so that they checkpoint and exit, and cancels queued ones.
  void StopAll() override;
  // Cancels every task now (scancel: SIGTERM, SIGKILL after KillWait).
  void KillAll() override;
  int Running() const override { return int(buffered_.size() + tasks_.size()); }

 private:
  struct Task {
    std::string run_id;
    std::string run_dir;
    std::string job_id;  // the array's job id
    int index = 0;       // the task's array index
    std::string script;  // its batch script (tells our job from a reused id)
    std::string state;   // squeue's %T at the last poll; "" before the first
    std::string id() const { return job_id + "_" + std::to_string(index); }
  };
  // A task squeue shows: its state and the batch script it runs.
  struct QueueEntry {
    std::string state;
    std::string command;
  };
  // The live tasks of these jobs by "JOB_INDEX"; false when squeue failed.
  bool Poll(const std::set<std::string>& job_ids, std::map<std::string, QueueEntry>* live);
  // Submits the buffered runs; returns those whose sbatch failed.
  std::vector<WorkerExit> Submit();
  // Writes the stop marker of every tracked job.
  void MarkStopped();
  // Reattach's view, read once: the newest submitted task of each run in the
  // sweep directory's task maps, and which of their jobs squeue shows.
  void LoadSubmitted();

  SlurmBackendOptions options_;
  std::string workdir_;
  std::vector<WorkerSpec> buffered_;
  std::vector<WorkerExit> ended_;      // reported by the next Reap()
  std::map<std::string, Task> tasks_;  // by run id
  std::set<std::string> stopped_jobs_;
  std::optional<std::map<std::string, Task>> submitted_;  // by run id
  std::map<std::string, QueueEntry> submitted_live_;
  bool squeue_failing_ = false;
  std::chrono::steady_clock::time_point last_poll_{};
  int next_number_ = 0;  // K of the next sbatch-K.sh
};

}  // namespace hrm
