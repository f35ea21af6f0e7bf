#include "core/rms_norm.h"

namespace hrm {

RMSNormImpl::RMSNormImpl(int64_t d, double eps) : eps_(eps) {
  weight = register_parameter("weight", torch::ones({d}));
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) {
  if (x.scalar_type() != torch::kFloat) {  // bf16 under autocast: normalise in fp32
    return forward(x.to(torch::kFloat)).to(x.scalar_type());
  }
  return x * torch::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true).add_(eps_)) * weight;
}

}  // namespace hrm
