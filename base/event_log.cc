// O_APPEND + one write() per line: concurrent appenders cannot interleave
// inside a line, and a torn write can only ever be the last line, which the
// ingester skips until it is complete.
#include "base/event_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace hrm {

EventLog::EventLog(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);  // RDWR: we peek at the last byte
  if (fd_ < 0) throw std::runtime_error(path + ": cannot open event log: " + std::strerror(errno));
  // A crash may have left a torn last line; start ours on a fresh line so the
  // torn one stays isolated (the ingester skips lines that are not JSON).
  off_t end = ::lseek(fd_, 0, SEEK_END);
  if (end > 0) {
    char last = '\n';
    if (::pread(fd_, &last, 1, end - 1) == 1 && last != '\n') {
      if (::write(fd_, "\n", 1) != 1)
        throw std::runtime_error(path_ + ": cannot write event log: " + std::strerror(errno));
    }
  }
}

EventLog::~EventLog() {
  if (fd_ >= 0) ::close(fd_);
}

void EventLog::Append(const std::string& name, json fields, bool sync) {
  json line = json::object();
  line["event"] = name;
  for (auto it = fields.begin(); it != fields.end(); ++it) line[it.key()] = it.value();
  std::string text = line.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error(path_ + ": cannot write event log: " + std::strerror(errno));
    p += n;
    left -= size_t(n);
  }
  if (sync) ::fsync(fd_);
}

std::string UtcNow() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace hrm
