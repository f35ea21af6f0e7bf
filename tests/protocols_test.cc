// The measurement protocols (latency, genspeed) and the HRM role analyses on
// tiny models over real text (the GPL's English, byte-level), read back from
// the events they append.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "base/atomic_file.h"
#include "base/event_log.h"
#include "base/exit_code.h"
#include "base/param_count.h"
#include "base/run_dir.h"
#include "core/checkpoint.h"
#include "core/device.h"
#include "core/generate.h"
#include "core/model.h"
#include "experiments/genspeed.h"
#include "experiments/hlrole.h"
#include "experiments/latency.h"
#include "experiments/protocol.h"
#include "experiments/train.h"
#include "tests/text_corpus.h"

namespace hrm {
namespace {

namespace fs = std::filesystem;

json Tiny(json over) {
  json given = {{"d", 32},         {"seq", 16},           {"batch", 1},  {"vocab", 256},
                {"threads", 1},    {"steps", 6},          {"warmup", 1}, {"eval_interval", 3},
                {"eval_iters", 2}, {"log_interval", 100}, {"lr", 3e-3}};
  given.update(over);
  return ResolveConfig(given);
}

std::string FreshDir(const std::string& name) {
  const fs::path p = fs::path(testing::TempDir()) / ("hrm_protocols_" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

std::vector<json> Events(const std::string& dir) { return ReadEventLog(EventLogFileName(dir)); }

// Measurement events by metric (the first of each), and their count.
std::map<std::string, json> Measurements(const std::vector<json>& events) {
  std::map<std::string, json> out;
  for (const auto& e : events)
    if (e["event"] == "measurement") out.emplace(e["metric"].get<std::string>(), e);
  return out;
}

std::vector<json> RunProtocolIn(const json& config, const std::string& dir) {
  EventLog log(EventLogFileName(dir));
  ProtocolContext ctx{config, RunId(config),    json{{"device", "cpu"}},
                      &log,   GplText().View(), ResolvePlacement(config)};
  EXPECT_EQ(RunProtocol(ctx), kExitOk);
  return Events(dir);
}

TEST(Latency, RecordsForwardTimePeakMemoryAndParameters) {
  const json c = Tiny({{"protocol", "latency"}, {"model", "transformer"}, {"L", 2}});
  const auto events = RunProtocolIn(c, FreshDir("latency"));
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.front()["event"], "started");
  EXPECT_EQ(events.front()["config_hash"], RunId(c));
  EXPECT_EQ(events.back()["event"], "finished");
  const auto m = Measurements(events);
  ASSERT_TRUE(m.count("latency_ms") && m.count("latency_ms_min") && m.count("peak_mem_mb"));
  EXPECT_GT(m.at("latency_ms")["value"].get<double>(), 0);
  EXPECT_LE(m.at("latency_ms_min")["value"].get<double>(),
            m.at("latency_ms")["value"].get<double>());
  EXPECT_EQ(m.at("latency_ms")["seq"], 16);
  EXPECT_EQ(m.at("latency_ms")["batch"], 1);
  EXPECT_EQ(m.at("latency_ms")["repeats"], kLatencyRepeats);
  EXPECT_GE(m.at("peak_mem_mb")["value"].get<double>(), 0);
  EXPECT_EQ(m.at("peak_mem_mb")["source"], "rss_growth");
  EXPECT_EQ(m.at("params")["value"].get<double>(), double(CountParams(c).params));
  EXPECT_EQ(m.at("param_bytes")["value"].get<double>(), 4.0 * double(CountParams(c).params));
}

TEST(Latency, PeakMemoryGrowsWithTheModel) {
  // The resident set must grow by at least the fp32 weights of a 4 MB model.
  const json c =
      Tiny({{"protocol", "latency"}, {"model", "transformer"}, {"L", 4}, {"d", 128}, {"seq", 64}});
  const LatencyResult r = TimeForward(c, ResolvePlacement(c), GplText().View(), 1, 2);
  EXPECT_GE(r.peak_bytes, r.param_bytes);
  EXPECT_EQ(r.param_bytes, 4 * CountParams(c).params);
}

TEST(Latency, Bf16WeightsHalveTheParameterBytes) {
  // measure_weights forces bf16 weights on the CPU too (the default there is
  // fp32): the same parameters in half the bytes, and a forward that runs.
  const json fp32 = Tiny({{"protocol", "latency"}, {"model", "unitf"}, {"M", 2}});
  const json bf16 =
      Tiny({{"protocol", "latency"}, {"model", "unitf"}, {"M", 2}, {"measure_weights", "bf16"}});
  const LatencyResult a = TimeForward(fp32, ResolvePlacement(fp32), GplText().View(), 1, 2);
  const LatencyResult b = TimeForward(bf16, ResolvePlacement(bf16), GplText().View(), 1, 2);
  EXPECT_EQ(a.params, b.params);
  EXPECT_EQ(a.param_bytes, 4 * CountParams(fp32).params);
  EXPECT_EQ(b.param_bytes, 2 * CountParams(bf16).params);
  EXPECT_GT(b.median_ms, 0);
  const auto m = Measurements(RunProtocolIn(bf16, FreshDir("latency_bf16")));
  EXPECT_EQ(m.at("param_bytes")["value"].get<double>(), double(b.param_bytes));
  EXPECT_EQ(m.at("param_bytes")["weights"], "bf16");
}

TEST(Latency, Fp32WeightsKeepTheirBytesUnderBf16Compute) {
  // dtype bf16 casts the protocol's weights to bf16 unless measure_weights
  // keeps them fp32, computing under autocast as training does.
  const json cast =
      Tiny({{"protocol", "latency"}, {"model", "transformer"}, {"L", 1}, {"dtype", "bf16"}});
  const json kept = Tiny({{"protocol", "latency"},
                          {"model", "transformer"},
                          {"L", 1},
                          {"dtype", "bf16"},
                          {"measure_weights", "fp32"}});
  EXPECT_EQ(TimeForward(cast, ResolvePlacement(cast), GplText().View(), 1, 1).param_bytes,
            2 * CountParams(cast).params);
  const LatencyResult r = TimeForward(kept, ResolvePlacement(kept), GplText().View(), 1, 1);
  EXPECT_EQ(r.param_bytes, 4 * CountParams(kept).params);
  EXPECT_GT(r.median_ms, 0);
  EXPECT_NE(RunId(cast), RunId(kept));  // it changes the numbers: another run
}

// ---- Device and precision, resolved once (core/device.h) --------------------

TEST(Placement, BfloatRuleAndProtocolWeights) {
  Placement p = ResolvePlacement(Tiny({{"device", "cpu"}}));
  EXPECT_EQ(p.device, torch::Device(torch::kCPU));
  EXPECT_FALSE(p.bf16_autocast);
  EXPECT_EQ(p.weights, torch::kFloat);
  // dtype bf16: training autocasts over fp32 master weights ...
  p = ResolvePlacement(Tiny({{"device", "cpu"}, {"dtype", "bf16"}}));
  EXPECT_TRUE(p.bf16_autocast);
  EXPECT_EQ(p.weights, torch::kFloat);
  // ... the protocols hold bf16 weights, or fp32 ones under autocast.
  p = ResolvePlacement(Tiny({{"device", "cpu"}, {"dtype", "bf16"}, {"protocol", "genspeed"}}));
  EXPECT_EQ(p.weights, torch::kBFloat16);
  EXPECT_FALSE(p.protocol_autocast());
  p = ResolvePlacement(Tiny({{"device", "cpu"},
                             {"dtype", "bf16"},
                             {"protocol", "genspeed"},
                             {"measure_weights", "fp32"}}));
  EXPECT_EQ(p.weights, torch::kFloat);
  EXPECT_TRUE(p.protocol_autocast());
  EXPECT_THROW(Tiny({{"measure_weights", "bf16"}}), ConfigError);  // training: fp32 weights
  // A rank's device: auto is cuda:LOCAL_RANK where CUDA is, else the CPU.
  if (!torch::cuda::is_available())
    EXPECT_EQ(ResolvePlacement(Tiny({{"device", "auto"}}), 1).device, torch::Device(torch::kCPU));
  else
    EXPECT_EQ(ResolvePlacement(Tiny({{"device", "auto"}}), 0).device, torch::Device("cuda:0"));
}

TEST(Placement, ACudaDeviceThisMachineLacksIsAConfigErrorOnDevice) {
  std::vector<std::string> missing = {"cuda:" + std::to_string(torch::cuda::device_count()),
                                      "cuda:x"};
  if (!torch::cuda::is_available()) missing.push_back("cuda");
  for (const std::string& device : missing) {
    try {
      ResolvePlacement(Tiny({{"device", device}}));
      ADD_FAILURE() << device << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.key, "device") << e.what();
      EXPECT_EQ(e.value, device);
    }
  }
}

// `hrm train --set device=cuda` where there is no such device: exit 2, the
// message names the key, and the run directory is never made.
TEST(Protocol, WorkerRefusesAMissingCudaDeviceAndWritesNothing) {
  std::vector<std::string> missing = {"cuda:" + std::to_string(torch::cuda::device_count())};
  if (!torch::cuda::is_available()) missing.push_back("cuda");
  for (const std::string& device : missing) {
    const std::string dir = FreshDir("no_cuda") + "/run";
    const std::string err = FreshDir("no_cuda_out") + "/err";
    const std::string cmd = std::string(HRM_BINARY) + " train --run-dir " + dir +
                            " --set device=" + device +
                            " --set model=unitf --set M=2 --set d=32 --set seq=16 --set steps=2"
                            " --no-progress 2>" +
                            err + " </dev/null";
    const int status = std::system(cmd.c_str());
    ASSERT_TRUE(WIFEXITED(status)) << cmd;
    EXPECT_EQ(WEXITSTATUS(status), kExitUsage) << device;
    const std::string message = ReadFile(err);
    EXPECT_NE(message.find("device: "), std::string::npos) << message;
    EXPECT_EQ(message.find("Exception raised from"), std::string::npos) << message;  // no trace
    EXPECT_FALSE(fs::exists(dir)) << device;
  }
}

// ---- On a CUDA device (skipped without one) ----------------------------------

TEST(LatencyCuda, Bf16WeightsAndTheAllocatorsPeakOnAFreshDevice) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  // The first measurement of the process on this device: the caching
  // allocator's statistics must be ready before PeakMemory resets them.
  const json c =
      Tiny({{"protocol", "latency"}, {"model", "hrm"}, {"N", 2}, {"T", 2}, {"device", "cuda"}});
  const Placement where = ResolvePlacement(c);
  EXPECT_TRUE(where.bf16_autocast);
  EXPECT_EQ(where.weights, torch::kBFloat16);  // the paper's bf16 model
  const auto m = Measurements(RunProtocolIn(c, FreshDir("latency_cuda")));
  EXPECT_EQ(m.at("peak_mem_mb")["source"], "cuda_peak_allocated");
  EXPECT_EQ(m.at("param_bytes")["value"].get<double>(), 2.0 * double(CountParams(c).params));
  EXPECT_GE(m.at("peak_mem_mb")["value"].get<double>() * (1 << 20),
            m.at("param_bytes")["value"].get<double>());
  // fp32 weights kept: twice the bytes, computed under autocast.
  const json kept = Tiny({{"protocol", "latency"},
                          {"model", "hrm"},
                          {"N", 2},
                          {"T", 2},
                          {"device", "cuda"},
                          {"measure_weights", "fp32"}});
  const LatencyResult r = TimeForward(kept, ResolvePlacement(kept), GplText().View(), 1, 2);
  EXPECT_EQ(r.param_bytes, 4 * CountParams(kept).params);
  EXPECT_GE(r.peak_bytes, r.param_bytes);
}

TEST(GenSpeedCuda, CachedDecodingMatchesAndTheCacheIsBf16) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const json c =
      Tiny({{"protocol", "genspeed"}, {"model", "transformer"}, {"L", 2}, {"device", "cuda:0"}});
  const auto m = Measurements(RunProtocolIn(c, FreshDir("genspeed_cuda")));
  EXPECT_EQ(m.at("tokens_identical")["value"], 1.0);
  EXPECT_EQ(m.at("kv_cache_bytes")["value"], m.at("kv_cache_bytes_formula")["value"]);
  EXPECT_EQ(m.at("kv_cache_bytes")["value"].get<double>(),
            double(KvCacheBytes(c, 1, kGenPrompt + kGenNew - 1, 2)));
  EXPECT_EQ(m.at("peak_mem_mb")["source"], "cuda_peak_allocated");
}

class GenSpeedTest : public testing::TestWithParam<json> {};

TEST_P(GenSpeedTest, CachedAndRecomputedDecodingAgree) {
  const json c = Tiny(GetParam());
  torch::manual_seed(7);
  LanguageModel model = MakeModel(ModelOptions::FromConfig(c));
  model->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor prompt = torch::randint(0, 256, {2, 9}, torch::kLong);
  const torch::Tensor full = GreedyGenerate(*model, prompt, 12, /*use_cache=*/false);
  DecodeState state;
  const torch::Tensor cached = GreedyGenerate(*model, prompt, 12, /*use_cache=*/true, &state);
  ASSERT_EQ(full.sizes(), (std::vector<int64_t>{2, 12}));
  EXPECT_TRUE(torch::equal(full, cached)) << full << cached;
  // The cache holds K and V of every position but the last generated one,
  // as many sets as MODEL.md §7 says.
  EXPECT_EQ(state.CacheBytes(), KvCacheBytes(c, 2, 9 + 12 - 1, 4));
}

INSTANTIATE_TEST_SUITE_P(Families, GenSpeedTest,
                         testing::Values(json{{"model", "transformer"}, {"L", 3}},
                                         json{{"model", "unitf"}, {"M", 4}},
                                         json{{"model", "hrm"}, {"N", 2}, {"T", 2}, {"S", 2}}));

TEST(GenSpeed, KvCacheFormulas) {
  // n = 10 positions, d = 32, B = 2, 2 bytes: one K/V pair = 2·10·32·2·2 bytes.
  const int64_t pair = 2 * 10 * 32 * 2 * 2;
  EXPECT_EQ(KvCacheBytes(Tiny({{"model", "transformer"}, {"L", 3}}), 2, 10, 2), 3 * pair);
  EXPECT_EQ(KvCacheBytes(Tiny({{"model", "unitf"}, {"M", 5}}), 2, 10, 2), 5 * pair);
  // Block_in once, Block_L M·S = 12 times, Block_H N·S = 4 times.
  EXPECT_EQ(KvCacheBytes(Tiny({{"model", "hrm"}, {"N", 2}, {"T", 3}, {"S", 2}}), 2, 10, 2),
            (1 + 12 + 4) * pair);
}

TEST(GenSpeed, RecordsThroughputOfBothDecodings) {
  const json c = Tiny({{"protocol", "genspeed"}, {"model", "hrm"}, {"N", 2}, {"T", 2}});
  const auto events = RunProtocolIn(c, FreshDir("genspeed"));
  EXPECT_EQ(events.front()["event"], "started");
  EXPECT_EQ(events.back()["event"], "finished");
  const auto m = Measurements(events);
  for (const char* metric : {"tok_per_s", "ms_per_tok", "tok_per_s_cached", "ms_per_tok_cached"})
    ASSERT_TRUE(m.count(metric) && m.at(metric)["value"].get<double>() > 0) << metric;
  const double tps = m.at("tok_per_s")["value"], mspt = m.at("ms_per_tok")["value"];
  EXPECT_NEAR(tps * mspt, 1000.0, 1e-6 * 1000);  // batch 1: one token per step
  EXPECT_EQ(m.at("tokens_identical")["value"], 1.0);
  EXPECT_EQ(m.at("kv_cache_bytes")["value"], m.at("kv_cache_bytes_formula")["value"]);
  EXPECT_EQ(m.at("tok_per_s")["prompt"], kGenPrompt);
  EXPECT_EQ(m.at("tok_per_s")["new_tokens"], kGenNew);
  EXPECT_TRUE(m.count("peak_mem_mb"));
}

TEST(HlRole, FrozenSlowModuleChangesTheLossAndTraceFollowsT) {
  const json c = Tiny({{"model", "hrm"}, {"N", 3}, {"T", 2}, {"K", 2}, {"batch", 2}});
  torch::manual_seed(3);
  LanguageModel model = MakeModel(ModelOptions::FromConfig(c));
  const HlRoleResult r = AnalyseHlRole(*model, GplText().View(), 16, 2, 2, torch::kCPU, false);
  EXPECT_TRUE(std::isfinite(r.ce_normal) && std::isfinite(r.ce_h_frozen));
  EXPECT_GT(std::abs(r.ce_h_frozen - r.ce_normal), 1e-6);
  ASSERT_EQ(r.trace.size(), 6u);  // M = N·T steps of the last pass
  for (const StepTrace& s : r.trace) EXPECT_EQ(s.h_fired, (s.step + 1) % 2 == 0) << s.step;
}

TEST(HlRole, FinishedHrmRunRecordsAblationAndTrace) {
  // Through the worker: `hrm train` on the builtin corpus trains, then
  // analyses the final model on the eval batches.
  const std::string dir = FreshDir("hlrole_run");
  TrainArgs args;
  args.run_dir = dir;
  args.progress = false;
  for (const char* s : {"model=hrm", "N=2", "T=3", "K=2", "d=32", "seq=16", "batch=2", "steps=4",
                        "warmup=1", "eval_interval=2", "eval_iters=2", "threads=1"})
    args.sets.push_back(s);
  ASSERT_EQ(TrainMain(args), kExitOk);
  const auto events = Events(dir);
  const auto m = Measurements(events);
  ASSERT_TRUE(m.count("ce_normal") && m.count("ce_h_frozen"));
  // The normal CE is the final evaluation's: the same model on the same batches.
  double final_val = 0;
  for (const auto& e : events)
    if (e["event"] == "eval" && e["step"] == 4) final_val = e["val_ce"];
  EXPECT_NEAR(m.at("ce_normal")["value"].get<double>(), final_val, 1e-9);
  EXPECT_NE(m.at("ce_h_frozen")["value"].get<double>(), final_val);
  int rows = 0, fired = 0;
  for (const auto& e : events)
    if (e["event"] == "measurement" && e["metric"] == "trace.h_fired") {
      ++rows;
      fired += e["value"].get<double>() > 0;
      EXPECT_EQ(e["value"].get<double>() > 0, (e["step"].get<int>() + 1) % 3 == 0);
    }
  EXPECT_EQ(rows, 6);
  EXPECT_EQ(fired, 2);
}

TEST(Protocol, WorkerDispatchesOnTheProtocolKey) {
  const std::string dir = FreshDir("dispatch");
  TrainArgs args;
  args.run_dir = dir;
  args.progress = false;
  for (const char* s :
       {"protocol=latency", "model=unitf", "M=3", "d=32", "seq=16", "batch=1", "threads=1"})
    args.sets.push_back(s);
  ASSERT_EQ(TrainMain(args), kExitOk);
  const auto events = Events(dir);
  EXPECT_TRUE(Measurements(events).count("latency_ms"));
  for (const auto& e : events) EXPECT_NE(e["event"], "eval");  // nothing trained
  EXPECT_TRUE(ListCheckpoints(dir).empty());
  // Protocols measure one process.
  args.run_dir = FreshDir("dispatch_ws");
  args.sets.push_back("world_size=2");
  EXPECT_EQ(TrainMain(args), kExitUsage);
}

}  // namespace
}  // namespace hrm
