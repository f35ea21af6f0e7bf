// The trainer on real text (the GPL's English, byte-level), tiny models.
#include "core/trainer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "base/atomic_file.h"
#include "base/event_log.h"
#include "base/run_dir.h"
#include "core/checkpoint.h"
#include "core/model.h"
#include "tests/text_corpus.h"

namespace hrm {
namespace {

namespace fs = std::filesystem;

json TinyConfig(json over) {
  json given = {{"d", 32},      {"seq", 32},          {"batch", 4},
                {"steps", 12},  {"eval_interval", 4}, {"eval_iters", 2},
                {"lr", 3e-3},   {"warmup", 2},        {"threads", 1},
                {"vocab", 256}, {"log_interval", 100}};
  given.update(over);
  return ResolveConfig(given);
}

std::string FreshDir(const std::string& name) {
  fs::path p = fs::path(testing::TempDir()) / ("hrm_trainer_" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

TrainOutcome RunTrain(const json& config, const std::string& dir, int64_t stop_after = -1) {
  EventLog log(EventLogFileName(dir));
  TrainContext ctx;
  ctx.config = config;
  ctx.run_id = RunId(config);
  ctx.run_dir = dir;
  ctx.log = &log;
  ctx.progress = false;
  ctx.stop_after = stop_after;
  return Train(ctx, GplText().View());
}

// Eval rows by step, wall time removed; a later duplicate must equal the first.
std::map<int64_t, json> EvalRows(const std::string& dir) {
  std::map<int64_t, json> rows;
  for (json e : ReadEventLog(EventLogFileName(dir))) {
    if (e["event"] != "eval") continue;
    e.erase("wall_s");
    auto [it, fresh] = rows.emplace(e["step"].get<int64_t>(), e);
    if (!fresh) EXPECT_EQ(it->second, e) << "replayed eval differs at step " << e["step"];
  }
  return rows;
}

void ExpectSameWeights(const std::string& a, const std::string& b, const json& config) {
  auto load = [&](const std::string& dir) {
    LanguageModel m = MakeModel(ModelOptions::FromConfig(config));
    LoadCheckpoint(ListCheckpoints(dir).front(), m.get(), nullptr);
    return m;
  };
  auto ma = load(a), mb = load(b);
  auto pa = ma->named_parameters(), pb = mb->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& item : pa) EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();
}

class ResumeTest : public testing::TestWithParam<std::string> {};

TEST_P(ResumeTest, StopAndResumeReproducesStraightRunExactly) {
  json c = TinyConfig({{"model", GetParam()}, {"ckpt_interval", 4}});
  const std::string straight = FreshDir(GetParam() + "_straight");
  const std::string resumed = FreshDir(GetParam() + "_resumed");
  ASSERT_EQ(RunTrain(c, straight), TrainOutcome::kFinished);
  // Interrupted between checkpoints (the stop writes its own at step 6)...
  ASSERT_EQ(RunTrain(c, resumed, 6), TrainOutcome::kInterrupted);
  EXPECT_EQ(fs::path(ListCheckpoints(resumed).front()).filename(), "step_00000006.ckpt");
  ASSERT_EQ(RunTrain(c, resumed), TrainOutcome::kFinished);
  EXPECT_EQ(EvalRows(straight), EvalRows(resumed));
  EXPECT_EQ(EvalRows(straight).size(), 4u);  // steps 0, 4, 8, 12
  ExpectSameWeights(straight, resumed, c);
}

INSTANTIATE_TEST_SUITE_P(Families, ResumeTest, testing::Values("transformer", "unitf", "hrm"));

TEST(Trainer, CrashWithoutFinalCheckpointResumesFromPeriodicOne) {
  json c = TinyConfig({{"model", "hrm"}, {"N", 2}, {"T", 2}, {"K", 2}});
  const std::string straight = FreshDir("crash_straight");
  const std::string crashed = FreshDir("crash_crashed");
  ASSERT_EQ(RunTrain(c, straight), TrainOutcome::kFinished);
  ASSERT_EQ(RunTrain(c, crashed, 7), TrainOutcome::kInterrupted);
  // A kill -9 writes no checkpoint at the stop: drop it, resume from step 4.
  fs::remove(CheckpointFileName(crashed, 7));
  ASSERT_EQ(RunTrain(c, crashed), TrainOutcome::kFinished);
  EXPECT_EQ(EvalRows(straight), EvalRows(crashed));
  ExpectSameWeights(straight, crashed, c);
}

TEST(Trainer, CorruptNewestCheckpointFallsBackToPrevious) {
  json c = TinyConfig({{"model", "transformer"}, {"L", 2}, {"ckpt_keep", 3}});
  const std::string straight = FreshDir("corrupt_straight");
  const std::string dir = FreshDir("corrupt");
  ASSERT_EQ(RunTrain(c, straight), TrainOutcome::kFinished);
  ASSERT_EQ(RunTrain(c, dir, 8), TrainOutcome::kInterrupted);
  const std::string newest = CheckpointFileName(dir, 8);
  std::string bytes = ReadFile(newest);
  {
    std::ofstream(newest, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() / 2);
  }
  EXPECT_THROW(ReadCheckpointMeta(newest), CorruptCheckpoint);
  testing::internal::CaptureStderr();
  ASSERT_EQ(RunTrain(c, dir), TrainOutcome::kFinished);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find(newest), std::string::npos) << err;  // the warning names the file
  EXPECT_EQ(EvalRows(straight), EvalRows(dir));
  // A flipped byte in the middle is caught by the checksum too.
  bytes[bytes.size() / 3] ^= 0x5a;
  WriteFileAtomic(newest, bytes);
  try {
    ReadCheckpointMeta(newest);
    FAIL();
  } catch (const CorruptCheckpoint& e) {
    EXPECT_NE(std::string(e.what()).find("checksum"), std::string::npos);
  }
}

TEST(Trainer, CheckpointOfAnotherConfigIsRefused) {
  const std::string dir = FreshDir("other_config");
  ASSERT_EQ(RunTrain(TinyConfig({{"model", "unitf"}}), dir, 4), TrainOutcome::kInterrupted);
  json other = TinyConfig({{"model", "unitf"}, {"lr", 1e-3}});
  try {
    RunTrain(other, dir);
    FAIL() << "resumed from another config's checkpoint";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("different config"), std::string::npos) << e.what();
  }
}

TEST(Trainer, ExplodingGradNormIsRecordedAsDiverged) {
  const std::string dir = FreshDir("diverged");
  json c = TinyConfig({{"model", "transformer"}, {"diverge_grad_norm", 1e-6}});
  ASSERT_EQ(RunTrain(c, dir), TrainOutcome::kDiverged);
  const std::vector<json> events = ReadEventLog(EventLogFileName(dir));
  ASSERT_FALSE(events.empty());
  const json& e = events.back();
  EXPECT_EQ(e["event"], "diverged");
  EXPECT_EQ(e["step"], 0);
  EXPECT_EQ(e["reason"], "exploding grad norm");
}

class LearnsTest : public testing::TestWithParam<std::string> {};

TEST_P(LearnsTest, ValLossFallsOnRealText) {
  const std::string dir = FreshDir("learns_" + GetParam());
  json c = TinyConfig({{"model", GetParam()},
                       {"steps", 40},
                       {"eval_interval", 40},
                       {"d", 64},
                       {"seq", 64},
                       {"batch", 8},
                       {"lr", 1e-2},
                       {"warmup", 4}});
  ASSERT_EQ(RunTrain(c, dir), TrainOutcome::kFinished);
  auto rows = EvalRows(dir);
  const double first = rows.at(0)["val_ce"], last = rows.at(40)["val_ce"];
  EXPECT_NEAR(first, std::log(256.0), 0.5);  // untrained: about uniform
  EXPECT_LT(last, first - 1.5) << GetParam() << " did not learn";
  if (GetParam() == "hrm") EXPECT_TRUE(rows.at(40).contains("gate_L_steps"));
}

INSTANTIATE_TEST_SUITE_P(Families, LearnsTest, testing::Values("transformer", "unitf", "hrm"));

TEST(Trainer, ScheduleWarmsUpThenDecaysToMinLr) {
  json c = TinyConfig({{"steps", 100}, {"warmup", 10}, {"lr", 1.0}});
  EXPECT_NEAR(LearningRate(c, 0), 1.0 / 11, 1e-12);
  EXPECT_NEAR(LearningRate(c, 9), 10.0 / 11, 1e-12);
  EXPECT_NEAR(LearningRate(c, 10), 1.0, 1e-12);
  EXPECT_NEAR(LearningRate(c, 55), 0.1 + 0.45, 1e-12);  // half way: mean of lr and min_lr
  EXPECT_NEAR(LearningRate(c, 100), 0.1, 1e-12);
}

}  // namespace
}  // namespace hrm
