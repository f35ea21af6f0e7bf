// Peak memory of a measured section of a protocol (Tables 10 and 16): the
// CUDA caching allocator's peak on a CUDA device, else how far the process's
// resident set grew (Linux VmHWM over the resident set at the start).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace hrm {

class PeakMemory {
 public:
  // Starts a section: resets the device's peak statistic (CUDA) or the
  // kernel's resident-set high-water mark (/proc/self/clear_refs), and
  // records the baseline.
  explicit PeakMemory(const torch::Device& device);

  // Peak bytes since construction above the baseline: on CUDA, bytes
  // allocated by tensors; otherwise resident-set growth (weights, activations
  // and allocator overhead, without the runtime already loaded).
  int64_t PeakBytes() const;

  // What PeakBytes measures: "cuda_peak_allocated", or "rss_growth" (on CPU,
  // and on CUDA in a build without CUDA's allocator statistics).
  std::string source() const;

 private:
  torch::Device device_;
  bool cuda_ = false;  // measured by the CUDA allocator
  int64_t baseline_ = 0;
};

}  // namespace hrm
