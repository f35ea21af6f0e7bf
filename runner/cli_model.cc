// `hrm generate`, `hrm export`, `hrm import`, `hrm reproduce`: using what a
// sweep trained. A RUN argument is a run directory or a run id of the store
// (runner/cli_run.h).
#include "experiments/export.h"
#include "experiments/reproduce.h"
#include "experiments/sample.h"
#include "runner/cli.h"

namespace hrm {

void RegisterModelCommands(CLI::App& app, int* rc) {
  {
    auto ref = std::make_shared<RunRef>();
    auto a = std::make_shared<GenerateArgs>();
    auto no_cache = std::make_shared<bool>(false);
    a->device = "auto";  // as the config's `device` key
    CLI::App* cmd = app.add_subcommand("generate", "text from a run's checkpoint, streamed");
    AddRunArgument(cmd, ref.get());
    cmd->add_option("--prompt", a->prompt, "text to continue (empty: from end-of-text)");
    cmd->add_option("--max-new", a->max_new, "tokens to generate")->capture_default_str();
    cmd->add_option("--temperature", a->temperature, "softmax temperature; 0 = greedy")
        ->capture_default_str();
    cmd->add_option("--top-k", a->top_k, "sample among the k most likely; 0 = all")
        ->capture_default_str();
    cmd->add_option("--seed", a->seed, "sampling seed: same seed, same text")
        ->capture_default_str();
    cmd->add_option("--step", a->step, "checkpoint step (default: the newest)");
    cmd->add_option("--device", a->device, "auto (a GPU if there is one), cpu, cuda or cuda:N")
        ->capture_default_str();
    cmd->add_flag("--no-cache", *no_cache, "recompute the whole context for every token");
    cmd->callback([=] {
      Guard("generate", rc, [&] {
        a->run_dir = ResolveRunDir(*ref);
        a->use_cache = !*no_cache;
        return GenerateMain(*a);
      });
    });
  }
  {
    auto ref = std::make_shared<RunRef>();
    auto a = std::make_shared<ExportArgs>();
    CLI::App* cmd =
        app.add_subcommand("export", "a run's weights as safetensors + config + tokenizer");
    AddRunArgument(cmd, ref.get());
    cmd->add_option("--out", a->out_dir, "directory to write")->required();
    cmd->add_option("--dtype", a->dtype, "fp32 or bf16")
        ->check(CLI::IsMember({"fp32", "bf16"}))
        ->capture_default_str();
    cmd->add_option("--step", a->step, "checkpoint step (default: the newest)");
    cmd->callback([=] {
      Guard("export", rc, [&] {
        a->run_dir = ResolveRunDir(*ref);
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
    AddRunArgument(cmd, ref.get());
    cmd->add_flag("--run", a->run, "run it, then compare its evaluations with the record");
    cmd->add_option("--out", a->out_dir, "the rerun's directory (default: RUN_DIR-reproduce)");
    cmd->add_flag("--json", a->json, "print the recipe (and with --run, the comparison) as JSON");
    cmd->callback([=] {
      Guard("reproduce", rc, [&] {
        a->run_dir = ResolveRunDir(*ref);
        return ReproduceMain(*a);
      });
    });
  }
}

}  // namespace hrm
