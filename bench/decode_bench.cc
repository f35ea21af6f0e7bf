// Generation speed with and without the KV cache, per family at the mini
// profile's size (d=128, byte vocabulary; Transformer L=4, UniTF M=12, HRM
// N=4 T=3): a 64-token prompt and 128 greedy tokens, batch 1, as Table 16.
// Both ways must choose the same tokens; the ratio is the cache's speedup.
//   decode_bench [--d 128] [--prompt 64] [--new 128] [--reps 3] [--threads 1]
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/generate.h"
#include "core/model.h"

int main(int argc, char** argv) {
  int64_t d = 128, prompt_len = 64, max_new = 128, reps = 3, threads = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const int64_t v = std::atoll(argv[i + 1]);
    if (k == "--d")
      d = v;
    else if (k == "--prompt")
      prompt_len = v;
    else if (k == "--new")
      max_new = v;
    else if (k == "--reps")
      reps = v;
    else if (k == "--threads")
      threads = v;
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // as the hrm binary does (runner/main.cc)
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  torch::set_num_threads(int(threads));
  std::printf("%-12s %14s %14s %9s %12s %s\n", "model", "recompute_t/s", "cached_t/s", "speedup",
              "cache_bytes", "tokens");
  for (const char* model : {"transformer", "unitf", "hrm"}) {
    hrm::json given = {{"model", model}, {"d", d}, {"seq", prompt_len + max_new}, {"vocab", 256}};
    if (std::string(model) == "transformer") given["L"] = 4;
    hrm::json c = hrm::ResolveConfig(given);
    torch::manual_seed(0);
    hrm::LanguageModel m = hrm::MakeModel(hrm::ModelOptions::FromConfig(c));
    m->eval();
    torch::Tensor prompt = torch::randint(0, 256, {1, prompt_len}, torch::kLong);
    // Interleaved repetitions, the median of each side.
    std::vector<double> full_s, cached_s;
    torch::Tensor full_tokens, cached_tokens;
    hrm::DecodeState state;
    for (int64_t r = 0; r < reps; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      full_tokens = hrm::GreedyGenerate(*m, prompt, max_new, /*use_cache=*/false);
      auto t1 = std::chrono::steady_clock::now();
      cached_tokens = hrm::GreedyGenerate(*m, prompt, max_new, /*use_cache=*/true, &state);
      auto t2 = std::chrono::steady_clock::now();
      full_s.push_back(std::chrono::duration<double>(t1 - t0).count());
      cached_s.push_back(std::chrono::duration<double>(t2 - t1).count());
    }
    std::sort(full_s.begin(), full_s.end());
    std::sort(cached_s.begin(), cached_s.end());
    const double full = full_s[full_s.size() / 2], cached = cached_s[cached_s.size() / 2];
    const bool same = torch::equal(full_tokens, cached_tokens);
    std::printf("%-12s %14.1f %14.1f %8.2fx %12lld %s\n", model, max_new / full, max_new / cached,
                full / cached, (long long)state.CacheBytes(), same ? "identical" : "DIFFER");
    std::fflush(stdout);
    if (!same) return 1;
  }
  return 0;
}
