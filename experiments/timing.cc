#include "experiments/timing.h"

#include <algorithm>
#include <chrono>

namespace hrm {

std::vector<double> TimeRepeats(const torch::Device& device, int repeats,
                                const std::function<void()>& warmup,
                                const std::function<void()>& timed) {
  auto sync = [&] {
    if (device.is_cuda()) torch::cuda::synchronize(device.index());
  };
  warmup();
  sync();
  std::vector<double> seconds;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    timed();
    sync();
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return seconds;
}

double SampleMedian(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace hrm
