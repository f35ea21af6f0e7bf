// What reproduces a run: code version, libraries, device, host, data.
#pragma once

#include <string>

#include "base/config.h"

namespace hrm {

// {"git_commit", "git_dirty", "libtorch", "cuda", "device", "host", "data_sha256"}.
// git fields come from the source tree the binary was built from, when it is
// still there, else from the commit recorded at build time.
json CollectProvenance(const std::string& device, const json& data_meta);

}  // namespace hrm
