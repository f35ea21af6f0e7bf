#include "store/rows.h"

#include "store/store_error.h"

namespace hrm::rows {

const char* const kRunColumns =
    "r.id, r.config, r.model, r.kind, r.status, r.attempts, r.step, r.run_dir, r.error, "
    "r.provenance, r.runner_pid, r.runner_host, r.created_at, r.started_at, r.finished_at, "
    "r.updated_at";

const char* const kRunColumnsWithoutProvenance =
    "r.id, r.config, r.model, r.kind, r.status, r.attempts, r.step, r.run_dir, r.error, "
    "NULL, r.runner_pid, r.runner_host, r.created_at, r.started_at, r.finished_at, "
    "r.updated_at";

const char* const kEvalColumns =
    "e.step, e.val_ce, e.train_ce, e.lr, e.grad_norm, e.tokens, e.wall_s, e.extra";

std::string Text(const SQLite::Column& c) { return c.isNull() ? std::string() : c.getString(); }

std::optional<int64_t> OptInt(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getInt64();
}

std::optional<double> OptDouble(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getDouble();
}

json JsonColumn(const SQLite::Column& c, const std::string& where) {
  if (c.isNull()) return nullptr;
  json j = json::parse(c.getString(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw StoreError(where + ": column " + c.getName() + " is not valid JSON");
  return j;
}

RunRow ReadRun(SQLite::Statement& q, int first, const std::string& store_path) {
  RunRow r;
  r.id = q.getColumn(first).getString();
  const std::string where = "store " + store_path + ": run " + r.id;
  r.config = JsonColumn(q.getColumn(first + 1), where);
  r.model = Text(q.getColumn(first + 2));
  r.kind = Text(q.getColumn(first + 3));
  r.status = ParseRunStatus(q.getColumn(first + 4).getString());
  r.attempts = q.getColumn(first + 5).getInt64();
  r.step = OptInt(q.getColumn(first + 6));
  r.run_dir = Text(q.getColumn(first + 7));
  r.error = Text(q.getColumn(first + 8));
  r.provenance = JsonColumn(q.getColumn(first + 9), where);
  r.runner_pid = OptInt(q.getColumn(first + 10));
  r.runner_host = Text(q.getColumn(first + 11));
  r.created_at = Text(q.getColumn(first + 12));
  r.started_at = Text(q.getColumn(first + 13));
  r.finished_at = Text(q.getColumn(first + 14));
  r.updated_at = Text(q.getColumn(first + 15));
  return r;
}

EvalRow ReadEval(SQLite::Statement& q, int first, const std::string& where, bool with_extra) {
  EvalRow e;
  e.step = q.getColumn(first).getInt64();
  e.val_ce = OptDouble(q.getColumn(first + 1));
  e.train_ce = OptDouble(q.getColumn(first + 2));
  e.lr = OptDouble(q.getColumn(first + 3));
  e.grad_norm = OptDouble(q.getColumn(first + 4));
  e.tokens = OptInt(q.getColumn(first + 5));
  e.wall_s = OptDouble(q.getColumn(first + 6));
  if (with_extra)
    e.extra =
        JsonColumn(q.getColumn(first + 7), where + ": eval at step " + std::to_string(e.step));
  return e;
}

}  // namespace hrm::rows
