// The `hrm` command line: dispatches to the subcommands each area registers.
#include <malloc.h>

#include <iostream>

#include "experiments/provenance.h"
#include "runner/cli.h"

int main(int argc, char** argv) {
  // Training allocates the same large activation buffers every step; glibc's
  // defaults return them to the kernel each time and pay fresh page faults
  // (about 30% of an HRM step at d=128). Keep them in the heap instead.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  CLI::App app{"hrm: hierarchical vs flat iteration experiments"};
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 done, 1 runtime error, 2 bad usage, config or grid (nothing written),\n"
      "3 diverged, 130 interrupted after a checkpoint (the same command resumes).\n"
      "HRM_STORE: the store used when --store is not given (else runs/hrm.db).");
  // The version, commit and libraries of this binary (libtorch/CUDA facts come
  // from experiments/, runner itself stays torch-free).
  app.set_version_flag("--version", [] { return hrm::VersionText(); });
  int rc = hrm::kExitOk;
  hrm::RegisterConfigCommands(app, &rc);
  hrm::RegisterCoreCommands(app, &rc);
  hrm::RegisterDataCommands(app, &rc);
  hrm::RegisterFlopsCommands(app, &rc);
  hrm::RegisterGridCommands(app, &rc);
  hrm::RegisterModelCommands(app, &rc);
  hrm::RegisterReportCommands(app, &rc);
  hrm::RegisterSweepCommands(app, &rc);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : hrm::kExitUsage;
  }
  return rc;
}
