// Batches of token windows drawn by a counter-based RNG: the offsets of a
// batch are a pure function of (seed, step, micro-batch), so a resumed run
// sees exactly the batches an uninterrupted run would have seen. Ranks of a
// data-parallel run draw micro-batch rank*grad_accum + i: disjoint per rank,
// and W ranks x A micro-batches see the same global batch as 1 x W*A.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <utility>

namespace hrm {

// The stateless 64-bit mixer behind every draw (splitmix64 finaliser).
uint64_t MixKey(uint64_t a, uint64_t b);

class BatchSampler {
 public:
  // tokens must outlive the sampler; n_tokens > seq + 1.
  BatchSampler(const uint16_t* tokens, int64_t n_tokens, int64_t seq, int64_t batch);

  // Inputs and next-token targets, each (batch, seq) int64 on CPU.
  std::pair<torch::Tensor, torch::Tensor> Train(uint64_t seed, int64_t step,
                                                int64_t global_micro) const;
  // The i-th fixed validation batch: the same for every run and evaluation
  // with the same seq and batch, so curves are comparable across runs.
  std::pair<torch::Tensor, torch::Tensor> Fixed(int64_t i) const;

 private:
  std::pair<torch::Tensor, torch::Tensor> Gather(uint64_t key) const;
  const uint16_t* tokens_;
  int64_t n_tokens_, seq_, batch_;
};

}  // namespace hrm
