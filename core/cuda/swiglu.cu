// SwiGLU's elementwise part: y = silu(a) ⊙ b over ab = [a, b] (rows, 2h).
// Reference: SwiGluReference in core/fused_ops.cc.
#include "core/cuda/common.cuh"

namespace hrm::cuda {
namespace {

template <typename T>
__global__ void SwiGluForwardKernel(const T* ab, T* y, int64_t rows, int64_t h) {
  const int64_t n = rows * h;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t row = i / h, col = i % h;
    const float a = Load(ab, row * 2 * h + col), b = Load(ab, row * 2 * h + h + col);
    Store(y, i, a * Sigmoid(a) * b);
  }
}

template <typename T>
__global__ void SwiGluBackwardKernel(const T* ab, const T* dy, T* dab, int64_t rows, int64_t h) {
  const int64_t n = rows * h;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t row = i / h, col = i % h;
    const int64_t ia = row * 2 * h + col, ib = ia + h;
    const float a = Load(ab, ia), b = Load(ab, ib), g = Load(dy, i);
    const float s = Sigmoid(a);
    Store(dab, ia, g * b * s * (1.0f + a * (1.0f - s)));
    Store(dab, ib, g * a * s);
  }
}

}  // namespace

void SwiGluForward(const void* ab, void* y, int64_t rows, int64_t h, DType dtype, void* stream) {
  if (rows * h == 0) return;
  const unsigned blocks = Blocks(rows * h);
  if (dtype == DType::kBFloat16)
    SwiGluForwardKernel<<<blocks, kThreads, 0, Stream(stream)>>>(
        static_cast<const __nv_bfloat16*>(ab), static_cast<__nv_bfloat16*>(y), rows, h);
  else
    SwiGluForwardKernel<<<blocks, kThreads, 0, Stream(stream)>>>(static_cast<const float*>(ab),
                                                                 static_cast<float*>(y), rows, h);
}

void SwiGluBackward(const void* ab, const void* dy, void* dab, int64_t rows, int64_t h, DType dtype,
                    void* stream) {
  if (rows * h == 0) return;
  const unsigned blocks = Blocks(rows * h);
  if (dtype == DType::kBFloat16)
    SwiGluBackwardKernel<<<blocks, kThreads, 0, Stream(stream)>>>(
        static_cast<const __nv_bfloat16*>(ab), static_cast<const __nv_bfloat16*>(dy),
        static_cast<__nv_bfloat16*>(dab), rows, h);
  else
    SwiGluBackwardKernel<<<blocks, kThreads, 0, Stream(stream)>>>(
        static_cast<const float*>(ab), static_cast<const float*>(dy), static_cast<float*>(dab),
        rows, h);
}

}  // namespace hrm::cuda
