// The differences between the libtorch versions hrm builds against, in one
// place: Debian's 1.13 (CPU) up to current 2.x with CUDA. Code elsewhere calls
// what this header names and never tests TORCH_VERSION itself.
#pragma once

#include <torch/version.h>

// True when the libtorch being compiled against is at least major.minor.
#define HRM_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

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
    return at::autocast::is_enabled() ? c10::optional<at::ScalarType>(
                                            at::autocast::get_autocast_gpu_dtype())
                                      : c10::nullopt;
  if (type == c10::DeviceType::CPU)
    return at::autocast::is_cpu_enabled() ? c10::optional<at::ScalarType>(
                                                at::autocast::get_autocast_cpu_dtype())
                                          : c10::nullopt;
  return c10::nullopt;
#endif
}

}  // namespace hrm
