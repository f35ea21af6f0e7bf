#include "core/autocast.h"

#include <ATen/autocast_mode.h>

#include "core/torch_compat.h"

namespace hrm {

AutocastGuard::AutocastGuard(const torch::Device& device, bool enabled)
    : enabled_(enabled), cuda_(device.is_cuda()) {
  if (!enabled_) return;
  compat::SetBf16Autocast(cuda_, true);
  at::autocast::increment_nesting();
}

AutocastGuard::~AutocastGuard() {
  if (!enabled_) return;
  // Leaving the outermost region drops cached casts of the weights.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  compat::SetBf16Autocast(cuda_, false);
}

}  // namespace hrm
