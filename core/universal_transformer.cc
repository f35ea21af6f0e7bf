#include "core/universal_transformer.h"

namespace hrm {

UniversalTransformerImpl::UniversalTransformerImpl(const ModelOptions& o) : LanguageModelImpl(o) {
  TORCH_CHECK(o.M >= 1 && o.K >= 1 && o.K <= o.M, "unitf: need 1 <= K <= M, got K = ", o.K,
              ", M = ", o.M);
  wte = register_parameter("wte", torch::empty({o.vocab, o.d}).normal_(0, o.init_std));
  const BlockInitStd init = BlockInit(o, /*applications=*/o.M, /*shared=*/true);
  block = register_module("block", CausalAttnBlock(o.d, o.heads, o.seq, init.std, init.out_std));
  norm_f = register_module("norm_f", RMSNorm(o.d));
}

torch::Tensor UniversalTransformerImpl::Hidden(const torch::Tensor& tokens, DecodeState* state) {
  const ModelOptions& o = options_;
  auto apply = [&](int64_t i, const torch::Tensor& x) {
    return block->ForwardCached(x, state ? &state->caches[i] : nullptr);
  };
  torch::Tensor x = torch::embedding(wte, tokens);
  {
    torch::NoGradGuard no_grad;  // steps before the gradient window keep no graph
    for (int64_t i = 0; i < o.M - o.K; ++i) x = apply(i, x);
  }
  for (int64_t i = o.M - o.K; i < o.M; ++i) x = apply(i, x);
  return norm_f(x);
}

ForwardResult UniversalTransformerImpl::forward(const torch::Tensor& tokens,
                                                const torch::Tensor& targets,
                                                const ForwardOptions& opts) {
  return TiedHead(Hidden(tokens, nullptr), wte, targets, opts);
}

torch::Tensor UniversalTransformerImpl::DecodeStep(const torch::Tensor& new_tokens,
                                                   DecodeState& state) {
  CheckDecodeState(new_tokens, state);
  return torch::linear(Hidden(new_tokens, &state), wte);
}

}  // namespace hrm
