// The flat-buffer optimizer path against libtorch's plain one: the same
// parameters after k real training steps of a tiny HRM.
#include "core/optimizer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/model.h"

namespace hrm {
namespace {

json Config() {
  return ResolveConfig({{"model", "hrm"},
                        {"N", 2},
                        {"T", 2},
                        {"K", 2},
                        {"d", 32},
                        {"heads", 2},
                        {"seq", 16},
                        {"vocab", 64},
                        {"lr", 3e-3}});
}

LanguageModel Build(const json& c) {
  torch::manual_seed(0);
  return MakeModel(ModelOptions::FromConfig(c));
}

// k AdamW steps on fixed random batches, the trainer's way or the plain one.
std::vector<torch::Tensor> Train(bool flat_path, double clip, int steps) {
  const json c = Config();
  LanguageModel m = Build(c);
  auto opt = MakeOptimizer(*m, c);
  std::unique_ptr<FlatParameters> flat;
  if (flat_path) flat = std::make_unique<FlatParameters>(m->parameters());
  for (int step = 0; step < steps; ++step) {
    torch::manual_seed(100 + step);
    torch::Tensor x = torch::randint(64, {2, 16}, torch::kLong);
    torch::Tensor y = torch::randint(64, {2, 16}, torch::kLong);
    if (flat_path) {
      flat->ZeroGrad();
      m->forward(x, y).loss.backward();
      flat->ClipGradNorm(clip);
      AdamWStep(*opt);
    } else {
      opt->zero_grad();
      m->forward(x, y).loss.backward();
      torch::nn::utils::clip_grad_norm_(m->parameters(), clip);
      opt->step();
    }
  }
  std::vector<torch::Tensor> out;
  for (const auto& p : m->parameters()) out.push_back(p.detach().clone());
  return out;
}

TEST(FlatParameters, ParametersAndGradientsAreViewsOfOneBuffer) {
  const json c = Config();
  LanguageModel m = Build(c);
  std::vector<torch::Tensor> before;
  for (const auto& p : m->parameters()) before.push_back(p.detach().clone());
  FlatParameters flat(m->parameters());
  ASSERT_EQ(flat.values().size(), 1u);  // all fp32
  EXPECT_EQ(flat.values()[0].numel(), CountParameters(*m));
  const auto params = m->parameters();
  const float* base = flat.values()[0].data_ptr<float>();
  const float* gbase = flat.grads()[0].data_ptr<float>();
  int64_t offset = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(torch::equal(params[i], before[i])) << "values kept, parameter " << i;
    EXPECT_EQ(params[i].data_ptr<float>(), base + offset);
    EXPECT_EQ(params[i].grad().data_ptr<float>(), gbase + offset);
    offset += params[i].numel();
  }
  // Backward accumulates into the flat buffer, and ZeroGrad clears it.
  torch::Tensor x = torch::randint(64, {2, 16}, torch::kLong);
  m->forward(x, x).loss.backward();
  EXPECT_GT(flat.grads()[0].abs().sum().item<double>(), 0);
  EXPECT_EQ(params.back().grad().data_ptr<float>(), gbase + offset - params.back().numel());
  const double norm = flat.grads()[0].norm().item<double>();
  EXPECT_NEAR(flat.ClipGradNorm(norm / 4), norm, 1e-6 * norm);
  EXPECT_NEAR(flat.grads()[0].norm().item<double>(), norm / 4, 1e-5 * norm);
  flat.ZeroGrad();
  EXPECT_EQ(flat.grads()[0].abs().sum().item<double>(), 0);
}

TEST(FlatParameters, UnclippedStepsEqualThePlainPathBitForBit) {
  // No clipping (coefficient exactly 1): the same elementwise AdamW math on
  // the same gradients, so the same bits.
  auto plain = Train(false, INFINITY, 4), flat = Train(true, INFINITY, 4);
  ASSERT_EQ(plain.size(), flat.size());
  for (size_t i = 0; i < plain.size(); ++i) EXPECT_TRUE(torch::equal(plain[i], flat[i])) << i;
}

TEST(FlatParameters, AClippedStepEqualsThePlainPathWithinRounding) {
  // One norm over the buffer instead of a norm of per-tensor norms: the
  // clipping coefficient differs in its last bits, so one step agrees to
  // one rounding of the stored parameter (1e-8 absolute: 3e-6 of the step,
  // about lr = 3e-3; 1e-6 relative).
  // Later steps are not compared tightly: Adam's update, about lr·sign(g),
  // flips wherever a gradient element is near zero, and the rounding of the
  // first step decides on which side it lands.
  auto plain = Train(false, 0.05, 1), flat = Train(true, 0.05, 1);
  auto init = Train(false, 0.05, 0);
  for (size_t i = 0; i < plain.size(); ++i) {
    EXPECT_TRUE(torch::allclose(plain[i], flat[i], 1e-6, 1e-8))
        << i << ": max diff " << (plain[i] - flat[i]).abs().max().item<double>() << ", moved "
        << (plain[i] - init[i]).abs().max().item<double>();
    EXPECT_FALSE(torch::equal(plain[i], init[i])) << "parameter " << i << " moved";
  }
}

}  // namespace
}  // namespace hrm
