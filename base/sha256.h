// SHA-256 of byte strings and files: run ids, data checksums, checkpoint
// checksums. Torch-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace hrm {

class Sha256 {
 public:
  Sha256();
  void Update(const void* data, size_t len);
  std::string HexDigest();  // finalizes; call once

 private:
  void Block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

std::string Sha256Hex(const std::string& bytes);
// Throws std::runtime_error naming the path if it cannot be read.
std::string Sha256File(const std::string& path);

}  // namespace hrm
