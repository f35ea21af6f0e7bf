// The SLURM backend on real parts: the generated batch script run by bash,
// and the real `hrm` binary sweeping through a real single-node SLURM cluster
// (scripts/slurm/start.sh; `make test` starts and stops it, and these tests
// start it themselves when it is not up). Tiny models on the builtin corpus.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "base/atomic_file.h"
#include "base/event_log.h"
#include "base/run_dir.h"
#include "base/subprocess.h"
#include "runner/slurm_backend.h"
#include "runner/slurm_script.h"
#include "store/run_store.h"

namespace hrm {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A new directory for this test in this process (test binaries of several
// build directories may run at once); kept only when the test fails.
std::string FreshDir() {
  const std::string name = testing::UnitTest::GetInstance()->current_test_info()->name();
  fs::path p =
      fs::path(testing::TempDir()) / ("hrm_slurm_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

void RemoveIfPassed(const std::string& dir) {
  if (!dir.empty() && !testing::Test::HasFailure()) fs::remove_all(dir);
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Waits until `done` holds, polling; false after `limit`.
template <typename F>
bool WaitFor(F done, Clock::duration limit, milliseconds every = milliseconds(100)) {
  const auto end = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() > end) return false;
    std::this_thread::sleep_for(every);
  }
  return true;
}

// A child process with stdout and stderr appended to `log`.
Subprocess Spawn(const std::vector<std::string>& args, const std::string& log,
                 bool new_group = false) {
  SpawnOptions o;
  o.argv = args;
  o.output_file = log;
  o.new_process_group = new_group;
  return Subprocess(o);
}

// The child's exit code (128+signal if killed), or -1 if it is still running
// after `limit` (then it is killed).
int WaitExit(Subprocess& child, Clock::duration limit) {
  std::optional<ExitStatus> status;
  if (!WaitFor([&] { return bool(status = child.Poll()); }, limit)) {
    child.Stop(milliseconds(0), SIGKILL);
    return -1;
  }
  return status->code;
}
int WaitExit(Subprocess&& child, Clock::duration limit) { return WaitExit(child, limit); }

// ---- The batch script, run by bash outside SLURM ----------------------------

// What the script does at run time does not need a cluster: run the task's
// worker with its arguments intact, record its exit code, outlive signals.
class SlurmScriptTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir();
    run_dir_ = dir_ + "/run dir 'a'";  // a path the script must quote
    fs::create_directories(run_dir_);
  }

  // A one-task array whose worker is `bash -c SCRIPT arg0 ARGS...`.
  std::string WriteScript(const std::string& worker, const std::vector<std::string>& args) {
    SlurmArray a;
    a.sweep_dir = dir_;
    a.number = 3;
    a.job_name = "hrm-test";
    a.workdir = dir_;
    SlurmTask t{"run0", run_dir_, {"bash", "-c", worker, "worker"}};
    t.argv.insert(t.argv.end(), args.begin(), args.end());
    a.tasks.push_back(t);
    WriteFileAtomic(a.script_path(), SlurmBatchScript(a));
    return a.script_path();
  }

  // Runs the script as array task `index` of job 7, with a fake `scontrol`
  // first on PATH that logs its arguments to dir_/scontrol.calls and exits
  // with `scontrol_rc` (the script calls it only to requeue itself).
  Subprocess Start(const std::string& script, int index, int scontrol_rc = 0) {
    fs::create_directories(dir_ + "/bin");
    WriteFileAtomic(dir_ + "/bin/scontrol", "#!/bin/sh\necho \"$@\" >> " + dir_ +
                                                "/scontrol.calls\nexit " +
                                                std::to_string(scontrol_rc) + "\n");
    fs::permissions(dir_ + "/bin/scontrol", fs::perms::owner_all);
    return Spawn({"env", "PATH=" + dir_ + "/bin:" + std::getenv("PATH"), "SLURM_ARRAY_JOB_ID=7",
                  "SLURM_JOB_ID=8", "SLURM_ARRAY_TASK_ID=" + std::to_string(index), "bash", script},
                 dir_ + "/script.out", /*new_group=*/true);
  }

  // A worker that, on `signal`, exits 130 (as `hrm train` does after its
  // checkpoint); it touches dir_/ready once its handler is in place.
  std::string SignalledWorkerScript(const char* signal) {
    return WriteScript(std::string("trap 'sleep 0.2; exit 130' ") + signal +
                           "; touch \"$1\"; while :; do sleep 0.05; done",
                       {dir_ + "/ready"});
  }
  bool Ready() {
    return WaitFor([&] { return fs::exists(dir_ + "/ready"); }, seconds(20));
  }
  void TearDown() override { RemoveIfPassed(dir_); }

  std::string dir_, run_dir_;
};

TEST_F(SlurmScriptTest, RunsTheWorkerWithItsArgumentsAndRecordsItsExitCode) {
  const std::string tricky = "it's \"quoted\" $HOME `x` \\ ;|&";
  const std::string script =
      WriteScript("printf '%s\\n' \"$2\" > \"$1.args\"; exit 3", {dir_ + "/worker", tricky});
  const std::string text = Slurp(script);
  EXPECT_NE(text.find("#SBATCH --array=0-0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("#SBATCH --requeue\n"), std::string::npos) << text;
  EXPECT_NE(text.find("#SBATCH --signal=B:USR1@60\n"), std::string::npos) << text;

  EXPECT_EQ(WaitExit(Start(script, 0), seconds(20)), 3) << Slurp(dir_ + "/script.out");
  EXPECT_EQ(Slurp(dir_ + "/worker.args"), tricky + "\n");
  EXPECT_EQ(Slurp(SlurmExitFileName(run_dir_)), "7_0 3\n");
  EXPECT_NE(Slurp(WorkerLogFileName(run_dir_)).find("SLURM task 7_0"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ + "/scontrol.calls"));
}

TEST_F(SlurmScriptTest, AnIndexWithoutARunFailsAndRecordsNothing) {
  const std::string script = WriteScript("exit 0", {});
  EXPECT_EQ(WaitExit(Start(script, 1), seconds(20)), 2);
  EXPECT_NE(Slurp(dir_ + "/script.out").find("no run for array task '1'"), std::string::npos);
  EXPECT_FALSE(fs::exists(SlurmExitFileName(run_dir_)));
}

// SIGTERM to every process of the task, as SLURM sends it on scancel: the
// script outlives it to record the worker's 130, and does not requeue itself
// (that would undo a scancel; SLURM's own requeue needs no help).
TEST_F(SlurmScriptTest, OutlivesSigtermToRecordTheWorkersExit) {
  Subprocess pid = Start(SignalledWorkerScript("TERM"), 0);
  ASSERT_TRUE(Ready());
  pid.Signal(SIGTERM);  // to its process group
  EXPECT_EQ(WaitExit(pid, seconds(20)), 130) << Slurp(dir_ + "/script.out");
  EXPECT_EQ(Slurp(SlurmExitFileName(run_dir_)), "7_0 130\n");
  EXPECT_FALSE(fs::exists(dir_ + "/scontrol.calls"));
}

// SIGUSR1 to the batch shell alone (--signal=B:USR1@60 before the time
// limit): it reaches the worker, and the task requeues itself, leaving no
// exit record (the task is not over).
TEST_F(SlurmScriptTest, RequeuesItselfAfterSigusr1) {
  Subprocess pid = Start(SignalledWorkerScript("USR1"), 0);
  ASSERT_TRUE(Ready());
  ::kill(pid.pid(), SIGUSR1);  // the batch shell alone
  EXPECT_EQ(WaitExit(pid, seconds(20)), 0) << Slurp(dir_ + "/script.out");
  EXPECT_EQ(Slurp(dir_ + "/scontrol.calls"), "requeue 7_0\n");
  EXPECT_FALSE(fs::exists(SlurmExitFileName(run_dir_)));
  EXPECT_NE(Slurp(WorkerLogFileName(run_dir_)).find("after SIGUSR1"), std::string::npos);
}

// When the requeue is refused, the task ends with the worker's code.
TEST_F(SlurmScriptTest, RecordsTheExitWhenItsRequeueIsRefused) {
  Subprocess pid = Start(SignalledWorkerScript("USR1"), 0, /*scontrol_rc=*/1);
  ASSERT_TRUE(Ready());
  ::kill(pid.pid(), SIGUSR1);  // the batch shell alone
  EXPECT_EQ(WaitExit(pid, seconds(20)), 130) << Slurp(dir_ + "/script.out");
  EXPECT_EQ(Slurp(dir_ + "/scontrol.calls"), "requeue 7_0\n");
  EXPECT_EQ(Slurp(SlurmExitFileName(run_dir_)), "7_0 130\n");
}

// The runner stopping the sweep (Ctrl-C) leaves a stop marker: SIGUSR1 then
// means checkpoint and end, not requeue.
TEST_F(SlurmScriptTest, DoesNotRequeueAJobTheRunnerStopped) {
  WriteFileAtomic(SlurmStopPath(dir_, "7"), "stopped\n");
  Subprocess pid = Start(SignalledWorkerScript("USR1"), 0);
  ASSERT_TRUE(Ready());
  ::kill(pid.pid(), SIGUSR1);  // the batch shell alone
  EXPECT_EQ(WaitExit(pid, seconds(20)), 130) << Slurp(dir_ + "/script.out");
  EXPECT_FALSE(fs::exists(dir_ + "/scontrol.calls"));
  EXPECT_EQ(Slurp(SlurmExitFileName(run_dir_)), "7_0 130\n");
}

// A run on CUDA asks for a GPU per rank, and srun lets each rank see its
// node's GPUs (it takes cuda:LOCAL_RANK); a CPU run asks for none. Run with
// a fake srun that records what it was asked.
TEST_F(SlurmScriptTest, AsksForOneGpuPerRankOfACudaRun) {
  SlurmArray a;
  a.sweep_dir = dir_;
  a.number = 4;
  a.job_name = "hrm-test";
  a.workdir = dir_;
  a.ranks = 2;
  a.gpus = true;
  a.tasks.push_back({"run0", run_dir_, {"true"}});
  const std::string gpu = SlurmBatchScript(a);
  EXPECT_NE(gpu.find("\n#SBATCH --ntasks=2\n#SBATCH --gpus-per-task=1\n"), std::string::npos)
      << gpu;
  WriteFileAtomic(a.script_path(), gpu);
  fs::create_directories(dir_ + "/bin");
  WriteFileAtomic(dir_ + "/bin/srun", "#!/bin/sh\necho \"$@\" > " + dir_ + "/srun.args\n");
  fs::permissions(dir_ + "/bin/srun", fs::perms::owner_all);
  EXPECT_EQ(WaitExit(Start(a.script_path(), 0), seconds(20)), 0) << Slurp(dir_ + "/script.out");
  EXPECT_NE(Slurp(dir_ + "/srun.args").find("--gpu-bind=none "), std::string::npos)
      << Slurp(dir_ + "/srun.args");

  a.gpus = false;
  const std::string cpu = SlurmBatchScript(a);
  EXPECT_EQ(cpu.find("--gpus-per-task"), std::string::npos) << cpu;
  EXPECT_EQ(cpu.find("--gpu-bind"), std::string::npos) << cpu;
}

// Which runs ask for GPUs is the backend's decision, from each run's
// run.json (device cuda or cuda:N) or the sweep's --gpus: checked on the
// scripts it submits to a fake sbatch (first on PATH) that accepts them all.
TEST_F(SlurmScriptTest, TheBackendAsksForGpusForRunsOnCuda) {
  fs::create_directories(dir_ + "/bin");
  WriteFileAtomic(dir_ + "/bin/sbatch", "#!/bin/sh\necho 4242\n");
  WriteFileAtomic(dir_ + "/bin/squeue", "#!/bin/sh\n");
  for (const char* tool : {"sbatch", "squeue"})
    fs::permissions(dir_ + "/bin/" + tool, fs::perms::owner_all);
  const std::string path = std::getenv("PATH");
  ::setenv("PATH", (dir_ + "/bin:" + path).c_str(), 1);
  auto run = [&](const std::string& name, const char* device, int world_size) {
    const std::string run_dir = dir_ + "/" + name;
    fs::create_directories(run_dir);
    WriteFileAtomic(run_dir + "/run.json", "{\"device\": \"" + std::string(device) +
                                               "\", \"world_size\": " + std::to_string(world_size) +
                                               "}\n");
    return WorkerSpec{name, run_dir, {"true"}, 1};
  };
  // The scripts of one sweep directory, by the run each names.
  auto scripts_of = [&](bool sweep_gpus, const std::string& sweep) {
    SlurmBackendOptions o;
    o.sweep_dir = dir_ + "/" + sweep;
    o.gpus = sweep_gpus;
    SlurmBackend backend(o);
    backend.Start(run("cuda_" + sweep, "cuda", 2));
    backend.Start(run("auto_" + sweep, "auto", 1));
    backend.Reap();
    std::map<std::string, std::string> by_run;
    for (const char* k : {"0", "1"}) {
      const std::string text = Slurp(o.sweep_dir + "/sbatch-" + k + ".sh");
      by_run[text.find("# run cuda_") != std::string::npos ? "cuda" : "auto"] = text;
    }
    return by_run;
  };
  auto plain = scripts_of(false, "plain");
  auto gpus = scripts_of(true, "gpus");
  ::setenv("PATH", path.c_str(), 1);
  const std::string ask = "#SBATCH --gpus-per-task=1\n";
  EXPECT_NE(plain["cuda"].find("#SBATCH --ntasks=2\n" + ask), std::string::npos) << plain["cuda"];
  EXPECT_EQ(plain["auto"].find(ask), std::string::npos) << plain["auto"];
  EXPECT_NE(gpus["auto"].find(ask), std::string::npos) << gpus["auto"];  // --gpus: every run
}

// ---- Sweeps through a real SLURM cluster -----------------------------------

// "" when the test cluster answers (started here if it was not up), else why
// the SLURM tests cannot run on this machine.
std::string ClusterUnavailable() {
  static const std::string why = []() -> std::string {
    if (::geteuid() != 0) return "not root: the test cluster's daemons run as root";
    const char* d = std::getenv("HRM_SLURM_DIR");
    const std::string dir = d && *d ? d : "/var/tmp/hrm-slurm";
    ::setenv("SLURM_CONF", (dir + "/slurm.conf").c_str(), 1);
    CommandResult r = RunCommand({"bash", HRM_SOURCE_DIR "/scripts/slurm/start.sh"});
    if (r.exit_code != 0) return "scripts/slurm/start.sh failed: " + r.err;
    return "";
  }();
  return why;
}

// Two runs (seeds) of a small Transformer: long enough (a few seconds each)
// to be caught mid-run, short enough for the suite. No periodic checkpoints:
// a stopped run resumes from the one its worker writes when signalled.
const char* kGrid = R"(name: slurm_test
base: {model: transformer, L: 2, d: 64, seq: 64, batch: 4, steps: 150, warmup: 10,
       eval_interval: 25, eval_iters: 2, lr: 1.0e-3, ckpt_interval: 100000}
seeds: [1, 2]
)";

class SlurmSweepTest : public testing::Test {
 protected:
  void SetUp() override {
    if (const std::string why = ClusterUnavailable(); !why.empty())
      GTEST_SKIP() << "no SLURM test cluster: " << why;
    dir_ = FreshDir();
    grid_ = dir_ + "/grid.yaml";
    WriteFileAtomic(grid_, kGrid);
  }
  void TearDown() override { RemoveIfPassed(dir_); }

  std::vector<std::string> SweepArgs(const std::string& store, const std::string& backend) {
    return {HRM_BINARY, "sweep",   grid_, "--store",   store, "--backend",
            backend,    "--slots", "2",   "--threads", "1"};
  }

  // Runs `hrm sweep` to the end; returns its exit code.
  int Sweep(const std::string& store, const std::string& backend, const std::string& log) {
    return WaitExit(Spawn(SweepArgs(store, backend), log), seconds(180));
  }

  // The sweep directory of a store's only sweep, and its K-th task map.
  std::string SweepDir(const std::string& store) {
    const fs::path runs = fs::path(store).parent_path() / "runs";
    if (!fs::exists(runs)) return "";
    for (const auto& e : fs::directory_iterator(runs))
      if (e.path().filename().string().rfind("sweep-", 0) == 0) return e.path().string();
    return "";
  }
  json TaskMap(const std::string& store, int k) {
    const std::string path = SweepDir(store) + "/sbatch-" + std::to_string(k) + ".json";
    json map = fs::exists(path) ? json::parse(Slurp(path), nullptr, false) : json();
    return map.is_discarded() ? json() : map;
  }
  std::string JobId(const std::string& store) {
    json map = TaskMap(store, 0);
    return map.is_object() && map["job_id"].is_string() ? map["job_id"].get<std::string>() : "";
  }

  // The run's last eval step in its event log (-1 before the first).
  static int64_t LastEvalStep(const std::string& run_dir) {
    int64_t last = -1;
    for (const json& e : ReadEventLog(EventLogFileName(run_dir)))
      if (e["event"] == "eval") last = e.value("step", last);
    return last;
  }

  static std::string TaskState(const std::string& task) {
    CommandResult r = RunCommand({"squeue", "-h", "-j", task, "-o", "%T"});
    return r.out.substr(0, r.out.find('\n'));
  }

  // What the store says of each run: status and every eval but its wall time.
  static std::map<std::string, std::string> Contents(const std::string& store_path) {
    auto store = RunStore::Open(store_path, RunStore::Mode::kReadOnly);
    std::map<std::string, std::string> out;
    for (const auto& sweep : store->SweepSummaries()) {
      for (const auto& r : store->RunSummaries(sweep.id)) {
        std::ostringstream s;
        s.precision(17);
        s << ToString(r.status) << "\n";
        for (const auto& e : store->EvalHistory(r.run_id))
          s << e.step << " " << e.val_ce.value_or(-1) << " " << e.train_ce.value_or(-1) << " "
            << e.lr.value_or(-1) << " " << e.grad_norm.value_or(-1) << " " << e.tokens.value_or(-1)
            << "\n";
        out[r.run_id] = s.str();
      }
    }
    return out;
  }

  // The local backend's store contents for the same grid, the reference.
  std::map<std::string, std::string> Reference() {
    const std::string store = dir_ + "/local/hrm.db";
    EXPECT_EQ(Sweep(store, "local", dir_ + "/local.log"), 0) << Slurp(dir_ + "/local.log");
    return Contents(store);
  }

  // Every eval step of a run's event log appears once.
  static void ExpectNoDuplicateEvals(const std::string& run_dir) {
    std::map<int64_t, int> seen;
    for (const json& e : ReadEventLog(EventLogFileName(run_dir)))
      if (e["event"] == "eval") ++seen[e.value("step", -1)];
    for (const auto& [step, n] : seen) EXPECT_EQ(n, 1) << run_dir << ": eval at step " << step;
  }

  std::string dir_, grid_;
};

TEST_F(SlurmSweepTest, SmokeSweepMatchesTheLocalBackend) {
  const auto reference = Reference();
  ASSERT_EQ(reference.size(), 2u);
  const std::string store = dir_ + "/slurm/hrm.db";
  ASSERT_EQ(Sweep(store, "slurm", dir_ + "/slurm.log"), 0) << Slurp(dir_ + "/slurm.log");
  EXPECT_EQ(Contents(store), reference);
  for (const auto& [id, text] : reference) EXPECT_EQ(text.rfind("done\n", 0), 0u) << text;

  // One array for the sweep, its script and task map in the sweep directory.
  const json map = TaskMap(store, 0);
  ASSERT_TRUE(map.is_object()) << SweepDir(store);
  EXPECT_EQ(map["tasks"].size(), 2u);
  EXPECT_NE(Slurp(map["script"]).find("#SBATCH --array=0-1%2\n"), std::string::npos);
  EXPECT_FALSE(fs::exists(SweepDir(store) + "/sbatch-1.json"));
}

TEST_F(SlurmSweepTest, RequeuedTaskResumesFromItsCheckpoint) {
  const auto reference = Reference();
  const std::string store = dir_ + "/slurm/hrm.db";
  const std::string log = dir_ + "/slurm.log";
  Subprocess sweep = Spawn(SweepArgs(store, "slurm"), log);
  ASSERT_TRUE(WaitFor([&] { return !JobId(store).empty(); }, seconds(60))) << Slurp(log);
  const std::string task = JobId(store) + "_0";
  const std::string run_dir = TaskMap(store, 0)["tasks"][0]["run_dir"];
  ASSERT_TRUE(WaitFor([&] { return LastEvalStep(run_dir) >= 25; }, seconds(60))) << Slurp(log);

  ASSERT_EQ(RunCommand({"scontrol", "requeue", task}).exit_code, 0);
  // SLURM holds a requeued job for ~2 minutes (BeginTime); release it, once
  // it has left COMPLETING and a second has passed (sooner: "Job credential
  // revoked").
  ASSERT_TRUE(WaitFor([&] { return TaskState(task) == "PENDING"; }, seconds(60)));
  std::this_thread::sleep_for(milliseconds(1100));
  ASSERT_EQ(RunCommand({"scontrol", "update", "JobId=" + task, "StartTime=now"}).exit_code, 0);

  ASSERT_EQ(WaitExit(sweep, seconds(180)), 0) << Slurp(log);
  const std::string events = Slurp(EventLogFileName(run_dir));
  EXPECT_NE(events.find("\"interrupted\""), std::string::npos) << "the task was not caught mid-run";
  EXPECT_NE(Slurp(WorkerLogFileName(run_dir)).find("restart 1"), std::string::npos);
  ExpectNoDuplicateEvals(run_dir);
  EXPECT_EQ(Contents(store), reference);
}

// A two-rank run (data parallel over Gloo) is one array task of two SLURM
// tasks started by srun, whose ranks meet in the run directory; the store
// ends as it does when the local backend runs it on two slots.
TEST_F(SlurmSweepTest, TwoRankRunGoesThroughSrunAndMatchesTheLocalBackend) {
  WriteFileAtomic(grid_, R"(name: slurm_ddp_test
base: {model: transformer, L: 2, d: 32, seq: 32, batch: 4, steps: 30, warmup: 5,
       eval_interval: 10, eval_iters: 2, lr: 1.0e-3, world_size: 2}
)");
  const auto reference = Reference();
  ASSERT_EQ(reference.size(), 1u);
  EXPECT_EQ(reference.begin()->second.rfind("done\n", 0), 0u) << reference.begin()->second;

  const std::string store = dir_ + "/slurm/hrm.db";
  ASSERT_EQ(Sweep(store, "slurm", dir_ + "/slurm.log"), 0) << Slurp(dir_ + "/slurm.log");
  const json map = TaskMap(store, 0);
  EXPECT_EQ(map["ranks"], 2);
  EXPECT_NE(Slurp(map["script"]).find("srun --ntasks"), std::string::npos);
  const std::string run_dir = map["tasks"][0]["run_dir"];
  for (int rank : {0, 1})
    EXPECT_TRUE(fs::exists(RankPidFileName(run_dir, rank)))
        << "rank " << rank << ": " << Slurp(WorkerLogFileName(run_dir));
  EXPECT_EQ(Contents(store), reference);
}

// The runner dies (kill -9) while its tasks run; the same command reattaches
// to them instead of submitting them again. Then the user cancels the whole
// array: the runner ends, and the same command once more resubmits the runs,
// which resume from their checkpoints and end as if never stopped.
TEST_F(SlurmSweepTest, RerunReattachesAndAfterScancelCompletes) {
  const auto reference = Reference();
  const std::string store = dir_ + "/slurm/hrm.db";
  Subprocess first = Spawn(SweepArgs(store, "slurm"), dir_ + "/first.log");
  ASSERT_TRUE(WaitFor([&] { return !JobId(store).empty(); }, seconds(60)));
  const std::string job = JobId(store);
  ASSERT_TRUE(WaitFor([&] { return TaskState(job + "_1") == "RUNNING"; }, seconds(60)));
  ::kill(first.pid(), SIGKILL);
  WaitExit(first, seconds(10));

  const std::string log = dir_ + "/second.log";
  Subprocess second = Spawn(SweepArgs(store, "slurm"), log);
  ASSERT_TRUE(
      WaitFor([&] { return Slurp(log).find("reattached") != std::string::npos; }, seconds(30)))
      << Slurp(log);
  const json map = TaskMap(store, 0);
  for (const auto& t : map["tasks"]) {
    const std::string run_dir = t["run_dir"];
    ASSERT_TRUE(WaitFor([&] { return LastEvalStep(run_dir) >= 25; }, seconds(60))) << Slurp(log);
  }
  ASSERT_EQ(RunCommand({"scancel", job}).exit_code, 0);
  EXPECT_EQ(WaitExit(second, seconds(60)), 0) << Slurp(log);
  EXPECT_EQ(Slurp(log).find("submitted"), std::string::npos)
      << "resubmitted live tasks: " << Slurp(log);
  // A task that SLURM started first may have finished before the last one
  // reached step 25 (ctest runs other tests beside this one); the cancel must
  // have caught the others mid-run.
  int interrupted = 0;
  for (const auto& [id, text] : Contents(store)) {
    interrupted += text.rfind("interrupted\n", 0) == 0;
    EXPECT_TRUE(text.rfind("interrupted\n", 0) == 0 || text.rfind("done\n", 0) == 0)
        << id << ": " << text;
  }
  EXPECT_GE(interrupted, 1) << "scancel stopped no task";

  ASSERT_EQ(Sweep(store, "slurm", dir_ + "/third.log"), 0) << Slurp(dir_ + "/third.log");
  EXPECT_TRUE(TaskMap(store, 1).is_object()) << "the third run submitted nothing";
  for (const auto& t : map["tasks"]) ExpectNoDuplicateEvals(t["run_dir"]);
  EXPECT_EQ(Contents(store), reference);
}

// Ctrl-C: the runner marks the job stopped and signals its tasks; each
// worker checkpoints and exits, no task requeues itself, the runner ends 130.
TEST_F(SlurmSweepTest, CtrlCStopsTheTasksAfterTheirCheckpoint) {
  const std::string store = dir_ + "/slurm/hrm.db";
  const std::string log = dir_ + "/slurm.log";
  Subprocess sweep = Spawn(SweepArgs(store, "slurm"), log);
  ASSERT_TRUE(WaitFor([&] { return !JobId(store).empty(); }, seconds(60))) << Slurp(log);
  const json map = TaskMap(store, 0);
  for (const auto& t : map["tasks"]) {
    const std::string run_dir = t["run_dir"];
    ASSERT_TRUE(WaitFor([&] { return LastEvalStep(run_dir) >= 25; }, seconds(60))) << Slurp(log);
  }
  ::kill(sweep.pid(), SIGINT);
  EXPECT_EQ(WaitExit(sweep, seconds(60)), 130) << Slurp(log);

  EXPECT_TRUE(fs::exists(SlurmStopPath(SweepDir(store), JobId(store))));
  EXPECT_EQ(RunCommand({"squeue", "-h", "-j", JobId(store)}).out, "") << "a task requeued itself";
  for (const auto& t : map["tasks"]) {
    const std::string run_dir = t["run_dir"];
    EXPECT_NE(Slurp(EventLogFileName(run_dir)).find("\"interrupted\""), std::string::npos);
    EXPECT_NE(Slurp(WorkerLogFileName(run_dir)).find("code 130 after SIGUSR1"), std::string::npos);
  }
  for (const auto& [id, text] : Contents(store))
    EXPECT_EQ(text.rfind("interrupted\n", 0), 0u) << id << ": " << text;
}

}  // namespace
}  // namespace hrm
