// `hrm best SWEEP`: the winner of a search (or any sweep) as --set arguments.
#include <iostream>
#include <memory>

#include "runner/best.h"
#include "runner/cli.h"

namespace hrm {

void RegisterBestCommands(CLI::App& app, int* rc) {
  struct Options {
    std::string sweep, store, metric = "val_ce", by;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "best", "a sweep's best finished run, its config as --set arguments to paste");
  cmd->add_option("sweep", o->sweep, "sweep name (or a prefix naming one sweep)")->required();
  AddStoreOption(cmd, &o->store);
  cmd->add_option("--metric", o->metric, "val_ce or train_ce of the final eval, lower is better")
      ->capture_default_str();
  cmd->add_option("--by", o->by, "the best per value of this config key, e.g. --by model");
  cmd->add_flag("--json", o->json, "machine-readable output");
  cmd->callback([o, rc] {
    Guard("best", rc, [&] {
      auto store = OpenStoreForReading(o->store);
      const std::vector<BestRun> best = FindBest(*store, o->sweep, o->metric, o->by);
      json out = json::array();
      for (const auto& b : best) {
        if (o->json) {
          out.push_back({{"run", b.run_id},
                         {"label", b.label},
                         {o->metric, b.metric},
                         {"step", b.step},
                         {"sets", b.sets},
                         {"config", b.config}});
          if (!o->by.empty()) out.back()[o->by] = b.config[o->by];
          continue;
        }
        std::cout << "# " << b.label << " (run " << b.run_id << "): " << o->metric << " "
                  << b.metric << " at step " << b.step << "\n";
        std::string line;
        for (const auto& s : b.sets) line += (line.empty() ? "--set " : " --set ") + s;
        std::cout << line << "\n";
      }
      if (o->json) std::cout << out.dump(2) << "\n";
      return kExitOk;
    });
  });
}

}  // namespace hrm
