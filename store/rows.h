// How the store's rows become records (store/records.h): the column lists and
// the readers that RunStore and StoreReader share, so that one place knows how
// a row of `runs` or `evals` is decoded. Internal to store/.
#pragma once

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Statement.h>

#include <optional>
#include <string>

#include "store/records.h"

namespace hrm::rows {

std::string Text(const SQLite::Column& c);  // NULL reads as ""
std::optional<int64_t> OptInt(const SQLite::Column& c);
std::optional<double> OptDouble(const SQLite::Column& c);
// A JSON column; NULL reads as null. Throws StoreError naming `where` when the
// text is not JSON.
json JsonColumn(const SQLite::Column& c, const std::string& where);

// The columns of `runs` (alias r) that ReadRun expects, in order.
extern const char* const kRunColumns;
// The same, with NULL for provenance: for loading many runs, where parsing
// each one's provenance would be most of the cost and nobody reads it.
extern const char* const kRunColumnsWithoutProvenance;
RunRow ReadRun(SQLite::Statement& q, int first, const std::string& store_path);

// The columns of `evals` (alias e, without run_id) that ReadEval expects.
extern const char* const kEvalColumns;
// `with_extra` false leaves extra null: reports never read it, and parsing it
// is most of the cost of loading 200,000 rows.
EvalRow ReadEval(SQLite::Statement& q, int first, const std::string& where, bool with_extra);

}  // namespace hrm::rows
