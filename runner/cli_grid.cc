// `hrm grid GRID`: expands a grid and prints its runs; writes nothing.
#include <iostream>
#include <memory>

#include "runner/cli.h"
#include "runner/grid.h"

namespace hrm {

void RegisterGridCommands(CLI::App& app, int* rc) {
  struct Options {
    std::string path, profile;
    std::vector<std::string> sets;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd =
      app.add_subcommand("grid", "expand a sweep grid and print its runs (writes nothing)");
  cmd->add_option("grid", o->path, "grid file (grids/*.yaml)")->required();
  cmd->add_option("--profile", o->profile, "scale profile (default: the grid's default_profile)");
  cmd->add_option("--set", o->sets, "key=value override applied after expansion (repeatable)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_flag("--json", o->json, "print the runs as JSON (id, label, position, config)");
  cmd->callback([o, rc] {
    Guard("grid", rc, [&] {
      const std::vector<ExpandedRun> runs = ExpandGrid(LoadGrid(o->path), o->profile, o->sets);
      std::cout << (o->json ? ExpandedRunsJson(runs).dump(2) + "\n" : DryRunTable(runs));
    });
  });
}

}  // namespace hrm
