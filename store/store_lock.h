// The runner lock: one runner per store. An exclusive flock(2) on
// "<db>.lock", whose text names the holder's pid and host for the message a
// second runner gets. The kernel drops the lock when its holder dies, so a
// stale lock is simply taken over; the file is opened close-on-exec, so the
// runner's workers never hold it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "base/file_lock.h"
#include "store/store_error.h"

namespace hrm {

// Who holds a store's lock, as its lock file says.
struct LockHolder {
  int64_t pid = 0;
  std::string host;
  std::string since;  // UTC ISO 8601
};

// A second runner: what() is "store X is in use by pid P on host H ...".
class StoreInUse : public StoreError {
 public:
  StoreInUse(const std::string& message, LockHolder holder)
      : StoreError(message), holder(std::move(holder)) {}
  const LockHolder holder;
};

class StoreLock {
 public:
  // Takes the lock of the store at `db_path` (creating "<db_path>.lock") and
  // writes this process's pid, host and time into it. Throws StoreInUse if
  // another process holds it, StoreError if the file cannot be used.
  static std::unique_ptr<StoreLock> Acquire(const std::string& db_path);
  // The live holder of the store's lock, if any (for `hrm status`). Probes
  // without keeping the lock.
  static std::optional<LockHolder> Holder(const std::string& db_path);
  // "<db_path>.lock".
  static std::string LockPath(const std::string& db_path);

  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;
  ~StoreLock() = default;  // releases the lock

 private:
  explicit StoreLock(std::unique_ptr<FileLock> lock) : lock_(std::move(lock)) {}
  std::unique_ptr<FileLock> lock_;
};

}  // namespace hrm
