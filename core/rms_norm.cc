#include "core/rms_norm.h"

#include "core/fused_ops.h"

namespace hrm {

RMSNormImpl::RMSNormImpl(int64_t d, double eps) : eps_(eps) {
  weight = register_parameter("weight", torch::ones({d}));
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) { return RmsNormOp(x, weight, eps_); }

}  // namespace hrm
