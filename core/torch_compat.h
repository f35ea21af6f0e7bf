// The differences between the libtorch versions hrm builds against, in one
// place: Debian's 1.13 (CPU) up to current 2.x with CUDA. Code elsewhere calls
// what this header names and never tests TORCH_VERSION itself.
#pragma once

#include <torch/version.h>

// True when the libtorch being compiled against is at least major.minor.
#define HRM_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))
