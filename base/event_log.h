// The append-only event log of one run (DIR/events.jsonl): one JSON object a
// line, written with a single write() and flushed to the kernel before
// Append returns, so a crash loses at most the line being written. The store
// ingests these logs; workers never touch SQLite.
#pragma once

#include <string>

#include "base/config.h"

namespace hrm {

class EventLog {
 public:
  // Opens (creating if needed) for appending. Throws naming the path.
  explicit EventLog(const std::string& path);
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // Appends {"event": name, ...fields} as one line. With sync, also fsyncs
  // (used for events that end a run).
  void Append(const std::string& name, json fields, bool sync = false);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

// Current UTC time as ISO 8601 ("2026-11-24T02:43:06Z").
std::string UtcNow();

}  // namespace hrm
