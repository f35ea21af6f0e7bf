// Data parallelism on real parts: Gloo communicators between threads, and the
// real `hrm` binary launching real rank processes on real text (the GPL's
// English, byte-level), tiny models.
#include <gtest/gtest.h>
#include <signal.h>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <thread>
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "base/atomic_file.h"
#include "base/event_log.h"
#include "base/run_dir.h"
#include "base/subprocess.h"
#include "base/token_data.h"
#include "base/tokenizer.h"
#include "core/checkpoint.h"
#include "core/model.h"
#ifdef HRM_HAVE_GLOO
#include "core/gloo_communicator.h"
#endif

namespace hrm {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Per test process (ctest runs tests in parallel), removed when all passed.
const fs::path& Root() {
  static const fs::path root =
      fs::path(testing::TempDir()) / ("hrm_ddp_" + std::to_string(getpid()));
  return root;
}

class RemoveRootIfPassed : public testing::Environment {
  void TearDown() override {
    if (!testing::UnitTest::GetInstance()->Failed()) fs::remove_all(Root());
  }
};
const auto* const kCleanup = testing::AddGlobalTestEnvironment(new RemoveRootIfPassed);

std::string FreshDir(const std::string& name) {
  const fs::path p = Root() / name;
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

// ---- Communicators between threads of this process -------------------------

#ifdef HRM_HAVE_GLOO

// Runs body(rank) on `world` threads; the first exception fails the test.
void OnRanks(int world, const std::function<void(int)>& body) {
  std::vector<std::thread> threads;
  std::vector<std::string> errors(world);
  for (int r = 0; r < world; ++r)
    threads.emplace_back([&, r] {
      try {
        body(r);
      } catch (const std::exception& e) {
        errors[r] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (int r = 0; r < world; ++r) EXPECT_EQ(errors[r], "") << "rank " << r;
}

void ExpectCollectivesWork(int world,
                           const std::function<c10::intrusive_ptr<c10d::Store>(int)>& store_of) {
  OnRanks(world, [&](int r) {
    GlooCommunicator comm(store_of(r), r, world, "127.0.0.1", milliseconds(10000));
    EXPECT_EQ(comm.rank(), r);
    EXPECT_EQ(comm.world_size(), world);
    const double ranks_sum = world * (world + 1) / 2.0;
    torch::Tensor f = torch::arange(5, torch::kFloat) * float(r + 1);
    comm.AllReduceSum(f);
    EXPECT_TRUE(torch::equal(f, torch::arange(5, torch::kFloat) * float(ranks_sum)));
    torch::Tensor d = torch::full({3, 2}, 0.25 * (r + 1), torch::kDouble);
    comm.AllReduceSum(d);
    EXPECT_TRUE(torch::equal(d, torch::full({3, 2}, 0.25 * ranks_sum, torch::kDouble)));
    torch::Tensor b = torch::full({7}, r, torch::kLong);  // any dtype: copied as bytes
    comm.Broadcast(b, world - 1);
    EXPECT_TRUE(torch::equal(b, torch::full({7}, world - 1, torch::kLong)));
  });
}

TEST(GlooCommunicator, SumsAndBroadcastsThroughATcpStore) {
  c10d::TCPStoreOptions server_opts;
  server_opts.port = 0;  // any free port; clients read it back
  server_opts.isServer = true;
  server_opts.waitWorkers = false;
  auto server = c10::make_intrusive<c10d::TCPStore>("127.0.0.1", server_opts);
  ExpectCollectivesWork(3, [&](int r) -> c10::intrusive_ptr<c10d::Store> {
    if (r == 0) return server;
    c10d::TCPStoreOptions opts;
    opts.port = server->getPort();
    opts.waitWorkers = false;
    return c10::make_intrusive<c10d::TCPStore>("127.0.0.1", opts);
  });
}

TEST(GlooCommunicator, SumsAndBroadcastsThroughAFileStore) {
  const std::string path = FreshDir("filestore") + "/store";
  ExpectCollectivesWork(2, [&](int) -> c10::intrusive_ptr<c10d::Store> {
    return c10::make_intrusive<c10d::FileStore>(path, 2);
  });
}

TEST(GlooCommunicator, RankThatNeverArrivesTimesOutTheRendezvous) {
  const std::string path = FreshDir("absent") + "/store";
  const auto t0 = Clock::now();
  EXPECT_ANY_THROW(GlooCommunicator(c10::make_intrusive<c10d::FileStore>(path, 2), 0, 2,
                                    "127.0.0.1", milliseconds(1000)));
  EXPECT_GE(SecondsSince(t0), 0.9);
  EXPECT_LT(SecondsSince(t0), 10.0);
}

TEST(GlooCommunicator, SilentPeerTimesOutTheCollective) {
  const std::string path = FreshDir("silent") + "/store";
  std::atomic<bool> rank0_done{false};
  double waited = -1;
  bool threw = false;
  OnRanks(2, [&](int r) {
    GlooCommunicator comm(c10::make_intrusive<c10d::FileStore>(path, 2), r, 2, "127.0.0.1",
                          milliseconds(1000));
    if (r == 0) {
      torch::Tensor t = torch::ones({4});
      const auto t0 = Clock::now();
      try {
        comm.AllReduceSum(t);
      } catch (const std::exception&) {
        threw = true;
      }
      waited = SecondsSince(t0);
      rank0_done = true;
    } else {
      while (!rank0_done) std::this_thread::sleep_for(milliseconds(10));  // alive, silent
    }
  });
  EXPECT_TRUE(threw);
  EXPECT_GE(waited, 0.9);
  EXPECT_LT(waited, 10.0);
}

#endif  // HRM_HAVE_GLOO

// ---- The hrm binary: launcher, ranks, equivalence, failure -------------------

// A data directory of the GPL's bytes, prepared once.
const std::string& DataDir() {
  static const std::string dir = [] {
    const std::string d = FreshDir("data");
    PrepareCorpus(ByteTokenizer(), "/usr/share/common-licenses/GPL-3", d);
    return d;
  }();
  return dir;
}

const std::vector<std::string> kHrm = {"model=hrm", "N=2", "T=2", "K=2"};
const std::vector<std::string> kTransformer = {"model=transformer", "L=1"};

// `hrm train` of a tiny model: `model` (kHrm or kTransformer) and `sets`.
std::vector<std::string> TrainArgs(const std::string& run_dir,
                                   const std::vector<std::string>& model,
                                   const std::vector<std::string>& sets) {
  std::vector<std::string> args = {HRM_BINARY, "train", "--run-dir", run_dir, "--no-progress"};
  std::vector<std::string> all = {"d=32",       "seq=32",           "batch=4",   "lr=3e-3",
                                  "warmup=2",   "eval_iters=2",     "vocab=256", "threads=1",
                                  "device=cpu", "data=" + DataDir()};
  all.insert(all.end(), model.begin(), model.end());
  all.insert(all.end(), sets.begin(), sets.end());
  for (const std::string& s : all) {
    args.push_back("--set");
    args.push_back(s);
  }
  return args;
}

// Starts HRM_BINARY with `args`, the environment plus `env` ("NAME=value"), and output
// appended to `log`, in our process group.
Subprocess Start(std::vector<std::string> args, const std::vector<std::string>& env,
                 const std::string& log) {
  SpawnOptions o;
  o.argv = std::move(args);
  for (const std::string& kv : env) o.env[kv.substr(0, kv.find('='))] = kv.substr(kv.find('=') + 1);
  o.output_file = log;
  o.new_process_group = false;
  return Subprocess(o);
}

// The exit code (128 + signal when killed), or nullopt if still running
// after `limit` (the process is then killed).
std::optional<int> Wait(Subprocess& child, double limit_s) {
  const auto t0 = Clock::now();
  std::optional<ExitStatus> status;
  while (!(status = child.Poll())) {
    if (SecondsSince(t0) > limit_s) {
      child.Stop(milliseconds(0), SIGKILL);
      return std::nullopt;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  return status->code;
}
std::optional<int> Wait(Subprocess&& child, double limit_s) { return Wait(child, limit_s); }

int RunHrm(const std::vector<std::string>& args, const std::string& log,
           const std::vector<std::string>& env = {}) {
  std::optional<int> rc = Wait(Start(args, env, log), 300);
  EXPECT_TRUE(rc.has_value()) << "hrm hung; see " << log;
  return rc.value_or(-1);
}

std::vector<json> Events(const std::string& run_dir, const std::string& name) {
  std::vector<json> out;
  for (json& e : ReadEventLog(EventLogFileName(run_dir)))
    if (e["event"] == name) out.push_back(std::move(e));
  return out;
}

bool Alive(pid_t pid) { return kill(pid, 0) == 0 || errno != ESRCH; }

pid_t ReadPid(const std::string& path) { return pid_t(std::stol(ReadFile(path))); }

// Every number of a against b (recursively), within tol.
void ExpectNear(const json& a, const json& b, double tol, const std::string& where) {
  if (a.is_number() && b.is_number()) {
    EXPECT_NEAR(a.get<double>(), b.get<double>(), tol) << where;
  } else if (a.is_structured() && b.is_structured() && a.size() == b.size()) {
    for (auto it = a.begin(); it != a.end(); ++it) {
      const std::string key = a.is_object() ? it.key() : std::to_string(it - a.begin());
      if (key == "wall_s") continue;
      ExpectNear(*it, a.is_object() ? b.at(it.key()) : b.at(it - a.begin()), tol,
                 where + "." + key);
    }
  } else {
    EXPECT_EQ(a, b) << where;
  }
}

LanguageModel FinalModel(const std::string& run_dir) {
  const json config = json::parse(ReadFile(RunConfigFileName(run_dir)))["config"];
  LanguageModel m = MakeModel(ModelOptions::FromConfig(config));
  LoadCheckpoint(ListCheckpoints(run_dir).front(), m.get(), nullptr);
  return m;
}

TEST(DataParallel, TwoRanksEqualOneRankAccumulatingTwoMicroBatches) {
  const std::string one = FreshDir("w1"), two = FreshDir("w2");
  const std::vector<std::string> common = {"steps=6", "eval_interval=3"};
  auto sets = [&](const std::string& world, const std::string& accum) {
    std::vector<std::string> s = common;
    s.push_back("world_size=" + world);
    s.push_back("grad_accum=" + accum);
    return s;
  };
  ASSERT_EQ(RunHrm(TrainArgs(one, kHrm, sets("1", "2")), one + ".log"), 0)
      << ReadFile(one + ".log");
  const auto t0 = Clock::now();
  ASSERT_EQ(RunHrm(TrainArgs(two, kHrm, sets("2", "1")), two + ".log"), 0)
      << ReadFile(two + ".log");
  std::printf("W=2 run: %.2f s\n", SecondsSince(t0));

  // Both ranks ran (each wrote its pid), rank 0 alone wrote events.
  EXPECT_TRUE(fs::exists(RankPidFileName(two, 0)));
  EXPECT_TRUE(fs::exists(RankPidFileName(two, 1)));
  EXPECT_EQ(Events(two, "started").size(), 1u);
  const std::vector<json> rows1 = Events(one, "eval"), rows2 = Events(two, "eval");
  ASSERT_EQ(rows1.size(), 3u);  // steps 0, 3, 6
  ASSERT_EQ(rows2.size(), rows1.size());
  for (size_t i = 0; i < rows1.size(); ++i)
    ExpectNear(rows2[i], rows1[i], 1e-5, "eval[" + std::to_string(i) + "]");
  EXPECT_GT(rows1.back()["grad_norm"].get<double>(), 0);

  LanguageModel m1 = FinalModel(one), m2 = FinalModel(two);
  auto p1 = m1->named_parameters(), p2 = m2->named_parameters();
  ASSERT_EQ(p1.size(), p2.size());
  for (const auto& item : p1) {
    const double diff = (item.value() - p2[item.key()]).abs().max().item<double>();
    EXPECT_LE(diff, 1e-5) << item.key();
  }
}

TEST(DataParallel, WorldSizeMustMatchTheEnvironment) {
  const std::string dir = FreshDir("mismatch");
  const int rc = RunHrm(TrainArgs(dir, kTransformer, {"world_size=2"}), dir + ".log",
                        {"RANK=0", "WORLD_SIZE=3", "LOCAL_RANK=0"});
  EXPECT_EQ(rc, 2);
  EXPECT_NE(ReadFile(dir + ".log").find("WORLD_SIZE=3"), std::string::npos)
      << ReadFile(dir + ".log");
  EXPECT_FALSE(fs::exists(RunConfigFileName(dir)));
}

// A W=2 run of 100 steps with a short collective timeout, started, and
// running past its first checkpoint (at step 5).
struct RunningRanks {
  static constexpr double kTimeoutS = 3;
  std::string dir;
  std::vector<std::string> args, env;
  std::optional<Subprocess> launcher;
  pid_t rank0 = -1, rank1 = -1;

  explicit RunningRanks(const std::string& name)
      : dir(FreshDir(name)),
        args(TrainArgs(dir, kTransformer,
                       {"world_size=2", "steps=100", "eval_interval=50", "ckpt_interval=5"})),
        env({"HRM_DIST_TIMEOUT=" + std::to_string(kTimeoutS)}) {
    launcher = Start(args, env, dir + ".log");
    const auto t0 = Clock::now();
    while (ListCheckpoints(dir).empty() && SecondsSince(t0) < 120)
      std::this_thread::sleep_for(milliseconds(10));
    if (ListCheckpoints(dir).empty()) return;
    rank0 = ReadPid(RankPidFileName(dir, 0));
    rank1 = ReadPid(RankPidFileName(dir, 1));
  }

  // Waits for the launcher after rank 1 was made to fail: it must exit
  // non-zero within the timeout and a margin, leaving no rank behind.
  void ExpectPromptFailure() {
    const auto t0 = Clock::now();
    const std::optional<int> rc = Wait(*launcher, kTimeoutS + 60);
    ASSERT_TRUE(rc.has_value()) << "launcher hung; " << ReadFile(dir + ".log");
    std::printf("launcher exited %d, %.2f s after the failure\n", *rc, SecondsSince(t0));
    EXPECT_NE(*rc, 0);
    EXPECT_LT(SecondsSince(t0), kTimeoutS + 10);
    EXPECT_FALSE(Alive(rank0));
    EXPECT_FALSE(Alive(rank1));
    EXPECT_TRUE(Events(dir, "finished").empty()) << "the run ended before the failure";
  }
};

TEST(DataParallel, KilledRankFailsTheRunPromptlyAndTheRerunResumes) {
  RunningRanks run("killed");
  ASSERT_GT(run.rank1, 0) << "no checkpoint appeared; " << ReadFile(run.dir + ".log");
  ASSERT_EQ(kill(run.rank1, SIGKILL), 0);
  run.ExpectPromptFailure();

  // The same command resumes from the newest checkpoint and finishes.
  const int64_t resume_from = ReadCheckpointMeta(ListCheckpoints(run.dir).front())["step"];
  EXPECT_GT(resume_from, 0);
  ASSERT_EQ(RunHrm(run.args, run.dir + ".log", run.env), 0) << ReadFile(run.dir + ".log");
  const std::vector<json> started = Events(run.dir, "started");
  ASSERT_EQ(started.size(), 2u);
  EXPECT_EQ(started.back()["step"], resume_from);
  ASSERT_EQ(Events(run.dir, "finished").size(), 1u);
  EXPECT_EQ(Events(run.dir, "finished")[0]["step"], 100);
}

TEST(DataParallel, SignalledLauncherStopsEveryRankAtOneStepWithACheckpoint) {
  RunningRanks run("signalled");
  ASSERT_GT(run.rank1, 0) << "no checkpoint appeared; " << ReadFile(run.dir + ".log");
  ASSERT_EQ(kill(run.launcher->pid(), SIGTERM), 0);  // as a runner preempting the job would
  const std::optional<int> rc = Wait(*run.launcher, 60);
  ASSERT_TRUE(rc.has_value()) << "launcher hung; " << ReadFile(run.dir + ".log");
  EXPECT_EQ(*rc, 130) << ReadFile(run.dir + ".log");  // every rank stopped, none failed
  EXPECT_FALSE(Alive(run.rank0));
  EXPECT_FALSE(Alive(run.rank1));
  const std::vector<json> stops = Events(run.dir, "interrupted");
  ASSERT_EQ(stops.size(), 1u);
  EXPECT_TRUE(fs::exists(CheckpointFileName(run.dir, stops[0]["step"].get<int64_t>())));
  EXPECT_TRUE(Events(run.dir, "error").empty());
}

TEST(DataParallel, HungRankTimesOutTheCollectiveInsteadOfHanging) {
  RunningRanks run("hung");
  ASSERT_GT(run.rank1, 0) << "no checkpoint appeared; " << ReadFile(run.dir + ".log");
  ASSERT_EQ(kill(run.rank1, SIGSTOP), 0);  // alive but silent: only a timeout can tell
  run.ExpectPromptFailure();
  EXPECT_NE(ReadFile(run.dir + ".log").find("rank 0:"), std::string::npos)
      << ReadFile(run.dir + ".log");
}

}  // namespace
}  // namespace hrm
