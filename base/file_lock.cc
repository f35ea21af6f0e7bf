// flock rather than fcntl locks: a flock belongs to the open file, so it
// cannot be dropped by some other code closing another descriptor of the same
// file (the fcntl pitfall); Linux NFS clients map it onto NFS locks, which
// hold across nodes.
#include "base/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "base/atomic_file.h"

namespace hrm {

std::unique_ptr<FileLock> FileLock::TryAcquire(const std::string& path, const std::string& holder) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(path + ": cannot open lock file: " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return nullptr;
  }
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, holder.data(), holder.size(), 0) < 0) {
    ::close(fd);
    throw std::runtime_error(path + ": cannot write lock file: " + std::strerror(errno));
  }
  return std::unique_ptr<FileLock>(new FileLock(fd));
}

std::string FileLock::Holder(const std::string& path) {
  try {
    return ReadFile(path);
  } catch (const std::exception&) {
    return "";
  }
}

bool FileLock::IsHeld(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0;
  ::close(fd);
  return held;
}

FileLock::~FileLock() { ::close(fd_); }

std::string ThisProcessHolder() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return "pid " + std::to_string(::getpid()) + " on host " + host;
}

}  // namespace hrm
