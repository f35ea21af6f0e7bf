// Plain SQL over the documented schema (store/schema.sql); rows are decoded
// by store/rows.h, as RunStore's are. Every statement is finished before the
// method returns, so no snapshot outlives a call.
#include "store/store_reader.h"

#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <unordered_map>

#include "store/rows.h"

namespace hrm {
namespace {

using rows::OptDouble;
using rows::OptInt;
using rows::Text;

constexpr const char* kSweepColumns =
    "s.id, s.name, s.grid_path, s.grid_sha256, s.profile, s.overrides, s.created_at, "
    "s.updated_at";

SweepRow ReadSweep(SQLite::Statement& q, int first, const std::string& path) {
  SweepRow s;
  s.id = q.getColumn(first).getInt64();
  s.name = Text(q.getColumn(first + 1));
  s.grid_path = Text(q.getColumn(first + 2));
  s.grid_sha256 = Text(q.getColumn(first + 3));
  s.profile = Text(q.getColumn(first + 4));
  s.overrides = rows::JsonColumn(q.getColumn(first + 5), "store " + path + ": sweep " + s.name);
  s.created_at = Text(q.getColumn(first + 6));
  s.updated_at = Text(q.getColumn(first + 7));
  return s;
}

MeasurementRow ReadMeasurement(SQLite::Statement& q, int first, const std::string& where) {
  MeasurementRow m;
  m.metric = Text(q.getColumn(first));
  m.value = OptDouble(q.getColumn(first + 1));
  const std::string extra = Text(q.getColumn(first + 2));
  if (!extra.empty() && extra != "{}") {
    m.extra = rows::JsonColumn(q.getColumn(first + 2), where);
    if (!m.extra.is_object()) m.extra = json::object();
  }
  return m;
}

std::string Stem(const std::string& path) {
  std::string base = std::filesystem::path(path).filename().string();
  return base.substr(0, base.find('.'));
}

bool NameContinues(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool SweepIsGrid(const SweepRow& s, const std::string& grid) {
  if (s.name.compare(0, grid.size(), grid) == 0 &&
      (s.name.size() == grid.size() || !NameContinues(s.name[grid.size()])))
    return true;
  return Stem(s.grid_path) == grid;
}

std::unique_ptr<RunStore> OpenReadOnly(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw StoreError(path + ": no such store (run `hrm sweep` first, or pass --store FILE)");
  return RunStore::Open(path, RunStore::Mode::kReadOnly);
}

}  // namespace

void StoreReader::Fail(const std::string& what, const std::exception& e) const {
  throw StoreError("store " + path_ + ": " + what + ": " + e.what());
}

StoreReader::StoreReader(const std::string& path, std::string profile)
    : path_(path), profile_(std::move(profile)), store_(OpenReadOnly(path)) {}

std::vector<SweepOverview> StoreReader::Sweeps() {
  std::vector<SweepOverview> out;
  try {
    // A done run counts its configured steps even if its last event was
    // earlier (an eval interval that does not divide steps).
    SQLite::Statement q(
        store_->db(),
        std::string("SELECT ") + kSweepColumns +
            ", COUNT(r.id), SUM(r.status = 'pending'), SUM(r.status = 'running'), "
            "SUM(r.status = 'interrupted'), SUM(r.status = 'done'), SUM(r.status = 'failed'), "
            "SUM(r.status = 'diverged'), "
            "SUM(CASE WHEN r.status = 'done' THEN json_extract(r.config, '$.steps') "
            "ELSE min(coalesce(r.step, 0), coalesce(json_extract(r.config, '$.steps'), 0)) END), "
            "SUM(json_extract(r.config, '$.steps')), MIN(r.started_at) "
            "FROM sweeps s LEFT JOIN sweep_runs sr ON sr.sweep_id = s.id "
            "LEFT JOIN runs r ON r.id = sr.run_id GROUP BY s.id ORDER BY s.id");
    while (q.executeStep()) {
      SweepOverview o;
      o.sweep = ReadSweep(q, 0, path_);
      o.status.id = o.sweep.id;
      o.status.name = o.sweep.name;
      o.status.total = q.getColumn(8).getInt64();
      for (int i = 0; i < kRunStatusCount; ++i) o.status.count[i] = q.getColumn(9 + i).getInt64();
      o.steps_done = q.getColumn(15).getInt64();
      o.steps_total = q.getColumn(16).getInt64();
      o.first_started = Text(q.getColumn(17));
      out.push_back(std::move(o));
    }
  } catch (const SQLite::Exception& e) {
    Fail("listing sweeps", e);
  }
  return out;
}

std::optional<SweepRow> StoreReader::GetSweep(int64_t id) {
  try {
    SQLite::Statement q(store_->db(),
                        std::string("SELECT ") + kSweepColumns + " FROM sweeps s WHERE s.id = ?");
    q.bind(1, id);
    if (!q.executeStep()) return std::nullopt;
    return ReadSweep(q, 0, path_);
  } catch (const SQLite::Exception& e) {
    Fail("reading sweep " + std::to_string(id), e);
  }
}

std::optional<SweepRecord> StoreReader::LoadSweep(int64_t id, bool with_extra) {
  std::optional<SweepRow> row = GetSweep(id);
  if (!row) return std::nullopt;
  SweepRecord sweep;
  static_cast<SweepRow&>(sweep) = std::move(*row);
  try {
    SQLite::Database& db = store_->db();
    sweep.runs = SweepRuns(id);
    std::unordered_map<std::string, size_t> index;
    for (size_t i = 0; i < sweep.runs.size(); ++i) index[sweep.runs[i].id] = i;

    SQLite::Statement evals(db, std::string("SELECT e.run_id, ") + rows::kEvalColumns +
                                    " FROM sweep_runs sr JOIN evals e ON e.run_id = sr.run_id "
                                    "WHERE sr.sweep_id = ?");
    evals.bind(1, id);
    const std::string where = "store " + path_ + ": sweep " + sweep.name;
    // Rows come grouped by run: look the run up when the id changes.
    RunRecord* r = nullptr;
    while (evals.executeStep()) {
      const char* id = evals.getColumn(0).getText();
      if (!r || r->id != id) {
        r = &sweep.runs[index.at(id)];
        if (r->evals.empty()) r->evals.reserve(32);  // one allocation for a typical curve
      }
      r->evals.push_back(rows::ReadEval(evals, 1, where, with_extra));
    }

    SQLite::Statement meas(db,
                           "SELECT m.run_id, m.metric, m.value, m.extra FROM sweep_runs sr "
                           "JOIN measurements m ON m.run_id = sr.run_id WHERE sr.sweep_id = ?");
    meas.bind(1, id);
    while (meas.executeStep()) {
      RunRecord& r = sweep.runs[index.at(meas.getColumn(0).getString())];
      r.measurements.push_back(ReadMeasurement(meas, 1, where));
    }
  } catch (const SQLite::Exception& e) {
    Fail("loading sweep " + sweep.name, e);
  }
  auto by_step = [](const EvalRow& a, const EvalRow& b) { return a.step < b.step; };
  for (auto& r : sweep.runs)
    if (!std::is_sorted(r.evals.begin(), r.evals.end(), by_step))
      std::sort(r.evals.begin(), r.evals.end(), by_step);
  return sweep;
}

std::vector<RunRecord> StoreReader::SweepRuns(int64_t id) {
  std::vector<RunRecord> out;
  try {
    SQLite::Statement q(store_->db(), std::string("SELECT sr.position, sr.label, ") +
                                          rows::kRunColumnsWithoutProvenance +
                                          " FROM sweep_runs sr JOIN runs r ON r.id = sr.run_id "
                                          "WHERE sr.sweep_id = ? ORDER BY sr.position, r.id");
    q.bind(1, id);
    while (q.executeStep()) {
      RunRecord r;
      static_cast<RunRow&>(r) = rows::ReadRun(q, 2, path_);
      r.position = q.getColumn(0).getInt64();
      r.label = Text(q.getColumn(1));
      out.push_back(std::move(r));
    }
  } catch (const SQLite::Exception& e) {
    Fail("listing the runs of sweep " + std::to_string(id), e);
  }
  return out;
}

const SweepRecord* StoreReader::FindSweep(const std::string& grid) {
  if (const size_t bar = grid.find('|'); bar != std::string::npos) {
    const SweepRecord* first = FindSweep(grid.substr(0, bar));
    return first ? first : FindSweep(grid.substr(bar + 1));
  }
  auto cached = cache_.find(grid);
  if (cached != cache_.end()) return cached->second.get();
  std::optional<int64_t> id;
  try {
    SQLite::Statement q(store_->db(), std::string("SELECT ") + kSweepColumns +
                                          " FROM sweeps s ORDER BY s.updated_at DESC, s.id DESC");
    while (q.executeStep()) {
      const SweepRow s = ReadSweep(q, 0, path_);
      if ((profile_.empty() || s.profile == profile_) && SweepIsGrid(s, grid)) {
        id = s.id;
        break;
      }
    }
  } catch (const SQLite::Exception& e) {
    Fail("finding the sweep of grid " + grid, e);
  }
  std::unique_ptr<SweepRecord> found;
  if (id)
    if (auto sweep = LoadSweep(*id)) found = std::make_unique<SweepRecord>(std::move(*sweep));
  return (cache_[grid] = std::move(found)).get();
}

std::vector<std::string> StoreReader::EvalExtraKeys(int64_t sweep_id) {
  std::vector<std::string> out;
  try {
    // One run per model (the furthest along) stands for its model: the
    // statistics an evaluation records depend on the model only.
    SQLite::Statement q(store_->db(),
                        "WITH rep AS (SELECT r.id, max(coalesce(r.step, -1)) FROM sweep_runs sr "
                        "JOIN runs r ON r.id = sr.run_id WHERE sr.sweep_id = ? GROUP BY r.model) "
                        "SELECT DISTINCT j.key FROM rep JOIN evals e ON e.run_id = rep.id AND "
                        "e.step = (SELECT max(step) FROM evals WHERE run_id = rep.id), "
                        "json_each(e.extra) j WHERE e.extra IS NOT NULL AND json_valid(e.extra) "
                        "AND j.type IN ('integer', 'real') ORDER BY j.key");
    q.bind(1, sweep_id);
    while (q.executeStep()) out.push_back(Text(q.getColumn(0)));
  } catch (const SQLite::Exception& e) {
    Fail("listing the extra keys of sweep " + std::to_string(sweep_id), e);
  }
  return out;
}

std::vector<StoreReader::EvalValue> StoreReader::EvalValues(int64_t sweep_id,
                                                            const std::string& metric) {
  // A column by name from the schema's list, or a number in extra by a bound
  // JSON path: nothing from the caller becomes SQL text.
  std::string value;
  for (const char* column : {"val_ce", "train_ce", "lr", "grad_norm", "tokens", "wall_s"})
    if (metric == column) value = std::string("e.") + column;
  const bool extra = value.empty();
  if (extra && metric.compare(0, 6, "extra.") != 0)
    throw StoreError("store " + path_ + ": no evaluation metric '" + metric + "'");
  if (extra)
    value =
        "CASE WHEN json_valid(e.extra) AND json_type(e.extra, ?1) IN ('integer', 'real') "
        "THEN json_extract(e.extra, ?1) END";
  std::vector<EvalValue> out;
  try {
    SQLite::Statement q(store_->db(), "SELECT e.run_id, e.step, " + value +
                                          " FROM sweep_runs sr JOIN evals e ON e.run_id = "
                                          "sr.run_id WHERE sr.sweep_id = ?2 ORDER BY sr.run_id, "
                                          "e.step");  // the indexes' order: no sort
    if (extra) q.bind(1, "$.\"" + metric.substr(6) + "\"");
    q.bind(2, sweep_id);
    while (q.executeStep())
      out.push_back({Text(q.getColumn(0)), q.getColumn(1).getInt64(), OptDouble(q.getColumn(2))});
  } catch (const SQLite::Exception& e) {
    Fail("reading " + metric + " of sweep " + std::to_string(sweep_id), e);
  }
  return out;
}

std::vector<RunSummary> StoreReader::RunSummaries(int64_t sweep_id) {
  return store_->RunSummaries(sweep_id);
}

std::optional<RunRow> StoreReader::GetRun(const std::string& run_id) {
  return store_->GetRun(run_id);
}

std::vector<SweepRow> StoreReader::SweepsOfRun(const std::string& run_id) {
  std::vector<SweepRow> out;
  try {
    SQLite::Statement q(store_->db(), std::string("SELECT ") + kSweepColumns +
                                          " FROM sweep_runs sr JOIN sweeps s ON s.id = "
                                          "sr.sweep_id WHERE sr.run_id = ? ORDER BY s.id");
    q.bind(1, run_id);
    while (q.executeStep()) out.push_back(ReadSweep(q, 0, path_));
  } catch (const SQLite::Exception& e) {
    Fail("listing the sweeps of run " + run_id, e);
  }
  return out;
}

std::vector<EvalRow> StoreReader::EvalsAfter(const std::string& run_id, int64_t after) {
  std::vector<EvalRow> out;
  try {
    SQLite::Statement q(store_->db(), std::string("SELECT ") + rows::kEvalColumns +
                                          " FROM evals e WHERE e.run_id = ? AND e.step > ? "
                                          "ORDER BY e.step");
    q.bind(1, run_id);
    q.bind(2, after);
    const std::string where = "store " + path_ + ": run " + run_id;
    while (q.executeStep()) out.push_back(rows::ReadEval(q, 0, where, /*with_extra=*/true));
  } catch (const SQLite::Exception& e) {
    Fail("reading the evaluations of run " + run_id, e);
  }
  return out;
}

std::vector<MeasurementRow> StoreReader::Measurements(const std::string& run_id) {
  std::vector<MeasurementRow> out;
  try {
    SQLite::Statement q(store_->db(),
                        "SELECT metric, value, extra FROM measurements WHERE run_id = ? "
                        "ORDER BY metric, extra");
    q.bind(1, run_id);
    const std::string where = "store " + path_ + ": run " + run_id;
    while (q.executeStep()) out.push_back(ReadMeasurement(q, 0, where));
  } catch (const SQLite::Exception& e) {
    Fail("reading the measurements of run " + run_id, e);
  }
  return out;
}

std::vector<RunEventRow> StoreReader::RunEvents(const std::string& run_id) {
  std::vector<RunEventRow> out;
  try {
    SQLite::Statement q(store_->db(),
                        "SELECT log_offset, event, step, time, body FROM run_events "
                        "WHERE run_id = ? ORDER BY log_offset");
    q.bind(1, run_id);
    const std::string where = "store " + path_ + ": run " + run_id + " event";
    while (q.executeStep()) {
      RunEventRow e;
      e.log_offset = q.getColumn(0).getInt64();
      e.event = Text(q.getColumn(1));
      e.step = OptInt(q.getColumn(2));
      e.time = Text(q.getColumn(3));
      e.body = rows::JsonColumn(q.getColumn(4), where);
      out.push_back(std::move(e));
    }
  } catch (const SQLite::Exception& e) {
    Fail("reading the events of run " + run_id, e);
  }
  return out;
}

std::map<std::string, int64_t> StoreReader::StatusCounts() {
  std::map<std::string, int64_t> counts;
  try {
    SQLite::Statement q(store_->db(), "SELECT status, COUNT(*) FROM runs GROUP BY status");
    while (q.executeStep()) counts[Text(q.getColumn(0))] = q.getColumn(1).getInt64();
  } catch (const SQLite::Exception& e) {
    Fail("counting runs", e);
  }
  return counts;
}

int64_t StoreReader::DataVersion() {
  try {
    return store_->db().execAndGet("PRAGMA data_version").getInt64();
  } catch (const SQLite::Exception& e) {
    Fail("reading data_version", e);
  }
}

bool StoreReader::HasTable(const std::string& name) {
  try {
    return store_->db().tableExists(name);
  } catch (const SQLite::Exception& e) {
    Fail("looking for table " + name, e);
  }
}

bool StoreReader::IsSearch(int64_t sweep_id) { return GetSearch(sweep_id).has_value(); }

std::optional<json> StoreReader::GetSearch(int64_t sweep_id) {
  if (!HasTable("searches")) return std::nullopt;  // a store from before searches
  return store_->GetSearch(sweep_id);
}

std::vector<RungRow> StoreReader::RungResults(int64_t sweep_id) {
  if (!HasTable("rung_results")) return {};
  return store_->RungResults(sweep_id);
}

}  // namespace hrm
