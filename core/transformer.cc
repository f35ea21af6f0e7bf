#include "core/transformer.h"

namespace hrm {

TransformerImpl::TransformerImpl(const ModelOptions& o) : LanguageModelImpl(o) {
  wte = register_parameter("wte", torch::empty({o.vocab, o.d}).normal_(0, o.init_std));
  // GPT-2: each layer's residual projections at σ/sqrt(2L).
  const BlockInitStd init = BlockInit(o, /*applications=*/o.L, /*shared=*/false);
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int64_t l = 0; l < o.L; ++l)
    blocks->push_back(CausalAttnBlock(o.d, o.heads, o.seq, init.std, init.out_std));
  norm_f = register_module("norm_f", RMSNorm(o.d));
}

torch::Tensor TransformerImpl::Hidden(const torch::Tensor& tokens, DecodeState* state) {
  torch::Tensor x = torch::embedding(wte, tokens);
  for (size_t l = 0; l < blocks->size(); ++l)
    x = blocks[l]->as<CausalAttnBlockImpl>()->ForwardCached(x, state ? &state->caches[l] : nullptr);
  return norm_f(x);
}

ForwardResult TransformerImpl::forward(const torch::Tensor& tokens, const torch::Tensor& targets,
                                       const ForwardOptions& opts) {
  return TiedHead(Hidden(tokens, nullptr), wte, targets, opts);
}

torch::Tensor TransformerImpl::DecodeStep(const torch::Tensor& new_tokens, DecodeState& state) {
  CheckDecodeState(new_tokens, state);
  return torch::linear(Hidden(new_tokens, &state), wte);
}

}  // namespace hrm
