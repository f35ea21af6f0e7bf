// How a command names its store and a run: `--store` (default $HRM_STORE,
// else runs/hrm.db) and a RUN argument that is a run directory or a run id
// of the store. One resolver for show, generate, export and reproduce.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "store/run_store.h"

namespace hrm {

// The store a command uses without --store: $HRM_STORE if set and not
// empty, else runs/hrm.db.
std::string DefaultStorePath();

// Adds `--store` to `cmd`, defaulting *store to DefaultStorePath().
CLI::Option* AddStoreOption(CLI::App* cmd, std::string* store);

// Opens an existing store for reading. Throws UsageError when `path` does
// not exist (a mistyped --store), StoreError when it is not a usable store.
std::unique_ptr<RunStore> OpenStoreForReading(const std::string& path);

// A RUN argument with the store it is looked up in.
struct RunRef {
  std::string run;
  std::string store;
};

// Adds the RUN positional and --store to `cmd`.
void AddRunArgument(CLI::App* cmd, RunRef* ref);

// What a RUN names: the run's id and its directory as recorded (which may
// not exist on this machine).
struct ResolvedRun {
  std::string id;
  std::string dir;
};

// A directory holding config.json gives its run_id; anything else is looked
// up as a run id in ref.store. Throws UsageError naming the store and RUN
// when neither works.
ResolvedRun ResolveRun(const RunRef& ref);

// ResolveRun's directory, which must exist here (generate, export, reproduce
// read its checkpoints). Throws UsageError otherwise.
std::string ResolveRunDir(const RunRef& ref);

}  // namespace hrm
