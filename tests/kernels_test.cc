// The fused CUDA kernels against their ATen references, forward and
// backward, fp32 and bf16; the fused AdamW against libtorch's; a training
// step with the kernels against one without. GPU-gated: every test is named
// *Cuda* and skips (with the reason) where there is no CUDA device or the
// build has no kernels. Run on a GPU machine: build/tests/kernels_tests.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/autocast.h"
#include "core/fused_ops.h"
#include "core/model.h"
#include "core/optimizer.h"

namespace hrm {
namespace {

#define HRM_REQUIRE_CUDA_KERNELS()                                                         \
  do {                                                                                     \
    if (!torch::cuda::is_available())                                                      \
      GTEST_SKIP() << "no CUDA device: the kernels are checked on a GPU machine";          \
    if (!CudaKernelsBuilt())                                                               \
      GTEST_SKIP() << "built without the CUDA kernels (CPU libtorch or no nvcc at build)"; \
  } while (0)

// max |a − b| / max |b|, in fp32.
double RelErr(const torch::Tensor& a, const torch::Tensor& b) {
  const torch::Tensor af = a.to(torch::kFloat), bf = b.to(torch::kFloat);
  return ((af - bf).abs().max() / bf.abs().max().clamp_min(1e-12)).item<double>();
}

double Tolerance(torch::ScalarType t) { return t == torch::kFloat ? 1e-5 : 2e-2; }

// Runs f on leaf copies of inputs with the kernels on and off; compares the
// output and every input's gradient under a fixed random upstream gradient.
void ExpectSameForwardBackward(const std::vector<torch::Tensor>& inputs,
                               const std::function<torch::Tensor(std::vector<torch::Tensor>&)>& f,
                               double tol, const std::string& what) {
  std::vector<torch::Tensor> out_grads[2];
  torch::Tensor outs[2];
  torch::Tensor upstream;
  for (int fused = 0; fused < 2; ++fused) {
    SetCudaKernels(fused == 1);
    std::vector<torch::Tensor> leaves;
    for (const auto& t : inputs) leaves.push_back(t.detach().clone().requires_grad_());
    torch::Tensor y = f(leaves);
    if (!upstream.defined()) {
      torch::manual_seed(99);
      upstream = torch::randn(y.sizes(), y.options().dtype(torch::kFloat)).to(y.scalar_type());
    }
    y.backward(upstream);
    outs[fused] = y.detach();
    for (const auto& l : leaves) out_grads[fused].push_back(l.grad());
  }
  SetCudaKernels(true);
  EXPECT_EQ(outs[1].scalar_type(), outs[0].scalar_type()) << what;
  EXPECT_LT(RelErr(outs[1], outs[0]), tol) << what << ": forward";
  for (size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_EQ(out_grads[1][i].scalar_type(), out_grads[0][i].scalar_type()) << what << " #" << i;
    EXPECT_LT(RelErr(out_grads[1][i], out_grads[0][i]), tol) << what << ": gradient #" << i;
  }
}

const torch::Device kCuda("cuda");

TEST(KernelsCuda, RmsNormMatchesReference) {
  HRM_REQUIRE_CUDA_KERNELS();
  for (torch::ScalarType t : {torch::kFloat, torch::kBFloat16})
    for (int64_t d : {64, 1000, 4096}) {  // one, several and ragged strides per thread
      torch::manual_seed(d);
      torch::Tensor x = torch::randn({3, 37, d}, kCuda).to(t);
      torch::Tensor w = 1 + 0.1 * torch::randn({d}, kCuda);  // fp32 parameter
      ExpectSameForwardBackward(
          {x, w}, [](auto& v) { return RmsNormOp(v[0], v[1], 1e-6); }, Tolerance(t),
          "rmsnorm d=" + std::to_string(d) + " " + c10::toString(t));
    }
}

TEST(KernelsCuda, SwiGluMatchesReference) {
  HRM_REQUIRE_CUDA_KERNELS();
  for (torch::ScalarType t : {torch::kFloat, torch::kBFloat16}) {
    torch::manual_seed(1);
    torch::Tensor ab = 3 * torch::randn({2, 33, 2 * 96}, kCuda).to(t);
    ExpectSameForwardBackward(
        {ab}, [](auto& v) { return SwiGluOp(v[0]); }, Tolerance(t),
        std::string("swiglu ") + c10::toString(t));
  }
}

TEST(KernelsCuda, GatedUpdateMatchesReference) {
  HRM_REQUIRE_CUDA_KERNELS();
  torch::manual_seed(2);
  for (torch::ScalarType t : {torch::kFloat, torch::kBFloat16}) {
    torch::Tensor a = torch::randn({2, 17, 64}, kCuda).to(t);
    torch::Tensor z = torch::randn({2, 17, 64}, kCuda).to(t);
    torch::Tensor u = torch::randn({2, 17, 64}, kCuda).to(t);
    ExpectSameForwardBackward(
        {a, z, u}, [](auto& v) { return GatedUpdateOp(v[0], v[1], v[2]); }, Tolerance(t),
        std::string("gated update ") + c10::toString(t));
  }
  // As under autocast: a bf16 gate, fp32 states, z a broadcast prototype.
  torch::Tensor a = torch::randn({2, 17, 64}, kCuda).to(torch::kBFloat16);
  torch::Tensor z0 = torch::randn({64}, kCuda), u = torch::randn({2, 17, 64}, kCuda);
  ExpectSameForwardBackward(
      {a, z0, u},
      [](auto& v) {
        return GatedUpdateOp(v[0], v[1].expand({2, 17, 64}), v[2]);
      },
      1e-5, "gated update, mixed dtypes and a broadcast state");
}

TEST(KernelsCuda, FusedAdamWMatchesTheReferenceOptimizer) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  auto run = [](bool fused) {
    torch::manual_seed(3);
    torch::Tensor w = torch::randn({64, 32}, kCuda).requires_grad_();
    torch::Tensor b = torch::zeros({32}, kCuda).requires_grad_();
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(std::vector<torch::Tensor>{w},
                        std::make_unique<torch::optim::AdamWOptions>(
                            torch::optim::AdamWOptions(1e-2).betas({0.9, 0.95}).weight_decay(0.1)));
    groups.emplace_back(std::vector<torch::Tensor>{b},
                        std::make_unique<torch::optim::AdamWOptions>(
                            torch::optim::AdamWOptions(1e-2).betas({0.9, 0.95}).weight_decay(0)));
    torch::optim::AdamW opt(groups, torch::optim::AdamWOptions(1e-2));
    for (int step = 0; step < 5; ++step) {
      opt.zero_grad();
      torch::manual_seed(10 + step);
      torch::Tensor x = torch::randn({8, 64}, kCuda);
      (torch::tanh(x.matmul(w) + b).pow(2).sum()).backward();
      if (fused)
        AdamWStep(opt);
      else
        opt.step();
    }
    return std::vector<torch::Tensor>{w.detach(), b.detach()};
  };
  auto ref = run(false), got = run(true);
  for (size_t i = 0; i < ref.size(); ++i) EXPECT_LT(RelErr(got[i], ref[i]), 1e-5) << i;
}

TEST(KernelsCuda, TrainingStepWithKernelsMatchesAtenUnderBf16) {
  HRM_REQUIRE_CUDA_KERNELS();
  for (const char* family : {"transformer", "hrm"}) {
    json c = ResolveConfig({{"model", family},
                            {"d", 128},
                            {"heads", 2},
                            {"seq", 64},
                            {"vocab", 512},
                            {"N", 2},
                            {"T", 2},
                            {"L", 2}});
    double losses[2];
    for (int fused = 0; fused < 2; ++fused) {
      SetCudaKernels(fused == 1);
      torch::manual_seed(0);
      LanguageModel m = MakeModel(ModelOptions::FromConfig(c));
      m->to(kCuda);
      torch::Tensor x = torch::randint(512, {4, 64}, torch::kLong).to(kCuda);
      ForwardOptions fo;
      fo.logits = false;
      AutocastGuard autocast(kCuda, true);
      losses[fused] = m->forward(x, x, fo).loss.item<double>();
    }
    SetCudaKernels(true);
    EXPECT_NEAR(losses[1], losses[0], 2e-2 * losses[0]) << family;
  }
}

}  // namespace
}  // namespace hrm
