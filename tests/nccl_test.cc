// NCCL collectives on real CUDA devices (skipped without them): one rank per
// device, each a thread of this process, meeting in a c10d FileStore. The
// CPU build (no NCCL) has only the skip.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#ifdef HRM_HAVE_NCCL
#include <torch/csrc/distributed/c10d/FileStore.hpp>

#include "core/nccl_communicator.h"
#endif

namespace hrm {
namespace {

#ifdef HRM_HAVE_NCCL

namespace fs = std::filesystem;

// Every rank sums arange(5)·(r+1) in fp32 and bf16, then takes the last
// rank's bytes by broadcast.
void ExpectCollectivesOnDevices(int world) {
  const fs::path dir = fs::path(testing::TempDir()) /
                       ("hrm_nccl_" + std::to_string(::getpid()) + "_" + std::to_string(world));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string store = (dir / "store").string();
  std::vector<std::string> errors(world);
  std::vector<std::thread> ranks;
  for (int r = 0; r < world; ++r)
    ranks.emplace_back([&, r] {
      try {
        const torch::Device device(torch::kCUDA, static_cast<c10::DeviceIndex>(r));
        NcclCommunicator comm(c10::make_intrusive<c10d::FileStore>(store, world), r, world, device,
                              std::chrono::seconds(60));
        const double sum = world * (world + 1) / 2.0;
        const auto on = torch::TensorOptions(device);
        torch::Tensor f = torch::arange(5, on.dtype(torch::kFloat)) * float(r + 1);
        comm.AllReduceSum(f);
        EXPECT_TRUE(torch::equal(f.cpu(), torch::arange(5, torch::kFloat) * float(sum)));
        torch::Tensor b = torch::full({4}, r + 1, on.dtype(torch::kBFloat16));
        comm.AllReduceSum(b);
        EXPECT_EQ(b.cpu().to(torch::kFloat).sum().item<float>(), float(4 * sum));
        torch::Tensor l = torch::full({7}, r, on.dtype(torch::kLong));
        comm.Broadcast(l, world - 1);
        EXPECT_TRUE(torch::equal(l.cpu(), torch::full({7}, world - 1, torch::kLong)));
      } catch (const std::exception& e) {
        errors[r] = e.what();
      }
    });
  for (auto& t : ranks) t.join();
  for (int r = 0; r < world; ++r) EXPECT_EQ(errors[r], "") << "rank " << r;
  fs::remove_all(dir);
}

TEST(NcclCuda, InitAndAllReduceAtWorldSizeOne) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  ExpectCollectivesOnDevices(1);
}

TEST(NcclCuda, TwoRanksOnTwoDevices) {
  if (torch::cuda::device_count() < 2) GTEST_SKIP() << "fewer than 2 CUDA devices";
  ExpectCollectivesOnDevices(2);
}

#else

TEST(NcclCuda, NeedsABuildWithNccl) {
  GTEST_SKIP() << "this build has no NCCL (a CUDA libtorch with NCCL beside it)";
}

#endif

}  // namespace
}  // namespace hrm
