// Greedy generation, with or without the KV cache (MODEL.md §7).
#pragma once

#include <torch/torch.h>

#include "core/model.h"

namespace hrm {

// Continues prompt (B, P) int64 by max_new greedily chosen tokens (argmax of
// the last position's logits) and returns them, (B, max_new). use_cache =
// false recomputes the whole context for every token (the paper's Table 16);
// true feeds the prompt once and then one token per step through DecodeStep,
// and both choose the same tokens. Runs without autograd; prompt must be on
// the model's device. Positions may run past options().seq (RoPE extends).
// With state non-null (use_cache only) the decoding state is left there,
// e.g. for its CacheBytes(); it then holds P + max_new − 1 positions.
torch::Tensor GreedyGenerate(LanguageModelImpl& model, const torch::Tensor& prompt, int64_t max_new,
                             bool use_cache, DecodeState* state = nullptr);

}  // namespace hrm
