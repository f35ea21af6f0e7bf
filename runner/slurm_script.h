// The batch script of one SLURM job array: one array task per run, written
// into the sweep directory so that a user can read it and resubmit it by hand
// (`sbatch sweep-N/sbatch-K.sh`). The runner only writes it; everything the
// tasks do at run time (signals, checkpoint, requeue, exit record) is in it.
#pragma once

#include <string>
#include <vector>

namespace hrm {

// One array task: `hrm train` for one run directory.
struct SlurmTask {
  std::string run_id;
  std::string run_dir;
  std::vector<std::string> argv;  // the worker's full command
};

// One job array and the sbatch options every task of it shares.
struct SlurmArray {
  std::string sweep_dir;    // holds the script, its task map and stop markers
  int number = 0;           // K of sbatch-K.sh: the sweep's K-th submission
  std::string job_name;     // --job-name
  std::string workdir;      // --chdir: where the runner ran (relative data paths)
  int ranks = 1;            // --ntasks: ranks of each run (world_size); >1 starts them with srun
  bool gpus = false;        // --gpus-per-task=1: one GPU per rank (runs on CUDA)
  int cpus_per_task = 1;    // --cpus-per-task: the worker's torch threads
  int max_parallel = 0;     // tasks running at once (--array=0-N%P); 0 = no limit
  int signal_seconds = 60;  // SIGUSR1 this long before the time limit
  std::string partition;    // --partition; "" = the cluster's default
  std::string time_limit;   // --time; "" = the partition's default
  std::vector<std::string> sbatch_args;  // extra #SBATCH lines, after ours (so they win)
  std::vector<SlurmTask> tasks;          // array index = position

  std::string script_path() const;  // sweep_dir/sbatch-K.sh
  std::string map_path() const;     // sweep_dir/sbatch-K.json
};

// Where the runner marks a job whose tasks must not requeue themselves (it
// asked them to stop): SWEEP_DIR/stop-JOBID.
std::string SlurmStopPath(const std::string& sweep_dir, const std::string& job_id);

// The script's text. Each task:
//  - removes RUN_DIR/slurm_exit and appends a header line to RUN_DIR/worker.log;
//  - runs the worker (ranks > 1: `srun` with RANK, LOCAL_RANK, WORLD_SIZE and a
//    fresh HRM_RENDEZVOUS_ID per launch), its output appended to worker.log;
//  - with gpus, asks for one GPU per rank (--gpus-per-task=1 beside
//    --ntasks=W) and lets every rank of a node see the node's GPUs
//    (srun --gpu-bind=none), so that rank r uses cuda:LOCAL_RANK as under
//    torchrun;
//  - passes SIGUSR1 and SIGTERM on to the worker, which checkpoints at its next
//    step and exits 130, and outlives them itself to record the exit code;
//  - after SIGUSR1 (`--signal=B:USR1@S` before the time limit, or a site's
//    preemption warning) requeues itself with `scontrol requeue`, unless the
//    runner left a stop marker; the requeued task resumes from the checkpoint.
//    SIGTERM never requeues: it comes from scancel (a requeue would undo it)
//    or from SLURM's own requeue or preemption, which requeues by itself.
std::string SlurmBatchScript(const SlurmArray& array);

// `s` quoted for bash: 'it'\''s'.
std::string ShellQuote(const std::string& s);

}  // namespace hrm
