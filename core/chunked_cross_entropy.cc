#include "core/chunked_cross_entropy.h"

#include <algorithm>

#include "core/torch_compat.h"

namespace hrm {
namespace {

using torch::Tensor;

constexpr int64_t kChunkBytes = int64_t(256) << 20;

struct LossAndGrads {
  Tensor loss;            // scalar fp32
  Tensor grad_x, grad_w;  // d loss / d x (rows, d) in x's dtype, d loss / d W (V, d) in fp32
};

// x (rows, d), targets (rows). For each chunk c of rows, with p = softmax(x_c·Wᵀ):
//   loss  += Σ_c (logsumexp − logit of the target)
//   ∂/∂x_c = (p − onehot) · W / rows,   ∂/∂W += (p − onehot)ᵀ · x_c / rows.
LossAndGrads Compute(const Tensor& x, const Tensor& weight, const Tensor& targets,
                     int64_t chunk_rows, bool want_grads) {
  torch::NoGradGuard no_grad;
  const int64_t rows = x.size(0), vocab = weight.size(0);
  const at::ScalarType compute = AutocastDtype(x.device().type()).value_or(x.scalar_type());
  if (chunk_rows <= 0) chunk_rows = std::max<int64_t>(1, kChunkBytes / (vocab * 4));
  const Tensor w = weight.to(compute);
  LossAndGrads out;
  out.loss = torch::zeros({}, x.options().dtype(torch::kFloat));
  if (want_grads) {
    out.grad_x = torch::empty_like(x);
    out.grad_w = torch::zeros(weight.sizes(), weight.options().dtype(torch::kFloat));
  }
  for (int64_t start = 0; start < rows; start += chunk_rows) {
    const int64_t len = std::min(chunk_rows, rows - start);
    const Tensor xc = x.narrow(0, start, len).to(compute);
    const Tensor tc = targets.narrow(0, start, len).unsqueeze(1);  // (len, 1)
    Tensor logits = torch::mm(xc, w.t()).to(torch::kFloat);        // (len, V)
    const Tensor lse = logits.logsumexp(1, /*keepdim=*/true);
    out.loss.add_((lse - logits.gather(1, tc)).sum());
    if (!want_grads) continue;
    Tensor dlogits = logits.sub_(lse).exp_();  // softmax, in place of the logits
    dlogits.scatter_add_(1, tc, torch::full({len, 1}, -1.0f, dlogits.options()));
    dlogits.div_(static_cast<double>(rows));
    const Tensor g = dlogits.to(compute);
    out.grad_x.narrow(0, start, len).copy_(torch::mm(g, w));
    out.grad_w.add_(torch::mm(g.t(), xc));
  }
  out.loss.div_(static_cast<double>(rows));
  return out;
}

class ChunkedCrossEntropyFunction : public torch::autograd::Function<ChunkedCrossEntropyFunction> {
 public:
  static Tensor forward(torch::autograd::AutogradContext* ctx, const Tensor& x,
                        const Tensor& weight, const Tensor& targets, int64_t chunk_rows) {
    LossAndGrads r = Compute(x, weight, targets, chunk_rows, /*want_grads=*/true);
    ctx->save_for_backward({r.grad_x, r.grad_w.to(weight.scalar_type())});
    return r.loss;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    const auto saved = ctx->get_saved_variables();
    const Tensor& g = grad_out[0];
    return {saved[0] * g.to(saved[0].scalar_type()), saved[1] * g.to(saved[1].scalar_type()),
            Tensor(), Tensor()};
  }
};

}  // namespace

Tensor ChunkedCrossEntropy(const Tensor& x, const Tensor& weight, const Tensor& targets,
                           int64_t chunk_rows) {
  const Tensor x2 = x.reshape({-1, x.size(-1)}), t = targets.reshape({-1});
  TORCH_CHECK(x2.size(0) == t.size(0), "ChunkedCrossEntropy: ", x2.size(0), " rows of x but ",
              t.size(0), " targets");
  TORCH_CHECK(x2.size(1) == weight.size(1), "ChunkedCrossEntropy: x has width ", x2.size(1),
              ", the head ", weight.size(1));
  const bool grad = torch::GradMode::is_enabled() && (x.requires_grad() || weight.requires_grad());
  if (!grad) return Compute(x2, weight, t, chunk_rows, /*want_grads=*/false).loss;
  return ChunkedCrossEntropyFunction::apply(x2, weight, t, chunk_rows);
}

}  // namespace hrm
