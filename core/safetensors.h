// The safetensors file format (huggingface/safetensors): an 8-byte
// little-endian header length, a JSON header naming each tensor's dtype,
// shape and byte range, then the raw little-endian tensor bytes.
#pragma once

#include <torch/torch.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "base/config.h"

namespace hrm {

// A file that is not valid safetensors; what() names the file and, where one
// is at fault, the tensor.
class SafetensorsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

struct SafetensorsFile {
  NamedTensors tensors;            // in file order (by data offset)
  json metadata = json::object();  // "__metadata__": string -> string
};

// Writes CPU copies of `tensors` (F32, BF16, F16, I64 or I32) to `path`
// atomically, with `metadata` (string values) as "__metadata__".
void SaveSafetensors(const std::string& path, const NamedTensors& tensors,
                     const json& metadata = json::object());

// Reads and validates the whole file: header length, JSON, dtypes, shapes
// against byte ranges, ranges inside the file and not overlapping. Throws
// SafetensorsError.
SafetensorsFile LoadSafetensors(const std::string& path);

}  // namespace hrm
