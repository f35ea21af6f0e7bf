// The file names of a run directory, in one place (as LevelDB's db/filename.h names a
// database's files). Every reader and writer of a run directory builds its paths here.
//
//   RUN_DIR/config.json    the resolved config and run id, written by the worker (rank 0)
//   RUN_DIR/run.json       the config as the sweep gave it (reproduces the same run id)
//   RUN_DIR/events.jsonl   the append-only event log (base/event_log.h)
//   RUN_DIR/worker.log     the worker's stdout and stderr, appended across attempts
//   RUN_DIR/worker.lock    held by the one worker training the run (base/file_lock.h)
//   RUN_DIR/rankN.pid      the pid of data-parallel rank N
//   RUN_DIR/slurm_exit     "TASK EXITCODE" left by a SLURM batch task (runner/slurm_script.h)
//   RUN_DIR/ckpt/          model checkpoints, step_00000042.ckpt
#pragma once

#include <cstdint>
#include <string>

namespace hrm {

std::string RunConfigFileName(const std::string& run_dir);
std::string GivenConfigFileName(const std::string& run_dir);
std::string EventLogFileName(const std::string& run_dir);
std::string WorkerLogFileName(const std::string& run_dir);
std::string WorkerLockFileName(const std::string& run_dir);
std::string RankPidFileName(const std::string& run_dir, int rank);
std::string SlurmExitFileName(const std::string& run_dir);
std::string CheckpointDirName(const std::string& run_dir);
std::string CheckpointFileName(const std::string& run_dir, int64_t step);

}  // namespace hrm
