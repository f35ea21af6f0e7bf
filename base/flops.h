// Matmul FLOPs of one training iteration of the model a resolved config
// describes, counted from the architecture (MODEL.md §1–4) without building
// it. Torch-free, so that `hrm flops` can match configs in training cost
// (the paper's EqualFLOPs, Table 7) for a 3B model instantly.
//
// Conventions: a matmul of (m×k)·(k×n) costs 2·m·n·k. Counted: every
// projection, the attention scores (Q·Kᵀ) and their weighting of V over all
// n² query/key pairs (as the paper's Table 4 does; causal kernels skip half),
// HRM's injection, gate and fusion projections over the full concatenated
// contexts c_L, c_H (as MODEL.md writes them), and the LM head. Not counted:
// norms, activations, softmax, gates' elementwise mixing, the embedding
// lookup and the optimizer. The backward of a matmul that has a graph costs
// twice its forward; steps run without autograd (the M−K steps before HRM's
// and UniTF's gradient window) cost their forward only.
#pragma once

#include <cstdint>
#include <string>

#include "base/config.h"

namespace hrm {

// Forward FLOPs of one CausalAttnBlock over one sequence of n tokens at
// width d: 2·n·16d² for the projections plus 4·n²·d for scores and values.
int64_t BlockForwardFlops(int64_t n, int64_t d);

// FLOPs per sequence and per optimizer step.
struct FlopCount {
  int64_t seq = 0;        // n
  int64_t sequences = 0;  // sequences per optimizer step: batch · grad_accum · world_size
  int64_t block_applications = 0;       // CausalAttnBlock forwards per sequence (all S passes)
  int64_t block_applications_grad = 0;  // ... of which run with autograd (and get a backward)
  int64_t head_applications = 0;        // LM head forwards per sequence (S for hrm, else 1)
  int64_t forward_per_seq = 0;          // all forward matmuls of one sequence
  int64_t backward_per_seq = 0;         // 2 × the forward matmuls that have a graph
  int64_t forward = 0;                  // forward_per_seq · sequences
  int64_t backward = 0;                 // backward_per_seq · sequences
  int64_t total() const { return forward + backward; }
  // FLOPs per token trained on: total / (sequences · n).
  double per_token() const;
};

// Training FLOPs of a resolved config (see ResolveConfig). Throws ConfigError
// for a model family it does not know.
FlopCount CountTrainFlops(const json& resolved);

// The count as JSON (the fields above and the config's shape), as `hrm flops
// --json` prints it.
json FlopsJson(const json& resolved, const FlopCount& flops);

// One human-readable line, e.g. "hrm N=4 T=3 K=2 S=1 d=4096 n=1024: 19.9 TFLOP/seq
// (fwd 13.2 TFLOP + bwd 6.68 TFLOP), 1.43 PFLOP/iter over 72 seqs".
std::string FlopsLine(const json& resolved, const FlopCount& flops);

}  // namespace hrm
