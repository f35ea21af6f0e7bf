// RAII bf16 autocast: on CUDA the paper's mixed precision (master weights stay
// fp32); on CPU only when dtype=bf16 is asked for.
#pragma once

#include <torch/torch.h>

namespace hrm {

class AutocastGuard {
 public:
  AutocastGuard(const torch::Device& device, bool enabled);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool enabled_;
  bool cuda_;
};

}  // namespace hrm
