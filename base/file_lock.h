// An exclusive advisory lock on a file (flock), held for the lifetime of the
// object and released by the kernel if the process dies, so a stale lock
// can never block a restart. The file's text says who holds it.
#pragma once

#include <memory>
#include <string>

namespace hrm {

class FileLock {
 public:
  // Takes the lock without waiting and writes `holder` into the file.
  // Returns null when another process holds it.
  static std::unique_ptr<FileLock> TryAcquire(const std::string& path, const std::string& holder);
  // The text the current holder wrote ("" if none).
  static std::string Holder(const std::string& path);
  // True while some process holds the lock.
  static bool IsHeld(const std::string& path);
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

// "pid 1234 on host h" for this process.
std::string ThisProcessHolder();

}  // namespace hrm
