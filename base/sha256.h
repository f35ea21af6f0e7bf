// SHA-256 of byte strings and files: run ids, data checksums, checkpoint
// checksums. Computed by OpenSSL's libcrypto (EVP). Torch-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of every includer

namespace hrm {

// An incremental SHA-256: Update as the bytes pass, then HexDigest.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, size_t len);
  // The digest of the bytes so far, without finalizing: Update may go on.
  std::string HexDigestSoFar() const;
  std::string HexDigest();  // finalizes; call once

 private:
  evp_md_ctx_st* ctx_;
};

std::string Sha256Hex(const std::string& bytes);
// Throws std::runtime_error naming the path if it cannot be read.
std::string Sha256File(const std::string& path);

}  // namespace hrm
