// The differences between the libtorch versions hrm builds against, in one
// place: Debian's 1.13 (CPU) up to current 2.x with CUDA. Code elsewhere calls
// what this header names and never tests TORCH_VERSION itself.
#pragma once

#include <torch/version.h>

// True when the libtorch being compiled against is at least major.minor.
#define HRM_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

// ---- Autocast, attention, CUDA allocator statistics (core/autocast.cc,
// core/causal_attn_block.cc, experiments/peak_memory.cc) ----

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#ifdef HRM_HAVE_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include <cstdint>

namespace hrm::compat {

// Turns bf16 autocast on or off for CUDA (cuda) or the CPU. 2.4 made the
// switches take a device type; 1.13 had one set per device.
inline void SetBf16Autocast(bool cuda, bool enabled) {
#if HRM_TORCH_AT_LEAST(2, 4)
  const auto type = cuda ? at::kCUDA : at::kCPU;
  at::autocast::set_autocast_enabled(type, enabled);
  if (enabled) at::autocast::set_autocast_dtype(type, at::kBFloat16);
#else
  if (cuda) {
    at::autocast::set_enabled(enabled);
    if (enabled) at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
  } else {
    at::autocast::set_cpu_enabled(enabled);
    if (enabled) at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  }
#endif
}

// softmax(q kᵀ / sqrt(hd) + mask) v. 2.0's public op has fused kernels (flash
// and memory-efficient on CUDA, flash on CPU); 1.13 has only the composite
// masked-softmax implementation under a private name.
inline torch::Tensor ScaledDotProductAttention(const torch::Tensor& q, const torch::Tensor& k,
                                               const torch::Tensor& v,
                                               const c10::optional<torch::Tensor>& allowed,
                                               bool is_causal) {
#if HRM_TORCH_AT_LEAST(2, 0)
  return at::scaled_dot_product_attention(q, k, v, allowed, 0.0, is_causal);
#else
  return std::get<0>(at::_scaled_dot_product_attention(q, k, v, allowed, 0.0,
                                                       /*need_attn_weights=*/false, is_causal));
#endif
}

#ifdef HRM_HAVE_CUDA
// Bytes the CUDA caching allocator holds for tensors on `device`: now and at
// the peak since the last ResetCudaPeak. 2.6 moved the statistics' types from
// c10::cuda::CUDACachingAllocator to c10::CachingDeviceAllocator (later
// versions declare them in c10::CachingAllocator, which the former names).
struct CudaAllocated {
  int64_t current = 0;
  int64_t peak = 0;
};
inline CudaAllocated CudaAllocatedBytes(c10::DeviceIndex device) {
#if HRM_TORCH_AT_LEAST(2, 6)
  constexpr auto kAll = size_t(c10::CachingDeviceAllocator::StatType::AGGREGATE);
#else
  constexpr auto kAll = size_t(c10::cuda::CUDACachingAllocator::StatType::AGGREGATE);
#endif
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device);
  return {stats.allocated_bytes[kAll].current, stats.allocated_bytes[kAll].peak};
}
inline void ResetCudaPeak(c10::DeviceIndex device) { c10::cuda::CUDACachingAllocator::resetPeakStats(device); }
#endif

}  // namespace hrm::compat
