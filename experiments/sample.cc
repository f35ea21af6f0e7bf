#include "experiments/sample.h"

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "base/exit_code.h"
#include "core/device.h"
#include "core/generate.h"
#include "experiments/run_model.h"

namespace hrm {

int GenerateMain(const GenerateArgs& args) {
  if (args.max_new < 0 || args.temperature < 0 || args.top_k < 0) {
    std::cerr << "hrm generate: --max-new, --temperature and --top-k must be >= 0\n";
    return kExitUsage;
  }
  RunModel r;
  torch::Device device = torch::kCPU;
  try {
    r = LoadRunModel(args.run_dir, args.step);
    device = ResolveDevice(args.device);
  } catch (const std::exception& e) {
    std::cerr << "hrm generate: " << e.what() << "\n";
    return kExitUsage;
  }
  try {
    r.model->to(device);
    std::vector<int> ids = r.tokenizer->Encode(args.prompt);
    if (ids.empty()) ids.push_back(r.tokenizer->eot_id());
    std::vector<int64_t> ids64(ids.begin(), ids.end());
    torch::Tensor prompt = torch::tensor(ids64, torch::kLong).view({1, -1}).to(device);

    SampleOptions o;
    o.temperature = args.temperature;
    o.top_k = args.top_k;
    o.seed = args.seed;
    o.use_cache = args.use_cache;
    std::cout << args.prompt << std::flush;
    int64_t produced = 0;
    const auto t0 = std::chrono::steady_clock::now();
    Generate(*r.model, prompt, args.max_new, o, [&](const torch::Tensor& next) {
      ++produced;
      std::cout << r.tokenizer->Decode({int(next.item<int64_t>())}) << std::flush;
      return true;
    });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "\n";
    std::fprintf(stderr, "%lld tokens in %.2f s (%.1f tokens/s), run %s step %lld, %s, %s\n",
                 (long long)produced, s, produced / std::max(s, 1e-9), r.run_id.c_str(),
                 (long long)r.step, o.use_cache ? "KV cache" : "no cache",
                 o.temperature > 0 ? "sampled" : "greedy");
    return kExitOk;
  } catch (const std::exception& e) {
    std::cerr << "hrm generate: " << e.what() << "\n";
    return kExitError;
  }
}

}  // namespace hrm
