// base/subprocess on real children (/bin/sh, sleep): output captured or appended, timeouts,
// graceful stop then kill, process groups, the environment and working directory, and that
// nothing but the child itself is ever reaped.
#include "base/subprocess.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/atomic_file.h"

namespace hrm {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string TempPath(const std::string& name) {
  return testing::TempDir() + "/hrm_subprocess_" + std::to_string(::getpid()) + "_" + name;
}

SpawnOptions Sh(const std::string& script) {
  SpawnOptions o;
  o.argv = {"sh", "-c", script};
  return o;
}

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The state letter of /proc/PID/stat and its process group; state 0 when there is no such
// process. A zombie ('Z') is dead: only its parent (maybe PID 1, which may not reap) is left.
std::pair<char, pid_t> StateAndGroup(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return {0, 0};
  char state = 0;
  int ppid = 0, pgrp = 0;
  std::sscanf(stat.c_str() + paren + 1, " %c %d %d", &state, &ppid, &pgrp);
  return {state, pid_t(pgrp)};
}

bool Alive(pid_t pid) {
  const char state = StateAndGroup(std::to_string(pid)).first;
  return state != 0 && state != 'Z';
}

// Processes of group `pgid` that are neither gone nor zombies.
int LiveMembers(pid_t pgid) {
  int live = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const auto [state, group] = StateAndGroup(name);
    live += group == pgid && state != 0 && state != 'Z';
  }
  return live;
}

// Waits up to `limit` for `done`.
template <typename F>
bool Eventually(F done, milliseconds limit = milliseconds(5000)) {
  const auto end = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() > end) return false;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return true;
}

TEST(Subprocess, CapturesStdoutAndStderrAndTheExitCode) {
  SpawnOptions o = Sh("echo to-out; echo to-err >&2; exit 3");
  o.capture = true;
  Subprocess::Output r = Subprocess(o).Communicate();
  EXPECT_EQ(r.out, "to-out\n");
  EXPECT_EQ(r.err, "to-err\n");
  EXPECT_EQ(r.status.code, 3);
  EXPECT_EQ(r.status.signal, 0);
  EXPECT_FALSE(r.timed_out);
}

TEST(Subprocess, FullPipesOnBothStreamsDoNotDeadlock) {
  // 1 MB on each stream, stderr first: far beyond a pipe's 64 KiB buffer.
  const CommandResult r =
      RunCommand({"sh", "-c", "head -c 1000000 /dev/zero >&2; head -c 1000000 /dev/zero; exit 0"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.size(), 1000000u);
  EXPECT_EQ(r.err.size(), 1000000u);
}

TEST(Subprocess, ATimeoutStopsTheChild) {
  const auto t0 = Clock::now();
  const CommandResult r =
      RunCommand({"sh", "-c", "echo started; exec sleep 30"}, milliseconds(300));
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.exit_code, 128 + SIGTERM);
  EXPECT_EQ(r.out, "started\n");
  EXPECT_LT(SecondsSince(t0), 10);
  EXPECT_GE(SecondsSince(t0), 0.3);
}

TEST(Subprocess, StopIsGracefulForAChildThatHandlesSigterm) {
  const std::string out = TempPath("graceful.log");
  fs::remove(out);
  SpawnOptions o =
      Sh("trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.05; done");
  o.output_file = out;
  Subprocess child(o);
  ASSERT_TRUE(Eventually([&] { return ReadFile(out).find("ready") != std::string::npos; }));
  const ExitStatus s = child.Stop(milliseconds(20000));
  EXPECT_EQ(s.code, 7) << s.Describe();
  EXPECT_NE(ReadFile(out).find("got-term"), std::string::npos);
  EXPECT_TRUE(Eventually([&] { return LiveMembers(child.pid()) == 0; }));
}

TEST(Subprocess, StopKillsAChildThatIgnoresSigtermAndItsWholeGroupAfterTheGrace) {
  const std::string out = TempPath("stubborn.log");
  fs::remove(out);
  // The shell and its background sleep both ignore SIGTERM.
  SpawnOptions o = Sh("trap '' TERM; sleep 1000 & echo ready; wait; wait; wait");
  o.output_file = out;
  Subprocess child(o);
  ASSERT_TRUE(Eventually([&] { return ReadFile(out).find("ready") != std::string::npos; }));
  ASSERT_EQ(::getpgid(child.pid()), child.pid());  // it leads its own group
  EXPECT_EQ(LiveMembers(child.pid()), 2);          // the shell and its sleep
  const auto t0 = Clock::now();
  const ExitStatus s = child.Stop(milliseconds(500));
  EXPECT_GE(SecondsSince(t0), 0.5);  // SIGTERM was ignored for the whole grace
  EXPECT_EQ(s.signal, SIGKILL) << s.Describe();
  EXPECT_EQ(s.code, 128 + SIGKILL);
  EXPECT_EQ(s.Describe(), "was killed by signal 9 (Killed)");
  EXPECT_TRUE(Eventually([&] { return LiveMembers(child.pid()) == 0; }))
      << "the group outlived Stop";
}

TEST(Subprocess, StopLeavesNothingOfTheGroupWhenTheLeaderExitsFirst) {
  const std::string out = TempPath("leftover.log");
  fs::remove(out);
  // The shell dies of SIGTERM at once; the sleep it started ignores SIGTERM.
  SpawnOptions o = Sh("(trap '' TERM; exec sleep 1000) & echo ready; wait");
  o.output_file = out;
  Subprocess child(o);
  ASSERT_TRUE(Eventually([&] { return ReadFile(out).find("ready") != std::string::npos; }));
  ASSERT_TRUE(Eventually([&] { return LiveMembers(child.pid()) == 2; }));
  const auto t0 = Clock::now();
  const ExitStatus s = child.Stop(milliseconds(20000));
  EXPECT_EQ(s.signal, SIGTERM) << s.Describe();
  EXPECT_LT(SecondsSince(t0), 10);  // no wait for the grace: the leader was gone
  EXPECT_TRUE(Eventually([&] { return LiveMembers(child.pid()) == 0; }))
      << "the sleep outlived Stop";
}

TEST(Subprocess, DestroyingAHandleKillsItsRunningChild) {
  pid_t pid = 0;
  {
    SpawnOptions o;
    o.argv = {"sleep", "1000"};
    Subprocess child(o);
    pid = child.pid();
    ASSERT_TRUE(Alive(pid));
  }
  EXPECT_FALSE(Alive(pid));
}

TEST(Subprocess, ReapsOnlyItsOwnChild) {
  // A child of this process started elsewhere, which exits at once with 5.
  const pid_t unrelated = ::fork();
  if (unrelated == 0) ::_exit(5);
  ASSERT_GT(unrelated, 0);
  ASSERT_TRUE(Eventually([&] { return StateAndGroup(std::to_string(unrelated)).first == 'Z'; }));

  SpawnOptions o;
  o.argv = {"sh", "-c", "exit 4"};
  Subprocess polled(o), waited(o);
  std::optional<ExitStatus> ended;
  ASSERT_TRUE(Eventually([&] { return bool(ended = polled.Poll()); }));
  EXPECT_EQ(ended->code, 4);
  EXPECT_EQ(waited.Wait().code, 4);
  EXPECT_EQ(RunCommand({"true"}).exit_code, 0);
  // The unrelated child is still there to be reaped by whoever started it.
  int status = 0;
  ASSERT_EQ(::waitpid(unrelated, &status, WNOHANG), unrelated);
  EXPECT_EQ(WEXITSTATUS(status), 5);
}

TEST(Subprocess, PassesEnvironmentWorkingDirectoryAndDevNullStdin) {
  const std::string dir = TempPath("cwd");
  fs::create_directories(dir);
  ::setenv("HRM_SUBPROCESS_DROPPED", "1", 1);
  ::setenv("HRM_SUBPROCESS_REPLACED", "old", 1);
  SpawnOptions o = Sh(
      "echo \"$HRM_SUBPROCESS_SET|$HRM_SUBPROCESS_REPLACED|${HRM_SUBPROCESS_DROPPED-unset}|$PWD\";"
      "readlink /proc/self/fd/0; cat");
  o.env = {{"HRM_SUBPROCESS_SET", "a b=c"}, {"HRM_SUBPROCESS_REPLACED", "new"}};
  o.unset_env = {"HRM_SUBPROCESS_DROPPED"};
  o.cwd = dir;
  o.capture = true;
  Subprocess::Output r = Subprocess(o).Communicate(milliseconds(20000));
  EXPECT_FALSE(r.timed_out);  // cat read an empty stdin
  EXPECT_EQ(r.out, "a b=c|new|unset|" + fs::canonical(dir).string() + "\n/dev/null\n");
  EXPECT_EQ(std::string(::getenv("HRM_SUBPROCESS_REPLACED")), "old");  // ours is untouched
  fs::remove_all(dir);
}

TEST(Subprocess, OutputFileIsAppendedToAndTheGroupIsOptional) {
  const std::string log = TempPath("append.log");
  WriteFileAtomic(log, "an earlier attempt\n");
  SpawnOptions o = Sh("echo out; echo err >&2; sleep 0.2");
  o.output_file = log;
  o.new_process_group = false;
  Subprocess child(o);
  EXPECT_EQ(::getpgid(child.pid()), ::getpgrp());
  EXPECT_EQ(child.Wait().code, 0);
  EXPECT_EQ(ReadFile(log), "an earlier attempt\nout\nerr\n");
  fs::remove(log);
}

TEST(Subprocess, WhatCannotStartIsAnErrorNamingIt) {
  SpawnOptions o;
  o.argv = {"hrm-no-such-program"};
  try {
    Subprocess child(o);
    FAIL() << "started";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot start hrm-no-such-program: not found on PATH");
  }
  o.argv = {"/nonexistent/program"};
  EXPECT_THROW(Subprocess{o}, std::runtime_error);
  o = Sh("true");
  o.cwd = "/nonexistent-dir";
  try {
    Subprocess child(o);
    FAIL() << "started";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot enter /nonexistent-dir"), std::string::npos)
        << e.what();
  }
  o = Sh("true");
  o.output_file = "/nonexistent-dir/out.log";
  EXPECT_THROW(Subprocess{o}, std::runtime_error);
  const CommandResult r = RunCommand({"hrm-no-such-program"});
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_NE(r.err.find("hrm-no-such-program"), std::string::npos);
}

TEST(Subprocess, AChildStartedToDieWithItsParentDoesSo) {
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  const pid_t parent = ::fork();
  if (parent == 0) {  // starts the child, tells its pid, and dies without cleaning up
    SpawnOptions o;
    o.argv = {"sleep", "1000"};
    o.die_with_parent = true;
    Subprocess child(o);
    const pid_t pid = child.pid();
    (void)!::write(report[1], &pid, sizeof pid);
    ::_exit(0);
  }
  ::close(report[1]);
  pid_t grandchild = 0;
  ASSERT_EQ(::read(report[0], &grandchild, sizeof grandchild), ssize_t(sizeof grandchild));
  ::close(report[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(parent, &status, 0), parent);
  EXPECT_TRUE(Eventually([&] { return !Alive(grandchild); }));
}

}  // namespace
}  // namespace hrm
