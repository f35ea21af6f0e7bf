// `hrm report --paper` on a synthetic store of 10,000 runs (target < 2 s):
// every paper sweep holds its tables' configurations over many seeds, train
// runs have 21 evaluations (the paper's 10k steps every 500), protocol runs
// their measurements and the HRM runs a 12-step trace. Times building and
// writing all 17 tables, 2 figures and report.html; prints wall and CPU, and
// the ratio to a baseline measured in the same run: reading every row the
// report reads with plain SQL, parsing nothing (the floor of any report).
//   report_bench [--runs 10000] [--repeat 3] [--dir DIR]
// With --dir, a store already at DIR/hrm.db is reused (to profile the report alone).
#include <SQLiteCpp/SQLiteCpp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "base/config.h"
#include "report/format.h"
#include "report/paper_report.h"
#include "store/run_store.h"

namespace fs = std::filesystem;
using hrm::json;

namespace {

double CpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

json Hrm(int n, int t, int k = 2, int s = 1) {
  return {{"model", "hrm"}, {"N", n}, {"T", t}, {"K", k}, {"S", s}};
}
json Tf(int l) { return {{"model", "transformer"}, {"L", l}}; }
json UniTf(int m, int k = 2) { return {{"model", "unitf"}, {"M", m}, {"K", k}}; }

struct SweepPlan {
  std::string grid;
  std::vector<json> configs;  // the configurations the tables read; seeds fill the rest
  const char* protocol;       // train, latency or genspeed
};

std::vector<SweepPlan> Plans() {
  std::vector<json> search;
  for (double lr : {1e-3, 6e-4, 3e-4, 1e-4})
    for (int warmup : {500, 1000}) {
      search.push_back(Hrm(4, 3));
      search.back().update({{"lr", lr}, {"warmup", warmup}});
      search.push_back(Tf(4));
      search.back().update({{"lr", lr}, {"warmup", warmup}});
    }
  const std::vector<json> all = {Tf(2),     Tf(4),     Tf(12),     Hrm(2, 2),
                                 Hrm(2, 4), Hrm(4, 3), Hrm(12, 3), UniTf(12)};
  return {
      {"equal_param", {Hrm(2, 4), Hrm(4, 3), Hrm(2, 2), Tf(2), Tf(4)}, "train"},
      {"equal_flops", {Hrm(2, 4), Hrm(4, 3), Hrm(12, 3), Tf(12)}, "train"},
      {"long_train", {Hrm(4, 3), Tf(12), Hrm(12, 3), UniTf(12)}, "train"},
      {"tf_baseline", {Tf(12)}, "train"},
      {"latency", all, "latency"},
      {"ablation",
       {Hrm(4, 3, 1), Hrm(4, 3), Hrm(4, 3, 4), Hrm(4, 3, 8), Hrm(4, 3, 2, 2), Hrm(4, 3, 2, 3),
        Hrm(1, 3, 1), Hrm(2, 3, 1), Hrm(8, 3, 4), Hrm(4, 1), Hrm(4, 2), Hrm(4, 6)},
       "train"},
      {"unitf", {UniTf(12), Hrm(4, 3)}, "train"},
      {"hpsearch", search, "train"},
      {"multiseed", {Tf(4), Hrm(4, 3)}, "train"},
      {"genspeed", all, "genspeed"},
      {"hlrole", {Hrm(2, 2), Hrm(2, 4), Hrm(4, 3)}, "train"},
      {"m48", {Hrm(8, 6, 16), Hrm(12, 4, 12), UniTf(48, 16)}, "train"},
  };
}

// Fills `path` with `runs` runs spread over the plans, in one transaction.
void FillStore(const std::string& path, int runs) {
  auto store = hrm::RunStore::Open(path);
  SQLite::Database& db = store->db();
  SQLite::Transaction tx(db);
  SQLite::Statement sweep(db,
                          "INSERT INTO sweeps (name, grid_path, grid_sha256, profile, created_at, "
                          "updated_at) VALUES (?, ?, 'x', 'paper', 't', 't')");
  SQLite::Statement run(db,
                        "INSERT OR IGNORE INTO runs (id, config, model, kind, status, step, "
                        "created_at, updated_at) VALUES (?, ?, ?, ?, 'done', 10000, 't', 't')");
  SQLite::Statement link(db, "INSERT OR IGNORE INTO sweep_runs VALUES (?, ?, ?, ?)");
  SQLite::Statement eval(db,
                         "INSERT OR IGNORE INTO evals (run_id, step, val_ce, train_ce, lr, "
                         "grad_norm, tokens, wall_s) VALUES (?, ?, ?, ?, 3e-4, 1.5, ?, ?)");
  SQLite::Statement meas(db, "INSERT OR IGNORE INTO measurements VALUES (?, ?, ?, ?)");
  const std::vector<SweepPlan> plans = Plans();
  std::vector<int64_t> ids;
  for (const auto& p : plans) {
    sweep.bind(1, p.grid + "@paper");
    sweep.bind(2, "grids/" + p.grid + ".yaml");
    sweep.exec();
    sweep.reset();
    ids.push_back(db.getLastInsertRowid());
  }
  auto measure = [&](const std::string& id, const std::string& metric, double v,
                     const json& extra) {
    meas.bind(1, id);
    meas.bind(2, metric);
    meas.bind(3, v);
    meas.bind(4, extra.dump());
    meas.exec();
    meas.reset();
  };
  for (int i = 0; i < runs; ++i) {
    const size_t p = size_t(i) % plans.size();
    const SweepPlan& plan = plans[p];
    const int nth = i / int(plans.size());
    json given = plan.configs[size_t(nth) % plan.configs.size()];
    given.update({{"d", 64},
                  {"steps", 10000},
                  {"eval_interval", 500},
                  {"seed", 42 + nth / int(plan.configs.size())},
                  {"protocol", plan.protocol}});
    const json config = hrm::ResolveConfig(given);
    const std::string id = hrm::RunId(config);
    run.bind(1, id);
    run.bind(2, config.dump());
    run.bind(3, config["model"].get<std::string>());
    run.bind(4, plan.protocol);
    run.exec();
    run.reset();
    link.bind(1, ids[p]);
    link.bind(2, id);
    link.bind(3, hrm::DescribeModel(config));
    link.bind(4, nth);
    link.exec();
    link.reset();
    const double level = 4 + (std::hash<std::string>{}(id) % 1000) / 1000.0;
    if (std::string(plan.protocol) == "train") {
      for (int step = 0; step <= 10000; step += 500) {
        eval.bind(1, id);
        eval.bind(2, step);
        eval.bind(3, level + 6.0 / (1 + step / 500.0));
        eval.bind(4, level + 6.1 / (1 + step / 500.0));
        eval.bind(5, int64_t(step) * 73728);
        eval.bind(6, step * 0.8);
        eval.exec();
        eval.reset();
      }
    } else {
      measure(id, plan.protocol == std::string("latency") ? "latency_ms" : "tok_per_s", 10 * level,
              {{"seq", 1024}});
      measure(id, "peak_mem_mb", 100 * level, json::object());
    }
    if (plan.grid == "hlrole") {
      measure(id, "ce_normal", level, json::object());
      measure(id, "ce_h_frozen", level + 1, json::object());
      for (int s = 0; s < 12; ++s)
        for (const char* m :
             {"trace.h_fired", "trace.gate_mean", "trace.zl_norm", "trace.zh_norm", "trace.cos_lh"})
          measure(id, m, 0.3 + s / 100.0, {{"step", s}});
    }
  }
  tx.commit();
}

// The baseline: every sweep's runs, evaluations and measurements stepped
// through once, as the report's queries return them.
int64_t ReadEveryRow(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  int64_t bytes = 0;
  for (const char* sql : {"SELECT r.config FROM sweep_runs sr JOIN runs r ON r.id = sr.run_id",
                          "SELECT e.run_id, e.val_ce, e.grad_norm FROM sweep_runs sr JOIN evals e "
                          "ON e.run_id = sr.run_id",
                          "SELECT m.run_id, m.metric, m.value, m.extra FROM sweep_runs sr "
                          "JOIN measurements m ON m.run_id = sr.run_id"}) {
    SQLite::Statement q(db, sql);
    while (q.executeStep()) bytes += q.getColumn(0).getBytes();
  }
  return bytes;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 10000, repeat = 3;
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--runs")
      runs = std::atoi(argv[i + 1]);
    else if (a == "--repeat")
      repeat = std::atoi(argv[i + 1]);
    else if (a == "--dir")
      dir = argv[i + 1];
  }
  const bool own_dir = dir.empty();
  if (own_dir)
    dir = (fs::temp_directory_path() / ("hrm_report_bench_" + std::to_string(::getpid()))).string();
  fs::create_directories(dir);
  const std::string db = dir + "/hrm.db";
  if (own_dir || !fs::exists(db)) {
    const auto t0 = std::chrono::steady_clock::now();
    FillStore(db, runs);
    const double fill =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("synthetic store: %d runs, filled in %.2f s (%s)\n", runs, fill, db.c_str());
  }

  std::vector<double> walls, cpus, base_walls;
  size_t files = 0;
  for (int r = 0; r < repeat; ++r) {
    const auto b0 = std::chrono::steady_clock::now();
    ReadEveryRow(db);
    base_walls.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - b0).count());
    const double c0 = CpuSeconds();
    const auto w0 = std::chrono::steady_clock::now();
    hrm::StoreReader store(db);
    files = hrm::WritePaperReport(store, dir + "/report", hrm::BuildOptions{}).size();
    walls.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count());
    cpus.push_back(CpuSeconds() - c0);
  }
  for (auto* v : {&walls, &cpus, &base_walls}) std::sort(v->begin(), v->end());
  const size_t mid = walls.size() / 2;
  std::printf("%-34s %8s %8s %8s\n", "hrm report --paper", "min s", "median s", "target");
  std::printf("%-34s %8.3f %8.3f %8s\n", "  wall", walls.front(), walls[mid], "< 2");
  std::printf("%-34s %8.3f %8.3f\n", "  cpu", cpus.front(), cpus[mid]);
  std::printf("%-34s %8.3f %8.3f\n", "  baseline: read every row (wall)", base_walls.front(),
              base_walls[mid]);
  std::printf("%-34s %8.1fx\n", "  report / baseline (median)", walls[mid] / base_walls[mid]);
  std::printf("files written: %zu; target met: %s\n", files,
              walls[walls.size() / 2] < 2.0 ? "yes" : "NO");
  if (own_dir) fs::remove_all(dir);
  return 0;
}
