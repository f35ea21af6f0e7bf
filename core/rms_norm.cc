#include "core/rms_norm.h"

namespace hrm {

RMSNormImpl::RMSNormImpl(int64_t d, double eps) : eps_(eps) {
  weight = register_parameter("weight", torch::ones({d}));
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) {
  // Under bf16 autocast x may be bf16: normalise in fp32 for accuracy, return x's dtype.
  torch::Tensor xf = x.to(torch::kFloat);
  torch::Tensor inv = torch::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true).add_(eps_));
  return (xf * inv).to(x.scalar_type()) * weight.to(x.scalar_type());
}

}  // namespace hrm
