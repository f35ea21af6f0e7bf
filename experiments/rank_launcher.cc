// Each rank is a Subprocess (base/subprocess.h) that leads its own process group and dies with
// the launcher; a polling loop supervises them. The launcher's signal handler only records the
// signal, which the loop passes on.
#include "experiments/rank_launcher.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
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
#include "base/subprocess.h"

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

// Starts rank `rank`: this program again, with torchrun's variables for it. Its own process
// group: a terminal's ^C reaches the launcher alone, which passes it on once. Death signal: no
// rank outlives a killed launcher.
Subprocess StartRank(const std::vector<std::string>& args, int rank, int world_size, int port) {
  SpawnOptions o;
  o.argv = args;
  o.executable = "/proc/self/exe";  // this very binary, even if replaced on disk since
  o.env = {{"RANK", std::to_string(rank)},
           {"LOCAL_RANK", std::to_string(rank)},
           {"WORLD_SIZE", std::to_string(world_size)},
           {"LOCAL_WORLD_SIZE", std::to_string(world_size)},
           {"MASTER_ADDR", "127.0.0.1"},
           {"MASTER_PORT", std::to_string(port)}};
  o.die_with_parent = true;
  return Subprocess(o);
}

// Waits for every rank (ranks[r] empty: not running) and returns the first failure's code, or
// `result` when that is already one. A failure stops the others: SIGTERM (and SIGCONT, so that
// a stopped rank acts on it) now, SIGKILL once `grace` has passed.
int Supervise(std::vector<std::optional<Subprocess>> ranks, int result,
              std::chrono::milliseconds grace) {
  std::optional<Clock::time_point> kill_at;
  auto signal_all = [&](int sig) {
    for (auto& r : ranks)
      if (r) r->Signal(sig);
  };
  auto stop_all = [&] {
    signal_all(SIGTERM);
    signal_all(SIGCONT);
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
    for (size_t r = 0; r < ranks.size(); ++r) {
      if (!ranks[r]) continue;
      const std::optional<ExitStatus> status = ranks[r]->Poll();
      if (!status) {
        running = true;
        continue;
      }
      ranks[r].reset();
      if (status->code != 0 && result == 0) {
        if (status->code != kExitInterrupted)
          std::fprintf(stderr, "hrm train: rank %zu %s; stopping the other ranks\n", r,
                       status->Describe().c_str());
        fail(status->code);
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

  std::vector<std::optional<Subprocess>> ranks;
  int result = 0;
  for (int r = 0; r < world_size && result == 0; ++r) {
    try {
      ranks.emplace_back(StartRank(args, r, world_size, port));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "hrm train: rank %d: %s\n", r, e.what());
      result = kExitError;
    }
  }
  result = Supervise(std::move(ranks), result, grace);
  for (int i = 0; i < 3; ++i) sigaction(kForwarded[i], &previous[i], nullptr);
  return result;
}

}  // namespace hrm
