#include "runner/cli_run.h"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>

#include "base/atomic_file.h"
#include "base/run_dir.h"
#include "runner/cli_errors.h"

namespace hrm {
namespace {

namespace fs = std::filesystem;

// The run id a run directory's config.json records.
std::string RunIdOfDir(const fs::path& dir) {
  const fs::path file = RunConfigFileName(dir.string());
  const json config = json::parse(ReadFile(file.string()), nullptr, false);
  if (!config.is_object() || !config.contains("run_id") || !config["run_id"].is_string())
    throw UsageError(fmt::format("{}: not a run's config (no run_id)", file.string()));
  return config["run_id"].get<std::string>();
}

}  // namespace

std::string DefaultStorePath() {
  const char* env = std::getenv("HRM_STORE");
  return env && *env ? env : "runs/hrm.db";
}

CLI::Option* AddStoreOption(CLI::App* cmd, std::string* store) {
  *store = DefaultStorePath();
  return cmd->add_option("--store", *store, "SQLite store (default: $HRM_STORE, else runs/hrm.db)");
}

std::unique_ptr<RunStore> OpenStoreForReading(const std::string& path) {
  if (!fs::exists(path))
    throw UsageError(
        fmt::format("store {} does not exist (pass --store FILE or set HRM_STORE)", path));
  return RunStore::Open(path, RunStore::Mode::kReadOnly);
}

void AddRunArgument(CLI::App* cmd, RunRef* ref) {
  cmd->add_option("run", ref->run, "run id (looked up in --store) or run directory")->required();
  AddStoreOption(cmd, &ref->store);
}

ResolvedRun ResolveRun(const RunRef& ref) {
  const fs::path path(ref.run);
  if (fs::is_regular_file(RunConfigFileName(path.string()))) return {RunIdOfDir(path), ref.run};
  if (fs::is_directory(path))
    throw UsageError(fmt::format("{}: not a run directory (no config.json)", ref.run));
  if (!fs::exists(ref.store))
    throw UsageError(fmt::format(
        "{} is neither a run directory nor a run id of a store ({} does not exist; pass --store)",
        ref.run, ref.store));
  auto row = RunStore::Open(ref.store, RunStore::Mode::kReadOnly)->GetRun(ref.run);
  if (!row)
    throw UsageError(
        fmt::format("{}: no run {} (and no directory of that name)", ref.store, ref.run));
  return {row->id, row->run_dir};
}

std::string ResolveRunDir(const RunRef& ref) {
  const ResolvedRun run = ResolveRun(ref);
  if (run.dir.empty() || !fs::exists(RunConfigFileName(run.dir)))
    throw UsageError(fmt::format("run {} of {}: its directory {} is not on this machine", run.id,
                                 ref.store, run.dir.empty() ? "(none recorded)" : run.dir));
  return run.dir;
}

}  // namespace hrm
