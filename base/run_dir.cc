// Plain concatenation rather than std::filesystem's operator/, so that a path is the same
// string however it is built: the store keeps event log paths (ingest cursors) and compares them.
#include "base/run_dir.h"

#include <cstdio>

namespace hrm {
namespace {

std::string In(const std::string& run_dir, const std::string& name) { return run_dir + "/" + name; }

}  // namespace

std::string RunConfigFileName(const std::string& run_dir) { return In(run_dir, "config.json"); }
std::string GivenConfigFileName(const std::string& run_dir) { return In(run_dir, "run.json"); }
std::string EventLogFileName(const std::string& run_dir) { return In(run_dir, "events.jsonl"); }
std::string WorkerLogFileName(const std::string& run_dir) { return In(run_dir, "worker.log"); }
std::string WorkerLockFileName(const std::string& run_dir) { return In(run_dir, "worker.lock"); }
std::string RankPidFileName(const std::string& run_dir, int rank) {
  return In(run_dir, "rank" + std::to_string(rank) + ".pid");
}
std::string SlurmExitFileName(const std::string& run_dir) { return In(run_dir, "slurm_exit"); }
std::string CheckpointDirName(const std::string& run_dir) { return In(run_dir, "ckpt"); }
std::string CheckpointFileName(const std::string& run_dir, int64_t step) {
  char name[64];
  std::snprintf(name, sizeof name, "step_%08lld.ckpt", static_cast<long long>(step));
  return In(CheckpointDirName(run_dir), name);
}

}  // namespace hrm
