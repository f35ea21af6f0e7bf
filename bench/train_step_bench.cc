// Milliseconds per training step (forward, backward, clip, AdamW) of each
// family at one config, the C++ side of `make bench`'s comparison with the
// PyTorch-Python twin (bench/hrm_twin.py). Prints one JSON line per family.
//   train_step_bench --d 128 --seq 128 --batch 8 --steps 20 --threads 2
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/model.h"
#include "core/trainer.h"

int main(int argc, char** argv) {
  int64_t d = 128, seq = 128, batch = 8, steps = 20, warmup = 3, threads = 0;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--d") d = std::atoll(v);
    else if (k == "--seq") seq = std::atoll(v);
    else if (k == "--batch") batch = std::atoll(v);
    else if (k == "--steps") steps = std::atoll(v);
    else if (k == "--warmup") warmup = std::atoll(v);
    else if (k == "--threads") threads = std::atoll(v);
    else if (k == "--model") only = v;
    else { std::fprintf(stderr, "unknown flag %s\n", k.c_str()); return 2; }
  }
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // as the hrm binary does (runner/main.cc)
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  if (threads > 0) torch::set_num_threads(int(threads));
  for (const char* model : {"transformer", "unitf", "hrm"}) {
    if (!only.empty() && only != model) continue;
    hrm::json c = hrm::ResolveConfig(
        {{"model", model}, {"d", d}, {"seq", seq}, {"batch", batch}, {"vocab", 256}});
    torch::manual_seed(0);
    hrm::LanguageModel m = hrm::MakeModel(hrm::ModelOptions::FromConfig(c));
    auto opt = hrm::MakeOptimizer(*m, c);
    auto params = m->parameters();
    torch::Tensor x = torch::randint(0, 256, {batch, seq}, torch::kLong);
    torch::Tensor y = torch::randint(0, 256, {batch, seq}, torch::kLong);
    auto step = [&] {
      opt->zero_grad();
      m->forward(x, y).loss.backward();
      torch::nn::utils::clip_grad_norm_(params, 1.0);
      opt->step();
    };
    for (int64_t i = 0; i < warmup; ++i) step();
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < steps; ++i) step();
    const double dt =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / double(steps);
    std::printf("{\"model\": \"%s\", \"ms_per_step\": %.3f, \"tokens_per_s\": %.1f}\n", model,
                dt * 1e3, double(batch * seq) / dt);
    std::fflush(stdout);
  }
  return 0;
}
