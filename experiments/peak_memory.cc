#include "experiments/peak_memory.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "core/torch_compat.h"

namespace hrm {
namespace {

// A "Vm...:  1234 kB" field of /proc/self/status, in bytes (0 if absent).
int64_t StatusBytes(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.compare(0, field.size() + 1, field + ":") == 0)
      return std::stoll(line.substr(field.size() + 1)) * 1024;
  return 0;
}

}  // namespace

PeakMemory::PeakMemory(const torch::Device& device) : device_(device) {
#ifdef HRM_HAVE_CUDA
  if (device_.is_cuda()) {
    cuda_ = true;
    const c10::DeviceIndex index = device_.has_index() ? device_.index() : 0;
    // The allocator's statistics of a device exist once it has allocated
    // there: resetting them before fails with "Invalid device argument".
    torch::empty({1}, torch::TensorOptions(torch::Device(torch::kCUDA, index)));
    compat::ResetCudaPeak(index);
    baseline_ = compat::CudaAllocatedBytes(index).current;
    return;
  }
#endif
  // "5" resets VmHWM to the current resident set (Linux >= 4.0). Where that
  // is refused, growth is counted from the old high-water mark instead.
  bool reset = false;
  const int fd = ::open("/proc/self/clear_refs", O_WRONLY);
  if (fd >= 0) {
    reset = ::write(fd, "5", 1) == 1;
    ::close(fd);
  }
  baseline_ = reset ? StatusBytes("VmRSS") : StatusBytes("VmHWM");
}

int64_t PeakMemory::PeakBytes() const {
#ifdef HRM_HAVE_CUDA
  if (cuda_) {
    return compat::CudaAllocatedBytes(device_.has_index() ? device_.index() : 0).peak - baseline_;
  }
#endif
  return std::max<int64_t>(0, StatusBytes("VmHWM") - baseline_);
}

std::string PeakMemory::source() const { return cuda_ ? "cuda_peak_allocated" : "rss_growth"; }

}  // namespace hrm
