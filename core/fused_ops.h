// The models' memory-bound pieces, one function each. Each is defined by its
// ATen reference (the CPU path and the tests' oracle); on CUDA tensors a
// fused kernel (core/cuda/) runs instead, where hrm is built against a CUDA
// libtorch and the one switch, SetCudaKernels, is on (the default).
#pragma once

#include <torch/torch.h>

namespace hrm {

// RMSNorm over the last dim: x / sqrt(mean(x²) + eps) ⊙ w, normalised in fp32
// and returned in x's dtype.
torch::Tensor RmsNormOp(const torch::Tensor& x, const torch::Tensor& w, double eps);
// SwiGLU's gate: silu(a) ⊙ b for ab = [a, b] split in halves along the last dim.
torch::Tensor SwiGluOp(const torch::Tensor& ab);
// HRM's gated update (MODEL.md §4): g ⊙ z + (1 − g) ⊙ u with g = σ(a), a the
// gate's pre-activation; in the promoted dtype of a, z and u.
torch::Tensor GatedUpdateOp(const torch::Tensor& a, const torch::Tensor& z, const torch::Tensor& u);

// The ATen definitions of the three, whatever the switch says.
namespace reference {
torch::Tensor RmsNorm(const torch::Tensor& x, const torch::Tensor& w, double eps);
torch::Tensor SwiGlu(const torch::Tensor& ab);
torch::Tensor GatedUpdate(const torch::Tensor& a, const torch::Tensor& z, const torch::Tensor& u);
}  // namespace reference

// Whether this build has the CUDA kernels (a CUDA libtorch and nvcc at build time).
bool CudaKernelsBuilt();
// The one switch: fused kernels on CUDA tensors (true, the default) or the
// ATen references everywhere (false). Process-wide.
void SetCudaKernels(bool enabled);
bool CudaKernelsEnabled();

}  // namespace hrm
