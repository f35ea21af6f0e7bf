#include "store/records.h"

#include "store/store_error.h"

namespace hrm {
namespace {

// Indexed by RunStatus; the same spellings as the CHECK on runs.status.
constexpr const char* kStatusNames[kRunStatusCount] = {"pending", "running", "interrupted",
                                                       "done",    "failed",  "diverged"};

}  // namespace

const char* ToString(RunStatus status) { return kStatusNames[static_cast<int>(status)]; }

RunStatus ParseRunStatus(const std::string& text) {
  for (int i = 0; i < kRunStatusCount; ++i)
    if (text == kStatusNames[i]) return static_cast<RunStatus>(i);
  throw StoreError("unknown run status '" + text + "'");
}

}  // namespace hrm
