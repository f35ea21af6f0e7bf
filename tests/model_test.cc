// The three model families on tiny sizes: initialisation, causality, the
// gradient window, supervision passes, HRM's state bound and analyses, and
// that each one learns.
#include "core/model.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <unordered_set>

#include "core/hrm_lm.h"
#include "core/transformer.h"
#include "core/universal_transformer.h"

namespace hrm {
namespace {

constexpr int64_t kVocab = 32;

class ModelTest : public ::testing::Test {
 protected:
  void SetUp() override { torch::set_num_threads(1); }
};

// A resolved tiny config of one family, vocabulary kVocab, seq 16.
json Tiny(json given) {
  if (!given.contains("vocab")) given["vocab"] = kVocab;
  if (!given.contains("d")) given["d"] = 32;
  if (!given.contains("heads")) given["heads"] = 2;
  if (!given.contains("seq")) given["seq"] = 16;
  return ResolveConfig(given);
}

LanguageModel Build(const json& given, uint64_t seed = 0) {
  torch::manual_seed(seed);
  return MakeModel(ModelOptions::FromConfig(Tiny(given)));
}

torch::Tensor RandomTokens(int64_t B, int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  return torch::randint(kVocab, {B, n}, torch::kLong);
}

const json kFamilies[] = {
    {{"model", "transformer"}, {"L", 2}},
    {{"model", "unitf"}, {"M", 3}, {"K", 2}},
    {{"model", "hrm"}, {"N", 2}, {"T", 2}, {"K", 3}, {"S", 2}},
};

// Distinct autograd nodes reachable from a tensor's grad_fn.
size_t GraphNodes(const torch::Tensor& t) {
  std::unordered_set<torch::autograd::Node*> seen;
  std::vector<torch::autograd::Node*> todo{t.grad_fn().get()};
  while (!todo.empty()) {
    torch::autograd::Node* node = todo.back();
    todo.pop_back();
    if (!node || !seen.insert(node).second) continue;
    for (const auto& edge : node->next_edges()) todo.push_back(edge.function.get());
  }
  return seen.size();
}

double Std(const torch::Tensor& t) { return t.std().item<double>(); }

TEST_F(ModelTest, SameSeedSameWeightsOtherSeedOtherWeights) {
  for (const json& f : kFamilies) {
    auto a = Build(f, 7)->named_parameters();
    auto b = Build(f, 7)->named_parameters();
    auto c = Build(f, 8)->named_parameters();
    for (const auto& p : a) {
      EXPECT_TRUE(torch::equal(p.value(), b[p.key()])) << p.key();
      if (p.value().numel() > 1 && p.value().std().item<double>() > 0)
        EXPECT_FALSE(torch::equal(p.value(), c[p.key()])) << p.key();
    }
  }
}

TEST_F(ModelTest, InitialisationFollowsModelMd) {
  const double s = 0.02;
  {  // Transformer: residual projections at σ/sqrt(2L), as GPT-2.
    auto m = Build({{"model", "transformer"}, {"L", 4}, {"d", 64}});
    auto& t = dynamic_cast<TransformerImpl&>(*m);
    EXPECT_NEAR(Std(t.wte), s, 0.1 * s);
    for (const auto& b : *t.blocks) {
      auto& block = *b->as<CausalAttnBlockImpl>();
      EXPECT_NEAR(Std(block.qkv), s, 0.05 * s);
      EXPECT_NEAR(Std(block.wo), s / std::sqrt(8.0), 0.05 * s / std::sqrt(8.0));
      EXPECT_NEAR(Std(block.w2), s / std::sqrt(8.0), 0.05 * s / std::sqrt(8.0));
      EXPECT_TRUE(torch::equal(block.norm1->weight, torch::ones({64})));
    }
  }
  {  // UniTF with the width rule active (d = 64 > init_width_ref = 16).
    auto m = Build({{"model", "unitf"}, {"M", 6}, {"d", 64}, {"init_width_ref", 16}});
    auto& u = dynamic_cast<UniversalTransformerImpl&>(*m);
    const double w = s * std::sqrt(16.0 / 64.0);
    EXPECT_NEAR(Std(u.block->w13), w, 0.05 * w);
    EXPECT_NEAR(Std(u.block->wo), w / std::sqrt(12.0), 0.05 * w / std::sqrt(12.0));
    EXPECT_NEAR(Std(u.wte), s, 0.1 * s);  // not a block weight
  }
  {  // HRM: A = 1, M, N for Block_in, Block_L, Block_H; gates, α, τ, prototypes.
    auto m = Build({{"model", "hrm"}, {"N", 3}, {"T", 4}, {"d", 64}});
    auto& h = dynamic_cast<HrmLmImpl&>(*m);
    auto near = [](double got, double want) { EXPECT_NEAR(got, want, 0.05 * want); };
    near(Std(h.block_in->wo), s / std::sqrt(2.0));
    near(Std(h.block_L->wo), s / std::sqrt(24.0));
    near(Std(h.block_H->w2), s / std::sqrt(6.0));
    near(Std(h.block_L->qkv), s);
    near(Std(h.P_L), s);
    near(Std(h.W_f), s);
    EXPECT_TRUE(torch::equal(h.b_L, torch::zeros({64})));
    EXPECT_TRUE(torch::equal(h.b_H, torch::zeros({64})));
    EXPECT_FLOAT_EQ(h.alpha_L.item<float>(), 0.1f);
    EXPECT_FLOAT_EQ(h.alpha_H.item<float>(), 0.1f);
    EXPECT_FLOAT_EQ(h.tau.item<float>(), 1.0f);
    for (const torch::Tensor& z : {h.z_L0, h.z_H0}) {
      EXPECT_FALSE(z.requires_grad());
      EXPECT_LE(z.abs().max().item<double>(), 2.0);
      EXPECT_GT(Std(z), 0.6);  // unit normal truncated at ±2 has std 0.88
    }
    EXPECT_EQ(h.named_buffers().size(), 2u);  // prototypes saved, RoPE tables not
  }
}

TEST_F(ModelTest, FutureTokensDoNotChangePastLogits) {
  for (const json& f : kFamilies) {
    auto m = Build(f);
    torch::NoGradGuard no_grad;
    torch::Tensor tokens = RandomTokens(2, 16, 1);
    torch::Tensor changed = tokens.clone();
    const int64_t p = 7;
    changed.narrow(1, p, 16 - p).copy_(RandomTokens(2, 16 - p, 2));
    torch::Tensor a = m->forward(tokens, {}).logits, b = m->forward(changed, {}).logits;
    EXPECT_TRUE(torch::allclose(a.narrow(1, 0, p), b.narrow(1, 0, p), 0, 1e-5)) << f.dump();
    EXPECT_FALSE(torch::allclose(a.narrow(1, p, 16 - p), b.narrow(1, p, 16 - p), 0, 1e-5));
  }
}

TEST_F(ModelTest, StepsBeforeTheWindowBuildNoGraph) {
  // With K fixed, the autograd graph must not grow with M: the first M−K
  // steps run under no-grad. (T = 1 makes every HRM step alike.)
  torch::Tensor tokens = RandomTokens(2, 8, 3);
  auto nodes = [&](const json& f) {
    auto m = Build(f);
    return GraphNodes(m->forward(tokens, tokens).loss);
  };
  EXPECT_EQ(nodes({{"model", "unitf"}, {"M", 2}, {"K", 1}}),
            nodes({{"model", "unitf"}, {"M", 6}, {"K", 1}}));
  EXPECT_LT(nodes({{"model", "unitf"}, {"M", 6}, {"K", 1}}),
            nodes({{"model", "unitf"}, {"M", 6}, {"K", 2}}));
  EXPECT_EQ(nodes({{"model", "hrm"}, {"N", 2}, {"T", 1}, {"K", 1}}),
            nodes({{"model", "hrm"}, {"N", 6}, {"T", 1}, {"K", 1}}));
  EXPECT_LT(nodes({{"model", "hrm"}, {"N", 6}, {"T", 1}, {"K", 1}}),
            nodes({{"model", "hrm"}, {"N", 6}, {"T", 1}, {"K", 2}}));
}

// HRM-LM written out from MODEL.md §4 with concatenated contexts, plain
// convex combinations and explicit detaches, on the model's own weights.
torch::Tensor ReferenceHrmLoss(HrmLmImpl& m, const torch::Tensor& tokens,
                               const torch::Tensor& targets, bool detach_passes) {
  const ModelOptions& o = m.options();
  const int64_t B = tokens.size(0), n = tokens.size(1);
  torch::Tensor e = m.block_in(torch::embedding(m.wte, tokens));
  torch::Tensor zL = m.z_L0.expand({B, n, o.d}), zH = m.z_H0.expand({B, n, o.d});
  torch::Tensor total = torch::zeros({});
  for (int64_t pass = 0; pass < o.S; ++pass) {
    for (int64_t i = 0; i < o.M; ++i) {
      if (i == o.M - o.K && o.K < o.M) {  // truncated backprop: cut before the window
        zL = zL.detach();
        zH = zH.detach();
      }
      torch::Tensor cL = torch::cat({zL, zH, e}, -1);
      torch::Tensor uL = m.block_L(zL + m.alpha_L * torch::linear(cL, m.P_L));
      torch::Tensor gL = torch::sigmoid(torch::linear(cL, m.G_L, m.b_L));
      zL = gL * zL + (1 - gL) * uL;
      if ((i + 1) % o.T == 0) {
        torch::Tensor cH = torch::cat({zH, zL}, -1);
        torch::Tensor uH = m.block_H(zH + m.alpha_H * torch::linear(cH, m.P_H));
        torch::Tensor gH = torch::sigmoid(torch::linear(cH, m.G_H, m.b_H));
        zH = gH * zH + (1 - gH) * uH;
      }
    }
    torch::Tensor l = m.norm_L(zL), h = m.norm_H(zH), x = m.norm_e(e);
    torch::Tensor go = torch::sigmoid(torch::linear(torch::cat({l, h, x}, -1), m.W_f) / m.tau);
    torch::Tensor logits = torch::linear(m.norm_o(go * l + (1 - go) * h + x), m.wte);
    torch::Tensor ce = torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(-1)}),
                                                            targets.reshape({-1}));
    torch::Tensor g = go.mean();
    total = total + ce + o.ent_weight * (g * g.log() + (1 - g) * (1 - g).log());
    if (detach_passes) {
      zL = zL.detach();
      zH = zH.detach();
    }
  }
  return total / static_cast<double>(o.S);
}

std::vector<torch::Tensor> Grads(torch::nn::Module& m, const torch::Tensor& loss) {
  m.zero_grad();
  loss.backward();
  std::vector<torch::Tensor> g;
  for (const auto& p : m.parameters())
    g.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
  return g;
}

bool AllClose(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  for (size_t i = 0; i < a.size(); ++i)
    if (!torch::allclose(a[i], b[i], 1e-4, 1e-6)) return false;
  return true;
}

TEST_F(ModelTest, HrmMatchesAReferenceWithExplicitTruncationAndDetachedPasses) {
  torch::Tensor tokens = RandomTokens(2, 8, 4), targets = RandomTokens(2, 8, 5);
  // K < M: the window; K = M with S = 2: only the pass boundary cuts the graph.
  for (const json& f : {json{{"model", "hrm"}, {"N", 2}, {"T", 2}, {"K", 1}, {"S", 2}},
                        json{{"model", "hrm"}, {"N", 2}, {"T", 2}, {"K", 4}, {"S", 2}}}) {
    auto m = Build(f);
    auto& h = dynamic_cast<HrmLmImpl&>(*m);
    ForwardResult r = h.forward(tokens, targets);
    torch::Tensor ref = ReferenceHrmLoss(h, tokens, targets, /*detach_passes=*/true);
    EXPECT_NEAR(r.loss.item<double>(), ref.item<double>(), 1e-5) << f.dump();
    const std::vector<torch::Tensor> grads = Grads(h, r.loss);
    EXPECT_TRUE(AllClose(grads, Grads(h, ref))) << f.dump();
    if (f["K"] == 4) {  // without the detach, gradient would cross passes
      torch::Tensor leaky = ReferenceHrmLoss(h, tokens, targets, /*detach_passes=*/false);
      EXPECT_NEAR(leaky.item<double>(), ref.item<double>(), 1e-5);
      EXPECT_FALSE(AllClose(grads, Grads(h, leaky)));
    }
  }
}

TEST_F(ModelTest, HrmSplitFastContextEqualsTheConcatenatedEquations) {
  // The default split computation of P_L c_L and G_L c_L + b_L against the
  // concatenation MODEL.md writes: losses, logits and gradients, across the
  // window edge (K < M), several passes, and a frozen slow module.
  torch::Tensor tokens = RandomTokens(2, 8, 11), targets = RandomTokens(2, 8, 12);
  for (const json& f : {json{{"model", "hrm"}, {"N", 2}, {"T", 2}, {"K", 1}, {"S", 2}},
                        json{{"model", "hrm"}, {"N", 2}, {"T", 3}, {"K", 6}, {"S", 1}},
                        json{{"model", "hrm"}, {"N", 3}, {"T", 1}, {"K", 2}, {"S", 2}}}) {
    auto m = Build(f);
    auto& h = dynamic_cast<HrmLmImpl&>(*m);
    for (bool freeze : {false, true}) {
      ForwardOptions fo;
      fo.freeze_slow = freeze;
      h.split_fast_context = false;
      ForwardResult plain = h.forward(tokens, targets, fo);
      const std::vector<torch::Tensor> plain_grads = Grads(h, plain.loss);
      h.split_fast_context = true;
      ForwardResult split = h.forward(tokens, targets, fo);
      EXPECT_NEAR(split.loss.item<double>(), plain.loss.item<double>(), 1e-5) << f.dump();
      EXPECT_TRUE(torch::allclose(split.logits, plain.logits, 1e-4, 1e-5)) << f.dump();
      EXPECT_TRUE(AllClose(Grads(h, split.loss), plain_grads)) << f.dump() << " freeze " << freeze;
    }
  }
}

TEST_F(ModelTest, UnitfMatchesAReferenceWithExplicitTruncation) {
  torch::Tensor tokens = RandomTokens(2, 8, 4), targets = RandomTokens(2, 8, 5);
  auto m = Build({{"model", "unitf"}, {"M", 4}, {"K", 2}});
  auto& u = dynamic_cast<UniversalTransformerImpl&>(*m);
  torch::Tensor x = torch::embedding(u.wte, tokens);
  for (int i = 0; i < 4; ++i) x = u.block(i == 2 ? x.detach() : x);
  torch::Tensor ref = CrossEntropy(torch::linear(u.norm_f(x), u.wte), targets);
  ForwardResult r = u.forward(tokens, targets);
  EXPECT_NEAR(r.loss.item<double>(), ref.item<double>(), 1e-5);
  EXPECT_TRUE(AllClose(Grads(u, r.loss), Grads(u, ref)));
}

TEST_F(ModelTest, HrmStatesStayWithinTheBoundOfProposition1) {
  auto m = Build({{"model", "hrm"}, {"N", 3}, {"T", 2}, {"K", 2}});
  auto& h = dynamic_cast<HrmLmImpl&>(*m);
  {  // Larger injections and block outputs than at init, so the bound is tested, not idle.
    torch::NoGradGuard no_grad;
    h.alpha_L.fill_(2.0);
    h.alpha_H.fill_(2.0);
    h.block_L->w2.mul_(30);
    h.block_H->w2.mul_(30);
  }
  ForwardOptions opts;
  opts.trace = true;
  ForwardResult r = h.forward(RandomTokens(2, 16, 6), {}, opts);
  ASSERT_EQ(r.trace.size(), 6u);
  double bound_L = h.z_L0.abs().max().item<double>();
  double bound_H = h.z_H0.abs().max().item<double>();
  bool exceeded_start = false;
  for (const StepTrace& t : r.trace) {
    bound_L = std::max(bound_L, t.ul_absmax);
    if (t.h_fired) bound_H = std::max(bound_H, t.uh_absmax);
    EXPECT_LE(t.zl_absmax, bound_L * (1 + 1e-6)) << "step " << t.step;
    EXPECT_LE(t.zh_absmax, bound_H * (1 + 1e-6)) << "step " << t.step;
    EXPECT_EQ(t.h_fired, (t.step + 1) % 2 == 0);
    EXPECT_GT(t.gate_mean, 0);
    EXPECT_LT(t.gate_mean, 1);
    EXPECT_GE(t.cos_lh, -1);
    EXPECT_LE(t.cos_lh, 1);
    exceeded_start |= t.zl_absmax > h.z_L0.abs().max().item<double>();
  }
  EXPECT_TRUE(exceeded_start);  // the u term of the bound mattered
}

TEST_F(ModelTest, FreezeSlowKeepsZhAtItsPrototype) {
  auto m = Build({{"model", "hrm"}, {"N", 2}, {"T", 2}, {"S", 2}});
  auto& h = dynamic_cast<HrmLmImpl&>(*m);
  torch::NoGradGuard no_grad;
  torch::Tensor tokens = RandomTokens(2, 8, 7);
  ForwardOptions frozen;
  frozen.freeze_slow = frozen.trace = frozen.stats = true;
  ForwardResult r = h.forward(tokens, tokens, frozen);
  const double prototype_norm = h.z_H0.norm().item<double>();
  for (const StepTrace& t : r.trace) {
    EXPECT_FALSE(t.h_fired);
    EXPECT_NEAR(t.zh_norm, prototype_norm, 1e-5);
    EXPECT_DOUBLE_EQ(t.zh_absmax, h.z_H0.abs().max().item<double>());
  }
  ForwardOptions stats;
  stats.stats = true;
  ForwardResult normal = h.forward(tokens, tokens, stats);
  EXPECT_FALSE(torch::allclose(r.logits, normal.logits));
  auto find = [](const ForwardResult& res, const std::string& key) {
    for (const auto& [k, v] : res.stats)
      if (k == key) return v;
    ADD_FAILURE() << "no stat " << key;
    return std::nan("");
  };
  EXPECT_NEAR(find(r, "zH_norm"), prototype_norm, 1e-5);
  EXPECT_GT(std::abs(find(normal, "zH_norm") - prototype_norm), 1e-3);
  for (const char* key : {"gate_L_mean", "gate_H_mean", "fuse_gate"}) {
    EXPECT_GT(find(normal, key), 0);
    EXPECT_LT(find(normal, key), 1);
  }
  EXPECT_GT(find(normal, "zL_norm"), 0);
}

TEST_F(ModelTest, HrmLossIsCeMinusGateEntropyReducedOverPasses) {
  torch::Tensor tokens = RandomTokens(2, 8, 8), targets = RandomTokens(2, 8, 9);
  ForwardOptions stats;
  stats.stats = true;
  {  // S = 1: loss = ce − λ·H(ḡ).
    auto m = Build({{"model", "hrm"}, {"N", 1}, {"T", 2}, {"ent_weight", 0.5}});
    ForwardResult r = m->forward(tokens, targets, stats);
    double g = 0;
    for (const auto& [k, v] : r.stats)
      if (k == "fuse_gate") g = v;
    const double entropy = -(g * std::log(g) + (1 - g) * std::log(1 - g));
    EXPECT_NEAR(r.loss.item<double>(), r.ce.item<double>() - 0.5 * entropy, 1e-5);
  }
  // sum = S · mean for the same weights.
  auto mean = Build({{"model", "hrm"}, {"N", 1}, {"T", 2}, {"S", 3}});
  auto sum = Build({{"model", "hrm"}, {"N", 1}, {"T", 2}, {"S", 3}, {"supervision_reduce", "sum"}});
  EXPECT_NEAR(sum->forward(tokens, targets).loss.item<double>(),
              3 * mean->forward(tokens, targets).loss.item<double>(), 1e-4);
}

TEST_F(ModelTest, EveryFamilyOverfitsAFixedBatch) {
  torch::Tensor batch = RandomTokens(4, 17, 10);
  torch::Tensor tokens = batch.narrow(1, 0, 16), targets = batch.narrow(1, 1, 16);
  for (const json& f : kFamilies) {
    auto m = Build(f);
    torch::optim::AdamW opt(m->parameters(), torch::optim::AdamWOptions(3e-3).weight_decay(0));
    double first = 0, last = 0;
    for (int step = 0; step < 30; ++step) {
      opt.zero_grad();
      ForwardResult r = m->forward(tokens, targets);
      r.loss.backward();
      opt.step();
      (step == 0 ? first : last) = r.ce.item<double>();
    }
    EXPECT_NEAR(first, std::log(double(kVocab)), 0.2) << f.dump();  // uniform at init
    EXPECT_LT(last, 0.6 * first) << f.dump();
  }
}

}  // namespace
}  // namespace hrm
