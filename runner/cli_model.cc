// `hrm generate`, `hrm export`, `hrm import`, `hrm reproduce`: using what a
// sweep trained. A RUN argument is a run directory or a run id of the store.
#include <filesystem>
#include <iostream>

#include "experiments/export.h"
#include "experiments/reproduce.h"
#include "experiments/sample.h"
#include "runner/cli.h"
#include "store/run_store.h"

namespace hrm {
namespace {

namespace fs = std::filesystem;

// The run directory RUN names; throws naming the store and id.
std::string ResolveRunDir(const std::string& run, const std::string& store_path) {
  if (fs::is_regular_file(fs::path(run) / "config.json")) return run;
  if (fs::is_directory(run))
    throw std::runtime_error(run + ": not a run directory (no config.json)");
  if (!fs::exists(store_path))
    throw std::runtime_error(run + " is neither a run directory nor a run id of a store (" +
                             store_path + " does not exist; pass --store)");
  auto row = RunStore::Open(store_path, RunStore::Mode::kReadOnly)->GetRun(run);
  if (!row)
    throw std::runtime_error(store_path + ": no run " + run + " (and no directory of that name)");
  if (row->run_dir.empty() || !fs::exists(fs::path(row->run_dir) / "config.json"))
    throw std::runtime_error("run " + run + " of " + store_path + ": its directory " +
                             (row->run_dir.empty() ? "(none recorded)" : row->run_dir) +
                             " is not on this machine");
  return row->run_dir;
}

// Adds the RUN positional and --store; returns where the run's directory
// will be resolved from.
struct RunRef {
  std::string run, store = "runs/hrm.db";
};
void AddRunRef(CLI::App* cmd, RunRef& ref) {
  cmd->add_option("run", ref.run, "run id (looked up in --store) or run directory")->required();
  cmd->add_option("--store", ref.store, "SQLite store of the sweeps")->capture_default_str();
}

}  // namespace

void RegisterModelCommands(CLI::App& app, int* rc) {
  {
    auto ref = std::make_shared<RunRef>();
    auto a = std::make_shared<GenerateArgs>();
    CLI::App* cmd = app.add_subcommand("generate", "text from a run's checkpoint, streamed");
    AddRunRef(cmd, *ref);
    cmd->add_option("--prompt", a->prompt, "text to continue (empty: from end-of-text)");
    cmd->add_option("--max-new", a->max_new, "tokens to generate")->capture_default_str();
    cmd->add_option("--temperature", a->temperature, "softmax temperature; 0 = greedy")
        ->capture_default_str();
    cmd->add_option("--top-k", a->top_k, "sample among the k most likely; 0 = all")
        ->capture_default_str();
    cmd->add_option("--seed", a->seed, "sampling seed: same seed, same text")
        ->capture_default_str();
    cmd->add_option("--step", a->step, "checkpoint step (default: the newest)");
    cmd->add_option("--device", a->device, "cpu, cuda, cuda:N or auto")->capture_default_str();
    cmd->add_flag("!--no-cache", a->use_cache, "recompute the whole context for every token");
    cmd->callback([=] {
      Guard("generate", rc, [&] {
        a->run_dir = ResolveRunDir(ref->run, ref->store);
        return GenerateMain(*a);
      });
    });
  }
  {
    auto ref = std::make_shared<RunRef>();
    auto a = std::make_shared<ExportArgs>();
    CLI::App* cmd =
        app.add_subcommand("export", "a run's weights as safetensors + config + tokenizer");
    AddRunRef(cmd, *ref);
    cmd->add_option("--out", a->out_dir, "directory to write")->required();
    cmd->add_option("--dtype", a->dtype, "fp32 or bf16")->capture_default_str();
    cmd->add_option("--step", a->step, "checkpoint step (default: the newest)");
    cmd->callback([=] {
      Guard("export", rc, [&] {
        a->run_dir = ResolveRunDir(ref->run, ref->store);
        return ExportMain(*a);
      });
    });
  }
  {
    auto a = std::make_shared<ImportArgs>();
    CLI::App* cmd = app.add_subcommand("import", "an export back into a run (generate, fine-tune)");
    cmd->add_option("dir", a->export_dir, "directory written by hrm export")->required();
    cmd->add_option("--run-dir", a->run_dir, "run directory to create")->required();
    cmd->add_option("--set", a->sets, "key=value training override, e.g. steps=100 (repeatable)");
    cmd->callback([=] { Guard("import", rc, [&] { return ImportMain(*a); }); });
  }
  {
    auto ref = std::make_shared<RunRef>();
    auto a = std::make_shared<ReproduceArgs>();
    CLI::App* cmd =
        app.add_subcommand("reproduce", "the command, config and code version behind a run");
    AddRunRef(cmd, *ref);
    cmd->add_flag("--run", a->run, "run it, then compare its evaluations with the record");
    cmd->add_option("--out", a->out_dir, "the rerun's directory (default: RUN_DIR-reproduce)");
    cmd->callback([=] {
      Guard("reproduce", rc, [&] {
        a->run_dir = ResolveRunDir(ref->run, ref->store);
        return ReproduceMain(*a);
      });
    });
  }
}

}  // namespace hrm
