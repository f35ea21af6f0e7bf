#include "core/batch_sampler.h"

#include <stdexcept>
#include <string>

namespace hrm {

uint64_t MixKey(uint64_t a, uint64_t b) {
  uint64_t z = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

BatchSampler::BatchSampler(const uint16_t* tokens, int64_t n_tokens, int64_t seq, int64_t batch)
    : tokens_(tokens), n_tokens_(n_tokens), seq_(seq), batch_(batch) {
  if (n_tokens_ <= seq_ + 1)
    throw std::runtime_error("data: " + std::to_string(n_tokens_) +
                             " tokens are too few for seq = " + std::to_string(seq_));
}

std::pair<torch::Tensor, torch::Tensor> BatchSampler::Gather(uint64_t key) const {
  auto x = torch::empty({batch_, seq_}, torch::kLong);
  auto y = torch::empty({batch_, seq_}, torch::kLong);
  int64_t* xp = x.data_ptr<int64_t>();
  int64_t* yp = y.data_ptr<int64_t>();
  const uint64_t range = uint64_t(n_tokens_ - seq_ - 1);
  for (int64_t b = 0; b < batch_; ++b) {
    const uint16_t* w = tokens_ + MixKey(key, uint64_t(b)) % range;
    for (int64_t t = 0; t < seq_; ++t) {
      xp[b * seq_ + t] = w[t];
      yp[b * seq_ + t] = w[t + 1];
    }
  }
  return {x, y};
}

std::pair<torch::Tensor, torch::Tensor> BatchSampler::Train(uint64_t seed, int64_t step,
                                                            int64_t global_micro) const {
  uint64_t key = MixKey(MixKey(seed, uint64_t(step)), uint64_t(global_micro));
  return Gather(key);
}

std::pair<torch::Tensor, torch::Tensor> BatchSampler::Fixed(int64_t i) const {
  // A stream no training key reaches (seed-independent on purpose).
  return Gather(MixKey(0xFEEDFACEull, uint64_t(i)));
}

}  // namespace hrm
