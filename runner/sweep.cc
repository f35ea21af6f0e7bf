// The scheduler: a plain loop over (start what fits, reap what ended, ingest
// what was written, redraw). All state that matters lives in the store and
// the run directories, so the loop itself can die at any point.
#include "runner/sweep.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "base/atomic_file.h"
#include "base/exit_code.h"
#include "base/file_lock.h"
#include "base/run_dir.h"
#include "base/sha256.h"
#include "runner/cli_errors.h"
#include "runner/grid.h"
#include "runner/local_backend.h"
#include "runner/progress.h"
#include "runner/search.h"
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
    std::cerr << fmt::format("stopping orphaned worker ({}) of {}\n", holder, run_dir);
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
  }
  for (int i = 0; i < 100 && FileLock::IsHeld(lock); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (FileLock::IsHeld(lock))
    throw std::runtime_error(fmt::format("{} is still in use by {}", run_dir, holder));
}

std::unique_ptr<Backend> MakeBackend(const SweepOptions& o, const std::string& sweep_dir) {
  if (o.backend == "local")
    return std::make_unique<LocalBackend>(LocalBackendOptions{o.slots, o.gpus});
  if (o.backend == "slurm") {
    SlurmBackendOptions so;
    so.sweep_dir = sweep_dir;
    so.partition = o.partition;
    so.time_limit = o.time_limit;
    so.sbatch_args = o.sbatch_args;
    so.max_parallel = o.slots > 1 ? o.slots : 0;  // --slots N throttles each array to N tasks
    so.gpus = !o.gpus.empty();                    // --gpus: a GPU per rank of every run
    return std::make_unique<SlurmBackend>(so);
  }
  throw UsageError(fmt::format("--backend: expected local or slurm (got {})", o.backend));
}

// A grid expanded under the options' profile and overrides.
struct Expansion {
  Grid grid;
  std::vector<ExpandedRun> runs;
  std::optional<SearchPlan> plan;  // when the grid has a search: block
};

Expansion ExpandSweep(const SweepOptions& o) {
  Expansion x;
  x.grid = LoadGrid(o.grid_path);
  x.runs = ExpandGrid(x.grid, o.profile, o.sets);
  if (x.grid.search) x.plan = PlanSearch(*x.grid.search, x.runs);
  return x;
}

int PrintDryRun(const Expansion& x, bool as_json) {
  if (as_json)
    std::cout << ExpandedRunsJson(x.runs).dump(2) << "\n";
  else
    std::cout << DryRunTable(x.runs) << (x.plan ? x.plan->Describe() : "");
  return kExitOk;
}

// One invocation of a sweep: the locked store, the sweep's runs as recorded
// there, and the backend that runs them. Everything that matters lives in
// the store and the run directories, so this state can be lost at any time.
class Sweep {
 public:
  // Takes the store's lock (StoreInUse if another runner has it), records
  // the sweep and its runs, and makes the backend (UsageError if unknown).
  Sweep(const SweepOptions& o, const Expansion& x) : o_(o) {
    const fs::path store_path = fs::absolute(o.store_path);
    const fs::path runs_dir =
        o.runs_dir.empty() ? store_path.parent_path() / "runs" : fs::absolute(o.runs_dir);
    fs::create_directories(store_path.parent_path());
    lock_ = StoreLock::Acquire(store_path.string());
    store_ = RunStore::Open(store_path.string());
    store_path_ = store_path.string();
    name_ = SweepName(x.grid, o.profile, o.sets);
    sweep_id_ = store_->UpsertSweep(
        {name_, fs::absolute(o.grid_path).string(), Sha256File(o.grid_path), o.profile, o.sets});
    for (const auto& r : x.runs) {
      RunStore::SweepEntry e;
      e.run.id = r.id;
      e.run.config = r.config;
      e.run.kind = r.config.value("protocol", "train");
      e.run.run_dir = (runs_dir / r.id).string();
      e.label = r.label;
      e.position = r.position;
      entries_.push_back(std::move(e));
    }
    store_->AddRunsToSweep(sweep_id_, entries_);
    for (const auto& e : entries_) by_id_[e.run.id] = &e;
    // A search decides which trials train, and how far (runner/search.h).
    if (x.plan) search_ = std::make_unique<Search>(*x.plan, *store_, sweep_id_);
    backend_ = MakeBackend(o, (runs_dir / fmt::format("sweep-{}", sweep_id_)).string());
    const int workers = o.gpus.empty() ? std::max(1, o.slots) : int(o.gpus.size());
    threads_ =
        o.threads > 0 ? o.threads : std::max(1, int(std::thread::hardware_concurrency()) / workers);
    char host[256] = {0};
    ::gethostname(host, sizeof host - 1);
    host_ = host;
  }

  // Catches up with whatever the previous runner left: logs it had not yet
  // ingested, and rows it left 'running' (still live on SLURM: reattach;
  // otherwise stop any orphaned worker and resume from its checkpoint).
  void RecoverLeftovers() {
    for (const auto& e : entries_) Ingest(e);
    for (const auto& r : store_->RunsLeftRunning()) {
      auto it = by_id_.find(r.id);
      if (it != by_id_.end() && backend_->Reattach(Spec(*it->second))) {
        running_[r.id] = it->second;
        continue;
      }
      if (!r.run_dir.empty()) StopOrphanWorker(r.run_dir);
      const std::string log = EventLogFileName(r.run_dir);
      if (fs::exists(log)) IngestEvents(*store_, r.id, log);
      auto now = store_->GetRun(r.id);
      if (now && now->status == RunStatus::kRunning)
        store_->SetRunStatus(r.id, RunStatus::kInterrupted, "runner stopped while running");
    }
  }

  // Queues every run that is neither finished nor running (in a search: the
  // trials the search says have training to do), and says so.
  void QueueUnfinished() {
    for (const auto& e : entries_) {
      auto rec = store_->GetRun(e.run.id);
      if (!search_ && rec->status != RunStatus::kDone && rec->status != RunStatus::kDiverged &&
          !running_.count(e.run.id))
        queue_.push_back(&e);
    }
    if (search_) AdvanceSearch();
    std::cerr << fmt::format("sweep {}: {} runs, {} to run, store {}\n", name_, entries_.size(),
                             queue_.size(), store_path_);
  }

  // The scheduling loop: start what fits, reap what ended, ingest what was
  // written, redraw; until nothing is queued or running. The first Ctrl-C
  // (or SIGTERM) asks workers to checkpoint, a second kills them.
  int Run() {
    Progress progress(name_, int(entries_.size()));
    int seen_interrupts = 0;
    while (!queue_.empty() || backend_->Running() > 0) {
      if (g_interrupts > seen_interrupts) {
        if (seen_interrupts == 0) {
          std::cerr << "\ninterrupted: workers are writing checkpoints (Ctrl-C again to kill)\n";
          backend_->StopAll();
          queue_.clear();
        } else {
          backend_->KillAll();
        }
        seen_interrupts = g_interrupts;
      }
      while (!queue_.empty() && seen_interrupts == 0) {
        const auto* e = queue_.front();
        if (backend_->FreeSlots() < Spec(*e).ranks) break;
        queue_.pop_front();
        Start(*e);
      }
      for (const WorkerExit& x : backend_->Reap()) Settle(x, seen_interrupts > 0);
      for (const auto& [id, e] : running_) Ingest(*e);
      if (search_ && seen_interrupts == 0) AdvanceSearch();
      progress.Update(store_->RunSummaries(sweep_id_));
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    progress.Finish(store_->RunSummaries(sweep_id_));
    if (seen_interrupts > 0) return kExitInterrupted;
    return any_failed_ ? kExitError : kExitOk;
  }

 private:
  WorkerSpec Spec(const RunStore::SweepEntry& e) const {
    WorkerSpec spec;
    spec.run_id = e.run.id;
    spec.run_dir = e.run.run_dir;
    spec.ranks = o_.backend == "local" ? int(e.run.config.value("world_size", int64_t(1))) : 1;
    spec.argv = {SelfExe(),   "train",
                 "--run-dir", e.run.run_dir,
                 "--config",  GivenConfigFileName(e.run.run_dir),
                 "--set",     fmt::format("threads={}", threads_)};
    for (const auto& a : o_.train_args) spec.argv.push_back(a);
    const int64_t stop_after = search_ ? search_->StopAfter(e.run.id) : -1;
    if (stop_after >= 0)
      spec.argv.insert(spec.argv.end(), {"--stop-after", std::to_string(stop_after)});
    return spec;
  }

  // Queues, first, the trials the search now gives training to do.
  void AdvanceSearch() {
    std::set<std::string> busy;
    for (const auto& [id, e] : running_) busy.insert(id);
    for (const auto* e : queue_) busy.insert(e->run.id);
    const std::vector<std::string> work = search_->Advance(busy);
    for (auto it = work.rbegin(); it != work.rend(); ++it) queue_.push_front(by_id_.at(*it));
  }

  void Ingest(const RunStore::SweepEntry& e) {
    const std::string log = EventLogFileName(e.run.run_dir);
    if (fs::exists(log)) IngestEvents(*store_, e.run.id, log);
  }

  void Start(const RunStore::SweepEntry& e) {
    fs::create_directories(e.run.run_dir);
    const std::string cfg = GivenConfigFileName(e.run.run_dir);
    if (!fs::exists(cfg)) WriteFileAtomic(cfg, e.run.config.dump(2) + "\n");
    store_->MarkRunning(e.run.id, ::getpid(), host_);
    backend_->Start(Spec(e));
    running_[e.run.id] = &e;
  }

  // Records how a worker ended: done, diverged, interrupted, or failed (then
  // queued again from its checkpoint unless out of retries or a usage error).
  void Settle(const WorkerExit& x, bool interrupted) {
    const auto* e = running_.at(x.run_id);
    running_.erase(x.run_id);
    Ingest(*e);
    auto rec = store_->GetRun(x.run_id);
    if (x.exit_code == kExitOk && rec->status == RunStatus::kDone) return;
    if (x.exit_code == kExitDiverged || rec->status == RunStatus::kDiverged) {
      if (rec->status != RunStatus::kDiverged) store_->SetRunStatus(x.run_id, RunStatus::kDiverged);
      return;
    }
    if (x.exit_code == kExitInterrupted || interrupted) {
      store_->SetRunStatus(x.run_id, RunStatus::kInterrupted);
      return;
    }
    const std::string why = fmt::format("worker exited with code {}{}; see {}", x.exit_code,
                                        x.detail.empty() ? "" : " (" + x.detail + ")",
                                        WorkerLogFileName(e->run.run_dir));
    const bool retry = x.exit_code != kExitUsage && ++failures_[x.run_id] <= o_.max_retries;
    store_->SetRunStatus(x.run_id, retry ? RunStatus::kPending : RunStatus::kFailed, why);
    std::cerr << fmt::format("run {}: {}{}\n", x.run_id, why,
                             retry ? "; retrying from its checkpoint" : "");
    if (retry)
      queue_.push_back(e);
    else
      any_failed_ = true;
  }

  const SweepOptions& o_;
  std::unique_ptr<StoreLock> lock_;
  std::unique_ptr<RunStore> store_;
  std::string store_path_, name_, host_;
  int64_t sweep_id_ = 0;
  std::vector<RunStore::SweepEntry> entries_;
  std::map<std::string, const RunStore::SweepEntry*> by_id_;
  std::unique_ptr<Search> search_;
  std::unique_ptr<Backend> backend_;
  int threads_ = 1;
  std::map<std::string, const RunStore::SweepEntry*> running_;
  std::deque<const RunStore::SweepEntry*> queue_;
  std::map<std::string, int> failures_;
  bool any_failed_ = false;
};

// SIGINT and SIGTERM only count; the scheduling loop acts on the count.
void CountInterrupts() {
  struct sigaction sa {};
  sa.sa_handler = OnInterrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  g_interrupts = 0;
}

}  // namespace

int SweepMain(const SweepOptions& o) {
  const Expansion expansion = ExpandSweep(o);
  if (o.dry_run) return PrintDryRun(expansion, o.json);
  Sweep sweep(o, expansion);
  sweep.RecoverLeftovers();
  sweep.QueueUnfinished();
  CountInterrupts();
  return sweep.Run();
}

}  // namespace hrm
