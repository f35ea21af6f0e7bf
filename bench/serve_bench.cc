// `hrm serve` at scale: a sweep of 10,000 runs × 20 evaluations (with HRM
// statistics in extra, as the trainer writes them). Times the sweep page's
// first API answer (GET /api/sweeps/1?since=0, the whole sweep), the live
// update after 100 new rows (only those rows are sent), and the sweeps list,
// each next to reading the same rows with plain sqlite3 in the same run.
//   serve_bench [--runs 10000] [--evals 20] [--repeat 5]
#include <SQLiteCpp/SQLiteCpp.h>
#include <SQLiteCpp/Transaction.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "serve/dashboard.h"
#include "store/run_store.h"

namespace fs = std::filesystem;
using hrm::json;

namespace {

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Rows written as the runner writes them: the sweep and its runs through
// RunStore, the evaluations in one transaction.
void Fill(hrm::RunStore& store, int runs, int evals) {
  const int64_t sweep = store.UpsertSweep({"bench@mini", "grids/bench.yaml", "x", "mini", {}});
  std::vector<hrm::RunStore::SweepEntry> entries;
  for (int i = 0; i < runs; ++i) {
    json c = {{"model", i % 3 == 0   ? "hrm"
                        : i % 3 == 1 ? "unitf"
                                     : "transformer"},
              {"lr", 1e-4 * (1 + i % 7)},
              {"seed", i % 5},
              {"N", 2 + i % 4},
              {"T", 2 + i % 3},
              {"d", 128},
              {"steps", 1000}};
    char id[16];
    std::snprintf(id, sizeof id, "%012x", i);
    entries.push_back({{id, c, "train", std::string("runs/") + id}, "run " + std::to_string(i), i});
  }
  store.AddRunsToSweep(sweep, entries);
  SQLite::Transaction tx(store.db());
  SQLite::Statement q(store.db(),
                      "INSERT INTO evals (run_id, step, val_ce, train_ce, lr, grad_norm, tokens, "
                      "wall_s, extra) VALUES (?, ?, ?, ?, 1e-3, 0.8, ?, ?, ?)");
  const std::string extra = json{
      {"gate_L_mean", 0.42},
      {"gate_H_mean", 0.58},
      {"zL_norm", 11.5},
      {"zH_norm", 9.25}}.dump();
  for (const auto& e : entries)
    for (int k = 0; k < evals; ++k) {
      q.bind(1, e.run.id);
      q.bind(2, int64_t(k) * 50);
      q.bind(3, 5.0 - k * 1e-2);
      q.bind(4, 5.1 - k * 1e-2);
      q.bind(5, int64_t(k) * 50 * 1024);
      q.bind(6, k * 1.5);
      q.bind(7, extra);
      q.exec();
      q.reset();
    }
  tx.commit();
  store.db().exec("UPDATE runs SET status = 'running', step = 950");
}

// The baseline: the same rows (run, step, val CE of the sweep) with sqlite3.
size_t ReadRows(const std::string& path, const std::string& where) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  SQLite::Statement q(db,
                      "SELECT e.run_id, e.step, e.val_ce FROM sweep_runs sr JOIN evals e ON "
                      "e.run_id = sr.run_id WHERE sr.sweep_id = 1" +
                          where);
  size_t n = 0;
  while (q.executeStep()) n += q.getColumn(1).getInt64() >= 0;
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 10000, evals = 20, repeat = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--runs") runs = std::atoi(argv[i + 1]);
    if (a == "--evals") evals = std::atoi(argv[i + 1]);
    if (a == "--repeat") repeat = std::atoi(argv[i + 1]);
  }
  const std::string dir =
      (fs::temp_directory_path() / ("hrm_serve_bench_" + std::to_string(::getpid()))).string();
  fs::create_directories(dir);
  const std::string path = dir + "/hrm.db";
  auto writer = hrm::RunStore::Open(path);
  auto t0 = std::chrono::steady_clock::now();
  Fill(*writer, runs, evals);
  std::printf("store: %d runs x %d evals, filled in %.2f s\n", runs, evals, Since(t0));

  auto get = [](hrm::Dashboard& d, const std::string& target) {
    return d.Handle({"GET", target, ""});
  };
  std::vector<double> first, first_rows, list, list_rows, update, update_rows;
  size_t first_bytes = 0, update_bytes = 0, rows = 0, new_rows = 0;
  for (int r = 0; r < repeat; ++r) {
    hrm::Dashboard dashboard(path);  // a fresh server: nothing cached
    t0 = std::chrono::steady_clock::now();
    const hrm::HttpResponse a = get(dashboard, "/api/sweeps/1?since=0");
    first.push_back(Since(t0));
    first_bytes = a.body.size();
    t0 = std::chrono::steady_clock::now();
    rows = ReadRows(path, "");
    first_rows.push_back(Since(t0));

    t0 = std::chrono::steady_clock::now();
    get(dashboard, "/api/sweeps");
    list.push_back(Since(t0));
    list_rows.push_back(first_rows.back());

    // The runner ingests one more evaluation for 100 runs.
    const int64_t cursor = json::parse(a.body)["cursor"];
    const int64_t step = int64_t(evals + r) * 50;
    {
      SQLite::Transaction tx(writer->db());
      SQLite::Statement q(writer->db(),
                          "INSERT INTO evals (run_id, step, val_ce) VALUES (?, ?, 4.0)");
      SQLite::Statement s(writer->db(), "UPDATE runs SET step = ? WHERE id = ?");
      for (int i = 0; i < 100; ++i) {
        char id[16];
        std::snprintf(id, sizeof id, "%012x", i * (runs / 100));
        q.bind(1, id);
        q.bind(2, step);
        q.exec();
        q.reset();
        s.bind(1, step);
        s.bind(2, id);
        s.exec();
        s.reset();
      }
      tx.commit();
    }
    t0 = std::chrono::steady_clock::now();
    const hrm::HttpResponse u = get(dashboard, "/api/sweeps/1?since=" + std::to_string(cursor));
    update.push_back(Since(t0));
    update_bytes = u.body.size();
    t0 = std::chrono::steady_clock::now();
    new_rows = ReadRows(path, " AND e.step = " + std::to_string(step));
    update_rows.push_back(Since(t0));
  }
  std::printf("%-44s %10s %12s %8s\n", "median of " + std::to_string(repeat) + " (wall)",
              "serve ms", "sqlite3 ms", "ratio");
  auto row = [](const char* what, const std::vector<double>& a, const std::vector<double>& b) {
    std::printf("%-44s %10.1f %12.1f %7.1fx\n", what, 1e3 * Median(a), 1e3 * Median(b),
                Median(a) / Median(b));
  };
  row("first view: /api/sweeps/1?since=0", first, first_rows);
  row("sweeps list: /api/sweeps (vs all rows)", list, list_rows);
  row("live update: 100 new rows, since=cursor", update, update_rows);
  std::printf("first view: %zu rows, %.1f MB of JSON; update: %zu new rows, %zu bytes\n", rows,
              first_bytes / 1e6, new_rows, update_bytes);
  std::printf("target: first view < 200 ms: %s\n", Median(first) < 0.2 ? "met" : "NOT met");
  writer.reset();
  fs::remove_all(dir);
  return 0;
}
