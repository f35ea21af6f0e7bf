#include "core/hrm_lm.h"

#include <cmath>

#include "core/chunked_cross_entropy.h"
#include "core/fused_ops.h"

namespace hrm {
namespace {

// normal(0, 1) truncated to [-2, 2] by inverse-CDF sampling from the current
// generator (what torch.nn.init.trunc_normal_ does).
torch::Tensor TruncatedNormal(int64_t d) {
  const double lo = 0.5 * (1 + std::erf(-2 / std::sqrt(2.0)));
  const double hi = 0.5 * (1 + std::erf(2 / std::sqrt(2.0)));
  torch::Tensor t = torch::empty({d}).uniform_(2 * lo - 1, 2 * hi - 1);
  return t.erfinv_().mul_(std::sqrt(2.0)).clamp_(-2, 2);
}

// Binary entropy in nats of a probability tensor (clamped away from 0 and 1).
torch::Tensor BinaryEntropy(const torch::Tensor& p) {
  torch::Tensor q = p.clamp(1e-6, 1 - 1e-6);
  return -(q * q.log() + (1 - q) * (1 - q).log());
}

// Mean over positions of the per-position L2 norm of (B, n, d) states.
torch::Tensor MeanNorm(const torch::Tensor& z) { return z.norm(2, -1).mean(); }

// The per-step quantities a trace records, in StepTrace's field order.
torch::Tensor TraceRow(const torch::Tensor& g, const torch::Tensor& zL, const torch::Tensor& zH,
                       const torch::Tensor& uL, const torch::Tensor& uH) {
  torch::Tensor zero = torch::zeros({}, zL.options());
  return torch::stack({g.mean(), MeanNorm(zL), MeanNorm(zH),
                       torch::cosine_similarity(zL, zH, -1).mean(), zL.abs().max(), zH.abs().max(),
                       uL.abs().max(), uH.defined() ? uH.abs().max() : zero})
      .to(torch::kDouble);
}

// The fast update's two pre-activations over c_L = [z_L; z_H; e]: P_L c_L and
// G_L c_L + b_L. Plain (split = false), as MODEL.md writes them: concatenate,
// then multiply. Split (the default; train_step_bench --hrm-plain measures
// it): a product with c_L is the sum of its three column blocks' products;
// e's share is the same at every step and z_H's changes only when the slow
// module fires, so their sum is kept and each step multiplies only z_L's
// columns, with P_L and G_L stacked into one product (4d² multiply-adds per
// position instead of 12d²). The kept share is recomputed for a new z_H and
// when the gradient mode changes (at the window's edge, so that the window's
// graph reaches e, z_H and their columns).
class FastPreactivations {
 public:
  FastPreactivations(const HrmLmImpl& m, const torch::Tensor& e, bool split)
      : m_(m), e_(e), d_(m.options().d), split_(split) {
    if (!split_) return;
    w_ = torch::cat({m.P_L, m.G_L}, 0);  // (2d, 3d) over [z_L; z_H; e]
    e_share_ =
        torch::linear(e, w_.narrow(1, 2 * d_, d_), torch::cat({torch::zeros_like(m.b_L), m.b_L}));
  }

  std::pair<torch::Tensor, torch::Tensor> operator()(const torch::Tensor& z_L,
                                                     const torch::Tensor& z_H) {
    if (!split_) {
      const torch::Tensor c_L = torch::cat({z_L, z_H, e_}, -1);
      return {torch::linear(c_L, m_.P_L), torch::linear(c_L, m_.G_L, m_.b_L)};
    }
    const bool grad = torch::GradMode::is_enabled();
    if (!kept_for_.defined() || !kept_for_.is_same(z_H) || grad != kept_grad_) {
      kept_ = e_share_ + torch::linear(z_H, w_.narrow(1, d_, d_));
      kept_for_ = z_H;
      kept_grad_ = grad;
    }
    const torch::Tensor both =
        torch::addmm(kept_.reshape({-1, 2 * d_}), z_L.reshape({-1, d_}), w_.narrow(1, 0, d_).t())
            .view(kept_.sizes());
    return {both.narrow(-1, 0, d_), both.narrow(-1, d_, d_)};
  }

 private:
  const HrmLmImpl& m_;
  const torch::Tensor e_;
  const int64_t d_;
  const bool split_;
  torch::Tensor w_, e_share_;      // [P_L; G_L] (2d, 3d); e's share plus [0; b_L], (B, n, 2d)
  torch::Tensor kept_, kept_for_;  // e's and z_H's share, and the z_H it was computed for
  bool kept_grad_ = false;
};

}  // namespace

HrmLmImpl::HrmLmImpl(const ModelOptions& o) : LanguageModelImpl(o) {
  TORCH_CHECK(o.N >= 1 && o.T >= 1 && o.M == o.N * o.T, "hrm: need M = N·T >= 1, got N = ", o.N,
              ", T = ", o.T, ", M = ", o.M);
  TORCH_CHECK(o.K >= 1 && o.K <= o.M, "hrm: need 1 <= K <= M, got K = ", o.K, ", M = ", o.M);
  TORCH_CHECK(o.S >= 1, "hrm: need S >= 1, got ", o.S);
  TORCH_CHECK(o.supervision_reduce == "mean" || o.supervision_reduce == "sum",
              "hrm: supervision_reduce must be mean or sum, got ", o.supervision_reduce);
  const int64_t d = o.d;
  const double s = o.init_std;
  wte = register_parameter("wte", torch::empty({o.vocab, d}).normal_(0, s));
  auto make_block = [&](const char* name, int64_t applications, bool shared) {
    const BlockInitStd init = BlockInit(o, applications, shared);
    return register_module(name, CausalAttnBlock(d, o.heads, o.seq, init.std, init.out_std));
  };
  block_in = make_block("block_in", 1, /*shared=*/false);
  block_L = make_block("block_L", o.M, /*shared=*/true);
  block_H = make_block("block_H", o.N, /*shared=*/true);
  z_L0 = register_buffer("z_L0", TruncatedNormal(d));
  z_H0 = register_buffer("z_H0", TruncatedNormal(d));
  P_L = register_parameter("P_L", torch::empty({d, 3 * d}).normal_(0, s));
  G_L = register_parameter("G_L", torch::empty({d, 3 * d}).normal_(0, s));
  b_L = register_parameter("b_L", torch::zeros({d}));
  alpha_L = register_parameter("alpha_L", torch::full({}, 0.1));
  P_H = register_parameter("P_H", torch::empty({d, 2 * d}).normal_(0, s));
  G_H = register_parameter("G_H", torch::empty({d, 2 * d}).normal_(0, s));
  b_H = register_parameter("b_H", torch::zeros({d}));
  alpha_H = register_parameter("alpha_H", torch::full({}, 0.1));
  W_f = register_parameter("W_f", torch::empty({d, 3 * d}).normal_(0, s));
  tau = register_parameter("tau", torch::ones({}));
  norm_L = register_module("norm_L", RMSNorm(d));
  norm_H = register_module("norm_H", RMSNorm(d));
  norm_e = register_module("norm_e", RMSNorm(d));
  norm_o = register_module("norm_o", RMSNorm(d));
}

ForwardResult HrmLmImpl::forward(const torch::Tensor& tokens, const torch::Tensor& targets,
                                 const ForwardOptions& opts) {
  return Run(tokens, targets, opts, nullptr);
}

torch::Tensor HrmLmImpl::DecodeStep(const torch::Tensor& new_tokens, DecodeState& state) {
  CheckDecodeState(new_tokens, state);
  return Run(new_tokens, {}, {}, &state).logits;
}

ForwardResult HrmLmImpl::Run(const torch::Tensor& tokens, const torch::Tensor& targets,
                             const ForwardOptions& opts, DecodeState* state) {
  const ModelOptions& o = options_;
  const int64_t d = o.d, B = tokens.size(0), n = tokens.size(1);
  const bool grad = torch::GradMode::is_enabled();
  const bool observe = opts.stats || opts.trace;
  size_t next_cache = 0;  // block applications in forward order, as DecodeState lists them
  auto cache = [&]() { return state ? &state->caches[next_cache++] : nullptr; };

  // Input encoding, computed once and held fixed: e = Block_in(E[tokens]), (B, n, d).
  const torch::Tensor e = block_in->ForwardCached(torch::embedding(wte, tokens), cache());
  FastPreactivations fast(*this, e, split_fast_context);
  // States start from the fixed prototypes z_L⁰, z_H⁰, broadcast to B×n×d.
  torch::Tensor z_L = z_L0.expand({B, n, d}), z_H = z_H0.expand({B, n, d});

  ForwardResult r;
  torch::Tensor loss_sum, gate_L_sum, gate_H_sum, fuse_gate;
  int64_t slow_updates = 0;
  std::vector<torch::Tensor> trace_rows;
  for (int64_t pass = 0; pass < o.S; ++pass) {
    const bool last = pass == o.S - 1;
    for (int64_t i = 0; i < o.M; ++i) {
      // Gradient window: steps 0..M−K−1 keep no graph.
      torch::AutoGradMode window(grad && i >= o.M - o.K);

      // Fast update, every step:
      //   c_L = [z_L; z_H; e]
      //   u_L = Block_L(z_L + α_L · P_L c_L)
      //   g_L = σ(G_L c_L + b_L)
      //   z_L ← g_L ⊙ z_L + (1 − g_L) ⊙ u_L
      const auto [inject_L, gate_L] = fast(z_L, z_H);  // P_L c_L, G_L c_L + b_L
      const torch::Tensor u_L = block_L->ForwardCached(z_L + alpha_L * inject_L, cache());
      z_L = GatedUpdateOp(gate_L, z_L, u_L);

      // Slow update, when (i+1) mod T = 0, after that step's fast update:
      //   c_H = [z_H; z_L]               (no e: tokens reach H only through z_L)
      //   u_H = Block_H(z_H + α_H · P_H c_H)
      //   g_H = σ(G_H c_H + b_H)
      //   z_H ← g_H ⊙ z_H + (1 − g_H) ⊙ u_H
      const bool fire = (i + 1) % o.T == 0 && !opts.freeze_slow;
      torch::Tensor u_H, gate_H;
      if (fire) {
        const torch::Tensor c_H = torch::cat({z_H, z_L}, -1);
        u_H = block_H->ForwardCached(z_H + alpha_H * torch::linear(c_H, P_H), cache());
        gate_H = torch::linear(c_H, G_H, b_H);
        z_H = GatedUpdateOp(gate_H, z_H, u_H);
      }

      if (last && observe) {
        torch::NoGradGuard no_grad;
        const torch::Tensor g_L = torch::sigmoid(gate_L);
        gate_L_sum = gate_L_sum.defined() ? gate_L_sum + g_L.mean() : g_L.mean();
        if (fire) {
          const torch::Tensor g_H_mean = torch::sigmoid(gate_H).mean();
          gate_H_sum = gate_H_sum.defined() ? gate_H_sum + g_H_mean : g_H_mean;
          ++slow_updates;
        }
        if (opts.trace) trace_rows.push_back(TraceRow(g_L, z_L, z_H, u_L, u_H));
      }
    }

    // Output fusion (earlier passes need it only for their share of the loss):
    //   ẑ_L, ẑ_H, ê = RMSNorm_L(z_L), RMSNorm_H(z_H), RMSNorm_e(e)
    //   g_o = σ(W_f [ẑ_L; ẑ_H; ê] / τ)
    //   o   = g_o ⊙ ẑ_L + (1 − g_o) ⊙ ẑ_H + ê
    //   logits = RMSNorm_o(o) · Eᵀ,   ḡ = mean(g_o)
    //   loss of the pass = CE(logits, targets) − λ · H(ḡ)
    if (last || targets.defined()) {
      const torch::Tensor zl_hat = norm_L(z_L), zh_hat = norm_H(z_H), e_hat = norm_e(e);
      const torch::Tensor g_o =
          torch::sigmoid(torch::linear(torch::cat({zl_hat, zh_hat, e_hat}, -1), W_f) / tau);
      const torch::Tensor out = g_o * zl_hat + (1 - g_o) * zh_hat + e_hat;
      ForwardResult head = TiedHead(norm_o(out), wte, targets, opts);
      const torch::Tensor g_bar = g_o.mean();
      if (targets.defined()) {
        torch::Tensor pass_loss = head.ce - o.ent_weight * BinaryEntropy(g_bar.to(torch::kFloat));
        loss_sum = loss_sum.defined() ? loss_sum + pass_loss : pass_loss;
      }
      if (last) {
        r.logits = head.logits;
        r.ce = head.ce;
        fuse_gate = g_bar.detach();
      }
    }
    // Supervision passes: no gradient crosses a pass boundary.
    z_L = z_L.detach();
    z_H = z_H.detach();
  }
  if (loss_sum.defined())
    r.loss = o.supervision_reduce == "sum" ? loss_sum : loss_sum / static_cast<double>(o.S);

  if (opts.stats) {
    torch::NoGradGuard no_grad;
    auto value = [](const torch::Tensor& t) { return t.item<double>(); };
    r.stats.emplace_back("gate_L_mean", value(gate_L_sum) / o.M);
    if (slow_updates > 0) r.stats.emplace_back("gate_H_mean", value(gate_H_sum) / slow_updates);
    r.stats.emplace_back("fuse_gate", value(fuse_gate));
    r.stats.emplace_back("zL_norm", value(MeanNorm(z_L)));
    r.stats.emplace_back("zH_norm", value(MeanNorm(z_H)));
    r.stats.emplace_back("alpha_L", value(alpha_L));
    r.stats.emplace_back("alpha_H", value(alpha_H));
    r.stats.emplace_back("tau", value(tau));
  }
  if (opts.trace) {
    torch::Tensor rows = torch::stack(trace_rows).cpu();
    auto a = rows.accessor<double, 2>();
    for (int64_t i = 0; i < o.M; ++i) {
      StepTrace t;
      t.step = static_cast<int>(i);
      t.h_fired = (i + 1) % o.T == 0 && !opts.freeze_slow;
      t.gate_mean = a[i][0];
      t.zl_norm = a[i][1];
      t.zh_norm = a[i][2];
      t.cos_lh = a[i][3];
      t.zl_absmax = a[i][4];
      t.zh_absmax = a[i][5];
      t.ul_absmax = a[i][6];
      t.uh_absmax = a[i][7];
      r.trace.push_back(t);
    }
  }
  return r;
}

}  // namespace hrm
