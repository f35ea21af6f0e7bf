// RMSNorm forward and backward: one block per row, statistics in fp32.
// Reference: RmsNormReference in core/fused_ops.cc.
#include "core/cuda/common.cuh"

namespace hrm::cuda {
namespace {

template <typename T>
__global__ void RmsNormForwardKernel(const T* x, const float* w, T* y, float* rstd, int64_t d,
                                     float eps) {
  __shared__ float scratch[32];
  const int64_t row = blockIdx.x;
  const T* xr = x + row * d;
  T* yr = y + row * d;
  float ss = 0.0f;
  for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
    const float v = Load(xr, j);
    ss += v * v;
  }
  const float r = rsqrtf(BlockSum(ss, scratch) / static_cast<float>(d) + eps);
  for (int64_t j = threadIdx.x; j < d; j += blockDim.x) Store(yr, j, Load(xr, j) * r * w[j]);
  if (threadIdx.x == 0) rstd[row] = r;
}

// Rows are strided over a fixed grid so that each block sums its share of dw
// in shared memory (d floats) and adds it to dw with one atomic per column.
template <typename T>
__global__ void RmsNormBackwardKernel(const T* dy, const T* x, const float* w, const float* rstd,
                                      T* dx, float* dw, int64_t rows, int64_t d) {
  extern __shared__ float dw_part[];  // d
  __shared__ float scratch[32];
  for (int64_t j = threadIdx.x; j < d; j += blockDim.x) dw_part[j] = 0.0f;
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* dyr = dy + row * d;
    const T* xr = x + row * d;
    T* dxr = dx + row * d;
    const float r = rstd[row];
    float dot = 0.0f;
    for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
      const float g = Load(dyr, j), v = Load(xr, j);
      dot += g * w[j] * v;
      dw_part[j] += g * v * r;  // each column j belongs to one thread: no race
    }
    const float c = BlockSum(dot, scratch) * r * r * r / static_cast<float>(d);
    for (int64_t j = threadIdx.x; j < d; j += blockDim.x)
      Store(dxr, j, r * Load(dyr, j) * w[j] - c * Load(xr, j));
  }
  __syncthreads();
  for (int64_t j = threadIdx.x; j < d; j += blockDim.x) atomicAdd(dw + j, dw_part[j]);
}

}  // namespace

void RmsNormForward(const void* x, const float* w, void* y, float* rstd, int64_t rows, int64_t d,
                    float eps, DType dtype, void* stream) {
  if (rows == 0) return;
  if (dtype == DType::kBFloat16)
    RmsNormForwardKernel<<<rows, kThreads, 0, Stream(stream)>>>(
        static_cast<const __nv_bfloat16*>(x), w, static_cast<__nv_bfloat16*>(y), rstd, d, eps);
  else
    RmsNormForwardKernel<<<rows, kThreads, 0, Stream(stream)>>>(
        static_cast<const float*>(x), w, static_cast<float*>(y), rstd, d, eps);
}

void RmsNormBackward(const void* dy, const void* x, const float* w, const float* rstd, void* dx,
                     float* dw, int64_t rows, int64_t d, DType dtype, void* stream) {
  if (rows == 0) return;
  const unsigned blocks = static_cast<unsigned>(rows < 1024 ? rows : 1024);
  const size_t shared = static_cast<size_t>(d) * sizeof(float);
  if (dtype == DType::kBFloat16)
    RmsNormBackwardKernel<<<blocks, kThreads, shared, Stream(stream)>>>(
        static_cast<const __nv_bfloat16*>(dy), static_cast<const __nv_bfloat16*>(x), w, rstd,
        static_cast<__nv_bfloat16*>(dx), dw, rows, d);
  else
    RmsNormBackwardKernel<<<blocks, kThreads, shared, Stream(stream)>>>(
        static_cast<const float*>(dy), static_cast<const float*>(x), w, rstd,
        static_cast<float*>(dx), dw, rows, d);
}

}  // namespace hrm::cuda
