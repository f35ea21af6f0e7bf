// The differences between the libtorch versions hrm builds against, in one
// place: Debian's 1.13 (CPU) up to current 2.x with CUDA. Code elsewhere calls
// what this header names and never tests TORCH_VERSION itself.
#pragma once

#include <torch/version.h>

// True when the libtorch being compiled against is at least major.minor.
#define HRM_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) ||      \
   (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

// ---- Optimizer (core/optimizer.cc) ----

#include <sstream>
#include <string>
#include <type_traits>

// at::_fused_adamw_ (CUDA, multi-tensor, decoupled weight decay).
#define HRM_HAVE_FUSED_ADAMW HRM_TORCH_AT_LEAST(2, 1)

namespace hrm {

// The key of a parameter in torch::optim::Optimizer::state(): the TensorImpl's
// address printed as a string up to libtorch 2.0, the address itself later.
template <typename StateMap, typename TensorT>
auto OptimizerStateKey(const StateMap&, const TensorT& p) {
  if constexpr (std::is_same_v<typename StateMap::key_type, std::string>) {
    std::ostringstream key;  // as c10::guts::to_string writes it
    key << p.unsafeGetTensorImpl();
    return key.str();
  } else {
    return static_cast<typename StateMap::key_type>(p.unsafeGetTensorImpl());
  }
}

}  // namespace hrm

// ---- Autocast queries (core/chunked_cross_entropy.cc) ----

#include <ATen/autocast_mode.h>

namespace hrm {

// The dtype autocast casts matrix products to on a device type, or nullopt
// when autocast is off there.
inline c10::optional<at::ScalarType> AutocastDtype(c10::DeviceType type) {
#if HRM_TORCH_AT_LEAST(2, 4)
  if (!at::autocast::is_autocast_enabled(type)) return c10::nullopt;
  return at::autocast::get_autocast_dtype(type);
#else
  if (type == c10::DeviceType::CUDA)
    return at::autocast::is_enabled()
               ? c10::optional<at::ScalarType>(at::autocast::get_autocast_gpu_dtype())
               : c10::nullopt;
  if (type == c10::DeviceType::CPU)
    return at::autocast::is_cpu_enabled()
               ? c10::optional<at::ScalarType>(at::autocast::get_autocast_cpu_dtype())
               : c10::nullopt;
  return c10::nullopt;
#endif
}

}  // namespace hrm

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
inline void ResetCudaPeak(c10::DeviceIndex device) {
  c10::cuda::CUDACachingAllocator::resetPeakStats(device);
}
#endif

}  // namespace hrm::compat
