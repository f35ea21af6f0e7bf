// Checkpoint files on their own: streamed save, the footer's layout, and every
// way a file on disk can be broken (truncated anywhere, a flipped byte, no
// footer, a wrong length): each is refused by name before any tensor is read.
#include "core/checkpoint.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <torch/torch.h>

#include <csignal>
#include <filesystem>

#include "base/atomic_file.h"
#include "base/run_dir.h"
#include "base/sha256.h"

namespace hrm {
namespace {

namespace fs = std::filesystem;
constexpr size_t kFooter = 8 + 64 + 8;

struct Net : torch::nn::Module {
  Net() {
    a = register_module("a", torch::nn::Linear(16, 32));
    b = register_module("b", torch::nn::Linear(32, 4));
  }
  torch::Tensor forward(torch::Tensor x) { return b(torch::relu(a(x))); }
  torch::nn::Linear a{nullptr}, b{nullptr};
};

// A model with AdamW state after `steps` real training steps.
struct Trained {
  explicit Trained(int steps, uint64_t seed = 1) {
    torch::manual_seed(seed);
    net = std::make_shared<Net>();
    opt =
        std::make_unique<torch::optim::AdamW>(net->parameters(), torch::optim::AdamWOptions(1e-2));
    for (int i = 0; i < steps; ++i) {
      opt->zero_grad();
      net->forward(torch::randn({8, 16})).pow(2).mean().backward();
      opt->step();
    }
  }
  std::shared_ptr<Net> net;
  std::unique_ptr<torch::optim::AdamW> opt;
};

std::string Dir(const std::string& name) {
  const fs::path p = fs::path(testing::TempDir()) / ("hrm_ckpt_" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

json Meta(int64_t step) { return {{"step", step}, {"config_hash", "abc"}}; }

void ExpectSameParameters(Net& x, Net& y) {
  auto px = x.named_parameters(), py = y.named_parameters();
  ASSERT_EQ(px.size(), py.size());
  for (const auto& p : px) EXPECT_TRUE(torch::equal(p.value(), py[p.key()])) << p.key();
}

TEST(Checkpoint, RoundTripsModelOptimizerRngAndMeta) {
  const std::string path = CheckpointFileName(Dir("rt"), 3);
  Trained src(3);
  torch::manual_seed(42);
  const std::string sha = SaveCheckpoint(path, *src.net, *src.opt, Meta(3));
  const torch::Tensor next_random = torch::rand({4});
  EXPECT_EQ(sha, Sha256File(path));  // the whole file's digest, as sha256sum prints it
  EXPECT_EQ(fs::path(path).parent_path().filename(), "ckpt");
  for (const auto& e : fs::directory_iterator(fs::path(path).parent_path()))
    EXPECT_EQ(e.path(), path) << "a temp file was left behind";

  Trained dst(0, /*seed=*/2);
  torch::manual_seed(7);
  const json meta = LoadCheckpoint(path, dst.net.get(), dst.opt.get());
  EXPECT_EQ(meta, Meta(3));
  EXPECT_TRUE(torch::equal(torch::rand({4}), next_random));  // the RNG as it was saved
  ExpectSameParameters(*src.net, *dst.net);
  // The AdamW state came along: one more identical step stays identical.
  for (Trained* t : {&src, &dst}) {
    torch::manual_seed(9);
    t->opt->zero_grad();
    t->net->forward(torch::randn({8, 16})).pow(2).mean().backward();
    t->opt->step();
  }
  ExpectSameParameters(*src.net, *dst.net);
}

TEST(Checkpoint, FooterHoldsLengthAndChecksumOfTheArchive) {
  const std::string path = CheckpointFileName(Dir("layout"), 1);
  Trained src(1);
  SaveCheckpoint(path, *src.net, *src.opt, Meta(1));
  const std::string bytes = ReadFile(path);
  ASSERT_GT(bytes.size(), kFooter);
  const size_t len = bytes.size() - kFooter;
  uint64_t field = 0;
  for (int i = 0; i < 8; ++i) field |= uint64_t(uint8_t(bytes[len + i])) << (8 * i);
  EXPECT_EQ(field, len);
  EXPECT_EQ(bytes.substr(len + 8, 64), Sha256Hex(bytes.substr(0, len)));
  EXPECT_EQ(bytes.substr(bytes.size() - 8), "HRMCKPT1");
  EXPECT_EQ(bytes.substr(0, 2), "PK");  // the archive is torch's zip
}

// Every damaged file is refused naming the file and what is wrong, and the
// model it was loaded into is untouched.
TEST(Checkpoint, DamagedFilesAreRefusedBeforeAnyTensorIsRead) {
  const std::string dir = Dir("damaged");
  const std::string good = CheckpointFileName(dir, 1);
  Trained src(2);
  SaveCheckpoint(good, *src.net, *src.opt, Meta(1));
  const std::string bytes = ReadFile(good);
  const size_t len = bytes.size() - kFooter;
  auto flipped = [&](size_t at) {
    std::string b = bytes;
    b[at] ^= 0x01;
    return b;
  };
  std::string wrong_length = bytes;
  wrong_length[len] ^= 0x01;
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"empty", "", "not a complete"},
      {"truncated_to_1", bytes.substr(0, 1), "not a complete"},
      {"truncated_mid_archive", bytes.substr(0, len / 2), "not a complete"},
      {"footer_missing", bytes.substr(0, len), "not a complete"},
      {"truncated_in_footer", bytes.substr(0, len + 40), "not a complete"},
      {"last_byte_missing", bytes.substr(0, bytes.size() - 1), "not a complete"},
      {"byte_flipped_in_the_middle", flipped(len / 2), "checksum mismatch"},
      {"first_byte_flipped", flipped(0), "checksum mismatch"},
      {"last_archive_byte_flipped", flipped(len - 1), "checksum mismatch"},
      {"digest_flipped", flipped(len + 8 + 10), "checksum mismatch"},
      {"length_wrong", wrong_length, "length field"},
      {"appended_garbage", bytes + "x", "not a complete"},
  };
  for (const auto& [name, content, message] : cases) {
    const std::string path = dir + "/" + name + ".ckpt";
    WriteFileAtomic(path, content);
    Trained dst(0, /*seed=*/3);
    const torch::Tensor before = dst.net->a->weight.clone();
    try {
      LoadCheckpoint(path, dst.net.get(), dst.opt.get());
      ADD_FAILURE() << name << " was accepted";
    } catch (const CorruptCheckpoint& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << name << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << name << ": " << e.what();
    }
    EXPECT_TRUE(torch::equal(dst.net->a->weight, before)) << name;
    EXPECT_THROW(ReadCheckpointMeta(path), CorruptCheckpoint) << name;
  }
}

TEST(Checkpoint, NewestThatVerifiesIsLoadedAndAnotherRunsIsRefused) {
  const std::string dir = Dir("newest");
  Trained s1(1), s2(2), s3(3);
  SaveCheckpoint(CheckpointFileName(dir, 1), *s1.net, *s1.opt, Meta(1));
  SaveCheckpoint(CheckpointFileName(dir, 2), *s2.net, *s2.opt, Meta(2));
  SaveCheckpoint(CheckpointFileName(dir, 3), *s3.net, *s3.opt, Meta(3));
  // Step 3 loses its footer, step 2 a byte in the middle: step 1 is loaded.
  std::string b3 = ReadFile(CheckpointFileName(dir, 3));
  WriteFileAtomic(CheckpointFileName(dir, 3), b3.substr(0, b3.size() - kFooter));
  std::string b2 = ReadFile(CheckpointFileName(dir, 2));
  b2[b2.size() / 2] ^= 0x40;
  WriteFileAtomic(CheckpointFileName(dir, 2), b2);
  Trained dst(0, 4);
  testing::internal::CaptureStderr();
  const json meta = LoadNewestCheckpoint(dir, "abc", dst.net.get(), dst.opt.get());
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(meta["step"], 1);
  ExpectSameParameters(*s1.net, *dst.net);
  EXPECT_NE(err.find(CheckpointFileName(dir, 3)), std::string::npos) << err;
  EXPECT_NE(err.find(CheckpointFileName(dir, 2) + ": checksum mismatch"), std::string::npos) << err;

  // A verified checkpoint of another run is an error, not a fallback.
  Trained other(0, 5);
  const torch::Tensor before = other.net->a->weight.clone();
  EXPECT_THROW(LoadNewestCheckpoint(dir, "another-run", other.net.get(), nullptr),
               std::runtime_error);
  EXPECT_TRUE(torch::equal(other.net->a->weight, before));
  EXPECT_TRUE(LoadNewestCheckpoint(Dir("none"), "abc", nullptr, nullptr).is_null());
}

// A save that cannot be published leaves no temp file and no checkpoint.
TEST(Checkpoint, FailedPublishLeavesNothingBehind) {
  const std::string dir = Dir("failed");
  const std::string path = CheckpointFileName(dir, 5);
  fs::create_directories(fs::path(path) / "occupied");  // rename onto a non-empty directory fails
  Trained src(1);
  try {
    SaveCheckpoint(path, *src.net, *src.opt, Meta(5));
    FAIL() << "the save succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  for (const auto& e : fs::directory_iterator(fs::path(path).parent_path()))
    EXPECT_EQ(e.path(), path) << "left behind: " << e.path();
}

// A write that fails in the middle of the stream (here: the file size limit,
// as a full disk would) is an error naming the file; the checkpoint already
// at the path is kept and no temp file remains.
TEST(Checkpoint, WriteErrorMidStreamKeepsThePreviousCheckpoint) {
  const std::string dir = Dir("write_error");
  const std::string path = CheckpointFileName(dir, 1);
  Trained old_state(1), new_state(2);
  SaveCheckpoint(path, *old_state.net, *old_state.opt, Meta(1));
  const std::string before = ReadFile(path);
  struct rlimit saved;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  struct sigaction ignore = {}, old_action;
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGXFSZ, &ignore, &old_action), 0);  // EFBIG instead of a signal
  struct rlimit small = saved;
  small.rlim_cur = before.size() / 2;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string error;
  try {
    SaveCheckpoint(path, *new_state.net, *new_state.opt, Meta(1));
  } catch (const std::exception& e) {
    error = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &saved);
  ::sigaction(SIGXFSZ, &old_action, nullptr);
  EXPECT_NE(error.find(path + ".tmp."), std::string::npos) << error;
  EXPECT_NE(error.find("cannot write"), std::string::npos) << error;
  EXPECT_EQ(ReadFile(path), before);
  for (const auto& e : fs::directory_iterator(fs::path(path).parent_path()))
    EXPECT_EQ(e.path(), path) << "left behind: " << e.path();
  EXPECT_EQ(ReadCheckpointMeta(path)["step"], 1);
}

}  // namespace
}  // namespace hrm
