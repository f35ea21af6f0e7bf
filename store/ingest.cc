// The cursor makes the frequent call cheap (only bytes past it are read); the
// primary keys make a replay harmless, so restarting from byte 0 is always
// safe. Rows and cursor commit together: a crash between ingests loses
// nothing, and a commit lost to a power cut is re-read from the log.
#include "store/ingest.h"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <optional>
#include <string_view>

#include "base/event_log.h"

namespace hrm {
namespace {

// Eval fields that have their own column; every other key goes to extra.
constexpr const char* kEvalColumns[] = {"event", "step",      "val_ce", "train_ce",
                                        "lr",    "grad_norm", "tokens", "wall_s"};

// Binds the value, or NULL.
template <class T>
void BindOpt(SQLite::Statement& s, int i, const std::optional<T>& v) {
  if (v)
    s.bind(i, *v);
  else
    s.bind(i);
}

// How far the run's log was ingested.
struct Cursor {
  std::string path;
  EventLogCursor at;
};

void SaveCursor(RunStore& store, const std::string& run_id, const Cursor& c) {
  SQLite::Statement& up = store.Prepared(
      "INSERT INTO ingest_cursors (run_id, path, offset, line) "
      "VALUES (?, ?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET "
      "path = excluded.path, offset = excluded.offset, line = excluded.line");
  up.bind(1, run_id);
  up.bind(2, c.path);
  up.bind(3, c.at.offset);
  up.bind(4, c.at.line);
  up.exec();
}

// Turns the lines of one ingest into rows, and remembers what they imply
// for the run's row until Finish writes it.
class LineIngester {
 public:
  LineIngester(RunStore& store, const std::string& run_id, const std::string& path,
               IngestResult& out)
      : store_(store), run_id_(run_id), path_(path), out_(out) {}

  // One complete line (without its newline) that starts at byte `offset`.
  void Line(std::string_view text, int64_t offset, int64_t line_no) {
    line_ = line_no;
    EventLine parsed = ParseEventLine(text);
    if (parsed.event.is_null()) {
      if (!parsed.skipped.empty()) Warn(parsed.skipped + ": skipped");
      return;
    }
    if (parsed.glued_at > 0) {
      Warn("a line torn by a crash runs into the next record: kept the record from byte " +
           std::to_string(parsed.glued_at + 1) + " of the line");
      text.remove_prefix(parsed.glued_at);
      offset += int64_t(parsed.glued_at);
    }
    json& ev = parsed.event;
    const std::string event = ev["event"].get<std::string>();
    if (event == "eval") return Eval(ev);
    if (event == "checkpoint") return Checkpoint(ev);
    if (event == "measurement") return Measurement(ev);
    Lifecycle(event, ev, text, offset);
  }

  // Applies the status, step, error and times the events imply to runs.
  void Finish() {
    if (!touched_) return;
    SQLite::Statement& up = store_.Prepared(
        "UPDATE runs SET step = coalesce(?1, step), status = coalesce(?2, status),"
        " error = coalesce(?3, error), provenance = coalesce(?4, provenance),"
        " started_at = coalesce(?5, started_at),"
        " finished_at = CASE WHEN ?8 THEN NULL ELSE coalesce(?6, finished_at) END,"
        " updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?7");
    BindOpt(up, 1, step_);
    BindOpt(up, 2, status_);
    BindOpt(up, 3, error_);
    BindOpt(up, 4, provenance_);
    BindOpt(up, 5, started_at_);
    BindOpt(up, 6, finished_at_);
    up.bind(7, run_id_);
    up.bind(8, clear_finished_);
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

  void NoteStep(const std::optional<int64_t>& step) {
    if (!step) return;
    step_ = step;
    touched_ = true;
  }

  // Consumes ev: the keys left after the columns are taken become extra.
  void Eval(json& ev) {
    const std::optional<int64_t> step = Int(ev, "step");
    if (!step) return Warn("eval without a step: skipped");
    SQLite::Statement& s = store_.Prepared(
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
    for (const char* column : kEvalColumns) ev.erase(column);
    if (ev.empty())
      s.bind(9);
    else
      s.bind(9, ev.dump());
    out_.evals += s.exec();
    s.reset();
    NoteStep(step);
  }

  void Checkpoint(const json& ev) {
    const std::optional<int64_t> step = Int(ev, "step");
    const std::optional<std::string> path = Str(ev, "path");
    if (!step || !path) return Warn("checkpoint without a step or path: skipped");
    // A resumed run may write the same step again: the newest file wins.
    SQLite::Statement& s = store_.Prepared(
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
    SQLite::Statement& s = store_.Prepared(
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
    SQLite::Statement& s = store_.Prepared(
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
    const std::string when = time ? *time : UtcNow();
    if (event == "started") {
      status_ = "running";
      started_at_ = when;
      finished_at_.reset();  // of an earlier attempt
      clear_finished_ = true;
      auto p = ev.find("provenance");
      if (p != ev.end() && !p->is_null()) provenance_ = p->dump();
      const std::optional<std::string> hash = Str(ev, "config_hash");
      if (hash && *hash != run_id_)
        Warn("config_hash " + *hash + " is not run " + run_id_ + ": a log of another run?");
    } else if (event == "interrupted") {
      status_ = "interrupted";
    } else if (event == "finished") {
      status_ = "done";
      Ended(when);
    } else if (event == "diverged") {
      status_ = "diverged";
      error_ = Str(ev, "reason").value_or("diverged");
      Ended(when);
    } else if (event == "error") {
      status_ = "failed";
      error_ = Str(ev, "message").value_or("error event without a message");
      Ended(when);
    } else {
      Warn("unknown event '" + event + "': kept in run_events only");
    }
  }

  void Ended(const std::string& when) {
    finished_at_ = when;
    clear_finished_ = false;
  }

  RunStore& store_;
  const std::string& run_id_;
  const std::string& path_;
  IngestResult& out_;
  int64_t line_ = 0;
  bool touched_ = false;
  bool clear_finished_ = false;
  std::optional<int64_t> step_;
  std::optional<std::string> status_, error_, provenance_, started_at_, finished_at_;
};

}  // namespace

IngestResult IngestEvents(RunStore& store, const std::string& run_id, const std::string& path) {
  IngestResult out;
  SQLite::Database& db = store.db();
  try {
    // Reads first, so that polling a log with nothing new takes no write lock.
    SQLite::Statement& known = store.Prepared(
        "SELECT c.path, c.offset, c.line FROM runs r "
        "LEFT JOIN ingest_cursors c ON c.run_id = r.id WHERE r.id = ?");
    known.bind(1, run_id);
    if (!known.executeStep())
      throw StoreError("store " + store.path() + ": no run " + run_id + " (ingesting " + path +
                       ")");
    Cursor cursor;
    if (!known.getColumn(0).isNull())
      cursor = {known.getColumn(0).getString(),
                {known.getColumn(1).getInt64(), known.getColumn(2).getInt64()}};
    known.reset();
    const Cursor before = cursor;
    if (cursor.path != path) cursor = {path, {}};  // another file: read it all

    EventLogReader log(path);
    if (!log.exists()) return out;  // the worker has not started yet
    if (!log.Seek(cursor.at))
      out.warnings.push_back(path +
                             ": no longer matches what was ingested (replaced or cut "
                             "short?): reading it again from the start");
    const EventLogCursor from = log.cursor();
    const bool moved = cursor.path != before.path || from.offset != before.at.offset;
    if (log.AtEnd() && !moved) return out;  // nothing new

    // The runner is the only writer, so the cursor read above still holds.
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    LineIngester lines(store, run_id, path, out);
    log.ReadLines([&](std::string_view text, int64_t offset, int64_t line_no) {
      ++out.lines;
      lines.Line(text, offset, line_no);
    });
    lines.Finish();
    cursor.at = log.cursor();
    if (cursor.path != before.path || cursor.at.offset != before.at.offset)
      SaveCursor(store, run_id, cursor);
    tx.commit();
  } catch (const SQLite::Exception& e) {
    throw StoreError("store " + store.path() + ": ingesting " + path + " for run " + run_id + ": " +
                     e.what());
  } catch (const StoreError&) {
    throw;
  } catch (const std::runtime_error& e) {  // the log cannot be read
    throw StoreError(e.what());
  }
  return out;
}

}  // namespace hrm
