// The FLOP count of base/flops.h against hand counts of small configs.
#include "base/flops.h"

#include <gtest/gtest.h>

namespace hrm {
namespace {

TEST(Flops, BlockIsProjectionsPlusAttention) {
  // n=4, d=8: qkv 2·4·24·8 = 1536, wo 2·4·8·8 = 512, w1,w3 2·4·64·8 = 4096,
  // w2 2·4·8·32 = 2048 → 8192; Q·Kᵀ 2·4·4·8 = 256, A·V 256 → 8704.
  EXPECT_EQ(BlockForwardFlops(4, 8), 8704);
}

TEST(Flops, HrmHandCount) {
  // d=8, n=4, V=10, N=2, T=2 (M=4), K=3, S=2; 2 × 3 micro-batches × 1 rank.
  const json c = ResolveConfig({{"model", "hrm"},
                                {"d", 8},
                                {"heads", 1},
                                {"seq", 4},
                                {"vocab", 10},
                                {"N", 2},
                                {"T", 2},
                                {"K", 3},
                                {"S", 2},
                                {"batch", 2},
                                {"grad_accum", 3}});
  const FlopCount f = CountTrainFlops(c);
  // Per sequence, forward:
  //   Block_in                                        8704
  //   fast step: block 8704 + P_L,G_L (8×24) 2·2·4·24·8 = 3072     → 11776
  //   slow step: block 8704 + P_H,G_H (8×16) 2·2·4·16·8 = 2048     → 10752
  //   per pass: 4 fast + 2 slow + W_f (8×24) 2·4·24·8 = 1536 + head 2·4·8·10 = 640
  //           = 47104 + 21504 + 1536 + 640 = 70784
  //   total: 8704 + 2 passes · 70784 = 150272
  EXPECT_EQ(f.forward_per_seq, 150272);
  // With autograd: Block_in; per pass steps 1..3 (K=3): 3 fast, and the slow
  // updates after steps 1 and 3 (both in the window); fusion and head.
  //   8704 + 2 · (3·11776 + 2·10752 + 1536 + 640) = 8704 + 2·59008 = 126720
  EXPECT_EQ(f.backward_per_seq, 2 * 126720);
  EXPECT_EQ(f.sequences, 6);
  EXPECT_EQ(f.forward, 6 * 150272);
  EXPECT_EQ(f.backward, 6 * 2 * 126720);
  EXPECT_EQ(f.total(), 6 * (150272 + 2 * 126720));
  EXPECT_EQ(f.block_applications, 1 + 2 * (4 + 2));
  EXPECT_EQ(f.block_applications_grad, 1 + 2 * (3 + 2));
  EXPECT_EQ(f.head_applications, 2);
  EXPECT_DOUBLE_EQ(f.per_token(), double(f.total()) / (6 * 4));
}

TEST(Flops, SlowUpdatesOutsideTheWindowGetNoBackward) {
  // N=4, T=3, K=2: steps 10, 11 have a graph; of the slow updates (after
  // steps 2, 5, 8, 11) only the last. n=4, d=8, V=10.
  const json c = ResolveConfig({{"model", "hrm"},
                                {"d", 8},
                                {"heads", 1},
                                {"seq", 4},
                                {"vocab", 10},
                                {"N", 4},
                                {"T", 3},
                                {"K", 2}});
  const FlopCount f = CountTrainFlops(c);
  EXPECT_EQ(f.block_applications, 1 + 12 + 4);
  EXPECT_EQ(f.block_applications_grad, 1 + 2 + 1);
  EXPECT_EQ(f.backward_per_seq, 2 * (8704 + 2 * 11776 + 10752 + 1536 + 640));
}

TEST(Flops, TransformerAndUniversalTransformer) {
  // Transformer L=3, n=4, d=8, V=10: 3 blocks + head, all with a graph.
  const json t = ResolveConfig({{"model", "transformer"},
                                {"d", 8},
                                {"heads", 1},
                                {"seq", 4},
                                {"vocab", 10},
                                {"L", 3},
                                {"batch", 5},
                                {"world_size", 2}});
  const FlopCount ft = CountTrainFlops(t);
  EXPECT_EQ(ft.forward_per_seq, 3 * 8704 + 640);
  EXPECT_EQ(ft.backward_per_seq, 2 * ft.forward_per_seq);
  EXPECT_EQ(ft.sequences, 10);
  // UniTF M=5, K=2: five block forwards, two of them (and the head) with a graph.
  const json u = ResolveConfig(
      {{"model", "unitf"}, {"d", 8}, {"heads", 1}, {"seq", 4}, {"vocab", 10}, {"M", 5}, {"K", 2}});
  const FlopCount fu = CountTrainFlops(u);
  EXPECT_EQ(fu.forward_per_seq, 5 * 8704 + 640);
  EXPECT_EQ(fu.backward_per_seq, 2 * (2 * 8704 + 640));
  EXPECT_EQ(fu.block_applications_grad, 2);
}

TEST(Flops, FullWindowBackwardIsTwiceForward) {
  // K = M: every step has a graph, so the backward is exactly 2× the forward.
  const json c = ResolveConfig({{"model", "hrm"},
                                {"d", 16},
                                {"seq", 8},
                                {"vocab", 20},
                                {"N", 2},
                                {"T", 3},
                                {"K", 6},
                                {"S", 3}});
  const FlopCount f = CountTrainFlops(c);
  EXPECT_EQ(f.backward_per_seq, 2 * f.forward_per_seq);
}

TEST(Flops, PaperScaleDoesNotOverflowAndOrdersAsTable7) {
  // Transformer L=12 at d=4096, n=1024, GPT-2 vocab, 12 × 6 sequences: ~1.6 PFLOP.
  auto flops = [](json given) {
    given.update(
        {{"d", 4096}, {"seq", 1024}, {"batch", 12}, {"world_size", 6}, {"tokenizer", "gpt2"}});
    return CountTrainFlops(ResolveConfig(given));
  };
  const FlopCount t12 = flops({{"model", "transformer"}, {"L", 12}});
  EXPECT_GT(t12.total(), 1.5e15);
  EXPECT_LT(t12.total(), 1.7e15);
  // HRM N=4,T=3,K=2 runs 17 block forwards but backpropagates through 4: cheaper.
  const FlopCount h12 = flops({{"model", "hrm"}, {"N", 4}, {"T", 3}, {"K", 2}});
  EXPECT_LT(h12.total(), t12.total());
  EXPECT_GT(h12.forward, t12.forward);
}

TEST(Flops, JsonAndLineCarryTheCount) {
  const json c = ResolveConfig({{"model", "hrm"},
                                {"d", 8},
                                {"heads", 1},
                                {"seq", 4},
                                {"vocab", 10},
                                {"N", 2},
                                {"T", 2},
                                {"K", 3},
                                {"S", 2}});
  const FlopCount f = CountTrainFlops(c);
  const json j = FlopsJson(c, f);
  EXPECT_EQ(j["total"].get<int64_t>(), f.total());
  EXPECT_EQ(j["forward_per_seq"].get<int64_t>(), 150272);
  EXPECT_EQ(j["run_id"], RunId(c));
  const std::string line = FlopsLine(c, f);
  EXPECT_NE(line.find("hrm N=2 T=2 K=3 S=2 d=8 n=4"), std::string::npos) << line;
  EXPECT_NE(line.find("/iter over 8 seqs"), std::string::npos) << line;
}

}  // namespace
}  // namespace hrm
