// Time and peak memory of the tied head's loss and gradient: the plain
// cross_entropy(x·Eᵀ) against ChunkedCrossEntropy, forward + backward, at
// GPT-2's vocabulary. Each variant runs in a fresh child process (so that its
// peak RSS is its own), alternating, and the table gives chunked/plain ratios
// from the same run.
//   cross_entropy_bench [--rows 2048] [--d 256] [--vocab 50257] [--reps 3] [--steps 3]
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "core/chunked_cross_entropy.h"
#include "core/model.h"

namespace {

// A field of /proc/self/status in MiB (VmRSS, VmHWM).
double StatusMiB(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::atof(line.c_str() + field.size() + 1) / 1024;
  return 0;
}

int Child(const std::string& mode, int64_t rows, int64_t d, int64_t vocab, int64_t steps) {
  torch::manual_seed(0);
  torch::Tensor x = torch::randn({rows, d}).requires_grad_();
  torch::Tensor w = (0.02 * torch::randn({vocab, d})).requires_grad_();
  torch::Tensor t = torch::randint(vocab, {rows}, torch::kLong);
  auto step = [&] {
    x.mutable_grad() = torch::Tensor();
    w.mutable_grad() = torch::Tensor();
    torch::Tensor loss = mode == "plain" ? hrm::CrossEntropy(torch::linear(x, w), t)
                                         : hrm::ChunkedCrossEntropy(x, w, t);
    loss.backward();
  };
  // Gradients of x and w exist in both variants; allocate them before the baseline.
  step();
  const double base = StatusMiB("VmRSS");
  const double hwm_before = StatusMiB("VmHWM");
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < steps; ++i) step();
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
      double(steps);
  // The first step's peak is already in VmHWM; the later ones repeat it.
  const double peak = std::max(StatusMiB("VmHWM"), hwm_before) - base;
  std::printf("%s %.3f %.1f\n", mode.c_str(), ms, peak);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t rows = 2048, d = 256, vocab = 50257, reps = 3, steps = 3;
  std::string mode;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--rows")
      rows = std::atoll(v);
    else if (k == "--d")
      d = std::atoll(v);
    else if (k == "--vocab")
      vocab = std::atoll(v);
    else if (k == "--reps")
      reps = std::atoll(v);
    else if (k == "--steps")
      steps = std::atoll(v);
    else if (k == "--mode")
      mode = v;
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  // Large blocks straight from mmap and back, so that RSS follows what is live.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  mallopt(M_TRIM_THRESHOLD, 0);
  if (!mode.empty()) return Child(mode, rows, d, vocab, steps);

  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::map<std::string, std::vector<std::pair<double, double>>> got;
  for (int64_t r = 0; r < reps; ++r)
    for (const char* m : {"plain", "chunked"}) {
      const std::string cmd = self + " --mode " + std::string(m) + " --rows " +
                              std::to_string(rows) + " --d " + std::to_string(d) + " --vocab " +
                              std::to_string(vocab) + " --steps " + std::to_string(steps);
      std::FILE* p = popen(cmd.c_str(), "r");
      char name[16];
      double ms = 0, mib = 0;
      if (!p || std::fscanf(p, "%15s %lf %lf", name, &ms, &mib) != 3) {
        std::fprintf(stderr, "child failed: %s\n", cmd.c_str());
        return 1;
      }
      pclose(p);
      got[m].emplace_back(ms, mib);
    }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::map<std::string, std::pair<double, double>> med;
  for (auto& [m, runs] : got) {
    std::vector<double> ms, mib;
    for (auto& [a, b] : runs) {
      ms.push_back(a);
      mib.push_back(b);
    }
    med[m] = {median(ms), median(mib)};
  }
  std::printf("tied-head CE forward+backward, rows=%lld d=%lld V=%lld (median of %lld)\n",
              (long long)rows, (long long)d, (long long)vocab, (long long)reps);
  std::printf("%-8s %10s %14s\n", "variant", "ms", "peak_MiB");
  for (const char* m : {"plain", "chunked"})
    std::printf("%-8s %10.1f %14.1f\n", m, med[m].first, med[m].second);
  std::printf("chunked/plain: time %.2fx, peak memory %.2fx\n",
              med["chunked"].first / med["plain"].first,
              med["chunked"].second / med["plain"].second);
  return 0;
}
