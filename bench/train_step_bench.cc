// Milliseconds per training step (forward, backward, clip, AdamW) of each
// family at one config, the C++ side of `make bench`'s comparison with the
// PyTorch-Python twin (bench/hrm_twin.py). Prints one JSON line per family.
//   train_step_bench --d 128 --seq 128 --batch 8 --steps 20 --threads 2 [--variant V]
//                    [--vocab 256] [--device cpu|cuda] (cuda: bf16 autocast, as the trainer)
//                    [--hrm-plain 1] (HRM's fast context concatenated, as MODEL.md writes it)
//                    [--cuda-kernels 0] (the ATen references instead of core/cuda's kernels)
// --variant trainer (default): the trainer's step (flat parameter and gradient
// buffers, AdamWStep, loss without materialised logits); plain: libtorch's
// zero_grad, clip_grad_norm_ and AdamW::step on the model's logits, the
// baseline the trainer's step is measured against.
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>

#include "core/autocast.h"
#include "core/fused_ops.h"
#include "core/hrm_lm.h"
#include "core/model.h"
#include "core/optimizer.h"

int main(int argc, char** argv) {
  int64_t d = 128, seq = 128, batch = 8, steps = 20, warmup = 3, threads = 0, vocab = 256;
  std::string only, variant = "trainer", device_name = "cpu";
  bool hrm_plain = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--d")
      d = std::atoll(v);
    else if (k == "--seq")
      seq = std::atoll(v);
    else if (k == "--batch")
      batch = std::atoll(v);
    else if (k == "--steps")
      steps = std::atoll(v);
    else if (k == "--warmup")
      warmup = std::atoll(v);
    else if (k == "--threads")
      threads = std::atoll(v);
    else if (k == "--model")
      only = v;
    else if (k == "--variant")
      variant = v;
    else if (k == "--vocab")
      vocab = std::atoll(v);
    else if (k == "--device")
      device_name = v;
    else if (k == "--hrm-plain")
      hrm_plain = std::atoi(v) != 0;
    else if (k == "--cuda-kernels")
      hrm::SetCudaKernels(std::atoi(v) != 0);
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  if (variant != "trainer" && variant != "plain") {
    std::fprintf(stderr, "--variant must be trainer or plain, got %s\n", variant.c_str());
    return 2;
  }
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // as the hrm binary does (runner/main.cc)
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  if (threads > 0) torch::set_num_threads(int(threads));
  const torch::Device device(device_name);
  auto sync = [&] {
    if (device.is_cuda()) torch::cuda::synchronize();
  };
  for (const char* model : {"transformer", "unitf", "hrm"}) {
    if (!only.empty() && only != model) continue;
    hrm::json c = hrm::ResolveConfig(
        {{"model", model}, {"d", d}, {"seq", seq}, {"batch", batch}, {"vocab", vocab}});
    torch::manual_seed(0);
    hrm::LanguageModel m = hrm::MakeModel(hrm::ModelOptions::FromConfig(c));
    m->to(device);
    if (auto* h = dynamic_cast<hrm::HrmLmImpl*>(m.get())) h->split_fast_context = !hrm_plain;
    auto opt = hrm::MakeOptimizer(*m, c);
    auto params = m->parameters();
    torch::Tensor x = torch::randint(0, vocab, {batch, seq}, torch::kLong).to(device);
    torch::Tensor y = torch::randint(0, vocab, {batch, seq}, torch::kLong).to(device);
    hrm::ForwardOptions fo;  // plain: the loss of the materialised logits
    fo.logits = variant == "plain";
    auto forward = [&] {
      hrm::AutocastGuard autocast(device, device.is_cuda());
      return m->forward(x, y, fo).loss;
    };
    std::function<void()> step;
    std::unique_ptr<hrm::FlatParameters> flat;
    if (variant == "plain") {
      step = [&] {
        opt->zero_grad();
        forward().backward();
        torch::nn::utils::clip_grad_norm_(params, 1.0);
        opt->step();
      };
    } else {
      flat = std::make_unique<hrm::FlatParameters>(params);
      step = [&] {
        flat->ZeroGrad();
        forward().backward();
        flat->ClipGradNorm(1.0);
        hrm::AdamWStep(*opt);
      };
    }
    for (int64_t i = 0; i < warmup; ++i) step();
    sync();
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < steps; ++i) step();
    sync();
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() /
                      double(steps);
    std::printf(
        "{\"model\": \"%s\", \"variant\": \"%s\", \"hrm_plain\": %s, \"cuda_kernels\": %s, "
        "\"ms_per_step\": %.3f, \"tokens_per_s\": %.1f}\n",
        model, variant.c_str(), hrm_plain ? "true" : "false",
        hrm::CudaKernelsBuilt() && hrm::CudaKernelsEnabled() ? "true" : "false", dt * 1e3,
        double(batch * seq) / dt);
    std::fflush(stdout);
  }
  return 0;
}
