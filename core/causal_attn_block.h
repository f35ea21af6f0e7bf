// The shared primitive of every model family (MODEL.md §1): a pre-norm
// causal self-attention block with RoPE and a SwiGLU feed-forward.
#pragma once

#include <torch/torch.h>

#include "core/rms_norm.h"

namespace hrm {

// Causal multi-head attention. q is (B, h, tq, hd), k and v are (B, h, tk, hd)
// with tq <= tk: the queries are the LAST tq of the tk positions, so query i
// sees keys 0 .. tk-tq+i. Returns (B, h, tq, hd). The one place that picks the
// attention kernel (fused SDPA on libtorch >= 2, masked softmax before).
torch::Tensor CausalAttention(const torch::Tensor& q, const torch::Tensor& k,
                              const torch::Tensor& v);

// Keys and values of every position a block has seen so far, for
// incremental decoding. Empty until the first forward that uses it.
struct KVCache {
  torch::Tensor k, v;  // (B, h, t, hd), after RoPE
  int64_t length() const { return k.defined() ? k.size(2) : 0; }
  int64_t bytes() const;
};

// Rotary position tables, kept out of the module's parameters and buffers
// (they are derived, not state); rebuilt on demand for a longer sequence,
// another device or another dtype.
class RotaryTables {
 public:
  RotaryTables(int64_t head_dim, int64_t length);
  // cos and sin for positions start .. start+n-1, shaped (n, 1, 1, hd) to
  // broadcast over (B, n, 2, h, hd).
  std::pair<torch::Tensor, torch::Tensor> Get(int64_t start, int64_t n, torch::Device device,
                                              torch::ScalarType dtype);

 private:
  void Build(int64_t length, torch::Device device, torch::ScalarType dtype);
  int64_t head_dim_;
  torch::Tensor cos_, sin_;  // (length, hd)
};

// h = x + Wo·Attn(RoPE(Wq·n1(x)), RoPE(Wk·n1(x)), Wv·n1(x))
// y = h + W2·(silu(W1·n2(h)) ⊙ W3·n2(h))
// Parameters (16d² + 2d): qkv (3d×d: Wq;Wk;Wv), wo (d×d), w13 (8d×d: W1;W3),
// w2 (d×4d), norm1.weight, norm2.weight. No biases.
class CausalAttnBlockImpl : public torch::nn::Module {
 public:
  // Matrices are drawn from normal(0, std) with the current torch generator,
  // wo and w2 from normal(0, out_std) (MODEL.md §5); norm scales start at 1.
  CausalAttnBlockImpl(int64_t d, int64_t heads, int64_t max_seq, double std, double out_std);

  // x (B, n, d) -> (B, n, d), positions 0..n-1.
  torch::Tensor forward(const torch::Tensor& x) { return ForwardCached(x, nullptr); }
  // With a cache: x holds the positions after the cached ones; their keys and
  // values are appended to the cache. cache may be null (plain forward).
  torch::Tensor ForwardCached(const torch::Tensor& x, KVCache* cache);

  torch::Tensor qkv, wo, w13, w2;
  RMSNorm norm1{nullptr}, norm2{nullptr};

 private:
  int64_t d_, heads_;
  RotaryTables rope_;
};
TORCH_MODULE(CausalAttnBlock);

}  // namespace hrm
