// The append-only event log of one run (RUN_DIR/events.jsonl): one JSON object a line, written
// with a single write() and flushed to the kernel before Append returns, so a crash loses at
// most the line being written. EventLog writes it; EventLogReader and ReadEventLog are the one
// way to read it back (the store's ingest, `hrm reproduce`, the tests). Workers never touch
// SQLite.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

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

// How far a log has been read: just past its last complete line.
struct EventLogCursor {
  int64_t offset = 0;  // bytes
  int64_t line = 0;    // number of that line (1-based; 0: none read)
};

// Reads the complete lines of one log from a cursor on. A last line without its newline (being
// written, or torn by a crash) is left for a later read, which picks it up once completed.
class EventLogReader {
 public:
  // Opens the log; a log that does not exist (yet) reads as empty. Throws naming the path.
  explicit EventLogReader(const std::string& path);
  ~EventLogReader();
  EventLogReader(const EventLogReader&) = delete;
  EventLogReader& operator=(const EventLogReader&) = delete;

  bool exists() const { return fd_ >= 0; }
  // Continues from `cursor`. False, and back at the start, when the log no longer matches it
  // (shorter than the cursor, or the byte before it does not end a line: replaced or cut).
  bool Seek(EventLogCursor cursor);
  // True when no byte follows the cursor.
  bool AtEnd() const { return cursor_.offset >= size_; }
  // Calls on_line(text without its newline, its byte offset, its line number) for each complete
  // line past the cursor, advancing it. Reads 1 MiB blocks: memory stays small.
  using LineFn = std::function<void(std::string_view text, int64_t offset, int64_t line)>;
  void ReadLines(const LineFn& on_line);
  EventLogCursor cursor() const { return cursor_; }

 private:
  std::string path_;
  int fd_ = -1;
  int64_t size_ = 0;  // when opened
  EventLogCursor cursor_;
};

// One line of a log, parsed as the store's ingest takes it.
struct EventLine {
  json event;           // an object with a string "event"; null when the line is skipped
  size_t glued_at = 0;  // > 0: a torn line ran into this record, which starts at this byte
  std::string skipped;  // why the line was skipped; empty for a record or a blank line
};
EventLine ParseEventLine(std::string_view text);

// Every record of the log at `path` (a missing log has none): torn, blank and foreign lines are
// skipped as ingest skips them.
std::vector<json> ReadEventLog(const std::string& path);

// Current UTC time as ISO 8601 ("2026-11-24T02:43:06Z").
std::string UtcNow();

}  // namespace hrm
