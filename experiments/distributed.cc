// Rendezvous goes through torch's c10d stores (in every libtorch build) so
// that Gloo and NCCL share one mechanism; the collectives themselves are in
// core/gloo_communicator.cc and core/nccl_communicator.cc.
#include "experiments/distributed.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#ifdef HRM_HAVE_GLOO
#include "core/gloo_communicator.h"
#endif
#ifdef HRM_HAVE_NCCL
#include "core/nccl_communicator.h"
#endif

namespace hrm {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> Env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

int EnvInt(const char* name, int fallback, int min, int max) {
  const std::optional<std::string> text = Env(name);
  if (!text) return fallback;
  size_t used = 0;
  long value = 0;
  try {
    value = std::stol(*text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text->size() || value < min || value > max)
    throw std::runtime_error(std::string(name) + "=" + *text + ": expected an integer in [" +
                             std::to_string(min) + ", " + std::to_string(max) + "]");
  return int(value);
}

// Gloo binds each rank's listening socket to this address; peers connect to
// it. Loopback when all ranks share this machine, else this host's name.
std::string BindHost(const RankEnv& env) {
  if (env.local_world_size == env.world_size || env.master_addr == "127.0.0.1" ||
      env.master_addr == "localhost")
    return "127.0.0.1";
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return name;
}

c10::intrusive_ptr<c10d::Store> MakeStore(const RankEnv& env, const std::string& run_dir,
                                          std::chrono::milliseconds timeout) {
  if (!env.master_addr.empty() && env.master_port > 0) {
    c10d::TCPStoreOptions opts;
    opts.port = uint16_t(env.master_port);
    opts.isServer = env.rank == 0;
    opts.numWorkers = size_t(env.world_size);
    opts.waitWorkers = false;  // the communicator's rendezvous waits, with its timeout
    opts.timeout = timeout;
    return c10::make_intrusive<c10d::TCPStore>(env.master_addr, opts);
  }
  if (std::optional<std::string> id = Env("HRM_RENDEZVOUS_ID")) {
    const fs::path dir = fs::path(run_dir) / "rendezvous";
    fs::create_directories(dir);
    return c10::make_intrusive<c10d::FileStore>((dir / *id).string(), env.world_size);
  }
  throw std::runtime_error("WORLD_SIZE=" + std::to_string(env.world_size) +
                           ": no rendezvous: set MASTER_ADDR and MASTER_PORT (TCP store) or "
                           "HRM_RENDEZVOUS_ID (a file store in " +
                           run_dir + "/rendezvous/)");
}

}  // namespace

std::optional<RankEnv> RankEnvFromEnvironment() {
  if (!Env("RANK")) return std::nullopt;
  RankEnv e;
  e.world_size = EnvInt("WORLD_SIZE", 1, 1, 1 << 20);
  e.rank = EnvInt("RANK", 0, 0, e.world_size - 1);
  e.local_world_size = EnvInt("LOCAL_WORLD_SIZE", e.world_size, 1, e.world_size);
  e.local_rank = EnvInt("LOCAL_RANK", e.rank, 0, e.local_world_size - 1);
  e.master_addr = Env("MASTER_ADDR").value_or("");
  e.master_port = EnvInt("MASTER_PORT", 0, 1, 65535);
  return e;
}

std::chrono::milliseconds DistTimeout() {
  const std::optional<std::string> text = Env("HRM_DIST_TIMEOUT");
  if (!text) return std::chrono::seconds(60);
  char* end = nullptr;
  const double seconds = std::strtod(text->c_str(), &end);
  if (end != text->c_str() + text->size() || !(seconds > 0))
    throw std::runtime_error("HRM_DIST_TIMEOUT=" + *text + ": expected seconds > 0");
  return std::chrono::milliseconds(int64_t(seconds * 1000));
}

std::unique_ptr<Communicator> CommunicatorFromEnv(const std::string& run_dir,
                                                  torch::Device device) {
  const std::optional<RankEnv> env = RankEnvFromEnvironment();
  if (!env || env->world_size == 1) return nullptr;
  const std::chrono::milliseconds timeout = DistTimeout();
  c10::intrusive_ptr<c10d::Store> store = MakeStore(*env, run_dir, timeout);
  if (device.is_cuda()) {
#ifdef HRM_HAVE_NCCL
    return std::make_unique<NcclCommunicator>(store, env->rank, env->world_size, device, timeout);
#else
    throw std::runtime_error("device " + device.str() +
                             ": this build has no NCCL, so CUDA ranks cannot communicate");
#endif
  }
#ifdef HRM_HAVE_GLOO
  return std::make_unique<GlooCommunicator>(store, env->rank, env->world_size, BindHost(*env),
                                            timeout);
#else
  throw std::runtime_error(
      "this build has no Gloo (install libgloo-dev and rebuild), so CPU "
      "ranks cannot communicate");
#endif
}

}  // namespace hrm
