// `hrm sweep`, `hrm status`, `hrm show`: running sweeps and looking at them.
#include <fmt/format.h>

#include <iostream>

#include "base/text_width.h"
#include "runner/cli.h"
#include "runner/sweep.h"
#include "store/run_store.h"

namespace hrm {
namespace {

std::string Num(const std::optional<double>& v, int digits = 4) {
  return v ? fmt::format("{:.{}f}", *v, digits) : "-";
}

template <typename T>
json OrNull(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

// One line of `hrm status`: the label column is counted in code points, so
// a multi-byte label is cut whole and the columns after it line up.
std::string StatusLine(const std::string& run, const std::string& label, const std::string& status,
                       const std::string& step, const std::string& val_ce,
                       const std::string& attempts) {
  return fmt::format("  {:<12} {} {:<11} {:>7} {:>8} {:>8}\n", run, FitColumn(label, 30), status,
                     step, val_ce, attempts);
}

int StatusMain(const std::string& store_path, bool as_json, const std::string& only_sweep) {
  auto store = OpenStoreForReading(store_path);
  json out = json::array();
  std::string text;
  for (const auto& s : store->SweepSummaries()) {
    if (!only_sweep.empty() && s.name.rfind(only_sweep, 0) != 0) continue;
    json js = {{"sweep", s.name}, {"total", s.total}};
    text += fmt::format("sweep {}: {} runs", s.name, s.total);
    for (int i = 0; i < kRunStatusCount; ++i) {
      js[ToString(RunStatus(i))] = s.count[i];
      if (s.count[i]) text += fmt::format(", {} {}", s.count[i], ToString(RunStatus(i)));
    }
    text += "\n" + StatusLine("run", "label", "status", "step", "val_ce", "attempts");
    json rows = json::array();
    for (const auto& r : store->RunSummaries(s.id)) {
      text += StatusLine(r.run_id, r.label, ToString(r.status),
                         r.step ? fmt::format("{}", *r.step) : "-", Num(r.last_val_ce),
                         fmt::format("{}", r.attempts));
      rows.push_back({{"run", r.run_id},
                      {"label", r.label},
                      {"model", r.model},
                      {"status", ToString(r.status)},
                      {"step", OrNull(r.step)},
                      {"last_val_ce", OrNull(r.last_val_ce)},
                      {"attempts", r.attempts},
                      {"error", r.error}});
    }
    js["runs"] = rows;
    out.push_back(js);
  }
  std::cout << (as_json ? out.dump(2) + "\n" : text);
  return kExitOk;
}

int ShowMain(const RunRef& ref, bool as_json) {
  const std::string run_id = ResolveRun(ref).id;
  auto store = OpenStoreForReading(ref.store);
  auto run = store->GetRun(run_id);
  if (!run) throw UsageError(fmt::format("{}: no run {} ({})", ref.store, run_id, ref.run));
  const auto history = store->EvalHistory(run_id);
  if (as_json) {
    json evals = json::array();
    for (const auto& e : history)
      evals.push_back({{"step", e.step},
                       {"val_ce", OrNull(e.val_ce)},
                       {"train_ce", OrNull(e.train_ce)},
                       {"lr", OrNull(e.lr)},
                       {"grad_norm", OrNull(e.grad_norm)},
                       {"tokens", OrNull(e.tokens)},
                       {"wall_s", OrNull(e.wall_s)}});
    std::cout << json{{"run", run->id},
                      {"status", ToString(run->status)},
                      {"attempts", run->attempts},
                      {"run_dir", run->run_dir},
                      {"config", run->config},
                      {"provenance", run->provenance},
                      {"evals", evals}}
                     .dump(2)
              << "\n";
    return kExitOk;
  }
  std::string text = fmt::format("run {} ({}): {}, attempts {}, dir {}\n", run->id, run->model,
                                 ToString(run->status), run->attempts, run->run_dir);
  if (!run->error.empty()) text += fmt::format("last error: {}\n", run->error);
  text += fmt::format("config: {}\nprovenance: {}\n", run->config.dump(),
                      run->provenance.is_null() ? "-" : run->provenance.dump());
  text += fmt::format("{:>8} {:>9} {:>9} {:>10} {:>9} {:>12} {:>9}\n", "step", "val_ce", "train_ce",
                      "lr", "grad_norm", "tokens", "wall_s");
  for (const auto& e : history)
    text += fmt::format("{:>8} {:>9} {:>9} {:>10} {:>9} {:>12} {:>9}\n", e.step, Num(e.val_ce),
                        Num(e.train_ce), Num(e.lr, 7), Num(e.grad_norm, 3),
                        e.tokens ? fmt::format("{}", *e.tokens) : "-", Num(e.wall_s, 1));
  std::cout << text;
  return kExitOk;
}

}  // namespace

void RegisterSweepCommands(CLI::App& app, int* rc) {
  auto o = std::make_shared<SweepOptions>();
  CLI::App* sweep =
      app.add_subcommand("sweep", "run every run of a grid (the same command resumes)");
  sweep->add_option("grid", o->grid_path, "grid YAML file")->required()->check(CLI::ExistingFile);
  AddStoreOption(sweep, &o->store_path);
  sweep->add_option("--runs-dir", o->runs_dir, "run directories (default: <store dir>/runs)");
  sweep->add_option("--profile", o->profile, "scale profile (default: the grid's default_profile)");
  sweep->add_option("--set", o->sets, "key=value override applied after expansion (repeatable)");
  auto* dry_run =
      sweep->add_flag("--dry-run", o->dry_run, "print the expanded runs and write nothing");
  sweep
      ->add_flag("--json", o->json,
                 "with --dry-run: the runs as JSON (id, label, position, config)")
      ->needs(dry_run);
  sweep->add_option("--backend", o->backend, "local or slurm")
      ->check(CLI::IsMember({"local", "slurm"}))
      ->capture_default_str();
  sweep->add_option("--slots", o->slots, "local CPU worker slots (slurm: tasks at once)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sweep->add_option("--gpus", o->gpus, "local GPU slots, e.g. --gpus 0,1")->delimiter(',');
  sweep->add_option("--max-retries", o->max_retries, "retries of a failed run per invocation")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sweep->add_option("--threads", o->threads, "torch threads per worker (default: cores / slots)");
  sweep->add_option("--partition", o->partition, "SLURM partition");
  sweep->add_option("--time", o->time_limit, "SLURM time limit per task (HH:MM:SS)");
  sweep->add_option("--sbatch-arg", o->sbatch_args, "extra sbatch argument (repeatable)");
  sweep->add_option("--train-arg", o->train_args, "extra argument for every worker (repeatable)");
  sweep->callback([o, rc] { Guard("sweep", rc, [&] { return SweepMain(*o); }); });

  auto status_store = std::make_shared<std::string>();
  auto status_json = std::make_shared<bool>(false);
  auto status_sweep = std::make_shared<std::string>();
  CLI::App* status = app.add_subcommand("status", "pending, running, done, failed, diverged runs");
  AddStoreOption(status, status_store.get());
  status->add_option("--sweep", *status_sweep, "only sweeps whose name starts with this");
  status->add_flag("--json", *status_json, "machine-readable output");
  status->callback([=] {
    Guard("status", rc, [&] { return StatusMain(*status_store, *status_json, *status_sweep); });
  });

  auto show_ref = std::make_shared<RunRef>();
  auto show_json = std::make_shared<bool>(false);
  CLI::App* show = app.add_subcommand("show", "a run's config, provenance and eval history");
  AddRunArgument(show, show_ref.get());
  show->add_flag("--json", *show_json, "machine-readable output");
  show->callback([=] { Guard("show", rc, [&] { return ShowMain(*show_ref, *show_json); }); });
}

}  // namespace hrm
