// CUDA's absence is a configuration error, found before anything is written:
// libtorch would otherwise fail at the first tensor moved there, with a stack
// trace and a half-made run directory.
#include "core/device.h"

#include <algorithm>

namespace hrm {
namespace {

torch::Device CudaDevice(const std::string& name, int index) {
#ifndef HRM_HAVE_CUDA
  (void)index;
  throw ConfigError("device", name, "this build of hrm has no CUDA (its libtorch is CPU-only)");
#else
  if (!torch::cuda::is_available())
    throw ConfigError("device", name, "no CUDA device is visible on this machine");
  const int count = int(torch::cuda::device_count());
  if (index >= count)
    throw ConfigError("device", name,
                      "cuda:" + std::to_string(index) +
                          " does not exist: " + std::to_string(count) + " CUDA device" +
                          (count == 1 ? "" : "s") + " visible");
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
#endif
}

}  // namespace

torch::Device ResolveDevice(const std::string& name, int local_rank) {
  const int rank_index = std::max(0, local_rank);
  if (name == "cpu") return torch::kCPU;
  if (name == "auto")
    return torch::cuda::is_available() ? CudaDevice(name, rank_index) : torch::Device(torch::kCPU);
  if (name == "cuda") return CudaDevice(name, rank_index);
  if (name.rfind("cuda:", 0) == 0) {
    const std::string digits = name.substr(5);
    if (!digits.empty() && digits.size() <= 3 &&
        digits.find_first_not_of("0123456789") == std::string::npos)
      return CudaDevice(name, std::stoi(digits));
  }
  throw ConfigError("device", name, "expected auto, cpu, cuda or cuda:N");
}

Placement ResolvePlacement(const json& config, int local_rank) {
  Placement p;
  p.device = ResolveDevice(config.at("device").get<std::string>(), local_rank);
  const std::string dtype = config.at("dtype");
  p.bf16_autocast = dtype == "bf16" || (dtype == "auto" && p.device.is_cuda());
  if (config.at("protocol") != "train") {
    const std::string weights = config.value("measure_weights", p.bf16_autocast ? "bf16" : "fp32");
    p.weights = weights == "bf16" ? torch::kBFloat16 : torch::kFloat;
  }
  return p;
}

}  // namespace hrm
