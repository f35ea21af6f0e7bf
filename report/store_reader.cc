#include "report/store_reader.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <unordered_map>

namespace hrm {
namespace {

std::optional<double> OptReal(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getDouble();
}

std::string Text(const SQLite::Column& c) { return c.isNull() ? "" : c.getString(); }

std::string Stem(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  const size_t dot = base.find('.');
  return dot == std::string::npos ? base : base.substr(0, dot);
}

bool NameContinues(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool SweepIsGrid(const std::string& name, const std::string& grid_path, const std::string& grid) {
  if (name.compare(0, grid.size(), grid) == 0 &&
      (name.size() == grid.size() || !NameContinues(name[grid.size()])))
    return true;
  return Stem(grid_path) == grid;
}

SQLite::Database OpenReadOnly(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0)
    throw StoreReadError(path + ": no such store (run `hrm sweep` first, or pass --store FILE)");
  try {
    return SQLite::Database(path, SQLite::OPEN_READONLY);
  } catch (const SQLite::Exception& e) {
    throw StoreReadError(path + ": cannot open store: " + e.what());
  }
}

}  // namespace

StoreReader::StoreReader(const std::string& path, std::string profile)
    : path_(path), profile_(std::move(profile)), db_(OpenReadOnly(path)) {
  try {
    for (const char* table : {"sweeps", "sweep_runs", "runs", "evals", "measurements"}) {
      SQLite::Statement q(db_, "SELECT 1 FROM sqlite_master WHERE name = ?");
      q.bind(1, table);
      if (!q.executeStep())
        throw StoreReadError(path + ": not an hrm store (no table `" + table + "`)");
    }
  } catch (const SQLite::Exception& e) {
    throw StoreReadError(path + ": not an hrm store: " + e.what());
  }
}

const SweepRecord* StoreReader::FindSweep(const std::string& grid) {
  if (const size_t bar = grid.find('|'); bar != std::string::npos) {
    const SweepRecord* first = FindSweep(grid.substr(0, bar));
    return first ? first : FindSweep(grid.substr(bar + 1));
  }
  auto cached = cache_.find(grid);
  if (cached != cache_.end()) return cached->second.get();
  std::unique_ptr<SweepRecord> found;
  try {
    SQLite::Statement q(db_,
                        "SELECT id, name, grid_path, profile FROM sweeps "
                        "ORDER BY updated_at DESC, id DESC");
    while (q.executeStep()) {
      const std::string name = Text(q.getColumn(1)), grid_path = Text(q.getColumn(2));
      const std::string profile = Text(q.getColumn(3));
      if (!profile_.empty() && profile != profile_) continue;
      if (!SweepIsGrid(name, grid_path, grid)) continue;
      found = Load(q.getColumn(0).getInt64(), name, grid_path, profile);
      break;
    }
  } catch (const SQLite::Exception& e) {
    throw StoreReadError(path_ + ": reading sweep " + grid + ": " + e.what());
  }
  return (cache_[grid] = std::move(found)).get();
}

std::unique_ptr<SweepRecord> StoreReader::Load(int64_t id, std::string name,
                                               std::string grid_path, std::string profile) {
  auto sweep = std::make_unique<SweepRecord>();
  sweep->id = id;
  sweep->name = std::move(name);
  sweep->grid_path = std::move(grid_path);
  sweep->profile = std::move(profile);
  std::unordered_map<std::string, size_t> index;

  SQLite::Statement runs(db_,
                         "SELECT r.id, r.config, r.status, r.kind, sr.label, sr.position "
                         "FROM sweep_runs sr JOIN runs r ON r.id = sr.run_id "
                         "WHERE sr.sweep_id = ? ORDER BY sr.position, r.id");
  runs.bind(1, id);
  while (runs.executeStep()) {
    RunRecord r;
    r.id = Text(runs.getColumn(0));
    // A config that is not JSON matches no row: the table shows "—" for it
    // rather than failing the whole report.
    json config = json::parse(Text(runs.getColumn(1)), nullptr, /*allow_exceptions=*/false);
    if (config.is_object()) r.config = std::move(config);
    r.status = Text(runs.getColumn(2));
    r.kind = Text(runs.getColumn(3));
    r.label = Text(runs.getColumn(4));
    r.position = runs.getColumn(5).getInt64();
    index[r.id] = sweep->runs.size();
    sweep->runs.push_back(std::move(r));
  }

  SQLite::Statement evals(db_,
                          "SELECT e.run_id, e.step, e.val_ce, e.train_ce, e.lr, e.grad_norm, "
                          "e.tokens, e.wall_s FROM sweep_runs sr JOIN evals e ON e.run_id = "
                          "sr.run_id WHERE sr.sweep_id = ?");
  evals.bind(1, id);
  while (evals.executeStep()) {
    RunRecord& r = sweep->runs[index.at(evals.getColumn(0).getString())];
    if (r.evals.empty()) r.evals.reserve(32);  // one allocation for a typical curve
    EvalRecord e;
    e.step = evals.getColumn(1).getInt64();
    e.val_ce = OptReal(evals.getColumn(2));
    e.train_ce = OptReal(evals.getColumn(3));
    e.lr = OptReal(evals.getColumn(4));
    e.grad_norm = OptReal(evals.getColumn(5));
    e.tokens = OptReal(evals.getColumn(6));
    e.wall_s = OptReal(evals.getColumn(7));
    r.evals.push_back(e);
  }

  SQLite::Statement meas(db_,
                         "SELECT m.run_id, m.metric, m.value, m.extra FROM sweep_runs sr "
                         "JOIN measurements m ON m.run_id = sr.run_id WHERE sr.sweep_id = ?");
  meas.bind(1, id);
  while (meas.executeStep()) {
    RunRecord& r = sweep->runs[index.at(meas.getColumn(0).getString())];
    MeasurementRecord m;
    m.metric = Text(meas.getColumn(1));
    m.value = OptReal(meas.getColumn(2));
    const std::string extra_text = Text(meas.getColumn(3));
    if (!extra_text.empty() && extra_text != "{}") {
      json extra = json::parse(extra_text, nullptr, /*allow_exceptions=*/false);
      if (extra.is_object()) m.extra = std::move(extra);
    }
    r.measurements.push_back(std::move(m));
  }
  for (auto& r : sweep->runs)
    std::sort(r.evals.begin(), r.evals.end(),
              [](const EvalRecord& a, const EvalRecord& b) { return a.step < b.step; });
  return sweep;
}

std::map<std::string, int64_t> StoreReader::StatusCounts() {
  std::map<std::string, int64_t> counts;
  try {
    SQLite::Statement q(db_, "SELECT status, COUNT(*) FROM runs GROUP BY status");
    while (q.executeStep()) counts[Text(q.getColumn(0))] = q.getColumn(1).getInt64();
  } catch (const SQLite::Exception& e) {
    throw StoreReadError(path_ + ": counting runs: " + e.what());
  }
  return counts;
}

}  // namespace hrm
