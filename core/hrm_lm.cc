#include "core/hrm_lm.h"

#include <cmath>

#include "core/chunked_cross_entropy.h"

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
  torch::Tensor e = block_in->ForwardCached(torch::embedding(wte, tokens), cache());  // (B, n, d)
  torch::Tensor e_hat = norm_e(e);

  // P and G stacked, so one matmul yields both pre-activations: rows 0..d-1 the
  // injection, rows d..2d-1 the gate. c_L's three column blocks are applied
  // separately because e's share is the same at every step and z_H's changes
  // only when the slow module fires.
  torch::Tensor w_L = torch::cat({P_L, G_L}, 0);  // (2d, 3d) over [z_L; z_H; e]
  torch::Tensor w_LL = w_L.narrow(1, 0, d), w_LH = w_L.narrow(1, d, d);
  torch::Tensor ctx_e =
      torch::linear(e, w_L.narrow(1, 2 * d, d), torch::cat({torch::zeros_like(b_L), b_L}));
  torch::Tensor w_H = torch::cat({P_H, G_H}, 0);  // (2d, 2d) over [z_H; z_L]
  torch::Tensor bias_H = torch::cat({torch::zeros_like(b_H), b_H});

  torch::Tensor zL = z_L0.expand({B, n, d}), zH = z_H0.expand({B, n, d});
  ForwardResult r;
  torch::Tensor loss_sum;
  torch::Tensor gate_L_sum, gate_H_sum, fuse_gate;
  int64_t slow_updates = 0;
  std::vector<torch::Tensor> trace_rows;

  for (int64_t pass = 0; pass < o.S; ++pass) {
    const bool last = pass == o.S - 1;
    torch::Tensor ctx;  // ctx_e + z_H's share of the fast pre-activations, (B, n, 2d)
    for (int64_t i = 0; i < o.M; ++i) {
      const bool in_window = i >= o.M - o.K;
      torch::AutoGradMode mode(grad && in_window);  // no graph before the window
      if (!ctx.defined() || i == o.M - o.K) ctx = ctx_e + torch::linear(zH, w_LH);
      auto pg = torch::addmm(ctx.view({-1, 2 * d}), zL.reshape({-1, d}), w_LL.t())
                    .view({B, n, 2 * d})
                    .chunk(2, -1);
      torch::Tensor uL = block_L->ForwardCached(zL + alpha_L * pg[0], cache());
      torch::Tensor gL = torch::sigmoid(pg[1]);
      zL = torch::lerp(uL, zL.to(uL.scalar_type()), gL.to(uL.scalar_type()));  // g keeps old
      torch::Tensor uH;
      const bool fire = (i + 1) % o.T == 0 && !opts.freeze_slow;
      torch::Tensor gH;
      if (fire) {
        auto ph = torch::linear(torch::cat({zH, zL}, -1), w_H, bias_H).chunk(2, -1);
        uH = block_H->ForwardCached(zH + alpha_H * ph[0], cache());
        gH = torch::sigmoid(ph[1]);
        zH = torch::lerp(uH, zH.to(uH.scalar_type()), gH.to(uH.scalar_type()));
        ctx = torch::Tensor();
      }
      if (last && observe) {
        torch::NoGradGuard no_grad;
        gate_L_sum = gate_L_sum.defined() ? gate_L_sum + gL.mean() : gL.mean();
        if (fire) {
          gate_H_sum = gate_H_sum.defined() ? gate_H_sum + gH.mean() : gH.mean();
          ++slow_updates;
        }
        if (opts.trace) trace_rows.push_back(TraceRow(gL, zL, zH, uL, uH));
      }
    }

    // Output fusion; earlier passes need it only for their share of the loss.
    if (last || targets.defined()) {
      torch::Tensor zl_hat = norm_L(zL), zh_hat = norm_H(zH);
      torch::Tensor g_o =
          torch::sigmoid(torch::linear(torch::cat({zl_hat, zh_hat, e_hat}, -1), W_f) / tau);
      torch::Tensor out = torch::lerp(zh_hat, zl_hat, g_o.to(zl_hat.scalar_type())) + e_hat;
      torch::Tensor head_in = norm_o(out), logits;
      if (opts.logits || !targets.defined()) logits = torch::linear(head_in, wte);
      torch::Tensor g_bar = g_o.mean();
      if (targets.defined()) {
        torch::Tensor ce = logits.defined() ? CrossEntropy(logits, targets)
                                            : ChunkedCrossEntropy(head_in, wte, targets);
        torch::Tensor pass_loss = ce - o.ent_weight * BinaryEntropy(g_bar.to(torch::kFloat));
        loss_sum = loss_sum.defined() ? loss_sum + pass_loss : pass_loss;
        if (last) r.ce = ce;
      }
      if (last) {
        r.logits = logits;
        fuse_gate = g_bar.detach();
      }
    }
    zL = zL.detach();  // no gradient crosses a pass boundary
    zH = zH.detach();
  }
  if (loss_sum.defined())
    r.loss = o.supervision_reduce == "sum" ? loss_sum : loss_sum / static_cast<double>(o.S);

  if (opts.stats) {
    torch::NoGradGuard no_grad;
    auto value = [](const torch::Tensor& t) { return t.item<double>(); };
    r.stats.emplace_back("gate_L_mean", value(gate_L_sum) / o.M);
    if (slow_updates > 0) r.stats.emplace_back("gate_H_mean", value(gate_H_sum) / slow_updates);
    r.stats.emplace_back("fuse_gate", value(fuse_gate));
    r.stats.emplace_back("zL_norm", value(MeanNorm(zL)));
    r.stats.emplace_back("zH_norm", value(MeanNorm(zH)));
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
