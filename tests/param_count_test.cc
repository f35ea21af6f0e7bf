// The analytic parameter count against live modules and the paper's table.
#include "base/param_count.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/model.h"

namespace hrm {
namespace {

TEST(ParamCount, EqualsModuleCountForEveryFamily) {
  const json configs[] = {
      {{"model", "transformer"}, {"d", 32}, {"L", 1}, {"vocab", 50}},
      {{"model", "transformer"}, {"d", 64}, {"L", 3}, {"heads", 2}, {"vocab", 300}},
      {{"model", "unitf"}, {"d", 32}, {"M", 3}, {"vocab", 50}},
      {{"model", "unitf"}, {"d", 64}, {"M", 5}, {"K", 2}, {"heads", 4}, {"vocab", 300}},
      {{"model", "hrm"}, {"d", 32}, {"N", 2}, {"T", 2}, {"vocab", 50}},
      {{"model", "hrm"}, {"d", 64}, {"N", 1}, {"T", 3}, {"S", 2}, {"heads", 1}, {"vocab", 300}},
      {{"model", "hrm"}, {"d", 48}, {"heads", 3}},  // vocab 0: the builtin byte corpus
  };
  for (const json& given : configs) {
    const json c = ResolveConfig(given);
    LanguageModel m = MakeModel(ModelOptions::FromConfig(c));
    const ParamCount pc = CountParams(c);
    EXPECT_EQ(pc.params, CountParameters(*m)) << given.dump();
    EXPECT_EQ(pc.params, pc.embedding + pc.block_params + pc.norms + pc.hrm_extras);
    EXPECT_EQ(pc.bytes_bf16, 2 * pc.params);
    EXPECT_EQ(pc.bytes_fp32, 4 * pc.params);
    EXPECT_EQ(pc.vocab, m->options().vocab);
  }
}

TEST(ParamCount, FollowsTheFormulasOfModelMd) {
  for (int64_t d : {64, 4096}) {
    const int64_t V = 50257;
    for (int64_t L : {1, 4, 12}) {
      const ParamCount t =
          CountParams(ResolveConfig({{"model", "transformer"}, {"d", d}, {"L", L}, {"vocab", V}}));
      EXPECT_EQ(t.params, 16 * d * d * L + V * d + (2 * L + 1) * d);
    }
    const ParamCount u = CountParams(ResolveConfig({{"model", "unitf"}, {"d", d}, {"vocab", V}}));
    EXPECT_EQ(u.params, 16 * d * d + V * d + 3 * d);
    const ParamCount h = CountParams(ResolveConfig({{"model", "hrm"}, {"d", d}, {"vocab", V}}));
    EXPECT_EQ(h.params - (61 * d * d + V * d), 12 * d + 3);  // the O(d) rest
    EXPECT_EQ(h.per_block, 16 * d * d + 2 * d);
  }
}

TEST(ParamCount, ReproducesThePapersTableWithinOneInAThousand) {
  struct Row {
    json given;
    double paper_millions;
  };
  const Row rows[] = {
      {{{"model", "transformer"}, {"L", 2}, {"d", 4096}}, 743},
      {{{"model", "transformer"}, {"L", 4}, {"d", 4096}}, 1280},
      {{{"model", "transformer"}, {"L", 12}, {"d", 4096}}, 3427},
      {{{"model", "unitf"}, {"d", 4096}}, 474},
      {{{"model", "unitf"}, {"d", 5760}}, 820},
      {{{"model", "unitf"}, {"d", 7296}}, 1218},
      {{{"model", "hrm"}, {"N", 2}, {"T", 4}, {"d", 4096}}, 1229},
      {{{"model", "hrm"}, {"N", 4}, {"T", 3}, {"d", 4096}}, 1229},
      {{{"model", "hrm"}, {"N", 2}, {"T", 2}, {"d", 4096}}, 1229},
      {{{"model", "hrm"}, {"d", 2048}}, 359},
      {{{"model", "hrm"}, {"d", 5120}}, 1857},
  };
  for (const Row& row : rows) {
    json given = row.given;
    given["tokenizer"] = "gpt2";  // vocab 0 -> GPT-2's 50257
    const ParamCount pc = CountParams(ResolveConfig(given));
    EXPECT_EQ(pc.vocab, 50257);
    const double millions = pc.params / 1e6;
    EXPECT_LT(std::abs(millions - row.paper_millions) / row.paper_millions, 1e-3)
        << given.dump() << " counts " << millions << "M";
  }
  // One block at d = 4096: 268M, 0.54 GB in bf16; T-L4's blocks 1.07B.
  const ParamCount t4 =
      CountParams(ResolveConfig({{"model", "transformer"}, {"L", 4}, {"d", 4096}}));
  EXPECT_NEAR(t4.per_block / 1e6, 268, 0.5);
  EXPECT_NEAR(2 * t4.per_block / 1e9, 0.54, 0.005);
  EXPECT_NEAR(t4.block_params / 1e9, 1.07, 0.005);
}

TEST(ParamCount, VocabZeroMeansTheDatasTokenizer) {
  EXPECT_EQ(ModelVocab(ResolveConfig(json::object())), 256);  // builtin corpus, byte tokens
  EXPECT_EQ(ModelVocab(ResolveConfig({{"tokenizer", "gpt2"}})), 50257);
  EXPECT_EQ(ModelVocab(ResolveConfig({{"data", "/some/owt"}})), 50257);
  EXPECT_EQ(ModelVocab(ResolveConfig({{"vocab", 1000}, {"tokenizer", "gpt2"}})), 1000);
}

}  // namespace
}  // namespace hrm
