// flock rather than fcntl locks: a flock belongs to the open file, so it
// cannot be dropped by some other code closing another descriptor of the same
// file (the fcntl pitfall); Linux NFS clients map it onto NFS locks, which
// hold across nodes.
#include "store/store_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <thread>

namespace hrm {
namespace {

std::string HostName() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return host;
}

std::string IsoNow() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The holder's record; an empty holder if the text is missing or torn (the
// holder is between taking the lock and writing it).
LockHolder ReadHolder(int fd) {
  std::string text(4096, '\0');
  ssize_t n = ::pread(fd, &text[0], text.size(), 0);
  text.resize(n > 0 ? size_t(n) : 0);
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  LockHolder h;
  if (j.is_object()) {
    h.pid = j.value("pid", int64_t(0));
    h.host = j.value("host", "");
    h.since = j.value("since", "");
  }
  return h;
}

}  // namespace

std::string StoreLock::LockPath(const std::string& db_path) { return db_path + ".lock"; }

std::unique_ptr<StoreLock> StoreLock::Acquire(const std::string& db_path) {
  const std::string path = LockPath(db_path);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    throw StoreError(path + ": cannot open the store's lock file: " + std::strerror(errno));
  // A few quick retries let a `hrm status` probe (Holder) pass.
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      const std::string text =
          nlohmann::json{{"pid", int64_t(::getpid())}, {"host", HostName()}, {"since", IsoNow()}}
              .dump() +
          "\n";
      if (::ftruncate(fd, 0) != 0 ||
          ::pwrite(fd, text.data(), text.size(), 0) != ssize_t(text.size())) {
        const int err = errno;
        ::close(fd);
        throw StoreError(path + ": cannot write the store's lock file: " + std::strerror(err));
      }
      return std::unique_ptr<StoreLock>(new StoreLock(fd));
    }
    if (errno != EWOULDBLOCK && errno != EINTR) {
      const int err = errno;
      ::close(fd);
      throw StoreError(path + ": cannot lock: " + std::strerror(err));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  LockHolder holder = ReadHolder(fd);
  ::close(fd);
  const std::string who = holder.pid > 0
                              ? "pid " + std::to_string(holder.pid) + " on host " + holder.host +
                                    (holder.since.empty() ? "" : " since " + holder.since)
                              : "a process that has not yet written its pid";
  throw StoreInUse(
      "store " + db_path + " is in use by " + who + " (another hrm runner; lock file " + path + ")",
      std::move(holder));
}

std::optional<LockHolder> StoreLock::Holder(const std::string& db_path) {
  const int fd = ::open(LockPath(db_path).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;  // never locked
  std::optional<LockHolder> holder;
  if (::flock(fd, LOCK_SH | LOCK_NB) == 0)
    ::flock(fd, LOCK_UN);
  else
    holder = ReadHolder(fd);
  ::close(fd);
  return holder;
}

StoreLock::~StoreLock() { ::close(fd_); }

}  // namespace hrm
