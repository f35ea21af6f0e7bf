// RMSNorm with a learned per-channel scale (no bias, no mean subtraction).
#pragma once

#include <torch/torch.h>

namespace hrm {

// y = x / sqrt(mean(x^2 over the last dim) + eps) * weight; weight starts at 1.
// Normalised in fp32, returned in x's dtype (RmsNormOp: a fused kernel on CUDA).
class RMSNormImpl : public torch::nn::Module {
 public:
  explicit RMSNormImpl(int64_t d, double eps = 1e-6);
  torch::Tensor forward(const torch::Tensor& x);

  torch::Tensor weight;  // (d)

 private:
  double eps_;
};
TORCH_MODULE(RMSNorm);

}  // namespace hrm
