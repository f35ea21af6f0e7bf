// Autoregressive generation, greedy or sampled, with or without the KV cache
// (MODEL.md §7).
#pragma once

#include <torch/torch.h>

#include <functional>

#include "core/model.h"

namespace hrm {

struct SampleOptions {
  double temperature = 0;  // 0: greedy (argmax); else softmax(logits / temperature)
  int64_t top_k = 0;       // > 0: sample among the k most likely tokens only
  uint64_t seed = 0;       // of the sampling generator: same seed, same tokens
  bool use_cache = true;   // false: recompute the whole context for every token
};

// Called with each chosen token (B, 1) as soon as it is known; returning
// false stops generation there.
using TokenCallback = std::function<bool(const torch::Tensor& next)>;

// Continues prompt (B, P) int64 by up to max_new tokens and returns them,
// (B, generated). Without the cache the whole context is recomputed for each
// token (the paper's Table 16); with it, the prompt is fed once and then one
// token per step through DecodeStep; under greedy decoding both choose the
// same tokens. Runs without autograd; prompt must be on the model's device.
// Positions may run past options().seq (RoPE extends). With state non-null
// (use_cache only) the decoding state is left there, e.g. for CacheBytes().
torch::Tensor Generate(LanguageModelImpl& model, const torch::Tensor& prompt, int64_t max_new,
                       const SampleOptions& options, const TokenCallback& on_token = nullptr,
                       DecodeState* state = nullptr);

// Generate with temperature 0.
torch::Tensor GreedyGenerate(LanguageModelImpl& model, const torch::Tensor& prompt, int64_t max_new,
                             bool use_cache, DecodeState* state = nullptr);

}  // namespace hrm
