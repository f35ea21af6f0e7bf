#include "runner/cli_errors.h"

#include "base/config.h"
#include "runner/grid.h"

namespace hrm {

int ExitCodeFor(const std::exception& e) {
  if (dynamic_cast<const UsageError*>(&e) || dynamic_cast<const ConfigError*>(&e) ||
      dynamic_cast<const GridError*>(&e) || dynamic_cast<const std::invalid_argument*>(&e) ||
      dynamic_cast<const std::out_of_range*>(&e))
    return kExitUsage;
  return kExitError;
}

}  // namespace hrm
