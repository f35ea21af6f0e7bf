// `hrm train`: one run in this process (also how the runner starts workers).
#include "experiments/train.h"
#include "runner/cli.h"

namespace hrm {

void RegisterCoreCommands(CLI::App& app, int* rc) {
  auto args = std::make_shared<TrainArgs>();
  auto no_progress = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("train", "train one run (resumes from DIR's checkpoint)");
  cmd->add_option("--run-dir", args->run_dir, "run directory (config.json, events.jsonl, ckpt/)")
      ->required();
  cmd->add_option("--config", args->config_path,
                  "YAML file of key: value (default: the run directory's own config)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--set", args->sets, "key=value override (repeatable)");
  cmd->add_option("--stop-after", args->stop_after,
                  "checkpoint and exit (code 130) once this many steps are done");
  cmd->add_flag("--no-progress", *no_progress, "no progress lines on stderr");
  cmd->callback([args, no_progress, rc] {
    args->progress = !*no_progress;
    Guard("train", rc, [&] { return TrainMain(*args); });
  });
}

}  // namespace hrm
