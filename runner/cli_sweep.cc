// `hrm sweep`, `hrm status`, `hrm show`: running sweeps and looking at them.
#include <cstdio>
#include <iostream>
#include <sstream>

#include "runner/cli.h"
#include "runner/sweep.h"
#include "store/run_store.h"

namespace hrm {
namespace {

std::string Num(const std::optional<double>& v, int digits = 4) {
  if (!v) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, *v);
  return buf;
}

std::string Int(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "-"; }

int StatusMain(const std::string& store_path, bool as_json, const std::string& only_sweep) {
  auto store = RunStore::Open(store_path, RunStore::Mode::kReadOnly);
  json out = json::array();
  std::ostringstream text;
  for (const auto& s : store->SweepSummaries()) {
    if (!only_sweep.empty() && s.name.rfind(only_sweep, 0) != 0) continue;
    json js = {{"sweep", s.name}, {"total", s.total}};
    text << "sweep " << s.name << ": " << s.total << " runs";
    for (int i = 0; i < kRunStatusCount; ++i) {
      js[ToString(RunStatus(i))] = s.count[i];
      if (s.count[i]) text << ", " << s.count[i] << " " << ToString(RunStatus(i));
    }
    text << "\n";
    char head[160];
    std::snprintf(head, sizeof head, "  %-12s %-30s %-11s %7s %8s %8s\n", "run", "label", "status",
                  "step", "val_ce", "attempts");
    text << head;
    json rows = json::array();
    for (const auto& r : store->RunSummaries(s.id)) {
      char line[200];
      std::snprintf(line, sizeof line, "  %-12s %-30.30s %-11s %7s %8s %8lld\n", r.run_id.c_str(),
                    r.label.c_str(), ToString(r.status), Int(r.step).c_str(),
                    Num(r.last_val_ce).c_str(), (long long)r.attempts);
      text << line;
      rows.push_back({{"run", r.run_id},
                      {"label", r.label},
                      {"model", r.model},
                      {"status", ToString(r.status)},
                      {"step", r.step ? json(*r.step) : json(nullptr)},
                      {"last_val_ce", r.last_val_ce ? json(*r.last_val_ce) : json(nullptr)},
                      {"attempts", r.attempts},
                      {"error", r.error}});
    }
    js["runs"] = rows;
    out.push_back(js);
  }
  if (as_json)
    std::cout << out.dump(2) << "\n";
  else
    std::cout << text.str();
  return kExitOk;
}

int ShowMain(const std::string& store_path, const std::string& run_id, bool as_json) {
  auto store = RunStore::Open(store_path, RunStore::Mode::kReadOnly);
  auto run = store->GetRun(run_id);
  if (!run) {
    std::cerr << "hrm show: " << store_path << ": no run " << run_id << "\n";
    return kExitUsage;
  }
  json evals = json::array();
  for (const auto& e : store->EvalHistory(run_id)) {
    json row = {{"step", e.step}};
    auto put = [&](const char* k, const std::optional<double>& v) { row[k] = v ? json(*v) : json(nullptr); };
    put("val_ce", e.val_ce);
    put("train_ce", e.train_ce);
    put("lr", e.lr);
    put("grad_norm", e.grad_norm);
    row["tokens"] = e.tokens ? json(*e.tokens) : json(nullptr);
    put("wall_s", e.wall_s);
    evals.push_back(row);
  }
  if (as_json) {
    std::cout << json{{"run", run->id},          {"status", ToString(run->status)},
                      {"attempts", run->attempts}, {"run_dir", run->run_dir},
                      {"config", run->config},   {"provenance", run->provenance},
                      {"evals", evals}}
                     .dump(2)
              << "\n";
    return kExitOk;
  }
  std::cout << "run " << run->id << " (" << run->model << "): " << ToString(run->status)
            << ", attempts " << run->attempts << ", dir " << run->run_dir << "\n";
  if (!run->error.empty()) std::cout << "last error: " << run->error << "\n";
  std::cout << "config: " << run->config.dump() << "\n";
  std::cout << "provenance: " << (run->provenance.is_null() ? "-" : run->provenance.dump()) << "\n";
  std::printf("%8s %9s %9s %10s %9s %12s %9s\n", "step", "val_ce", "train_ce", "lr", "grad_norm",
              "tokens", "wall_s");
  for (const auto& e : evals)
    std::printf("%8lld %9s %9s %10s %9s %12s %9s\n", (long long)e["step"].get<int64_t>(),
                e["val_ce"].is_null() ? "-" : Num(e["val_ce"].get<double>()).c_str(),
                e["train_ce"].is_null() ? "-" : Num(e["train_ce"].get<double>()).c_str(),
                e["lr"].is_null() ? "-" : Num(e["lr"].get<double>(), 7).c_str(),
                e["grad_norm"].is_null() ? "-" : Num(e["grad_norm"].get<double>(), 3).c_str(),
                e["tokens"].is_null() ? "-" : std::to_string(e["tokens"].get<int64_t>()).c_str(),
                e["wall_s"].is_null() ? "-" : Num(e["wall_s"].get<double>(), 1).c_str());
  return kExitOk;
}

}  // namespace

void RegisterSweepCommands(CLI::App& app, int* rc) {
  auto o = std::make_shared<SweepOptions>();
  CLI::App* sweep = app.add_subcommand("sweep", "run every run of a grid (the same command resumes)");
  sweep->add_option("grid", o->grid_path, "grid YAML file")->required()->check(CLI::ExistingFile);
  sweep->add_option("--store", o->store_path, "SQLite store")->capture_default_str();
  sweep->add_option("--runs-dir", o->runs_dir, "run directories (default: <store dir>/runs)");
  sweep->add_option("--profile", o->profile, "scale profile: paper, mini, smoke, ...");
  sweep->add_option("--set", o->sets, "key=value override applied after expansion (repeatable)");
  sweep->add_flag("--dry-run", o->dry_run, "print the expanded runs and write nothing");
  sweep->add_option("--backend", o->backend, "local or slurm")->capture_default_str();
  sweep->add_option("--slots", o->slots, "local CPU worker slots")->capture_default_str();
  sweep->add_option("--gpus", o->gpus, "local GPU slots, e.g. --gpus 0,1")->delimiter(',');
  sweep->add_option("--max-retries", o->max_retries, "retries of a failed run per invocation")->capture_default_str();
  sweep->add_option("--threads", o->threads, "torch threads per worker (default: cores / slots)");
  sweep->add_option("--partition", o->partition, "SLURM partition");
  sweep->add_option("--time", o->time_limit, "SLURM time limit per task (HH:MM:SS)");
  sweep->add_option("--sbatch-arg", o->sbatch_args, "extra sbatch argument (repeatable)");
  sweep->add_option("--train-arg", o->train_args, "extra argument for every worker (repeatable)");
  sweep->callback([o, rc] { Guard("sweep", rc, [&] { return SweepMain(*o); }); });

  auto status_store = std::make_shared<std::string>("runs/hrm.db");
  auto status_json = std::make_shared<bool>(false);
  auto status_sweep = std::make_shared<std::string>();
  CLI::App* status = app.add_subcommand("status", "pending, running, done, failed, diverged runs");
  status->add_option("--store", *status_store, "SQLite store")->capture_default_str();
  status->add_option("--sweep", *status_sweep, "only sweeps whose name starts with this");
  status->add_flag("--json", *status_json, "machine-readable output");
  status->callback([=] {
    Guard("status", rc, [&] { return StatusMain(*status_store, *status_json, *status_sweep); });
  });

  auto show_store = std::make_shared<std::string>("runs/hrm.db");
  auto show_run = std::make_shared<std::string>();
  auto show_json = std::make_shared<bool>(false);
  CLI::App* show = app.add_subcommand("show", "a run's config, provenance and eval history");
  show->add_option("run", *show_run, "run id")->required();
  show->add_option("--store", *show_store, "SQLite store")->capture_default_str();
  show->add_flag("--json", *show_json, "machine-readable output");
  show->callback([=] { Guard("show", rc, [&] { return ShowMain(*show_store, *show_run, *show_json); }); });
}

}  // namespace hrm
