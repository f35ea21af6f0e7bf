// posix_spawn with POSIX_SPAWN_SETPGROUP (as ninja): each worker leads its
// own process group, so a signal reaches the worker and every rank it
// started, and the terminal's Ctrl-C reaches only the runner, which decides.
#include "runner/local_backend.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace hrm {

LocalBackend::LocalBackend(LocalBackendOptions options) : options_(std::move(options)) {
  const size_t n = options_.gpus.empty() ? size_t(std::max(1, options_.slots)) : options_.gpus.size();
  slot_busy_.assign(n, false);
}

LocalBackend::~LocalBackend() {
  KillAll();
  while (!workers_.empty()) Reap();
}

int LocalBackend::FreeSlots() const {
  int free = 0;
  for (bool b : slot_busy_) free += !b;
  return free;
}

void LocalBackend::Start(const WorkerSpec& spec) {
  Worker w{spec.run_id, {}};
  for (size_t i = 0; i < slot_busy_.size() && int(w.slots.size()) < spec.ranks; ++i)
    if (!slot_busy_[i]) w.slots.push_back(int(i));
  if (int(w.slots.size()) < spec.ranks)
    throw std::logic_error("LocalBackend::Start without enough free slots");

  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "CUDA_VISIBLE_DEVICES=", 21) == 0) continue;
    env_strings.emplace_back(*e);
  }
  if (!options_.gpus.empty()) {
    std::string devices;
    for (int s : w.slots) devices += (devices.empty() ? "" : ",") + std::to_string(options_.gpus[s]);
    env_strings.push_back("CUDA_VISIBLE_DEVICES=" + devices);
  }
  std::vector<char*> envp, argv;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = spec.argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);

  const std::string log_path = spec.run_dir + "/worker.log";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGINT, SIGTERM, SIGUSR1, SIGPIPE, SIGCHLD}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETSIGMASK);
  pid_t pid = 0;
  int err = posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (err != 0)
    throw std::runtime_error(std::string("cannot start ") + argv[0] + ": " + std::strerror(err));
  for (int s : w.slots) slot_busy_[s] = true;
  workers_.emplace(pid, std::move(w));
}

std::vector<WorkerExit> LocalBackend::Reap() {
  std::vector<WorkerExit> out;
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid < 0 && errno == EINTR) continue;
    if (pid <= 0) break;
    auto it = workers_.find(pid);
    if (it == workers_.end()) continue;  // not ours (e.g. a popen child)
    WorkerExit e;
    e.run_id = it->second.run_id;
    if (WIFEXITED(status)) {
      e.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      e.exit_code = 128 + WTERMSIG(status);
      e.detail = "killed by signal " + std::to_string(WTERMSIG(status));
    }
    // Ranks a dead launcher left behind must not outlive it.
    ::kill(-pid, SIGKILL);
    for (int s : it->second.slots) slot_busy_[s] = false;
    workers_.erase(it);
    out.push_back(std::move(e));
  }
  return out;
}

void LocalBackend::StopAll() {
  for (const auto& [pid, w] : workers_) ::kill(-pid, SIGTERM);
}

void LocalBackend::KillAll() {
  for (const auto& [pid, w] : workers_) ::kill(-pid, SIGKILL);
}

}  // namespace hrm
