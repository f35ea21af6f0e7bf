#include "core/causal_attn_block.h"

#include <cmath>

#include "core/fused_ops.h"

namespace hrm {

torch::Tensor CausalAttention(const torch::Tensor& q, const torch::Tensor& k,
                              const torch::Tensor& v) {
  const int64_t tq = q.size(2), tk = k.size(2);
  // is_causal aligns the mask top-left, which is right only for tq == tk; a
  // single query sees every key; otherwise query i sees keys 0..tk-tq+i.
  const bool square = tq == tk;
  c10::optional<torch::Tensor> allowed;
  if (!square && tq > 1)
    allowed = torch::ones({tq, tk}, q.options().dtype(torch::kBool)).tril(tk - tq);
#if TORCH_VERSION_MAJOR >= 2
  // Fused kernels (flash / memory-efficient on CUDA, flash on CPU).
  return at::scaled_dot_product_attention(q, k, v, allowed, 0.0, /*is_causal=*/square && tq > 1);
#else
  // libtorch 1.13: the composite masked-softmax implementation.
  return std::get<0>(at::_scaled_dot_product_attention(q, k, v, allowed, 0.0,
                                                       /*need_attn_weights=*/false,
                                                       /*is_causal=*/square && tq > 1));
#endif
}

int64_t KVCache::bytes() const {
  if (!k.defined()) return 0;
  return (k.numel() * k.element_size()) + (v.numel() * v.element_size());
}

RotaryTables::RotaryTables(int64_t head_dim, int64_t length) : head_dim_(head_dim) {
  Build(length, torch::kCPU, torch::kFloat);
}

void RotaryTables::Build(int64_t length, torch::Device device, torch::ScalarType dtype) {
  // Angles in double so that long tables stay exact; rotate-half layout: the
  // frequency of channel j and j + hd/2 is base^(-2j/hd).
  auto f64 = torch::TensorOptions().dtype(torch::kDouble);
  torch::Tensor inv_freq =
      torch::pow(10000.0, -torch::arange(0, head_dim_, 2, f64) / static_cast<double>(head_dim_));
  torch::Tensor angle = torch::outer(torch::arange(length, f64), inv_freq);  // (length, hd/2)
  angle = torch::cat({angle, angle}, -1);
  cos_ = angle.cos().to(device, dtype);
  sin_ = angle.sin().to(device, dtype);
}

std::pair<torch::Tensor, torch::Tensor> RotaryTables::Get(int64_t start, int64_t n,
                                                          torch::Device device,
                                                          torch::ScalarType dtype) {
  if (cos_.size(0) < start + n || cos_.device() != device || cos_.scalar_type() != dtype)
    Build(std::max(cos_.size(0), start + n), device, dtype);
  auto shape = [&](const torch::Tensor& t) {
    return t.narrow(0, start, n).view({n, 1, 1, head_dim_});
  };
  return {shape(cos_), shape(sin_)};
}

CausalAttnBlockImpl::CausalAttnBlockImpl(int64_t d, int64_t heads, int64_t max_seq, double std,
                                         double out_std)
    : d_(d), heads_(heads), rope_(d / heads, max_seq) {
  TORCH_CHECK(d % heads == 0 && (d / heads) % 2 == 0, "CausalAttnBlock: d = ", d,
              " needs an even head dimension over ", heads, " heads");
  qkv = register_parameter("qkv", torch::empty({3 * d, d}).normal_(0, std));
  wo = register_parameter("wo", torch::empty({d, d}).normal_(0, out_std));
  w13 = register_parameter("w13", torch::empty({8 * d, d}).normal_(0, std));
  w2 = register_parameter("w2", torch::empty({d, 4 * d}).normal_(0, out_std));
  norm1 = register_module("norm1", RMSNorm(d));
  norm2 = register_module("norm2", RMSNorm(d));
}

torch::Tensor CausalAttnBlockImpl::ForwardCached(const torch::Tensor& x, KVCache* cache) {
  const int64_t B = x.size(0), n = x.size(1), hd = d_ / heads_;
  const int64_t start = cache ? cache->length() : 0;
  torch::Tensor qkv_out = torch::linear(norm1(x), qkv).view({B, n, 3, heads_, hd});

  // RoPE on q and k together: (B, n, 2, h, hd) * cos + rotate_half * sin.
  auto [cos, sin] = rope_.Get(start, n, x.device(), qkv_out.scalar_type());
  torch::Tensor qk = qkv_out.narrow(2, 0, 2);
  torch::Tensor rotated =
      torch::cat({-qk.narrow(-1, hd / 2, hd / 2), qk.narrow(-1, 0, hd / 2)}, -1);
  qk = qk * cos + rotated * sin;

  torch::Tensor q = qk.select(2, 0).transpose(1, 2);  // (B, h, n, hd)
  torch::Tensor k = qk.select(2, 1).transpose(1, 2);
  torch::Tensor v = qkv_out.select(2, 2).transpose(1, 2);
  if (cache) {
    if (cache->k.defined()) {
      k = torch::cat({cache->k, k}, 2);
      v = torch::cat({cache->v, v}, 2);
    } else {
      k = k.contiguous();
      v = v.contiguous();
    }
    cache->k = k;
    cache->v = v;
  }
  torch::Tensor y = CausalAttention(q, k, v).transpose(1, 2).reshape({B, n, d_});
  torch::Tensor h = x + torch::linear(y, wo);
  return h + torch::linear(SwiGluOp(torch::linear(norm2(h), w13)), w2);  // silu(W1·) ⊙ (W3·)
}

}  // namespace hrm
