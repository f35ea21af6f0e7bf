// Order matters: everything that can be wrong with the input is checked
// (PlanWorker) before the run directory is touched (ClaimRunDir).
#include "experiments/train.h"

#include <torch/torch.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include "base/atomic_file.h"
#include "base/builtin_corpus.h"
#include "base/event_log.h"
#include "base/exit_code.h"
#include "base/file_lock.h"
#include "base/run_dir.h"
#include "base/token_data.h"
#include "core/device.h"
#include "core/trainer.h"
#include "experiments/distributed.h"
#include "experiments/hlrole.h"
#include "experiments/protocol.h"
#include "experiments/provenance.h"
#include "experiments/rank_launcher.h"
#include "experiments/run_model.h"

namespace hrm {
namespace {

namespace fs = std::filesystem;
std::atomic<int> g_stop{0};

// First SIGINT/SIGTERM/SIGUSR1: checkpoint at the next step and exit. A
// second SIGINT kills (default action restored).
void OnSignal(int sig) {
  g_stop.store(sig);
  std::signal(SIGINT, SIG_DFL);
}

// What a worker decides before it touches the run directory.
struct WorkerPlan {
  json config;      // resolved as given: the run's identity
  json run_config;  // what runs: config with the data's vocab filled in
  std::string run_id;
  std::string data_dir;
  json data_meta;
  std::unique_ptr<TokenFile> train_tokens, val_tokens;
  std::optional<RankEnv> rank_env;  // set: this process is one rank of several
  Placement placement;

  int rank() const { return rank_env ? rank_env->rank : 0; }
  int world_size() const { return config["world_size"].get<int>(); }
  TrainData data() const {
    return {train_tokens->data(), int64_t(train_tokens->size()), val_tokens->data(),
            int64_t(val_tokens->size())};
  }
};

// Without --config, a run directory that has a config continues it (resume,
// or the first training of an imported run).
json ResolveArgs(const TrainArgs& args) {
  json given = json::object();
  if (!args.config_path.empty())
    given = ReadConfigYaml(args.config_path);
  else if (fs::exists(RunConfigFileName(args.run_dir)))
    given = ReadRunConfig(args.run_dir)["config"];
  ApplyOverrides(given, args.sets);
  return ResolveConfig(given);
}

// A run directory that holds another run's config is refused.
void CheckRunDirOwner(const fs::path& dir, const std::string& run_id) {
  const fs::path config_file = RunConfigFileName(dir.string());
  if (!fs::exists(config_file)) return;
  json old = json::parse(ReadFile(config_file.string()), nullptr, false);
  if (old.is_discarded() || old.value("run_id", "") != run_id)
    throw std::runtime_error(config_file.string() + " belongs to run " +
                             (old.is_discarded() ? "?" : old.value("run_id", "?")) + ", not " +
                             run_id + "; use a fresh --run-dir");
}

// The config with the data's vocabulary (vocab 0), or a given one that holds
// every id of the data.
json WithDataVocab(json config, const json& meta, const std::string& data_dir) {
  const int64_t data_vocab = meta.value("vocab_size", int64_t(0));
  const int64_t vocab = config["vocab"];
  if (vocab == 0) config["vocab"] = data_vocab;
  if (vocab != 0 && vocab < data_vocab)
    throw ConfigError(
        "vocab", std::to_string(vocab),
        "smaller than the data's " + std::to_string(data_vocab) + " (" + data_dir + "/meta.json)");
  return config;
}

// Config, data, ranks and device. Throws on bad input (exit 2); writes nothing.
WorkerPlan PlanWorker(const TrainArgs& args) {
  WorkerPlan p;
  p.config = ResolveArgs(args);
  p.run_id = RunId(p.config);
  p.data_dir = ResolveDataDir(p.config);
  p.rank_env = RankEnvFromEnvironment();
  if (p.config["protocol"] != "train" && p.world_size() > 1)
    throw ConfigError(
        "world_size", p.config["world_size"].dump(),
        "protocol " + p.config["protocol"].get<std::string>() + " measures one process");
  if (p.rank_env && p.rank_env->world_size != p.world_size())
    throw std::runtime_error("world_size: the config says " + std::to_string(p.world_size()) +
                             " but WORLD_SIZE=" + std::to_string(p.rank_env->world_size));
  // The launcher of several ranks checks the device of the last one.
  const int local_rank =
      p.rank_env ? p.rank_env->local_rank : (p.world_size() > 1 ? p.world_size() - 1 : -1);
  p.placement = ResolvePlacement(p.config, local_rank);
  CheckRunDirOwner(args.run_dir, p.run_id);
  p.train_tokens = std::make_unique<TokenFile>((fs::path(p.data_dir) / "train.bin").string());
  p.val_tokens = std::make_unique<TokenFile>((fs::path(p.data_dir) / "val.bin").string());
  p.data_meta = ReadDataMeta(p.data_dir);
  p.run_config = WithDataVocab(p.config, p.data_meta, p.data_dir);
  return p;
}

// Creates the run directory. One worker per run directory: a second one
// (say, left by a runner that was killed) would interleave its events with
// ours. Rank 0 speaks for the ranks: it alone locks and writes config,
// events and checkpoints. False (after saying why) when the lock is held.
bool ClaimRunDir(const fs::path& dir, const WorkerPlan& plan, std::unique_ptr<FileLock>* lock) {
  fs::create_directories(dir);
  if (plan.rank() != 0) return true;
  *lock = FileLock::TryAcquire(WorkerLockFileName(dir.string()), ThisProcessHolder());
  if (!*lock) {
    std::cerr << "hrm train: " << dir.string() << " is in use by "
              << FileLock::Holder(WorkerLockFileName(dir.string())) << "\n";
    return false;
  }
  const fs::path config_file = RunConfigFileName(dir.string());
  if (!fs::exists(config_file))
    WriteFileAtomic(config_file.string(), json{{"run_id", plan.run_id},
                                               {"config", plan.config},
                                               {"data_dir", plan.data_dir},
                                               {"identity", CanonicalIdentity(plan.config)}}
                                                  .dump(2) +
                                              "\n");
  return true;
}

// Torch threads: `threads`, or the cores shared among this machine's ranks.
void SetThreads(const WorkerPlan& plan) {
  const int64_t threads = plan.config["threads"];
  const int local_ranks = plan.rank_env ? plan.rank_env->local_world_size : 1;
  torch::set_num_threads(threads > 0
                             ? int(threads)
                             : std::max(1, int(std::thread::hardware_concurrency()) / local_ranks));
}

void InstallSignalHandlers() {
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGUSR1, OnSignal);
}

// This rank's communicator (null for a single process); tests and operators
// find a rank's process by its RUN_DIR/rankN.pid.
std::unique_ptr<Communicator> JoinRanks(const fs::path& dir, const WorkerPlan& plan) {
  if (!plan.rank_env) return nullptr;
  WriteFileAtomic(RankPidFileName(dir.string(), plan.rank()), std::to_string(getpid()) + "\n");
  return CommunicatorFromEnv(dir.string(), plan.placement.device);
}

// Measures (latency, genspeed) or trains, then analyses a trained HRM.
int Work(const TrainArgs& args, const WorkerPlan& plan, EventLog* log, Communicator* comm) {
  const json provenance = CollectProvenance(plan.placement.device.str(), plan.data_meta);
  if (plan.config["protocol"] != "train")
    return RunProtocol(
        {plan.run_config, plan.run_id, provenance, log, plan.data(), plan.placement});
  TrainContext ctx;
  ctx.config = plan.run_config;
  ctx.placement = plan.placement;
  ctx.run_id = plan.run_id;
  ctx.provenance = provenance;
  ctx.run_dir = args.run_dir;
  ctx.log = log;
  ctx.comm = comm;
  ctx.stop = &g_stop;
  ctx.progress = args.progress;
  ctx.stop_after = args.stop_after;
  const TrainOutcome outcome = Train(ctx, plan.data());
  if (outcome == TrainOutcome::kFinished && plan.rank() == 0) RecordHlRoleOfRun(ctx, plan.data());
  switch (outcome) {
    case TrainOutcome::kFinished:
      return kExitOk;
    case TrainOutcome::kDiverged:
      return kExitDiverged;
    case TrainOutcome::kInterrupted:
      return kExitInterrupted;
  }
  return kExitError;
}

// A failure after the run directory was claimed: said, and recorded as the
// run's `error` event (by rank 0, which owns the log).
void RecordFailure(const fs::path& dir, const WorkerPlan& plan, const std::exception& e) {
  std::cerr << "hrm train: " << (plan.rank_env ? "rank " + std::to_string(plan.rank()) + ": " : "")
            << e.what() << "\n";
  try {
    if (plan.rank() == 0)
      EventLog(EventLogFileName(dir.string())).Append("error", {{"message", e.what()}}, true);
  } catch (...) {
  }
}

}  // namespace

int TrainMain(const TrainArgs& args) {
  WorkerPlan plan;
  try {
    plan = PlanWorker(args);
  } catch (const std::exception& e) {
    std::cerr << "hrm train: " << e.what() << "\n";
    return kExitUsage;
  }
  // Without RANK, a multi-rank run starts its ranks, each this same command.
  if (plan.world_size() > 1 && !plan.rank_env) return LaunchRanks(plan.world_size());

  const fs::path dir(args.run_dir);
  try {
    std::unique_ptr<FileLock> lock;
    if (!ClaimRunDir(dir, plan, &lock)) return kExitError;
    SetThreads(plan);
    std::optional<EventLog> log;
    if (plan.rank() == 0) log.emplace(EventLogFileName(dir.string()));
    InstallSignalHandlers();
    std::unique_ptr<Communicator> comm = JoinRanks(dir, plan);
    return Work(args, plan, log ? &*log : nullptr, comm.get());
  } catch (const std::exception& e) {
    RecordFailure(dir, plan, e);
  }
  return kExitError;
}

}  // namespace hrm
