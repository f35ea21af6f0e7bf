#include "core/optimizer.h"

#include <cmath>
#include <limits>

#include "core/torch_compat.h"

namespace hrm {

std::unique_ptr<torch::optim::AdamW> MakeOptimizer(torch::nn::Module& model, const json& c) {
  std::vector<torch::Tensor> decay, no_decay;
  for (auto& p : model.parameters()) (p.dim() >= 2 ? decay : no_decay).push_back(p);
  auto opts = [&](double wd) {
    return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(c["lr"].get<double>())
            .betas({c["beta1"].get<double>(), c["beta2"].get<double>()})
            .eps(c["eps"].get<double>())
            .weight_decay(wd));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, opts(c["weight_decay"].get<double>()));
  groups.emplace_back(no_decay, opts(0.0));
  return std::make_unique<torch::optim::AdamW>(groups, torch::optim::AdamWOptions(c["lr"]));
}

FlatParameters::FlatParameters(const std::vector<torch::Tensor>& params) {
  torch::NoGradGuard no_grad;
  std::vector<torch::ScalarType> dtypes;
  for (const auto& p : params) {
    TORCH_CHECK(p.device() == params.front().device(),
                "FlatParameters: parameters on several devices (", p.device(), ", ",
                params.front().device(), ")");
    if (std::find(dtypes.begin(), dtypes.end(), p.scalar_type()) == dtypes.end())
      dtypes.push_back(p.scalar_type());
  }
  for (torch::ScalarType dtype : dtypes) {
    int64_t total = 0;
    for (const auto& p : params)
      if (p.scalar_type() == dtype) total += p.numel();
    auto options = params.front().options().dtype(dtype);
    torch::Tensor value = torch::empty({total}, options), grad = torch::zeros({total}, options);
    int64_t offset = 0;
    for (auto p : params) {
      if (p.scalar_type() != dtype) continue;
      const int64_t n = p.numel();
      torch::Tensor view = value.narrow(0, offset, n).view(p.sizes());
      view.copy_(p);
      p.set_data(view);  // same TensorImpl: optimizer state and module registration hold
      p.mutable_grad() = grad.narrow(0, offset, n).view(p.sizes());
      offset += n;
    }
    values_.push_back(value);
    grads_.push_back(grad);
  }
}

void FlatParameters::ZeroGrad() {
  for (auto& g : grads_) g.zero_();
}

double FlatParameters::ClipGradNorm(double max_norm) {
  if (grads_.empty()) return 0.0;
  std::vector<torch::Tensor> norms;
  for (const auto& g : grads_) norms.push_back(g.norm());
  torch::Tensor total = norms.size() == 1 ? norms[0] : torch::stack(norms).norm();
  // The same coefficient as clip_grad_norm_, so that both paths scale alike.
  torch::Tensor coef = torch::clamp(max_norm / (total + 1e-6), c10::nullopt, 1.0);
  for (auto& g : grads_) g.mul_(coef);
  return total.item<double>();
}

namespace {

#if HRM_HAVE_FUSED_ADAMW
// at::_fused_adamw_ on the optimizer's own state, one call per group. Returns
// false (nothing changed) where the kernel does not apply.
bool FusedAdamWStep(torch::optim::AdamW& optimizer) {
  for (const auto& group : optimizer.param_groups()) {
    const auto& o = static_cast<const torch::optim::AdamWOptions&>(group.options());
    if (o.amsgrad()) return false;
    for (const auto& p : group.params())
      if (p.grad().defined() && !p.is_cuda()) return false;
  }
  torch::NoGradGuard no_grad;
  auto& state = optimizer.state();
  for (auto& group : optimizer.param_groups()) {
    const auto& o = static_cast<const torch::optim::AdamWOptions&>(group.options());
    std::vector<torch::Tensor> params, grads, exp_avgs, exp_avg_sqs, steps;
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      auto key = OptimizerStateKey(state, p);
      if (state.find(key) == state.end()) {  // as AdamW::step initialises it
        auto s = std::make_unique<torch::optim::AdamWParamState>();
        s->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        s->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        state[key] = std::move(s);
      }
      auto& s = static_cast<torch::optim::AdamWParamState&>(*state[key]);
      s.step(s.step() + 1);
      params.push_back(p);
      grads.push_back(p.grad());
      exp_avgs.push_back(s.exp_avg());
      exp_avg_sqs.push_back(s.exp_avg_sq());
      steps.push_back(
          torch::full({}, static_cast<double>(s.step()), p.options().dtype(torch::kFloat)));
    }
    if (params.empty()) continue;
    at::_fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, /*max_exp_avg_sqs=*/{}, steps, o.lr(),
                      std::get<0>(o.betas()), std::get<1>(o.betas()), o.weight_decay(), o.eps(),
                      /*amsgrad=*/false, /*maximize=*/false);
  }
  return true;
}
#endif

}  // namespace

void AdamWStep(torch::optim::AdamW& optimizer) {
#if HRM_HAVE_FUSED_ADAMW
  if (FusedAdamWStep(optimizer)) return;
#endif
  optimizer.step();
}

}  // namespace hrm
