// The script is plain bash a user can read top to bottom: the #SBATCH
// options, a table from array index to run, then the part every task runs.
#include "runner/slurm_script.h"

#include <sstream>

namespace hrm {
namespace {

// Runs the worker (in "$@") for one task. Bash loses a background child's
// exit status when the child is reaped while a trap interrupts `wait`
// (bash 5.2: `wait` then returns -1), so the status is recorded by a subshell
// instead: its own SIGTERM/SIGUSR1 handler does nothing (a caught signal is
// reset to the default for the worker it starts), so it outlives the signals
// that stop the worker and writes the code after it.
const char* kTaskBody = R"SH(
TASK=${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}
EXIT_FILE=$RUN_DIR/slurm_exit
mkdir -p "$RUN_DIR" && rm -f "$EXIT_FILE"
echo "== $(date -u +%FT%TZ) SLURM task $TASK (job $SLURM_JOB_ID, restart ${SLURM_RESTART_COUNT:-0}) on $(hostname -s)" >> "$RUN_DIR/worker.log"

# SIGUSR1 reaches this shell alone (--signal=B:...): pass it on to the worker.
# SIGTERM (scancel, requeue, preemption) reaches every process; pass it on too
# in case it was sent to this shell only. This shell stays until the worker
# has written its checkpoint.
signal=
worker=
forward() { signal=$1; [ -z "$worker" ] || pkill -"$1" -P "$worker"; }
trap 'forward USR1' USR1
trap 'forward TERM' TERM
RANK_SETUP
( trap : TERM USR1
  RUN_WORKER
  echo "$TASK $?" > "$EXIT_FILE.tmp" && mv -f "$EXIT_FILE.tmp" "$EXIT_FILE"
) >> "$RUN_DIR/worker.log" 2>&1 < /dev/null &
worker=$!
while kill -0 "$worker" 2>/dev/null; do wait "$worker"; done
code=$(cut -d' ' -f2 "$EXIT_FILE" 2>/dev/null)
echo "== $(date -u +%FT%TZ) SLURM task $TASK: worker exited with code ${code:-unknown}${signal:+ after SIG$signal}" >> "$RUN_DIR/worker.log"

# Stopped by SIGUSR1 after a checkpoint (130), or before it could catch the
# signal (128+10): requeue, unless the runner is stopping the sweep.
if [ "$signal" = USR1 ] && [ ! -e STOP_FILE ] && { [ "$code" = 130 ] || [ "$code" = 138 ]; }; then
  echo "== SLURM task $TASK requeues itself: it resumes from its checkpoint" >> "$RUN_DIR/worker.log"
  rm -f "$EXIT_FILE"
  scontrol requeue "$TASK" && exit 0
  echo "$TASK $code" > "$EXIT_FILE"  # refused: the task ends here
fi
exit "${code:-1}"
)SH";

// Ranks of a multi-rank run, one per SLURM task, with torchrun's variables
// made from SLURM's: LOCAL_WORLD_SIZE is this node's entry of
// SLURM_STEP_TASKS_PER_NODE ("4(x2),3": 4 on each of two nodes, then 3).
// The ranks meet in a file store in the run directory (on the shared
// filesystem) under an id that is new for every launch, so no port is chosen.
const char* kRankSetup = R"SH(
RANK_ENV='
node=0
for entry in ${SLURM_STEP_TASKS_PER_NODE//,/ }; do
  count=1
  [[ $entry == *"(x"* ]] && { count=${entry#*(x}; count=${count%)}; }
  for ((k = 0; k < count; k++, node++)); do
    [ "$node" = "$SLURM_NODEID" ] && export LOCAL_WORLD_SIZE=${entry%%(*}
  done
done
export RANK=$SLURM_PROCID LOCAL_RANK=$SLURM_LOCALID WORLD_SIZE=$SLURM_NTASKS
export HRM_RENDEZVOUS_ID=slurm-$SLURM_JOB_ID-${SLURM_RESTART_COUNT:-0}
unset MASTER_ADDR MASTER_PORT
exec "$@"'
)SH";

const char* kRunRanks =
    "srun --ntasks=\"$SLURM_NTASKS\" --cpus-per-task=\"${SLURM_CPUS_PER_TASK:-1}\" "
    "GPU_BIND--kill-on-bad-exit=1 \\\n"
    "    bash -c \"$RANK_ENV\" rank \"$@\"";

void ReplaceAll(std::string& s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
}

}  // namespace

std::string SlurmArray::script_path() const {
  return sweep_dir + "/sbatch-" + std::to_string(number) + ".sh";
}

std::string SlurmArray::map_path() const {
  return sweep_dir + "/sbatch-" + std::to_string(number) + ".json";
}

std::string SlurmStopPath(const std::string& sweep_dir, const std::string& job_id) {
  return sweep_dir + "/stop-" + job_id;
}

std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string SlurmBatchScript(const SlurmArray& a) {
  std::ostringstream s;
  s << "#!/bin/bash\n"
    << "# hrm sweep: job array " << a.number << " of " << a.sweep_dir << ",\n"
    << "# one task per run (task i runs entry i of the table below). Written and submitted\n"
    << "# by `hrm sweep --backend slurm`; resubmit by hand with: sbatch " << a.script_path() << "\n"
    << "# Each task resumes its run from the newest checkpoint in the run directory,\n"
    << "# appends to RUN_DIR/worker.log and leaves \"TASK EXITCODE\" in RUN_DIR/slurm_exit.\n";
  if (a.gpus)
    s << "# One GPU per rank (--gpus-per-task=1 with --ntasks = the run's world_size); the\n"
      << "# ranks of a node see all of its GPUs and rank r uses cuda:LOCAL_RANK.\n";
  const int last = int(a.tasks.size()) - 1;
  s << "#SBATCH --job-name=" << a.job_name << "\n"
    << "#SBATCH --array=0-" << last
    << (a.max_parallel > 0 ? "%" + std::to_string(a.max_parallel) : "") << "\n"
    << "#SBATCH --ntasks=" << a.ranks << "\n";
  // A GPU per rank: --gpus-per-task rather than --gres=gpu:W, which counts
  // per node and so over-asks when the W ranks span nodes.
  if (a.gpus) s << "#SBATCH --gpus-per-task=1\n";
  s << "#SBATCH --cpus-per-task=" << a.cpus_per_task << "\n"
    << "#SBATCH --chdir=" << a.workdir << "\n"
    << "#SBATCH --output=" << a.sweep_dir << "/slurm-%A_%a.out\n"
    << "#SBATCH --open-mode=append\n"
    << "#SBATCH --requeue\n"
    << "#SBATCH --signal=B:USR1@" << a.signal_seconds << "\n";
  if (!a.partition.empty()) s << "#SBATCH --partition=" << a.partition << "\n";
  if (!a.time_limit.empty()) s << "#SBATCH --time=" << a.time_limit << "\n";
  for (const auto& arg : a.sbatch_args) s << "#SBATCH " << arg << "\n";

  s << "\ncase \"${SLURM_ARRAY_TASK_ID:-}\" in\n";
  for (size_t i = 0; i < a.tasks.size(); ++i) {
    const SlurmTask& t = a.tasks[i];
    s << "  " << i << ")  # run " << t.run_id << "\n"
      << "    RUN_DIR=" << ShellQuote(t.run_dir) << "\n"
      << "    set --";
    for (const auto& arg : t.argv) s << " " << ShellQuote(arg);
    s << " ;;\n";
  }
  s << "  *) echo \"" << a.script_path()
    << ": no run for array task '${SLURM_ARRAY_TASK_ID:-}' (submit it with sbatch)\" >&2\n"
    << "     exit 2 ;;\n"
    << "esac\n";

  std::string body = kTaskBody;
  ReplaceAll(body, "RANK_SETUP", a.ranks > 1 ? kRankSetup : "");
  std::string run_ranks = kRunRanks;
  // --gpus-per-task binds each rank to its own GPU, seen as cuda:0; unbound,
  // every rank sees its node's GPUs and takes cuda:LOCAL_RANK.
  ReplaceAll(run_ranks, "GPU_BIND", a.gpus ? "--gpu-bind=none " : "");
  ReplaceAll(body, "RUN_WORKER", a.ranks > 1 ? run_ranks : "\"$@\"");
  ReplaceAll(body, "STOP_FILE", ShellQuote(a.sweep_dir) + "/stop-\"$SLURM_ARRAY_JOB_ID\"");
  s << body;
  return s.str();
}

}  // namespace hrm
