// HRM's gated update with its sigmoid (MODEL.md §4): out = σ(a)⊙z + (1 − σ(a))⊙u.
// Reference: GatedUpdateReference in core/fused_ops.cc.
#include "core/cuda/common.cuh"

namespace hrm::cuda {
namespace {

template <typename T>
__global__ void GatedUpdateForwardKernel(const T* a, const T* z, const T* u, T* out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    const float g = Sigmoid(Load(a, i));
    Store(out, i, g * Load(z, i) + (1.0f - g) * Load(u, i));
  }
}

template <typename T>
__global__ void GatedUpdateBackwardKernel(const T* a, const T* z, const T* u, const T* dout, T* da,
                                          T* dz, T* du, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    const float g = Sigmoid(Load(a, i)), d = Load(dout, i);
    Store(da, i, d * (Load(z, i) - Load(u, i)) * g * (1.0f - g));
    Store(dz, i, d * g);
    Store(du, i, d * (1.0f - g));
  }
}

}  // namespace

void GatedUpdateForward(const void* a, const void* z, const void* u, void* out, int64_t n,
                        DType dtype, void* stream) {
  if (n == 0) return;
  using B = __nv_bfloat16;
  if (dtype == DType::kBFloat16)
    GatedUpdateForwardKernel<<<Blocks(n), kThreads, 0, Stream(stream)>>>(
        static_cast<const B*>(a), static_cast<const B*>(z), static_cast<const B*>(u),
        static_cast<B*>(out), n);
  else
    GatedUpdateForwardKernel<<<Blocks(n), kThreads, 0, Stream(stream)>>>(
        static_cast<const float*>(a), static_cast<const float*>(z), static_cast<const float*>(u),
        static_cast<float*>(out), n);
}

void GatedUpdateBackward(const void* a, const void* z, const void* u, const void* dout, void* da,
                         void* dz, void* du, int64_t n, DType dtype, void* stream) {
  if (n == 0) return;
  using B = __nv_bfloat16;
  if (dtype == DType::kBFloat16)
    GatedUpdateBackwardKernel<<<Blocks(n), kThreads, 0, Stream(stream)>>>(
        static_cast<const B*>(a), static_cast<const B*>(z), static_cast<const B*>(u),
        static_cast<const B*>(dout), static_cast<B*>(da), static_cast<B*>(dz), static_cast<B*>(du),
        n);
  else
    GatedUpdateBackwardKernel<<<Blocks(n), kThreads, 0, Stream(stream)>>>(
        static_cast<const float*>(a), static_cast<const float*>(z), static_cast<const float*>(u),
        static_cast<const float*>(dout), static_cast<float*>(da), static_cast<float*>(dz),
        static_cast<float*>(du), n);
}

}  // namespace hrm::cuda
