// Autograd operations over the fused CUDA kernels (core/cuda/kernels.h).
// Compiled only against a CUDA libtorch (HRM_HAVE_CUDA_KERNELS); callers go
// through core/fused_ops.h, which falls back to the ATen references.
#pragma once

#include <torch/torch.h>

namespace hrm::cuda {

// The largest width RmsNorm's backward keeps in shared memory (48 KiB of fp32).
constexpr int64_t kMaxNormWidth = 12288;

// CUDA fp32 or bf16 tensors; see core/fused_ops.h for what each computes.
torch::Tensor RmsNorm(const torch::Tensor& x, const torch::Tensor& weight, double eps);
torch::Tensor SwiGlu(const torch::Tensor& ab);
torch::Tensor GatedUpdate(const torch::Tensor& a, const torch::Tensor& z, const torch::Tensor& u);

}  // namespace hrm::cuda
