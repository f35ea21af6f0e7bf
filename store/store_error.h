// The error every store operation throws: a message that names the store
// file (or event log) and says what was wrong.
#pragma once

#include <stdexcept>
#include <string>

namespace hrm {

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace hrm
