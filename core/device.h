// Where a run computes and in which precision, decided once from its config
// (and its rank) and handed to the trainer and the protocols, so that no
// other code parses `device` or applies the bf16 rule.
#pragma once

#include <torch/torch.h>

#include <string>

#include "base/config.h"

namespace hrm {

struct Placement {
  // Always indexed when CUDA: cuda:LOCAL_RANK for a rank, cuda:0 for "cuda"
  // or "auto" in a single process.
  torch::Device device = torch::kCPU;
  // Matmuls in bf16 under autocast with fp32 master weights (training,
  // evaluation): dtype bf16, or dtype auto on CUDA.
  bool bf16_autocast = false;
  // The dtype the measuring protocols (latency, genspeed) hold the weights in
  // (key measure_weights; default bf16 where bf16_autocast, the paper's bf16
  // model). Training keeps fp32 master weights: always kFloat for it.
  torch::Dtype weights = torch::kFloat;

  // Whether a protocol's forward runs under autocast: bf16 compute over fp32
  // weights (measure_weights=fp32 with bf16_autocast).
  bool protocol_autocast() const { return bf16_autocast && weights == torch::kFloat; }
};

// The device a `device` value names: auto = cuda:LOCAL_RANK (cuda:0 when
// local_rank < 0, a single process) if CUDA is available, else cpu; cuda =
// the same without the fallback; cuda:N as given; cpu. Throws ConfigError
// naming the key `device` for a malformed name, and for a CUDA device that
// this build or this machine does not have.
torch::Device ResolveDevice(const std::string& name, int local_rank = -1);

// The placement of a resolved config, for a single process (local_rank -1)
// or one rank of several. Throws ConfigError as ResolveDevice does.
Placement ResolvePlacement(const json& config, int local_rank = -1);

}  // namespace hrm
