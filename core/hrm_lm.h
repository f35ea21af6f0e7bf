// HRM-LM (MODEL.md §4): a fast and a slow shared block iterated under gated
// state updates, with truncated backprop, supervision passes and a gated
// output fusion.
#pragma once

#include "core/causal_attn_block.h"
#include "core/model.h"

namespace hrm {

// e = Block_in(E[tokens]); per pass, M = N·T steps of the fast update
//   z_L ← g_L ⊙ z_L + (1 − g_L) ⊙ Block_L(z_L + α_L·P_L c_L),  g_L = σ(G_L c_L + b_L),
//   c_L = [z_L; z_H; e],
// and after every T-th step the slow update
//   z_H ← g_H ⊙ z_H + (1 − g_H) ⊙ Block_H(z_H + α_H·P_H c_H),  g_H = σ(G_H c_H + b_H),
//   c_H = [z_H; z_L];
// then logits = RMSNorm_o(g_o ⊙ ẑ_L + (1−g_o) ⊙ ẑ_H + ê)·Eᵀ, g_o = σ(W_f[ẑ_L; ẑ_H; ê]/τ).
// Steps 0..M−K−1 of a pass run without autograd; states are detached between
// the S passes. Parameters: 3(16d²+2d) + 13d² + V·d + 6d + 3.
class HrmLmImpl : public LanguageModelImpl {
 public:
  explicit HrmLmImpl(const ModelOptions& options);
  ForwardResult forward(const torch::Tensor& tokens, const torch::Tensor& targets,
                        const ForwardOptions& opts = {}) override;
  torch::Tensor DecodeStep(const torch::Tensor& new_tokens, DecodeState& state) override;
  // Block_in once, then per pass M fast and N slow applications.
  int64_t BlockApplications() const override { return 1 + options_.S * (options_.M + options_.N); }

  torch::Tensor wte;  // (V, d), input embedding and output head
  CausalAttnBlock block_in{nullptr}, block_L{nullptr}, block_H{nullptr};
  torch::Tensor z_L0, z_H0;     // (d) buffers: fixed prototypes, truncated normal on [-2, 2]
  torch::Tensor P_L, G_L, b_L;  // (d, 3d), (d, 3d), (d): fast injection and gate over c_L
  torch::Tensor alpha_L;        // scalar, init 0.1
  torch::Tensor P_H, G_H, b_H;  // (d, 2d), (d, 2d), (d): slow injection and gate over c_H
  torch::Tensor alpha_H;        // scalar, init 0.1
  torch::Tensor W_f, tau;       // (d, 3d) fusion gate, scalar temperature init 1
  RMSNorm norm_L{nullptr}, norm_H{nullptr}, norm_e{nullptr}, norm_o{nullptr};

  // How the fast update's P_L c_L and G_L c_L + b_L are computed: split into
  // c_L's column blocks with e's and z_H's shares kept between steps (true,
  // the default: a third of the multiply-adds), or concatenated as MODEL.md
  // writes it (false, the reference). The same function either way.
  bool split_fast_context = true;

 private:
  // The S passes over tokens' positions; with a state, after its positions,
  // each block application reading and extending its own cache.
  ForwardResult Run(const torch::Tensor& tokens, const torch::Tensor& targets,
                    const ForwardOptions& opts, DecodeState* state);
};

}  // namespace hrm
