// What reproduces a run: code version, libraries, devices, host, data.
#pragma once

#include <string>

#include "base/config.h"

namespace hrm {

// This binary and machine: {"version", "git_commit", "git_dirty" (true,
// false, or null outside a git checkout), "libtorch", "cuda", "cudnn",
// "nccl", "gpus"}. The commit and dirty flag are the binary's own, stamped
// when it was built (base/build_stamp.h). Each of cuda, cudnn and nccl is
// "none" when absent, else {"compiled": libtorch's (or hrm's) build version,
// "runtime": the loaded library's}, cuda also {"driver"}; a version that
// cannot be asked is null. gpus: the names of the visible GPUs ([] on CPU).
json BuildFacts();

// BuildFacts plus {"device", "host", "data_sha256": {train_sha256, val_sha256}}.
json CollectProvenance(const std::string& device, const json& data_meta);

// `hrm --version`: the project version, commit, libtorch, CUDA, cuDNN, NCCL
// and GPUs, one per line.
std::string VersionText();

}  // namespace hrm
