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

ForwardResult TransformerImpl::forward(const torch::Tensor& tokens, const torch::Tensor& targets,
                                       const ForwardOptions&) {
  torch::Tensor x = torch::embedding(wte, tokens);
  for (const auto& block : *blocks) x = block->as<CausalAttnBlockImpl>()->forward(x);
  ForwardResult r;
  r.logits = torch::linear(norm_f(x), wte);
  if (targets.defined()) r.loss = r.ce = CrossEntropy(r.logits, targets);
  return r;
}

}  // namespace hrm
