// The runner lock against real processes: a second holder is refused with
// the first's pid and host, a dead holder's lock is taken over, and the
// runner's workers do not inherit it.
#include "store/store_lock.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "base/subprocess.h"
#include "tests/store_test_util.h"

namespace hrm {
namespace {

using testing::TempDir;

std::string HostName() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return host;
}

// A child process that takes the lock and holds it until killed.
pid_t ChildHoldingLock(const std::string& db) {
  int ready[2];
  if (::pipe(ready) != 0) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(ready[0]);
    try {
      auto lock = StoreLock::Acquire(db);
      (void)!::write(ready[1], "y", 1);
      for (;;) ::pause();
    } catch (...) {
      (void)!::write(ready[1], "n", 1);
    }
    ::_exit(1);
  }
  ::close(ready[1]);
  char c = 0;
  const bool ok = ::read(ready[0], &c, 1) == 1 && c == 'y';
  ::close(ready[0]);
  return ok ? pid : -1;
}

void Kill(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

TEST(StoreLockTest, ASecondRunnerIsRefusedWithTheHoldersPidAndHost) {
  TempDir dir;
  const std::string db = dir / "hrm.db";
  EXPECT_FALSE(StoreLock::Holder(db));  // never locked
  const pid_t child = ChildHoldingLock(db);
  ASSERT_GT(child, 0);

  try {
    StoreLock::Acquire(db);
    Kill(child);
    FAIL() << "a second holder got the lock";
  } catch (const StoreInUse& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("store " + db + " is in use by pid " + std::to_string(child) + " on host " +
                       HostName()),
              std::string::npos)
        << msg;
    EXPECT_EQ(e.holder.pid, child);
    EXPECT_EQ(e.holder.host, HostName());
  }
  auto holder = StoreLock::Holder(db);
  ASSERT_TRUE(holder);
  EXPECT_EQ(holder->pid, child);

  // The holder dies without cleaning up: its lock is taken over.
  Kill(child);
  EXPECT_FALSE(StoreLock::Holder(db));
  auto lock = StoreLock::Acquire(db);
  ASSERT_TRUE(lock);
  EXPECT_EQ(StoreLock::Holder(db)->pid, ::getpid());
  lock.reset();
  EXPECT_FALSE(StoreLock::Holder(db));
}

TEST(StoreLockTest, WorkersStartedByTheRunnerDoNotKeepItsLock) {
  TempDir dir;
  const std::string db = dir / "hrm.db";
  auto lock = StoreLock::Acquire(db);
  SpawnOptions o;
  o.argv = {"/bin/sleep", "30"};
  Subprocess worker(o);
  lock.reset();  // the runner goes; its worker lives on
  EXPECT_FALSE(StoreLock::Holder(db));
  EXPECT_NO_THROW(StoreLock::Acquire(db));
  worker.Stop(std::chrono::milliseconds(0), SIGKILL);
}

TEST(StoreLockTest, AnUnusableLockFileIsAnErrorNamingIt) {
  TempDir dir;
  const std::string db = dir / "no/such/dir/hrm.db";
  try {
    StoreLock::Acquire(db);
    FAIL();
  } catch (const StoreInUse&) {
    FAIL() << "reported as in use";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find(db + ".lock: cannot open"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hrm
