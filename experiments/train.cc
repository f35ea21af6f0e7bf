// Order matters: everything that can be wrong with the input is checked
// before the run directory is touched.
#include "experiments/train.h"

#include <torch/torch.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <thread>

#include "core/atomic_file.h"
#include "core/builtin_corpus.h"
#include "core/event_log.h"
#include "core/exit_code.h"
#include "core/token_data.h"
#include "core/trainer.h"
#include "experiments/provenance.h"

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

json ResolveArgs(const TrainArgs& args) {
  json given = args.config_path.empty() ? json::object() : ReadConfigYaml(args.config_path);
  ApplyOverrides(given, args.sets);
  return ResolveConfig(given);
}

}  // namespace

int TrainMain(const TrainArgs& args) {
  json config;
  std::string data_dir;
  try {
    config = ResolveArgs(args);
    data_dir = ResolveDataDir(config);
  } catch (const std::exception& e) {
    std::cerr << "hrm train: " << e.what() << "\n";
    return kExitUsage;
  }
  const std::string run_id = RunId(config);
  const fs::path dir(args.run_dir);
  const fs::path config_file = dir / "config.json";
  if (fs::exists(config_file)) {
    json old = json::parse(ReadFile(config_file.string()), nullptr, false);
    if (old.is_discarded() || old.value("run_id", "") != run_id) {
      std::cerr << "hrm train: " << config_file.string() << " belongs to run "
                << (old.is_discarded() ? "?" : old.value("run_id", "?")) << ", not " << run_id
                << "; use a fresh --run-dir\n";
      return kExitUsage;
    }
  }

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
    if (!fs::exists(config_file))
      WriteFileAtomic(config_file.string(),
                      json{{"run_id", run_id}, {"config", config}, {"data_dir", data_dir},
                           {"identity", CanonicalIdentity(config)}}
                              .dump(2) + "\n");
    const int64_t threads = config["threads"];
    torch::set_num_threads(threads > 0 ? int(threads)
                                       : int(std::max(1u, std::thread::hardware_concurrency())));
    EventLog log((dir / "events.jsonl").string());

    std::signal(SIGINT, OnSignal);
    std::signal(SIGTERM, OnSignal);
    std::signal(SIGUSR1, OnSignal);

    TrainContext ctx;
    ctx.config = run_config;
    ctx.run_id = run_id;
    ctx.provenance = CollectProvenance(config["device"], meta);
    ctx.run_dir = dir.string();
    ctx.log = &log;
    ctx.stop = &g_stop;
    ctx.progress = args.progress;
    TrainData data{train_tokens.data(), int64_t(train_tokens.size()), val_tokens.data(),
                   int64_t(val_tokens.size())};
    switch (Train(ctx, data)) {
      case TrainOutcome::kFinished: return kExitOk;
      case TrainOutcome::kDiverged: return kExitDiverged;
      case TrainOutcome::kInterrupted: return kExitInterrupted;
    }
  } catch (const std::exception& e) {
    std::cerr << "hrm train: " << e.what() << "\n";
    try {
      EventLog((dir / "events.jsonl").string()).Append("error", {{"message", e.what()}}, true);
    } catch (...) {
    }
  }
  return kExitError;
}

}  // namespace hrm
