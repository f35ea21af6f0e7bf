// Store throughput on a real SQLite file: ingest rate of eval rows (one
// run's long log in one call, and 10,000 short logs one call each, as the
// runner ingests them), a replay (nothing new: the runner's polling cost),
// and the `hrm status` queries on the resulting 10,000-run store.
//   store_bench [--runs 10000] [--evals 20] [--bulk 200000] [--dir DIR]
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "store/ingest.h"
#include "store/run_store.h"

namespace fs = std::filesystem;
using hrm::json;

namespace {

// Wall and CPU time since construction: on a shared machine the CPU time
// is the steadier measure of the work done.
class Timer {
 public:
  Timer() : wall0_(std::chrono::steady_clock::now()), cpu0_(Cpu()) {}
  double Wall() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0_).count();
  }
  double CpuSeconds() const { return Cpu() - cpu0_; }

 private:
  static double Cpu() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
  }
  std::chrono::steady_clock::time_point wall0_;
  double cpu0_;
};

// A training run's log as the trainer writes it: a start with provenance,
// `evals` evaluations with HRM statistics, a checkpoint every 5, the end.
void WriteLog(const std::string& path, const std::string& id, int64_t evals) {
  std::ofstream f(path, std::ios::binary);
  json started = {
      {"event", "started"},
      {"step", 0},
      {"config_hash", id},
      {"time", "2026-01-01T00:00:00Z"},
      {"provenance",
       {{"git_commit", "0123456789abcdef0123456789abcdef01234567"},
        {"git_dirty", false},
        {"libtorch", "1.13.1"},
        {"device", "cuda:0"},
        {"host", "node1"},
        {"data_sha256",
         {{"train_sha256", std::string(64, 'a')}, {"val_sha256", std::string(64, 'b')}}}}}};
  f << started.dump() << "\n";
  for (int64_t i = 0; i < evals; ++i) {
    const int64_t step = i * 50;
    json e = {{"event", "eval"},
              {"step", step},
              {"val_ce", 5.0 - i * 1e-4},
              {"train_ce", 5.1 - i * 1e-4},
              {"lr", 1e-3},
              {"grad_norm", 0.8},
              {"tokens", step * 1024},
              {"wall_s", i * 1.5},
              {"gate_L_mean", 0.42},
              {"gate_H_mean", 0.58},
              {"zL_norm", 11.5},
              {"zH_norm", 9.25}};
    f << e.dump() << "\n";
    if (i % 5 == 4)
      f << json{{"event", "checkpoint"},
                {"step", step},
                {"path", "ckpt-" + std::to_string(step)},
                {"sha256", std::string(64, 'c')}}
               .dump()
        << "\n";
  }
  f << json{{"event", "finished"}, {"step", (evals - 1) * 50}, {"time", "2026-01-01T01:00:00Z"}}
           .dump()
    << "\n";
}

void Row(const char* what, int64_t count, const char* unit, const Timer& t) {
  const double wall = t.Wall(), cpu = t.CpuSeconds();
  std::printf("| %-38s | %7lld %-5s | %8.3f s | %8.3f s | %9.0f %-5s/s | %9.0f %-5s/s |\n", what,
              (long long)count, unit, wall, cpu, count / wall, unit, count / cpu, unit);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t runs = 10000, evals = 20, bulk = 200000;
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--runs")
      runs = std::atoll(argv[i + 1]);
    else if (k == "--evals")
      evals = std::atoll(argv[i + 1]);
    else if (k == "--bulk")
      bulk = std::atoll(argv[i + 1]);
    else if (k == "--dir")
      dir = argv[i + 1];
    else {
      std::fprintf(stderr, "store_bench: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  const bool own_dir = dir.empty();
  if (own_dir)
    dir = (fs::temp_directory_path() / ("store_bench." + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  fs::create_directories(dir + "/logs");

  try {
    std::vector<hrm::RunStore::SweepEntry> entries;
    for (int64_t i = 0; i < runs; ++i) {
      hrm::RunStore::SweepEntry e;
      char id[16];
      std::snprintf(id, sizeof id, "%012llx", (unsigned long long)(i * 2654435761u));
      e.run.id = id;
      e.run.config = {{"model", i % 3 == 0   ? "hrm"
                                : i % 3 == 1 ? "unitf"
                                             : "transformer"},
                      {"d", 128},
                      {"seed", i},
                      {"steps", evals * 50}};
      e.run.run_dir = dir + "/logs";
      e.label = "run " + std::to_string(i);
      e.position = i;
      WriteLog(dir + "/logs/" + e.run.id + ".jsonl", e.run.id, evals);
      entries.push_back(std::move(e));
    }
    WriteLog(dir + "/logs/bulk.jsonl", "bulk", bulk);

    auto store = hrm::RunStore::Open(dir + "/hrm.db");
    std::printf("store_bench: %s, %lld runs x %lld evals, bulk log %lld evals\n\n",
                store->path().c_str(), (long long)runs, (long long)evals, (long long)bulk);
    std::printf("| %-38s | %13s | %10s | %10s | %17s | %17s |\n", "operation", "count", "wall",
                "cpu", "per wall second", "per cpu second");
    std::printf("|%s|%s|%s|%s|%s|%s|\n", std::string(40, '-').c_str(), std::string(15, '-').c_str(),
                std::string(12, '-').c_str(), std::string(12, '-').c_str(),
                std::string(19, '-').c_str(), std::string(19, '-').c_str());

    const int64_t sweep = store->UpsertSweep({"bench", "bench.yaml", "0", "", {}});
    Timer t0;
    store->AddRunsToSweep(sweep, entries);
    Row("add runs to a sweep (one transaction)", runs, "runs", t0);

    hrm::RunStore::SweepEntry bulk_run;
    bulk_run.run.id = "bulk";
    bulk_run.run.config = {{"model", "hrm"}};
    store->AddRunToSweep(store->UpsertSweep({"bulk", "bulk.yaml", "0", "", {}}), bulk_run);
    t0 = Timer();
    auto got = hrm::IngestEvents(*store, "bulk", dir + "/logs/bulk.jsonl");
    Row("ingest one log (one call)", got.evals, "rows", t0);

    int64_t rows = 0;
    t0 = Timer();
    for (const auto& e : entries)
      rows += hrm::IngestEvents(*store, e.run.id, dir + "/logs/" + e.run.id + ".jsonl").evals;
    Row("ingest every run's log (a call each)", rows, "rows", t0);

    int64_t replayed = 0;
    t0 = Timer();
    for (const auto& e : entries)
      replayed += hrm::IngestEvents(*store, e.run.id, dir + "/logs/" + e.run.id + ".jsonl").lines;
    Row("poll every run's log again (no news)", runs, "calls", t0);
    if (replayed != 0)
      std::fprintf(stderr, "store_bench: a replay read %lld lines\n", (long long)replayed);

    store.reset();  // `hrm status` is another process: open read-only, cold statements
    t0 = Timer();
    auto reader = hrm::RunStore::Open(dir + "/hrm.db", hrm::RunStore::Mode::kReadOnly);
    auto sweeps = reader->SweepSummaries();
    size_t lines = 0;
    for (const auto& s : sweeps) lines += reader->RunSummaries(s.id).size();
    Row("hrm status: open, summaries, all runs", int64_t(lines), "runs", t0);

    t0 = Timer();
    const int64_t finals = reader->db()
                               .execAndGet("SELECT count(*) FROM final_evals WHERE status = 'done'")
                               .getInt64();
    Row("sqlite3: SELECT ... FROM final_evals", finals, "runs", t0);

    const std::string check = reader->db().execAndGet("PRAGMA integrity_check").getString();
    std::printf("\nintegrity_check: %s; eval rows: %lld\n", check.c_str(),
                (long long)reader->db().execAndGet("SELECT count(*) FROM evals").getInt64());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "store_bench: %s\n", e.what());
    return 1;
  }
  if (own_dir) fs::remove_all(dir);
  return 0;
}
