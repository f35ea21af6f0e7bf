// Universal Transformer (MODEL.md §3): one block applied M times, tied head.
#pragma once

#include "core/causal_attn_block.h"
#include "core/model.h"

namespace hrm {

// x = E[tokens]; x = Block(x) M times; logits = RMSNorm(x)·Eᵀ. The first M−K
// applications run without autograd (truncated backprop), the last K with it.
// Parameters: 16d² + V·d + 3d.
class UniversalTransformerImpl : public LanguageModelImpl {
 public:
  explicit UniversalTransformerImpl(const ModelOptions& options);
  ForwardResult forward(const torch::Tensor& tokens, const torch::Tensor& targets,
                        const ForwardOptions& opts = {}) override;
  torch::Tensor DecodeStep(const torch::Tensor& new_tokens, DecodeState& state) override;
  int64_t BlockApplications() const override { return options_.M; }

  torch::Tensor wte;  // (V, d)
  CausalAttnBlock block{nullptr};
  RMSNorm norm_f{nullptr};

 private:
  // RMSNorm_f of the last hidden state of tokens (the head's input, B×n×d);
  // with a state, after its positions and extending it.
  torch::Tensor Hidden(const torch::Tensor& tokens, DecodeState* state);
};

}  // namespace hrm
