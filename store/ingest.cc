// The cursor makes the frequent call cheap (only bytes past it are read); the
// primary keys make a replay harmless, so restarting from byte 0 is always
// safe. Rows and cursor commit together: a crash between ingests loses
// nothing, and a commit lost to a power cut is re-read from the log.
#include "store/ingest.h"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <optional>
#include <string_view>

namespace hrm {
namespace {

// Eval fields that have their own column; every other key goes to extra.
constexpr const char* kEvalColumns[] = {"event",     "step",   "val_ce", "train_ce",
                                        "lr",        "grad_norm", "tokens", "wall_s"};

std::string IsoNow() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void BindOpt(SQLite::Statement& s, int i, const std::optional<int64_t>& v) {
  if (v) s.bind(i, *v); else s.bind(i);
}
void BindOpt(SQLite::Statement& s, int i, const std::optional<double>& v) {
  if (v) s.bind(i, *v); else s.bind(i);
}
void BindOpt(SQLite::Statement& s, int i, const std::optional<std::string>& v) {
  if (v) s.bind(i, *v); else s.bind(i);
}

// How far the run's log was ingested.
struct Cursor {
  std::string path;
  int64_t offset = 0;  // just past the last complete line
  int64_t line = 0;    // number of that line
};

Cursor LoadCursor(SQLite::Database& db, const std::string& run_id) {
  SQLite::Statement q(db, "SELECT path, offset, line FROM ingest_cursors WHERE run_id = ?");
  q.bind(1, run_id);
  if (!q.executeStep()) return {};
  return {q.getColumn(0).getString(), q.getColumn(1).getInt64(), q.getColumn(2).getInt64()};
}

void SaveCursor(SQLite::Database& db, const std::string& run_id, const Cursor& c) {
  SQLite::Statement up(db,
                       "INSERT INTO ingest_cursors (run_id, path, offset, line) "
                       "VALUES (?, ?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET "
                       "path = excluded.path, offset = excluded.offset, line = excluded.line");
  up.bind(1, run_id);
  up.bind(2, c.path);
  up.bind(3, c.offset);
  up.bind(4, c.line);
  up.exec();
}

// The bytes [offset, size) of an open file.
std::string ReadRange(int fd, int64_t offset, int64_t size, const std::string& path) {
  std::string buf(size_t(size - offset), '\0');
  size_t done = 0;
  while (done < buf.size()) {
    ssize_t n = ::pread(fd, &buf[done], buf.size() - done, off_t(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw StoreError(path + ": cannot read event log: " + std::strerror(errno));
    if (n == 0) break;  // shrank while we read: take what is there
    done += size_t(n);
  }
  buf.resize(done);
  return buf;
}

class FileCloser {
 public:
  explicit FileCloser(int fd) : fd_(fd) {}
  ~FileCloser() { ::close(fd_); }
  FileCloser(const FileCloser&) = delete;
  FileCloser& operator=(const FileCloser&) = delete;

 private:
  int fd_;
};

// Turns the lines of one ingest into rows, and remembers what they imply
// for the run's row until Finish writes it.
class LineIngester {
 public:
  LineIngester(SQLite::Database& db, const std::string& run_id, const std::string& path,
               IngestResult& out)
      : db_(db), run_id_(run_id), path_(path), out_(out) {}

  void Line(std::string_view text, int64_t offset, int64_t line_no) {
    line_ = line_no;
    if (text.find_first_not_of(" \t\r") == std::string_view::npos) return;
    json ev = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (ev.is_discarded() || !ev.is_object())
      return Warn("not a JSON object (a line torn by a crash?): skipped");
    auto name = ev.find("event");
    if (name == ev.end() || !name->is_string()) return Warn("no \"event\" field: skipped");
    const std::string& event = name->get_ref<const std::string&>();
    if (event == "eval") return Eval(ev);
    if (event == "checkpoint") return Checkpoint(ev);
    if (event == "measurement") return Measurement(ev);
    Lifecycle(event, ev, text, offset);
  }

  // Applies the status, step, error and times the events imply to runs.
  void Finish() {
    if (!touched_) return;
    SQLite::Statement up(db_,
                         "UPDATE runs SET step = coalesce(?1, step), status = coalesce(?2, status),"
                         " error = coalesce(?3, error), provenance = coalesce(?4, provenance),"
                         " started_at = coalesce(?5, started_at),"
                         " finished_at = coalesce(?6, finished_at),"
                         " updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?7");
    BindOpt(up, 1, step_);
    BindOpt(up, 2, status_);
    BindOpt(up, 3, error_);
    BindOpt(up, 4, provenance_);
    BindOpt(up, 5, started_at_);
    BindOpt(up, 6, finished_at_);
    up.bind(7, run_id_);
    up.exec();
  }

 private:
  void Warn(const std::string& why) {
    out_.warnings.push_back(path_ + ":" + std::to_string(line_) + ": " + why);
  }

  // An integer field; absent or null is nullopt, another type a warning.
  std::optional<int64_t> Int(const json& ev, const char* key) {
    auto it = ev.find(key);
    if (it == ev.end() || it->is_null()) return std::nullopt;
    if (it->is_number_integer()) return it->get<int64_t>();
    if (it->is_number_float() && it->get<double>() == double(int64_t(it->get<double>())))
      return int64_t(it->get<double>());
    Warn(std::string("field '") + key + "' is not an integer: stored as NULL");
    return std::nullopt;
  }

  std::optional<double> Num(const json& ev, const char* key) {
    auto it = ev.find(key);
    if (it == ev.end() || it->is_null()) return std::nullopt;
    if (it->is_number()) return it->get<double>();
    Warn(std::string("field '") + key + "' is not a number: stored as NULL");
    return std::nullopt;
  }

  std::optional<std::string> Str(const json& ev, const char* key) {
    auto it = ev.find(key);
    if (it == ev.end() || it->is_null()) return std::nullopt;
    if (it->is_string()) return it->get<std::string>();
    Warn(std::string("field '") + key + "' is not a string: ignored");
    return std::nullopt;
  }

  SQLite::Statement& Prepare(std::optional<SQLite::Statement>& slot, const char* sql) {
    if (!slot) slot.emplace(db_, sql);
    return *slot;
  }

  void NoteStep(const std::optional<int64_t>& step) {
    if (!step) return;
    step_ = step;
    touched_ = true;
  }

  void Eval(const json& ev) {
    const std::optional<int64_t> step = Int(ev, "step");
    if (!step) return Warn("eval without a step: skipped");
    json extra = json::object();
    for (auto it = ev.begin(); it != ev.end(); ++it) {
      bool column = false;
      for (const char* k : kEvalColumns) column = column || it.key() == k;
      if (!column) extra[it.key()] = it.value();
    }
    SQLite::Statement& s = Prepare(insert_eval_,
                                   "INSERT OR IGNORE INTO evals (run_id, step, val_ce, train_ce, "
                                   "lr, grad_norm, tokens, wall_s, extra) "
                                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    s.bind(1, run_id_);
    s.bind(2, *step);
    BindOpt(s, 3, Num(ev, "val_ce"));
    BindOpt(s, 4, Num(ev, "train_ce"));
    BindOpt(s, 5, Num(ev, "lr"));
    BindOpt(s, 6, Num(ev, "grad_norm"));
    BindOpt(s, 7, Int(ev, "tokens"));
    BindOpt(s, 8, Num(ev, "wall_s"));
    if (extra.empty()) s.bind(9); else s.bind(9, extra.dump());
    out_.evals += s.exec();
    s.reset();
    NoteStep(step);
  }

  void Checkpoint(const json& ev) {
    const std::optional<int64_t> step = Int(ev, "step");
    const std::optional<std::string> path = Str(ev, "path");
    if (!step || !path) return Warn("checkpoint without a step or path: skipped");
    // A resumed run may write the same step again: the newest file wins.
    SQLite::Statement& s = Prepare(upsert_checkpoint_,
                                   "INSERT INTO checkpoints (run_id, step, path, sha256) "
                                   "VALUES (?, ?, ?, ?) ON CONFLICT (run_id, step) DO UPDATE SET "
                                   "path = excluded.path, sha256 = excluded.sha256 "
                                   "WHERE path IS NOT excluded.path "
                                   "OR sha256 IS NOT excluded.sha256");
    s.bind(1, run_id_);
    s.bind(2, *step);
    s.bind(3, *path);
    BindOpt(s, 4, Str(ev, "sha256"));
    out_.checkpoints += s.exec();
    s.reset();
    NoteStep(step);
  }

  void Measurement(const json& ev) {
    const std::optional<std::string> metric = Str(ev, "metric");
    if (!metric) return Warn("measurement without a metric: skipped");
    json extra = json::object();  // sorted keys: canonical, so a replay matches
    for (auto it = ev.begin(); it != ev.end(); ++it)
      if (it.key() != "event" && it.key() != "metric" && it.key() != "value")
        extra[it.key()] = it.value();
    SQLite::Statement& s = Prepare(insert_measurement_,
                                   "INSERT OR IGNORE INTO measurements (run_id, metric, value, "
                                   "extra) VALUES (?, ?, ?, ?)");
    s.bind(1, run_id_);
    s.bind(2, *metric);
    BindOpt(s, 3, Num(ev, "value"));
    s.bind(4, extra.dump());
    out_.measurements += s.exec();
    s.reset();
  }

  // started, interrupted, finished, diverged, error; and events this hrm
  // does not know, kept whole for a later one.
  void Lifecycle(const std::string& event, const json& ev, std::string_view text, int64_t offset) {
    const std::optional<int64_t> step = Int(ev, "step");
    const std::optional<std::string> time = Str(ev, "time");
    SQLite::Statement& s = Prepare(insert_event_,
                                   "INSERT OR IGNORE INTO run_events (run_id, log_offset, event, "
                                   "step, time, body) VALUES (?, ?, ?, ?, ?, ?)");
    s.bind(1, run_id_);
    s.bind(2, offset);
    s.bind(3, event);
    BindOpt(s, 4, step);
    BindOpt(s, 5, time);
    s.bind(6, std::string(text));
    out_.run_events += s.exec();
    s.reset();
    NoteStep(step);
    touched_ = true;
    const std::string when = time ? *time : IsoNow();
    if (event == "started") {
      status_ = "running";
      started_at_ = when;
      auto p = ev.find("provenance");
      if (p != ev.end() && !p->is_null()) provenance_ = p->dump();
      const std::optional<std::string> hash = Str(ev, "config_hash");
      if (hash && *hash != run_id_)
        Warn("config_hash " + *hash + " is not run " + run_id_ + ": a log of another run?");
    } else if (event == "interrupted") {
      status_ = "interrupted";
    } else if (event == "finished") {
      status_ = "done";
      finished_at_ = when;
    } else if (event == "diverged") {
      status_ = "diverged";
      error_ = Str(ev, "reason").value_or("diverged");
      finished_at_ = when;
    } else if (event == "error") {
      status_ = "failed";
      error_ = Str(ev, "message").value_or("error event without a message");
      finished_at_ = when;
    } else {
      Warn("unknown event '" + event + "': kept in run_events only");
    }
  }

  SQLite::Database& db_;
  const std::string& run_id_;
  const std::string& path_;
  IngestResult& out_;
  int64_t line_ = 0;
  std::optional<SQLite::Statement> insert_eval_, upsert_checkpoint_, insert_measurement_,
      insert_event_;
  bool touched_ = false;
  std::optional<int64_t> step_;
  std::optional<std::string> status_, error_, provenance_, started_at_, finished_at_;
};

}  // namespace

IngestResult IngestEvents(RunStore& store, const std::string& run_id, const std::string& path) {
  IngestResult out;
  SQLite::Database& db = store.db();
  try {
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement known(db, "SELECT 1 FROM runs WHERE id = ?");
    known.bind(1, run_id);
    if (!known.executeStep())
      throw StoreError("store " + store.path() + ": no run " + run_id + " (ingesting " + path +
                       ")");

    Cursor cursor = LoadCursor(db, run_id);
    const Cursor before = cursor;
    if (cursor.path != path) cursor = {path, 0, 0};  // another file: read it all
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return out;  // the worker has not started yet
      throw StoreError(path + ": cannot open event log: " + std::strerror(errno));
    }
    FileCloser closer(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0)
      throw StoreError(path + ": cannot stat event log: " + std::strerror(errno));
    const int64_t size = st.st_size;
    // The byte before the cursor must still end a line; otherwise the log
    // was replaced or cut since the last ingest.
    char last = '\n';
    if (cursor.offset > size ||
        (cursor.offset > 0 && (::pread(fd, &last, 1, off_t(cursor.offset - 1)) != 1 || last != '\n'))) {
      out.warnings.push_back(path + ": no longer matches what was ingested (replaced or cut "
                             "short?): reading it again from the start");
      cursor.offset = 0;
      cursor.line = 0;
    }

    const std::string buf = ReadRange(fd, cursor.offset, size, path);
    LineIngester lines(db, run_id, path, out);
    size_t pos = 0;
    while (const void* nl = std::memchr(buf.data() + pos, '\n', buf.size() - pos)) {
      const size_t end = size_t(static_cast<const char*>(nl) - buf.data());
      ++cursor.line;
      ++out.lines;
      lines.Line(std::string_view(buf.data() + pos, end - pos), cursor.offset + int64_t(pos),
                 cursor.line);
      pos = end + 1;
    }
    cursor.offset += int64_t(pos);
    lines.Finish();
    if (cursor.path != before.path || cursor.offset != before.offset)
      SaveCursor(db, run_id, cursor);
    tx.commit();
  } catch (const SQLite::Exception& e) {
    throw StoreError("store " + store.path() + ": ingesting " + path + " for run " + run_id +
                     ": " + e.what());
  }
  return out;
}

}  // namespace hrm
