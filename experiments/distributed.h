// The ranks of a data-parallel run as torchrun describes them in the
// environment: which rank this process is, its device, where the ranks meet,
// and the communicator they share.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "core/communicator.h"

namespace hrm {

// One rank, as torchrun's environment variables describe it.
struct RankEnv {
  int rank = 0;              // RANK
  int world_size = 1;        // WORLD_SIZE
  int local_rank = 0;        // LOCAL_RANK (default RANK)
  int local_world_size = 1;  // LOCAL_WORLD_SIZE (default WORLD_SIZE)
  std::string master_addr;   // MASTER_ADDR ("" when unset)
  int master_port = 0;       // MASTER_PORT (0 when unset)
};

// Reads the variables above. Returns nullopt when RANK is unset (a plain
// process, or the launcher of the ranks). Throws std::runtime_error naming
// the variable when one is malformed or out of range.
std::optional<RankEnv> RankEnvFromEnvironment();

// Time allowed for the rendezvous and for each collective:
// $HRM_DIST_TIMEOUT seconds (fractions allowed), default 60.
std::chrono::milliseconds DistTimeout();

// This rank's communicator, or null when WORLD_SIZE is unset or 1. The ranks
// meet in a TCP store at MASTER_ADDR:MASTER_PORT (rank 0 serves it) when both
// are set, else in a file store run_dir/rendezvous/$HRM_RENDEZVOUS_ID (a
// shared filesystem; the id must be new for every launch). Gloo serves a CPU
// device, NCCL a CUDA one. Throws std::runtime_error when no rendezvous is
// named, the backend was not built, or a rank does not arrive in time.
std::unique_ptr<Communicator> CommunicatorFromEnv(const std::string& run_dir, torch::Device device);

}  // namespace hrm
