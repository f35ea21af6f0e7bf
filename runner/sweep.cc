// The scheduler: a plain loop over (start what fits, reap what ended, ingest
// what was written, redraw). All state that matters lives in the store and
// the run directories, so the loop itself can die at any point.
#include "runner/sweep.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>

#include "base/atomic_file.h"
#include "base/exit_code.h"
#include "base/file_lock.h"
#include "base/run_dir.h"
#include "base/sha256.h"
#include "runner/grid.h"
#include "runner/local_backend.h"
#include "runner/progress.h"
#include "runner/slurm_backend.h"
#include "store/ingest.h"
#include "store/run_store.h"
#include "store/store_lock.h"

namespace hrm {
namespace {

namespace fs = std::filesystem;
std::atomic<int> g_interrupts{0};

void OnInterrupt(int) { g_interrupts.fetch_add(1); }

std::string SelfExe() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? "hrm" : p.string();
}

std::string SweepName(const Grid& grid, const std::string& profile,
                      const std::vector<std::string>& sets) {
  std::string name = grid.name;
  const std::string p = profile.empty() ? grid.default_profile : profile;
  if (!p.empty()) name += "@" + p;
  for (const auto& s : sets) name += " " + s;
  return name;
}

// A worker left behind by a runner that was killed still holds its run
// directory: stop it (its checkpoint is the resume point) before restarting.
void StopOrphanWorker(const std::string& run_dir) {
  const std::string lock = WorkerLockFileName(run_dir);
  if (!FileLock::IsHeld(lock)) return;
  const std::string holder = FileLock::Holder(lock);  // "pid P on host H"
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  pid_t pid = 0;
  if (std::sscanf(holder.c_str(), "pid %d", &pid) == 1 && pid > 0 &&
      holder.find(std::string("on host ") + host) != std::string::npos) {
    std::cerr << "stopping orphaned worker (" << holder << ") of " << run_dir << "\n";
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
  }
  for (int i = 0; i < 100 && FileLock::IsHeld(lock); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (FileLock::IsHeld(lock))
    throw std::runtime_error(run_dir + " is still in use by " + holder);
}

std::unique_ptr<Backend> MakeBackend(const SweepOptions& o, const std::string& sweep_dir) {
  if (o.backend == "local") return std::make_unique<LocalBackend>(LocalBackendOptions{o.slots, o.gpus});
  if (o.backend == "slurm") {
    SlurmBackendOptions so;
    so.sweep_dir = sweep_dir;
    so.partition = o.partition;
    so.time_limit = o.time_limit;
    so.sbatch_args = o.sbatch_args;
    so.max_parallel = o.slots > 1 ? o.slots : 0;  // --slots N throttles each array to N tasks
    return std::make_unique<SlurmBackend>(so);
  }
  throw std::runtime_error("--backend: expected local or slurm (got " + o.backend + ")");
}

}  // namespace

int SweepMain(const SweepOptions& o) {
  std::vector<ExpandedRun> runs;
  Grid grid;
  try {
    grid = LoadGrid(o.grid_path);
    runs = ExpandGrid(grid, o.profile, o.sets);
  } catch (const std::exception& e) {
    std::cerr << "hrm sweep: " << e.what() << "\n";
    return kExitUsage;
  }
  if (o.dry_run) {
    std::cout << DryRunTable(runs);
    return kExitOk;
  }

  const fs::path store_path = fs::absolute(o.store_path);
  const fs::path runs_dir = o.runs_dir.empty() ? store_path.parent_path() / "runs" : fs::absolute(o.runs_dir);
  std::unique_ptr<StoreLock> lock;
  std::unique_ptr<RunStore> store;
  try {
    fs::create_directories(store_path.parent_path());
    lock = StoreLock::Acquire(store_path.string());
    store = RunStore::Open(store_path.string());
  } catch (const std::exception& e) {
    std::cerr << "hrm sweep: " << e.what() << "\n";
    return kExitUsage;
  }

  const std::string name = SweepName(grid, o.profile, o.sets);
  const int64_t sweep_id = store->UpsertSweep(
      {name, fs::absolute(o.grid_path).string(), Sha256File(o.grid_path), o.profile, o.sets});
  std::vector<RunStore::SweepEntry> entries;
  for (const auto& r : runs) {
    RunStore::SweepEntry e;
    e.run.id = r.id;
    e.run.config = r.config;
    e.run.kind = r.config.value("protocol", "train");
    e.run.run_dir = (runs_dir / r.id).string();
    e.label = r.label;
    e.position = r.position;
    entries.push_back(std::move(e));
  }
  store->AddRunsToSweep(sweep_id, entries);

  std::unique_ptr<Backend> backend;
  try {
    backend = MakeBackend(o, (runs_dir / ("sweep-" + std::to_string(sweep_id))).string());
  } catch (const std::exception& e) {
    std::cerr << "hrm sweep: " << e.what() << "\n";
    return kExitUsage;
  }
  const int workers = o.gpus.empty() ? std::max(1, o.slots) : int(o.gpus.size());
  const int threads = o.threads > 0 ? o.threads
                                    : std::max(1, int(std::thread::hardware_concurrency()) / workers);
  auto spec_of = [&](const RunStore::SweepEntry& e) {
    WorkerSpec spec;
    spec.run_id = e.run.id;
    spec.run_dir = e.run.run_dir;
    spec.ranks = o.backend == "local" ? int(e.run.config.value("world_size", int64_t(1))) : 1;
    spec.argv = {SelfExe(), "train", "--run-dir", e.run.run_dir, "--config",
                 GivenConfigFileName(e.run.run_dir), "--set", "threads=" + std::to_string(threads)};
    for (const auto& a : o.train_args) spec.argv.push_back(a);
    return spec;
  };
  auto ingest = [&](const RunStore::SweepEntry& e) {
    const std::string log = EventLogFileName(e.run.run_dir);
    if (fs::exists(log)) IngestEvents(*store, e.run.id, log);
  };

  // Catch up with whatever the previous runner left: logs it had not yet
  // ingested, and rows it left 'running' (still live on SLURM: reattach;
  // otherwise stop any orphaned worker and resume from its checkpoint).
  for (const auto& e : entries) ingest(e);
  std::map<std::string, const RunStore::SweepEntry*> by_id, running;
  for (const auto& e : entries) by_id[e.run.id] = &e;
  for (const auto& r : store->RunsLeftRunning()) {
    auto it = by_id.find(r.id);
    if (it != by_id.end() && backend->Reattach(spec_of(*it->second))) {
      running[r.id] = it->second;
      continue;
    }
    if (!r.run_dir.empty()) StopOrphanWorker(r.run_dir);
    const std::string log = EventLogFileName(r.run_dir);
    if (fs::exists(log)) IngestEvents(*store, r.id, log);
    auto now = store->GetRun(r.id);
    if (now && now->status == RunStatus::kRunning)
      store->SetRunStatus(r.id, RunStatus::kInterrupted, "runner stopped while running");
  }

  std::deque<const RunStore::SweepEntry*> queue;
  for (const auto& e : entries) {
    auto rec = store->GetRun(e.run.id);
    if (rec->status != RunStatus::kDone && rec->status != RunStatus::kDiverged &&
        !running.count(e.run.id))
      queue.push_back(&e);
  }
  std::cerr << "sweep " << name << ": " << entries.size() << " runs, " << queue.size()
            << " to run, store " << store_path.string() << "\n";

  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  struct sigaction sa {};
  sa.sa_handler = OnInterrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  g_interrupts = 0;

  std::map<std::string, int> failures;
  Progress progress(name, int(entries.size()));
  int seen_interrupts = 0;
  bool any_failed = false;

  auto start = [&](const RunStore::SweepEntry& e) {
    fs::create_directories(e.run.run_dir);
    const std::string cfg = GivenConfigFileName(e.run.run_dir);
    if (!fs::exists(cfg)) WriteFileAtomic(cfg, e.run.config.dump(2) + "\n");
    store->MarkRunning(e.run.id, ::getpid(), host);
    backend->Start(spec_of(e));
    running[e.run.id] = &e;
  };

  while (!queue.empty() || backend->Running() > 0) {
    if (g_interrupts > seen_interrupts) {
      if (seen_interrupts == 0) {
        std::cerr << "\ninterrupted: workers are writing checkpoints (Ctrl-C again to kill)\n";
        backend->StopAll();
        queue.clear();
      } else {
        backend->KillAll();
      }
      seen_interrupts = g_interrupts;
    }
    while (!queue.empty() && seen_interrupts == 0) {
      const auto* e = queue.front();
      if (backend->FreeSlots() < spec_of(*e).ranks) break;
      queue.pop_front();
      start(*e);
    }
    for (const WorkerExit& x : backend->Reap()) {
      const auto* e = running.at(x.run_id);
      running.erase(x.run_id);
      ingest(*e);
      auto rec = store->GetRun(x.run_id);
      if (x.exit_code == kExitOk && rec->status == RunStatus::kDone) continue;
      if (x.exit_code == kExitDiverged || rec->status == RunStatus::kDiverged) {
        if (rec->status != RunStatus::kDiverged) store->SetRunStatus(x.run_id, RunStatus::kDiverged);
        continue;
      }
      if (x.exit_code == kExitInterrupted || seen_interrupts > 0) {
        store->SetRunStatus(x.run_id, RunStatus::kInterrupted);
        continue;
      }
      const std::string why = "worker exited with code " + std::to_string(x.exit_code) +
                              (x.detail.empty() ? "" : " (" + x.detail + ")") + "; see " +
                              WorkerLogFileName(e->run.run_dir);
      const bool retry = x.exit_code != kExitUsage && ++failures[x.run_id] <= o.max_retries;
      store->SetRunStatus(x.run_id, retry ? RunStatus::kPending : RunStatus::kFailed, why);
      std::cerr << "run " << x.run_id << ": " << why
                << (retry ? "; retrying from its checkpoint" : "") << "\n";
      if (retry)
        queue.push_back(e);
      else
        any_failed = true;
    }
    for (const auto& [id, e] : running) ingest(*e);
    progress.Update(store->RunSummaries(sweep_id));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  progress.Finish(store->RunSummaries(sweep_id));
  if (seen_interrupts > 0) return kExitInterrupted;
  return any_failed ? kExitError : kExitOk;
}

}  // namespace hrm
