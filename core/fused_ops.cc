#include "core/fused_ops.h"

#include <atomic>

#ifdef HRM_HAVE_CUDA_KERNELS
#include "core/cuda/cuda_ops.h"
#endif

namespace hrm {
namespace {

std::atomic<bool> cuda_kernels{true};

// Whether the kernels take tensors like t: built, switched on, CUDA, fp32/bf16.
bool Fused(const torch::Tensor& t) {
#ifdef HRM_HAVE_CUDA_KERNELS
  return cuda_kernels.load(std::memory_order_relaxed) && t.is_cuda() &&
         (t.scalar_type() == torch::kFloat || t.scalar_type() == torch::kBFloat16);
#else
  (void)t;
  return false;
#endif
}

}  // namespace

namespace reference {

torch::Tensor RmsNorm(const torch::Tensor& x, const torch::Tensor& w, double eps) {
  if (x.scalar_type() != torch::kFloat)  // bf16 under autocast: normalise in fp32
    return RmsNorm(x.to(torch::kFloat), w, eps).to(x.scalar_type());
  return x * torch::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true).add_(eps)) * w;
}

torch::Tensor SwiGlu(const torch::Tensor& ab) {
  auto halves = ab.chunk(2, -1);
  return torch::silu(halves[0]) * halves[1];
}

torch::Tensor GatedUpdate(const torch::Tensor& a, const torch::Tensor& z, const torch::Tensor& u) {
  const torch::Tensor g = torch::sigmoid(a);
  return g * z + (1 - g) * u;
}

}  // namespace reference

torch::Tensor RmsNormOp(const torch::Tensor& x, const torch::Tensor& w, double eps) {
#ifdef HRM_HAVE_CUDA_KERNELS
  if (Fused(x) && x.size(-1) <= cuda::kMaxNormWidth) return cuda::RmsNorm(x, w, eps);
#endif
  return reference::RmsNorm(x, w, eps);
}

torch::Tensor SwiGluOp(const torch::Tensor& ab) {
#ifdef HRM_HAVE_CUDA_KERNELS
  if (Fused(ab)) return cuda::SwiGlu(ab);
#endif
  return reference::SwiGlu(ab);
}

torch::Tensor GatedUpdateOp(const torch::Tensor& a, const torch::Tensor& z,
                            const torch::Tensor& u) {
#ifdef HRM_HAVE_CUDA_KERNELS
  if (Fused(a) && Fused(z) && Fused(u) && a.sizes() == z.sizes() && a.sizes() == u.sizes())
    return cuda::GatedUpdate(a, z, u);
#endif
  return reference::GatedUpdate(a, z, u);
}

bool CudaKernelsBuilt() {
#ifdef HRM_HAVE_CUDA_KERNELS
  return true;
#else
  return false;
#endif
}

void SetCudaKernels(bool enabled) { cuda_kernels.store(enabled); }
bool CudaKernelsEnabled() { return cuda_kernels.load(); }

}  // namespace hrm
