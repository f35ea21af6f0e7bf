// `hrm serve` at scale: a sweep of 10,000 runs × 20 evaluations (with HRM
// statistics in extra, as the trainer writes them). Times the sweep page's
// first API answer (GET /api/sweeps/1?since=0, the whole sweep), the live
// update after 100 new rows (only those rows are sent), and the sweeps list,
// each next to reading the same rows with plain sqlite3 in the same run.
//   serve_bench [--runs 10000] [--evals 20] [--repeat 5] [--dir DIR (kept)]
#include <SQLiteCpp/SQLiteCpp.h>
#include <SQLiteCpp/Transaction.h>
#include <sys/resource.h>
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

// CPU seconds of this process: on a shared machine the steadier measure.
double Cpu() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// Wall and CPU seconds of f().
template <class F>
std::pair<double, double> Time(F&& f) {
  const double c0 = Cpu();
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return {Since(t0), Cpu() - c0};
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
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--runs") runs = std::atoi(argv[i + 1]);
    if (a == "--evals") evals = std::atoi(argv[i + 1]);
    if (a == "--repeat") repeat = std::atoi(argv[i + 1]);
    if (a == "--dir") dir = argv[i + 1];
  }
  const bool keep = !dir.empty();
  if (!keep)
    dir = (fs::temp_directory_path() / ("hrm_serve_bench_" + std::to_string(::getpid()))).string();
  fs::create_directories(dir);
  const std::string path = dir + "/hrm.db";
  auto writer = hrm::RunStore::Open(path);
  auto t0 = std::chrono::steady_clock::now();
  Fill(*writer, runs, evals);
  std::printf("store: %d runs x %d evals, filled in %.2f s\n", runs, evals, Since(t0));

  auto get = [](hrm::Dashboard& d, const std::string& target) {
    return d.Handle({"GET", target, ""});
  };
  // Per measure: wall and CPU samples of serve and of the sqlite3 baseline.
  struct Samples {
    std::vector<double> wall, cpu, base_wall, base_cpu;
    void Add(std::pair<double, double> serve, std::pair<double, double> base) {
      wall.push_back(serve.first);
      cpu.push_back(serve.second);
      base_wall.push_back(base.first);
      base_cpu.push_back(base.second);
    }
  } first, list, update;
  size_t first_bytes = 0, update_bytes = 0, rows = 0, new_rows = 0;
  for (int r = 0; r < repeat; ++r) {
    hrm::Dashboard dashboard(path);  // a fresh server: nothing cached
    const auto list_time = Time([&] { get(dashboard, "/api/sweeps"); });
    hrm::HttpResponse a;
    const auto first_time = Time([&] { a = get(dashboard, "/api/sweeps/1?since=0"); });
    first_bytes = a.body.size();
    const auto base = Time([&] { rows = ReadRows(path, ""); });
    first.Add(first_time, base);
    list.Add(list_time, base);

    // The runner ingests one more evaluation for 100 runs.
    const int64_t cursor = json::parse(a.body)["cursor"];
    const int64_t step = int64_t(evals + r) * 50;
    {
      SQLite::Transaction tx(writer->db());
      SQLite::Statement q(writer->db(),
                          "INSERT INTO evals (run_id, step, val_ce) VALUES (?, ?, 4.0)");
      SQLite::Statement s(writer->db(), "UPDATE runs SET step = ? WHERE id = ?");
      const int fresh = std::min(100, runs);  // runs with a new row, spread over the sweep
      for (int i = 0; i < fresh; ++i) {
        char id[16];
        std::snprintf(id, sizeof id, "%012x", i * (runs / fresh));
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
    hrm::HttpResponse u;
    const auto update_time =
        Time([&] { u = get(dashboard, "/api/sweeps/1?since=" + std::to_string(cursor)); });
    update_bytes = u.body.size();
    update.Add(update_time,
               Time([&] { new_rows = ReadRows(path, " AND e.step = " + std::to_string(step)); }));
  }
  std::printf("median of %d; ms (serve / sqlite3 reading the same rows)   %9s %9s %9s %9s\n",
              repeat, "wall", "sqlite3", "cpu", "sqlite3");
  auto row = [](const char* what, const Samples& s) {
    std::printf("%-54s %9.1f %9.1f %9.1f %9.1f   cpu ratio %.1fx\n", what, 1e3 * Median(s.wall),
                1e3 * Median(s.base_wall), 1e3 * Median(s.cpu), 1e3 * Median(s.base_cpu),
                Median(s.cpu) / Median(s.base_cpu));
  };
  row("first view: GET /api/sweeps/1?since=0 (fresh server)", first);
  row("sweeps list: GET /api/sweeps (vs reading all rows)", list);
  row("live update: 100 new rows, GET ...?since=cursor", update);
  std::printf("first view: %zu rows, %.1f MB of JSON; update: %zu new rows, %zu bytes of JSON\n",
              rows, first_bytes / 1e6, new_rows, update_bytes);
  std::printf("target: first view < 200 ms: %s (cpu), %s (wall, shared machine)\n",
              Median(first.cpu) < 0.2 ? "met" : "NOT met",
              Median(first.wall) < 0.2 ? "met" : "NOT met");
  writer.reset();
  if (!keep) fs::remove_all(dir);
  return 0;
}
