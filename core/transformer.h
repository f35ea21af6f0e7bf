// Transformer (MODEL.md §2): L independent CausalAttnBlocks, tied head.
#pragma once

#include "core/causal_attn_block.h"
#include "core/model.h"

namespace hrm {

// x = E[tokens]; x = Block_l(x) for l = 1..L; logits = RMSNorm(x)·Eᵀ.
// Parameters: 16d²·L + V·d + (2L+1)d.
class TransformerImpl : public LanguageModelImpl {
 public:
  explicit TransformerImpl(const ModelOptions& options);
  ForwardResult forward(const torch::Tensor& tokens, const torch::Tensor& targets,
                        const ForwardOptions& opts = {}) override;
  torch::Tensor DecodeStep(const torch::Tensor& new_tokens, DecodeState& state) override;
  int64_t BlockApplications() const override { return options_.L; }

  torch::Tensor wte;  // (V, d), input embedding and output head
  torch::nn::ModuleList blocks;
  RMSNorm norm_f{nullptr};

 private:
  // RMSNorm_f of the last hidden state of tokens (the head's input, B×n×d);
  // with a state, after its positions and extending it.
  torch::Tensor Hidden(const torch::Tensor& tokens, DecodeState* state);
};

}  // namespace hrm
