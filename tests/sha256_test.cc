// SHA-256 on libcrypto: FIPS 180-4 test vectors, incremental updates, files.
#include "base/sha256.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "base/atomic_file.h"

namespace hrm {
namespace {

TEST(Sha256, FipsVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, IncrementalEqualsWholeAndDigestSoFarDoesNotFinalize) {
  std::string bytes;
  for (int i = 0; i < 100000; ++i) bytes.push_back(char(i * 7 + (i >> 8)));
  Sha256 s;
  size_t at = 0;
  for (size_t step : {1, 63, 64, 65, 4096, 12345}) {  // pieces across block boundaries
    s.Update(bytes.data() + at, step);
    at += step;
  }
  EXPECT_EQ(s.HexDigestSoFar(), Sha256Hex(bytes.substr(0, at)));
  s.Update(bytes.data() + at, bytes.size() - at);
  EXPECT_EQ(s.HexDigest(), Sha256Hex(bytes));
}

TEST(Sha256, FileEqualsBytesAndMissingFileIsNamed) {
  const std::string path = testing::TempDir() + "/hrm_sha256_file";
  const std::string bytes(3 << 20, 'x');  // over the 1 MiB read buffer
  WriteFileAtomic(path, bytes);
  EXPECT_EQ(Sha256File(path), Sha256Hex(bytes));
  std::filesystem::remove(path);
  try {
    Sha256File(path);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hrm
