// Each worker is a Subprocess leading its own process group (as ninja runs commands), so a
// signal reaches the worker and every rank it started, and the terminal's Ctrl-C reaches only
// the runner, which decides. Its output is appended to the run's worker.log.
#include "runner/local_backend.h"

#include <signal.h>

#include <stdexcept>

#include "base/run_dir.h"

namespace hrm {

LocalBackend::LocalBackend(LocalBackendOptions options) : options_(std::move(options)) {
  const size_t n =
      options_.gpus.empty() ? size_t(std::max(1, options_.slots)) : options_.gpus.size();
  slot_busy_.assign(n, false);
}

LocalBackend::~LocalBackend() {
  KillAll();
  workers_.clear();  // each Subprocess reaps its worker
}

int LocalBackend::FreeSlots() const {
  int free = 0;
  for (bool b : slot_busy_) free += !b;
  return free;
}

void LocalBackend::Start(const WorkerSpec& spec) {
  std::vector<int> slots;
  for (size_t i = 0; i < slot_busy_.size() && int(slots.size()) < spec.ranks; ++i)
    if (!slot_busy_[i]) slots.push_back(int(i));
  if (int(slots.size()) < spec.ranks)
    throw std::logic_error("LocalBackend::Start without enough free slots");

  SpawnOptions o;
  o.argv = spec.argv;
  o.output_file = WorkerLogFileName(spec.run_dir);
  o.unset_env = {"CUDA_VISIBLE_DEVICES"};
  if (!options_.gpus.empty()) {
    std::string devices;
    for (int s : slots) devices += (devices.empty() ? "" : ",") + std::to_string(options_.gpus[s]);
    o.env["CUDA_VISIBLE_DEVICES"] = devices;
  }
  Subprocess process(o);
  for (int s : slots) slot_busy_[s] = true;
  workers_.push_back({spec.run_id, std::move(slots), std::move(process)});
}

std::vector<WorkerExit> LocalBackend::Reap() {
  std::vector<WorkerExit> out;
  for (auto it = workers_.begin(); it != workers_.end();) {
    const std::optional<ExitStatus> status = it->process.Poll();
    if (!status) {
      ++it;
      continue;
    }
    WorkerExit e;
    e.run_id = it->run_id;
    e.exit_code = status->code;
    if (status->signal != 0) e.detail = "killed by signal " + std::to_string(status->signal);
    // Ranks a dead launcher left behind must not outlive it.
    it->process.Signal(SIGKILL);
    for (int s : it->slots) slot_busy_[s] = false;
    it = workers_.erase(it);
    out.push_back(std::move(e));
  }
  return out;
}

void LocalBackend::StopAll() {
  for (auto& w : workers_) w.process.Signal(SIGTERM);
}

void LocalBackend::KillAll() {
  for (auto& w : workers_) w.process.Signal(SIGKILL);
}

}  // namespace hrm
