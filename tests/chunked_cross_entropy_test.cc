// ChunkedCrossEntropy against the plain cross_entropy(x·Wᵀ): loss and
// gradients in fp32 and under bf16 autocast, and the models' loss-only path
// against their logits path.
#include "core/chunked_cross_entropy.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/autocast.h"
#include "core/model.h"

namespace hrm {
namespace {

struct Case {
  torch::Tensor x, w, targets;
};

Case Random(int64_t rows, int64_t d, int64_t vocab, uint64_t seed) {
  torch::manual_seed(seed);
  Case c;
  c.x = torch::randn({rows, d}).requires_grad_();
  c.w = (0.3 * torch::randn({vocab, d})).requires_grad_();
  c.targets = torch::randint(vocab, {rows}, torch::kLong);
  return c;
}

struct LossGrads {
  double loss;
  torch::Tensor gx, gw;
};

// loss·3 so that the incoming gradient is not 1.
LossGrads Measure(const Case& c, bool chunked, int64_t chunk_rows) {
  c.x.mutable_grad() = torch::Tensor();
  c.w.mutable_grad() = torch::Tensor();
  torch::Tensor loss = chunked ? ChunkedCrossEntropy(c.x, c.w, c.targets, chunk_rows)
                               : CrossEntropy(torch::linear(c.x, c.w), c.targets);
  (3 * loss).backward();
  return {loss.item<double>(), c.x.grad().clone(), c.w.grad().clone()};
}

// max |a − b| relative to max |b|.
double RelErr(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a.to(torch::kFloat) - b.to(torch::kFloat)).abs().max() / b.abs().max()).item<double>();
}

TEST(ChunkedCrossEntropy, EqualsPlainCrossEntropyInFp32) {
  const Case c = Random(37, 24, 50, 1);
  const LossGrads plain = Measure(c, false, 0);
  for (int64_t chunk : {1, 8, 37, 100, 0}) {  // uneven last chunk, one chunk, the default
    const LossGrads got = Measure(c, true, chunk);
    EXPECT_NEAR(got.loss, plain.loss, 1e-6 * plain.loss) << "chunk " << chunk;
    EXPECT_LT(RelErr(got.gx, plain.gx), 1e-5) << "chunk " << chunk;
    EXPECT_LT(RelErr(got.gw, plain.gw), 1e-5) << "chunk " << chunk;
  }
}

TEST(ChunkedCrossEntropy, EqualsPlainCrossEntropyUnderBf16Autocast) {
  // Both sides multiply in bf16 (8 bits of mantissa) and reduce in fp32; they
  // round differently, so they agree to about 1%.
  const Case c = Random(64, 32, 300, 2);
  LossGrads plain, got;
  {
    AutocastGuard autocast(torch::kCPU, true);
    plain = Measure(c, false, 0);
  }
  {
    AutocastGuard autocast(torch::kCPU, true);
    got = Measure(c, true, 16);
  }
  EXPECT_NEAR(got.loss, plain.loss, 1e-2 * plain.loss);
  EXPECT_EQ(got.gx.scalar_type(), torch::kFloat);  // gradients in the inputs' dtypes
  EXPECT_EQ(got.gw.scalar_type(), torch::kFloat);
  EXPECT_LT(RelErr(got.gx, plain.gx), 3e-2);
  EXPECT_LT(RelErr(got.gw, plain.gw), 3e-2);
  // And it is bf16 arithmetic, not fp32: the fp32 result differs more than rounding.
  const LossGrads fp32 = Measure(c, true, 16);
  EXPECT_GT(std::abs(got.loss - fp32.loss), 1e-6);
}

TEST(ChunkedCrossEntropy, WithoutAutogradBuildsNoGraph) {
  const Case c = Random(10, 8, 20, 3);
  torch::Tensor with = ChunkedCrossEntropy(c.x, c.w, c.targets, 3);
  torch::NoGradGuard no_grad;
  torch::Tensor without = ChunkedCrossEntropy(c.x, c.w, c.targets, 3);
  EXPECT_TRUE(with.requires_grad());
  EXPECT_FALSE(without.requires_grad());
  EXPECT_EQ(with.item<double>(), without.item<double>());
}

TEST(ChunkedCrossEntropy, RejectsMismatchedShapes) {
  const Case c = Random(10, 8, 20, 4);
  EXPECT_THROW(ChunkedCrossEntropy(c.x, c.w, c.targets.narrow(0, 0, 9)), c10::Error);
  EXPECT_THROW(ChunkedCrossEntropy(c.x, c.w.narrow(1, 0, 7), c.targets), c10::Error);
}

TEST(ChunkedCrossEntropy, EveryFamilysLossOnlyForwardMatchesItsLogitsForward) {
  torch::set_num_threads(1);
  const json families[] = {
      {{"model", "transformer"}, {"L", 2}},
      {{"model", "unitf"}, {"M", 3}, {"K", 2}},
      {{"model", "hrm"}, {"N", 2}, {"T", 2}, {"K", 3}, {"S", 2}},
  };
  torch::manual_seed(5);
  torch::Tensor tokens = torch::randint(40, {2, 12}, torch::kLong);
  torch::Tensor targets = torch::randint(40, {2, 12}, torch::kLong);
  for (json f : families) {
    f.update({{"d", 32}, {"heads", 2}, {"seq", 16}, {"vocab", 40}});
    torch::manual_seed(0);
    LanguageModel m = MakeModel(ModelOptions::FromConfig(ResolveConfig(f)));
    auto grads = [&](bool logits) {
      ForwardOptions fo;
      fo.logits = logits;
      m->zero_grad();
      ForwardResult r = m->forward(tokens, targets, fo);
      EXPECT_EQ(r.logits.defined(), logits) << f.dump();
      r.loss.backward();
      std::vector<torch::Tensor> g{r.loss.detach(), r.ce.detach()};
      for (const auto& p : m->parameters()) g.push_back(p.grad().clone());
      return g;
    };
    const auto plain = grads(true), chunked = grads(false);
    ASSERT_EQ(plain.size(), chunked.size());
    for (size_t i = 0; i < plain.size(); ++i)
      EXPECT_TRUE(torch::allclose(chunked[i], plain[i], 1e-4, 1e-7)) << f.dump() << " #" << i;
  }
}

}  // namespace
}  // namespace hrm
