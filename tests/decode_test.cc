// KV-cached incremental decoding against full recomputation, all families.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/generate.h"
#include "core/model.h"

namespace hrm {
namespace {

constexpr int64_t kVocab = 32, kD = 32;

const json kFamilies[] = {
    {{"model", "transformer"}, {"L", 2}},
    {{"model", "unitf"}, {"M", 3}, {"K", 1}},
    {{"model", "hrm"}, {"N", 2}, {"T", 2}, {"K", 2}, {"S", 2}},
};

LanguageModel Build(json given) {
  torch::set_num_threads(1);
  given["vocab"] = kVocab;
  given["d"] = kD;
  given["heads"] = 2;
  given["seq"] = 16;
  torch::manual_seed(3);
  return MakeModel(ModelOptions::FromConfig(ResolveConfig(given)));
}

TEST(Decode, CachedLogitsEqualTheFullForwardInAnyChunking) {
  torch::manual_seed(11);
  torch::Tensor tokens = torch::randint(kVocab, {2, 12}, torch::kLong);
  for (const json& f : kFamilies) {
    LanguageModel m = Build(f);
    torch::NoGradGuard no_grad;
    torch::Tensor full = m->forward(tokens, {}).logits;
    for (const std::vector<int64_t>& chunks :
         {std::vector<int64_t>(12, 1), std::vector<int64_t>{5, 1, 4, 2}}) {
      DecodeState state = m->NewDecodeState(2);
      std::vector<torch::Tensor> parts;
      int64_t at = 0;
      for (int64_t t : chunks) {
        parts.push_back(m->DecodeStep(tokens.narrow(1, at, t), state));
        at += t;
        EXPECT_EQ(state.length(), at);
      }
      torch::Tensor cached = torch::cat(parts, 1);
      EXPECT_TRUE(torch::allclose(cached, full, 0, 1e-4))
          << f.dump() << " max diff " << (cached - full).abs().max().item<double>();
      // Every block application cached K and V (fp32) for all 12 positions.
      EXPECT_EQ(state.CacheBytes(), m->BlockApplications() * 2 * 2 * 12 * kD * 4) << f.dump();
    }
  }
  EXPECT_EQ(Build(kFamilies[0])->BlockApplications(), 2);                // L
  EXPECT_EQ(Build(kFamilies[1])->BlockApplications(), 3);                // M
  EXPECT_EQ(Build(kFamilies[2])->BlockApplications(), 1 + 2 * (4 + 2));  // 1 + S(M + N)
}

TEST(Decode, CachedAndRecomputedGreedyGenerationChooseTheSameTokens) {
  torch::manual_seed(12);
  torch::Tensor prompt = torch::randint(kVocab, {2, 8}, torch::kLong);
  for (const json& f : kFamilies) {
    LanguageModel m = Build(f);
    // 8 + 12 positions: past seq = 16, so the RoPE tables grow on the way.
    torch::Tensor recomputed = GreedyGenerate(*m, prompt, 12, /*use_cache=*/false);
    DecodeState state;
    torch::Tensor cached = GreedyGenerate(*m, prompt, 12, /*use_cache=*/true, &state);
    ASSERT_EQ(recomputed.sizes(), (std::vector<int64_t>{2, 12}));
    EXPECT_TRUE(torch::equal(recomputed, cached)) << f.dump() << "\n" << recomputed << cached;
    EXPECT_EQ(state.length(), 8 + 12 - 1);  // the last token is never fed back
    // Greedy continuation is the argmax of the full forward at each position.
    torch::Tensor all = torch::cat({prompt, cached}, 1);
    torch::NoGradGuard no_grad;
    torch::Tensor choice = m->forward(all, {}).logits.argmax(-1).narrow(1, 7, 12);
    EXPECT_TRUE(torch::equal(choice, cached)) << f.dump();
  }
}

TEST(Decode, RejectsAStateOfAnotherModel) {
  LanguageModel t = Build(kFamilies[0]), h = Build(kFamilies[2]);
  DecodeState state = t->NewDecodeState(1);
  torch::NoGradGuard no_grad;
  EXPECT_THROW(h->DecodeStep(torch::zeros({1, 1}, torch::kLong), state), c10::Error);
  EXPECT_THROW(t->DecodeStep(torch::zeros({2, 1}, torch::kLong), state), c10::Error);
}

}  // namespace
}  // namespace hrm
