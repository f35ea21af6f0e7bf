// The run directory's file names are an on-disk format: runs written by an earlier hrm are
// resumed, ingested and reproduced by this one, so a renamed file would orphan them.
#include "base/run_dir.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace hrm {
namespace {

TEST(RunDir, NamesEveryFileOfARunDirectory) {
  EXPECT_EQ(RunConfigFileName("runs/ab12"), "runs/ab12/config.json");
  EXPECT_EQ(GivenConfigFileName("runs/ab12"), "runs/ab12/run.json");
  EXPECT_EQ(EventLogFileName("runs/ab12"), "runs/ab12/events.jsonl");
  EXPECT_EQ(WorkerLogFileName("runs/ab12"), "runs/ab12/worker.log");
  EXPECT_EQ(WorkerLockFileName("runs/ab12"), "runs/ab12/worker.lock");
  EXPECT_EQ(RankPidFileName("runs/ab12", 3), "runs/ab12/rank3.pid");
  EXPECT_EQ(CheckpointDirName("runs/ab12"), "runs/ab12/ckpt");
  EXPECT_EQ(CheckpointFileName("runs/ab12", 42), "runs/ab12/ckpt/step_00000042.ckpt");
}

TEST(RunDir, CheckpointNamesSortByStep) {
  std::vector<std::string> names;
  for (int64_t step : {1000, 9, 100000000, 10}) names.push_back(CheckpointFileName("r", step));
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names,
            (std::vector<std::string>{"r/ckpt/step_00000009.ckpt", "r/ckpt/step_00000010.ckpt",
                                      "r/ckpt/step_00001000.ckpt", "r/ckpt/step_100000000.ckpt"}));
}

}  // namespace
}  // namespace hrm
