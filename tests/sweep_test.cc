// `hrm sweep` end to end: the real binary, real worker processes, a real
// SQLite store, and kill -9 at the worst moments.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/event_log.h"
#include "base/file_lock.h"
#include "base/run_dir.h"
#include "base/subprocess.h"
#include "store/store_lock.h"

namespace hrm {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const char* kGrid = R"(name: sweeptest
base: {d: 32, seq: 32, batch: 4, steps: 40, eval_interval: 8, eval_iters: 2, lr: 3.0e-3,
       warmup: 4, log_interval: 100}
runs:
  - {label: "HRM", model: hrm, N: 2, T: 2, K: 2}
  - {label: "UniTF", model: unitf, M: 3, K: 1}
  - {label: "T-L2", model: transformer, L: 2}
)";

struct Dirs {
  std::string root, grid, store;
};

Dirs Fresh(const std::string& name) {
  Dirs d;
  // Per process: ctest runs each test as its own process, side by side.
  d.root = (fs::path(testing::TempDir()) / ("hrm_sweep_" + std::to_string(::getpid()) + "_" + name))
               .string();
  fs::remove_all(d.root);
  fs::create_directories(d.root);
  d.grid = d.root + "/grid.yaml";
  d.store = d.root + "/hrm.db";
  std::ofstream(d.grid) << kGrid;
  return d;
}

// The runner, in our process group, its output appended to `log`.
Subprocess Spawn(const std::vector<std::string>& args, const std::string& log) {
  SpawnOptions o;
  o.argv = args;
  o.output_file = log;
  o.new_process_group = false;
  return Subprocess(o);
}

int Wait(Subprocess& child) { return child.Wait().code; }
int Wait(Subprocess&& child) { return child.Wait().code; }

std::vector<std::string> SweepArgs(const Dirs& d) {
  return {HRM_BINARY, "sweep", d.grid, "--store", d.store, "--slots", "2", "--threads", "1"};
}

int RunSweep(const Dirs& d) { return Wait(Spawn(SweepArgs(d), d.root + "/sweep.log")); }

std::string Log(const Dirs& d) {
  std::ifstream in(d.root + "/sweep.log");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Every eval row but wall time, ordered.
std::vector<std::string> EvalRows(const std::string& store) {
  SQLite::Database db(store, SQLite::OPEN_READONLY);
  SQLite::Statement q(db,
                      "SELECT run_id, step, val_ce, train_ce, lr, grad_norm, tokens FROM evals "
                      "ORDER BY run_id, step");
  std::vector<std::string> rows;
  while (q.executeStep()) {
    std::string r;
    for (int i = 0; i < 7; ++i) r += q.getColumn(i).getString() + "|";
    rows.push_back(r);
  }
  return rows;
}

std::string Scalar(const std::string& store, const std::string& sql) {
  SQLite::Database db(store, SQLite::OPEN_READONLY);
  return db.execAndGet(sql).getString();
}

// Waits until some run directory's event log has a line containing `needle`.
std::string WaitForEvent(const Dirs& d, const std::string& needle, double seconds = 120) {
  const auto until = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < until) {
    if (fs::exists(d.root + "/runs"))
      for (const auto& e : fs::directory_iterator(d.root + "/runs")) {
        for (const json& event : ReadEventLog(EventLogFileName(e.path())))
          if (event.dump().find(needle) != std::string::npos) return e.path();
      }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "no event containing " << needle << " within " << seconds << " s";
  return "";
}

const std::vector<std::string>& Reference() {
  static const std::vector<std::string> rows = [] {
    Dirs d = Fresh("reference");
    EXPECT_EQ(RunSweep(d), 0) << Log(d);
    return EvalRows(d.store);
  }();
  return rows;
}

TEST(Sweep, RunsEveryRunAndTheSameCommandAgainTrainsNothing) {
  ASSERT_EQ(Reference().size(), 3u * 6u);  // 3 runs x evals at 0, 8, ..., 40
  Dirs d = Fresh("again");
  ASSERT_EQ(RunSweep(d), 0) << Log(d);
  EXPECT_EQ(EvalRows(d.store), Reference());
  EXPECT_EQ(Scalar(d.store, "SELECT group_concat(DISTINCT status) FROM runs"), "done");
  const auto before = fs::file_size(EventLogFileName(WaitForEvent(d, "finished")));
  ASSERT_EQ(RunSweep(d), 0) << Log(d);
  EXPECT_EQ(fs::file_size(EventLogFileName(WaitForEvent(d, "finished"))), before);
  EXPECT_EQ(Scalar(d.store, "SELECT max(attempts) FROM runs"), "1");
  // Dry run writes nothing and lists the three ids.
  Dirs dry = Fresh("dry");
  std::vector<std::string> args = SweepArgs(dry);
  args.push_back("--dry-run");
  ASSERT_EQ(Wait(Spawn(args, dry.root + "/sweep.log")), 0);
  EXPECT_FALSE(fs::exists(dry.store));
}

TEST(Sweep, KillNineOfTheRunnerThenRerunGivesTheUninterruptedStore) {
  Dirs d = Fresh("kill_runner");
  Subprocess runner = Spawn(SweepArgs(d), d.root + "/sweep.log");
  WaitForEvent(d, "\"step\":16");  // some run is mid-way
  ::kill(runner.pid(), SIGKILL);
  Wait(runner);
  // Its workers live on as orphans; the rerun must stop them and resume.
  ASSERT_EQ(RunSweep(d), 0) << Log(d);
  EXPECT_EQ(EvalRows(d.store), Reference());
  EXPECT_EQ(Scalar(d.store, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(Scalar(d.store, "SELECT count(*) FROM runs WHERE status != 'done'"), "0");
}

TEST(Sweep, KilledWorkerIsRetriedFromItsCheckpoint) {
  Dirs d = Fresh("kill_worker");
  Subprocess runner = Spawn(SweepArgs(d), d.root + "/sweep.log");
  const std::string run_dir = WaitForEvent(d, "\"event\":\"checkpoint\",\"path\"");
  pid_t worker = 0;
  std::sscanf(FileLock::Holder(WorkerLockFileName(run_dir)).c_str(), "pid %d", &worker);
  ASSERT_GT(worker, 0);
  ::kill(worker, SIGKILL);
  ASSERT_EQ(Wait(runner), 0) << Log(d);
  EXPECT_NE(Log(d).find("retrying from its checkpoint"), std::string::npos) << Log(d);
  const std::string id = fs::path(run_dir).filename();
  EXPECT_EQ(Scalar(d.store, "SELECT attempts FROM runs WHERE id = '" + id + "'"), "2");
  EXPECT_EQ(EvalRows(d.store), Reference());
  // The retry resumed: its second 'started' event is past step 0.
  std::string last_started;
  for (const json& e : ReadEventLog(EventLogFileName(run_dir)))
    if (e["event"] == "started") last_started = e.dump();
  EXPECT_EQ(last_started.find("\"step\":0,"), std::string::npos) << last_started;
}

TEST(Sweep, CtrlCCheckpointsAndTheRerunCompletes) {
  Dirs d = Fresh("ctrl_c");
  Subprocess runner = Spawn(SweepArgs(d), d.root + "/sweep.log");
  WaitForEvent(d, "\"step\":8");
  ::kill(runner.pid(), SIGINT);
  EXPECT_EQ(Wait(runner), 130) << Log(d);
  EXPECT_NE(Scalar(d.store, "SELECT count(*) FROM runs WHERE status = 'interrupted'"), "0");
  ASSERT_EQ(RunSweep(d), 0) << Log(d);
  EXPECT_EQ(EvalRows(d.store), Reference());
}

TEST(Sweep, SecondRunnerOnTheSameStoreIsRefused) {
  Dirs d = Fresh("second_runner");
  auto held = StoreLock::Acquire(d.store);
  EXPECT_EQ(RunSweep(d), 1);  // a runtime error, not bad usage (README's exit codes)
  EXPECT_NE(Log(d).find("pid " + std::to_string(::getpid())), std::string::npos) << Log(d);
}

TEST(Sweep, BadGridWritesNothing) {
  Dirs d = Fresh("bad_grid");
  std::ofstream(d.grid) << "base: {model: hrm, N: 2, T: 2, K: 9}\n";
  EXPECT_EQ(RunSweep(d), 2);
  EXPECT_NE(Log(d).find(d.grid + ":1: K:"), std::string::npos) << Log(d);
  EXPECT_FALSE(fs::exists(d.store));
}

}  // namespace
}  // namespace hrm
