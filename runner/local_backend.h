// Workers as child processes on this machine: N slots, each a CPU process or
// a GPU (CUDA_VISIBLE_DEVICES). A run of W ranks takes W slots.
#pragma once

#include <list>
#include <string>
#include <vector>

#include "base/subprocess.h"
#include "runner/backend.h"

namespace hrm {

struct LocalBackendOptions {
  int slots = 1;          // CPU slots (ignored when gpus is not empty)
  std::vector<int> gpus;  // one slot per GPU id
};

class LocalBackend : public Backend {
 public:
  explicit LocalBackend(LocalBackendOptions options);
  ~LocalBackend() override;  // kills what is still running

  int FreeSlots() const override;
  void Start(const WorkerSpec& spec) override;
  std::vector<WorkerExit> Reap() override;
  void StopAll() override;
  void KillAll() override;
  int Running() const override { return int(workers_.size()); }

 private:
  struct Worker {
    std::string run_id;
    std::vector<int> slots;
    Subprocess process;  // leads its own group: the worker and every rank it started
  };
  LocalBackendOptions options_;
  std::vector<bool> slot_busy_;
  std::list<Worker> workers_;
};

}  // namespace hrm
