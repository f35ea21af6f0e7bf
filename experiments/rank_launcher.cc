// fork/exec and a polling waitpid loop, ninja-style: the children's argv and
// environment are built before fork so that the child makes only
// async-signal-safe calls; the parent's signal handler only records the
// signal, which the loop passes on.
#include "experiments/rank_launcher.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "base/exit_code.h"

extern char** environ;

namespace hrm {
namespace {

using Clock = std::chrono::steady_clock;

std::atomic<int> g_forward{0};  // a signal received, to pass on to the ranks
void OnSignal(int sig) { g_forward.store(sig); }

// This program's arguments as the kernel recorded them.
std::vector<std::string> OwnArgs() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  size_t start = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i] != '\0') continue;
    args.push_back(all.substr(start, i - start));
    start = i + 1;
  }
  return args;
}

// A port on 127.0.0.1 that is free now; rank 0's store binds it moments
// later (torchrun's standalone mode takes the same small risk).
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  const bool ok = fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  const int err = errno;
  if (fd >= 0) close(fd);
  if (!ok) throw std::runtime_error(std::string("no free TCP port: ") + std::strerror(err));
  return ntohs(addr.sin_port);
}

// This process's environment with torchrun's variables for `rank` in place.
std::vector<std::string> RankEnvironment(int rank, int world_size, int port) {
  const std::map<std::string, std::string> vars = {
      {"RANK", std::to_string(rank)},         {"LOCAL_RANK", std::to_string(rank)},
      {"WORLD_SIZE", std::to_string(world_size)}, {"LOCAL_WORLD_SIZE", std::to_string(world_size)},
      {"MASTER_ADDR", "127.0.0.1"},           {"MASTER_PORT", std::to_string(port)}};
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv(*e);
    if (vars.count(kv.substr(0, kv.find('='))) == 0) env.push_back(kv);
  }
  for (const auto& [name, value] : vars) env.push_back(name + "=" + value);
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Returns the child's pid, or -1 when fork fails.
pid_t StartRank(std::vector<std::string> args, std::vector<std::string> env) {
  std::vector<char*> argv = CStrings(args), envp = CStrings(env);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid != 0) return pid;
  // Own process group: a terminal's ^C reaches the launcher alone, which
  // passes it on once. Death signal: no rank outlives a killed launcher.
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(kExitError);
  const int devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0) dup2(devnull, STDIN_FILENO);
  execve("/proc/self/exe", argv.data(), envp.data());
  _exit(127);
}

int ExitCodeOf(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string Describe(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
         strsignal(WTERMSIG(status)) + ")";
}

// Waits for every rank (pids[r] < 0: not running) and returns the first
// failure's code, or `result` when that is already one. A failure stops the
// others: SIGTERM now, SIGKILL once `grace` has passed.
int Supervise(std::vector<pid_t> pids, int result, std::chrono::milliseconds grace) {
  std::optional<Clock::time_point> kill_at;
  auto signal_all = [&](int sig) {
    for (pid_t pid : pids)
      if (pid > 0) kill(pid, sig);
  };
  auto stop_all = [&] {
    signal_all(SIGTERM);
    signal_all(SIGCONT);  // a stopped (hung) rank must wake to act on it
    kill_at = Clock::now() + grace;
  };
  auto fail = [&](int code) {
    if (result != 0) return;
    result = code;
    stop_all();
  };
  if (result != 0) stop_all();  // not every rank could be started
  for (;;) {
    if (const int sig = g_forward.exchange(0)) signal_all(sig);
    bool running = false;
    for (size_t r = 0; r < pids.size(); ++r) {
      if (pids[r] <= 0) continue;
      int status = 0;
      const pid_t got = waitpid(pids[r], &status, WNOHANG);
      if (got == 0 || (got < 0 && errno == EINTR)) {
        running = true;
        continue;
      }
      pids[r] = -1;
      if (got < 0) {
        std::perror("hrm train: waitpid");
        fail(kExitError);
      } else if (ExitCodeOf(status) != 0 && result == 0) {
        if (ExitCodeOf(status) != kExitInterrupted)
          std::fprintf(stderr, "hrm train: rank %zu %s; stopping the other ranks\n", r,
                       Describe(status).c_str());
        fail(ExitCodeOf(status));
      }
    }
    if (!running) return result;
    if (kill_at && Clock::now() >= *kill_at) {
      signal_all(SIGKILL);
      kill_at.reset();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

int LaunchRanks(int world_size, std::chrono::milliseconds grace) {
  const std::vector<std::string> args = OwnArgs();
  int port = 0;
  try {
    port = FreePort();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hrm train: %s\n", e.what());
    return kExitError;
  }
  const int kForwarded[] = {SIGINT, SIGTERM, SIGUSR1};
  struct sigaction on_signal = {}, previous[3];
  on_signal.sa_handler = OnSignal;
  sigemptyset(&on_signal.sa_mask);
  for (int i = 0; i < 3; ++i) sigaction(kForwarded[i], &on_signal, &previous[i]);

  std::vector<pid_t> pids;
  int result = 0;
  for (int r = 0; r < world_size && result == 0; ++r) {
    pids.push_back(StartRank(args, RankEnvironment(r, world_size, port)));
    if (pids.back() < 0) {
      std::perror("hrm train: fork");
      result = kExitError;
    }
  }
  result = Supervise(pids, result, grace);
  for (int i = 0; i < 3; ++i) sigaction(kForwarded[i], &previous[i], nullptr);
  return result;
}

}  // namespace hrm
