// `hrm flops`: training FLOPs per iteration of a config, or of every run of a
// grid (to match configurations in cost, as the paper's EqualFLOPs does).
// Torch-free: counts come from base/flops.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "base/config.h"
#include "base/flops.h"
#include "runner/cli.h"
#include "runner/grid.h"

namespace hrm {
namespace {

struct FlopsArgs {
  std::string config_path;
  std::string grid_path;
  std::string profile;
  std::vector<std::string> sets;
  bool as_json = false;
};

int FlopsMain(const FlopsArgs& args) {
  std::vector<std::pair<std::string, json>> configs;  // label, resolved config
  AsUsage([&] {                                       // GridError, ConfigError, or a YAML error
    if (!args.grid_path.empty()) {
      for (const auto& run : ExpandGrid(LoadGrid(args.grid_path), args.profile, args.sets))
        configs.emplace_back(run.label, run.config);
    } else {
      json given = args.config_path.empty() ? json::object() : ReadConfigYaml(args.config_path);
      ApplyOverrides(given, args.sets);
      configs.emplace_back("", ResolveConfig(given));
    }
  });
  json all = json::array();
  for (const auto& [label, config] : configs) {
    const FlopCount f = CountTrainFlops(config);
    if (args.as_json) {
      json j = FlopsJson(config, f);
      if (!label.empty()) j["label"] = label;
      all.push_back(j);
    } else {
      std::cout << (label.empty() ? "" : label + "  ") << FlopsLine(config, f) << "\n";
    }
  }
  if (args.as_json) std::cout << (args.grid_path.empty() ? all[0] : all).dump() << "\n";
  return kExitOk;
}

}  // namespace

void RegisterFlopsCommands(CLI::App& app, int* rc) {
  auto args = std::make_shared<FlopsArgs>();
  CLI::App* flops = app.add_subcommand(
      "flops", "matmul FLOPs per training iteration (forward, backward) of a config or a grid");
  auto* config = flops->add_option("--config", args->config_path, "YAML file of key: value");
  auto* grid = flops->add_option("--grid", args->grid_path, "a grid file: one count per run");
  config->excludes(grid);
  flops->add_option("--profile", args->profile, "the grid's scale profile")->needs(grid);
  flops->add_option("--set", args->sets, "key=value override (repeatable)");
  flops->add_flag("--json", args->as_json, "print JSON (an array for a grid)");
  flops->callback([args, rc] { Guard("flops", rc, [&] { return FlopsMain(*args); }); });
}

}  // namespace hrm
