// How an `hrm` command's failure becomes its exit code, in one place. README
// documents the codes: 0 done, 1 runtime error, 2 bad usage, config or grid
// (nothing written), 3 diverged, 130 interrupted (base/exit_code.h).
#pragma once

#include <fmt/format.h>

#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "base/exit_code.h"

namespace hrm {

// Bad input that is neither a config key nor a grid: a RUN that names no
// run, a store file that does not exist, an option value out of range.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The exit code of a command that failed with `e`: kExitUsage for the
// user's input (ConfigError, GridError, UsageError, std::invalid_argument,
// std::out_of_range), kExitError for everything else (a store in use, a
// corrupt file, an I/O error).
int ExitCodeFor(const std::exception& e);

// Runs `step`, a function that reads the user's input (a config file, --set
// values), and rethrows its failure as a UsageError with the same message:
// for readers whose errors carry no type of their own.
template <typename F>
auto AsUsage(F step) -> decltype(step()) {
  try {
    return step();
  } catch (const std::exception& e) {
    if (ExitCodeFor(e) == kExitUsage) throw;
    throw UsageError(e.what());
  }
}

// Runs a command's body, which returns its exit code (or nothing, for
// kExitOk). A failure is printed as "hrm CMD: what" and mapped by
// ExitCodeFor.
template <typename F>
void Guard(const char* cmd, int* rc, F body) {
  try {
    if constexpr (std::is_void_v<decltype(body())>) {
      body();
      *rc = kExitOk;
    } else {
      *rc = body();
    }
  } catch (const std::exception& e) {
    std::cerr << fmt::format("hrm {}: {}\n", cmd, e.what());
    *rc = ExitCodeFor(e);
  }
}

}  // namespace hrm
