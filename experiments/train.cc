// Order matters: everything that can be wrong with the input is checked
// before the run directory is touched.
#include "experiments/train.h"

#include <torch/torch.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <optional>
#include <thread>

#include "base/atomic_file.h"
#include "base/builtin_corpus.h"
#include "base/event_log.h"
#include "base/exit_code.h"
#include "base/file_lock.h"
#include "base/run_dir.h"
#include "base/token_data.h"
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

}  // namespace

int TrainMain(const TrainArgs& args) {
  json config;
  std::string data_dir;
  std::optional<RankEnv> rank_env;  // set: this process is one rank of several
  try {
    config = ResolveArgs(args);
    data_dir = ResolveDataDir(config);
    rank_env = RankEnvFromEnvironment();
    if (config["protocol"] != "train" && config["world_size"].get<int>() > 1)
      throw ConfigError("world_size", config["world_size"].dump(),
                        "protocol " + config["protocol"].get<std::string>() +
                            " measures one process");
    if (rank_env && rank_env->world_size != config["world_size"].get<int>())
      throw std::runtime_error("world_size: the config says " + config["world_size"].dump() +
                               " but WORLD_SIZE=" + std::to_string(rank_env->world_size));
  } catch (const std::exception& e) {
    std::cerr << "hrm train: " << e.what() << "\n";
    return kExitUsage;
  }
  const int rank = rank_env ? rank_env->rank : 0;
  const std::string run_id = RunId(config);
  const fs::path dir(args.run_dir);
  const fs::path config_file = RunConfigFileName(args.run_dir);
  if (fs::exists(config_file)) {
    json old = json::parse(ReadFile(config_file.string()), nullptr, false);
    if (old.is_discarded() || old.value("run_id", "") != run_id) {
      std::cerr << "hrm train: " << config_file.string() << " belongs to run "
                << (old.is_discarded() ? "?" : old.value("run_id", "?")) << ", not " << run_id
                << "; use a fresh --run-dir\n";
      return kExitUsage;
    }
  }
  // Without RANK, a multi-rank run starts its ranks, each this same command.
  if (config["world_size"].get<int>() > 1 && !rank_env)
    return LaunchRanks(config["world_size"].get<int>());

  try {
    TokenFile train_tokens((fs::path(data_dir) / "train.bin").string());
    TokenFile val_tokens((fs::path(data_dir) / "val.bin").string());
    json meta = ReadDataMeta(data_dir);
    json run_config = config;
    const int64_t data_vocab = meta.value("vocab_size", int64_t(0));
    if (run_config["vocab"].get<int64_t>() == 0) {
      run_config["vocab"] = data_vocab;
    } else if (run_config["vocab"].get<int64_t>() < data_vocab) {
      std::cerr << "hrm train: vocab: " << run_config["vocab"] << " is smaller than the data's "
                << data_vocab << " (" << data_dir << "/meta.json)\n";
      return kExitUsage;
    }

    fs::create_directories(dir);
    // One worker per run directory: a second one (say, left by a runner that
    // was killed) would interleave its events with ours. Rank 0 speaks for
    // the ranks: it alone locks and writes config, events and checkpoints.
    std::unique_ptr<FileLock> dir_lock;
    if (rank == 0)
      dir_lock = FileLock::TryAcquire(WorkerLockFileName(args.run_dir), ThisProcessHolder());
    if (rank == 0 && !dir_lock) {
      std::cerr << "hrm train: " << dir.string() << " is in use by "
                << FileLock::Holder(WorkerLockFileName(args.run_dir)) << "\n";
      return kExitError;
    }
    if (rank == 0 && !fs::exists(config_file))
      WriteFileAtomic(config_file.string(),
                      json{{"run_id", run_id}, {"config", config}, {"data_dir", data_dir},
                           {"identity", CanonicalIdentity(config)}}
                              .dump(2) + "\n");
    const int64_t threads = config["threads"];
    const int local_ranks = rank_env ? rank_env->local_world_size : 1;  // share the cores
    torch::set_num_threads(threads > 0 ? int(threads)
                                       : std::max(1, int(std::thread::hardware_concurrency()) /
                                                         local_ranks));
    std::optional<EventLog> log;
    if (rank == 0) log.emplace(EventLogFileName(args.run_dir));

    std::signal(SIGINT, OnSignal);
    std::signal(SIGTERM, OnSignal);
    std::signal(SIGUSR1, OnSignal);

    std::unique_ptr<Communicator> comm;
    if (rank_env) {
      run_config["device"] = RankDevice(config["device"], rank_env->local_rank);
      // Tests and operators find a rank's process here.
      WriteFileAtomic(RankPidFileName(args.run_dir, rank), std::to_string(getpid()) + "\n");
      comm = CommunicatorFromEnv(dir.string(),
                                 torch::Device(run_config["device"].get<std::string>()));
    }

    TrainData data{train_tokens.data(), int64_t(train_tokens.size()), val_tokens.data(),
                   int64_t(val_tokens.size())};
    if (config["protocol"] != "train")  // latency, genspeed: measure instead of training
      return RunProtocol({run_config, run_id, CollectProvenance(run_config["device"], meta),
                          &*log, data});

    TrainContext ctx;
    ctx.config = run_config;
    ctx.run_id = run_id;
    ctx.provenance = CollectProvenance(run_config["device"], meta);
    ctx.run_dir = dir.string();
    ctx.log = log ? &*log : nullptr;
    ctx.comm = comm.get();
    ctx.stop = &g_stop;
    ctx.progress = args.progress;
    ctx.stop_after = args.stop_after;
    const TrainOutcome outcome = Train(ctx, data);
    if (outcome == TrainOutcome::kFinished && rank == 0) RecordHlRoleOfRun(ctx, data);
    switch (outcome) {
      case TrainOutcome::kFinished: return kExitOk;
      case TrainOutcome::kDiverged: return kExitDiverged;
      case TrainOutcome::kInterrupted: return kExitInterrupted;
    }
  } catch (const std::exception& e) {
    std::cerr << "hrm train: " << (rank_env ? "rank " + std::to_string(rank) + ": " : "")
              << e.what() << "\n";
    try {
      if (rank == 0)
        EventLog(EventLogFileName(args.run_dir)).Append("error", {{"message", e.what()}}, true);
    } catch (...) {
    }
  }
  return kExitError;
}

}  // namespace hrm
