// O_APPEND + one write() per line: concurrent appenders cannot interleave
// inside a line, and a torn write can only ever be the last line, which the
// reader leaves until it is complete. The reader uses pread on one descriptor
// and the size seen at open, so that a writer appending meanwhile cannot make
// it read half a line.
#include "base/event_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace hrm {

EventLog::EventLog(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC,
               0644);  // RDWR: we peek at the last byte
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
    if (n < 0)
      throw std::runtime_error(path_ + ": cannot write event log: " + std::strerror(errno));
    p += n;
    left -= size_t(n);
  }
  if (sync) ::fsync(fd_);
}

EventLogReader::EventLogReader(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    if (errno == ENOENT) return;  // the worker has not started yet
    throw std::runtime_error(path + ": cannot open event log: " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const int err = errno;
    ::close(fd_);
    throw std::runtime_error(path + ": cannot stat event log: " + std::strerror(err));
  }
  size_ = st.st_size;
}

EventLogReader::~EventLogReader() {
  if (fd_ >= 0) ::close(fd_);
}

bool EventLogReader::Seek(EventLogCursor cursor) {
  char last = '\n';
  if (cursor.offset < 0 || cursor.offset > size_ ||
      (cursor.offset > 0 &&
       (::pread(fd_, &last, 1, off_t(cursor.offset - 1)) != 1 || last != '\n'))) {
    cursor_ = {};
    return false;
  }
  cursor_ = cursor;
  return true;
}

void EventLogReader::ReadLines(const LineFn& on_line) {
  std::string buf;  // bytes from cursor_.offset on, not yet passed on
  for (int64_t read_at = cursor_.offset; read_at < size_;) {
    const size_t want = size_t(std::min<int64_t>(1 << 20, size_ - read_at));
    const size_t keep = buf.size();
    buf.resize(keep + want);
    ssize_t n;
    while ((n = ::pread(fd_, &buf[keep], want, off_t(read_at))) < 0 && errno == EINTR) {
    }
    if (n < 0) throw std::runtime_error(path_ + ": cannot read event log: " + std::strerror(errno));
    buf.resize(keep + size_t(n));
    if (n == 0) break;  // cut short while we read: take what is there
    read_at += n;
    size_t pos = 0;
    while (const void* nl = std::memchr(buf.data() + pos, '\n', buf.size() - pos)) {
      const size_t end = size_t(static_cast<const char*>(nl) - buf.data());
      ++cursor_.line;
      on_line(std::string_view(buf.data() + pos, end - pos), cursor_.offset, cursor_.line);
      cursor_.offset += int64_t(end + 1 - pos);
      pos = end + 1;
    }
    buf.erase(0, pos);
  }
}

EventLine ParseEventLine(std::string_view text) {
  EventLine out;
  if (text.find_first_not_of(" \t\r") == std::string_view::npos) return out;
  json ev = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (ev.is_discarded() || !ev.is_object()) {
    // A writer that resumed after a crash without first ending the torn line glued its first
    // record to it: keep that record.
    size_t at = 0;
    while ((at = text.find('{', at + 1)) != std::string_view::npos) {
      ev = json::parse(text.begin() + at, text.end(), nullptr, /*allow_exceptions=*/false);
      if (ev.is_object() && ev.contains("event")) break;
    }
    if (at == std::string_view::npos) {
      out.skipped = "not a JSON object (a line torn by a crash?)";
      return out;
    }
    out.glued_at = at;
  }
  auto name = ev.find("event");
  if (name == ev.end() || !name->is_string()) {
    out.skipped = "no \"event\" field";
    out.glued_at = 0;
    return out;
  }
  out.event = std::move(ev);
  return out;
}

std::vector<json> ReadEventLog(const std::string& path) {
  std::vector<json> events;
  EventLogReader reader(path);
  if (!reader.exists()) return events;
  reader.ReadLines([&](std::string_view text, int64_t, int64_t) {
    EventLine line = ParseEventLine(text);
    if (!line.event.is_null()) events.push_back(std::move(line.event));
  });
  return events;
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
