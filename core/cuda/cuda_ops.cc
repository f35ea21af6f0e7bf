// The torch side of the kernels: dtype and layout checks, the current CUDA
// stream, and autograd Functions whose backward calls the backward kernels.
#include "core/cuda/cuda_ops.h"

#include <ATen/cuda/CUDAContext.h>

#include "core/cuda/kernels.h"

namespace hrm::cuda {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

DType KernelType(at::ScalarType t) {
  TORCH_CHECK(t == at::kFloat || t == at::kBFloat16, "hrm CUDA kernels: fp32 or bf16, got ", t);
  return t == at::kFloat ? DType::kFloat32 : DType::kBFloat16;
}

void* CurrentStream() { return at::cuda::getCurrentCUDAStream().stream(); }

class RmsNormFunction : public torch::autograd::Function<RmsNormFunction> {
 public:
  static Tensor forward(AutogradContext* ctx, const Tensor& x, const Tensor& weight, double eps) {
    const Tensor xc = x.contiguous(), w = weight.to(at::kFloat).contiguous();
    const int64_t d = x.size(-1), rows = x.numel() / d;
    Tensor y = torch::empty_like(xc);
    Tensor rstd = torch::empty({rows}, x.options().dtype(at::kFloat));
    RmsNormForward(xc.data_ptr(), w.data_ptr<float>(), y.data_ptr(), rstd.data_ptr<float>(), rows,
                   d, static_cast<float>(eps), KernelType(x.scalar_type()), CurrentStream());
    ctx->save_for_backward({xc, w, rstd});
    ctx->saved_data["weight_dtype"] = static_cast<int64_t>(weight.scalar_type());
    return y;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad) {
    const auto saved = ctx->get_saved_variables();
    const Tensor &x = saved[0], &w = saved[1], &rstd = saved[2];
    const Tensor dy = grad[0].to(x.scalar_type()).contiguous();
    const int64_t d = x.size(-1), rows = x.numel() / d;
    Tensor dx = torch::empty_like(x), dw = torch::zeros_like(w);
    RmsNormBackward(dy.data_ptr(), x.data_ptr(), w.data_ptr<float>(), rstd.data_ptr<float>(),
                    dx.data_ptr(), dw.data_ptr<float>(), rows, d, KernelType(x.scalar_type()),
                    CurrentStream());
    const auto wt = static_cast<at::ScalarType>(ctx->saved_data["weight_dtype"].toInt());
    return {dx, dw.to(wt), Tensor()};
  }
};

class SwiGluFunction : public torch::autograd::Function<SwiGluFunction> {
 public:
  static Tensor forward(AutogradContext* ctx, const Tensor& ab) {
    const Tensor abc = ab.contiguous();
    const int64_t h = ab.size(-1) / 2, rows = ab.numel() / (2 * h);
    std::vector<int64_t> shape = ab.sizes().vec();
    shape.back() = h;
    Tensor y = torch::empty(shape, ab.options());
    SwiGluForward(abc.data_ptr(), y.data_ptr(), rows, h, KernelType(ab.scalar_type()),
                  CurrentStream());
    ctx->save_for_backward({abc});
    return y;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad) {
    const Tensor ab = ctx->get_saved_variables()[0];
    const Tensor dy = grad[0].to(ab.scalar_type()).contiguous();
    const int64_t h = ab.size(-1) / 2, rows = ab.numel() / (2 * h);
    Tensor dab = torch::empty_like(ab);
    SwiGluBackward(ab.data_ptr(), dy.data_ptr(), dab.data_ptr(), rows, h,
                   KernelType(ab.scalar_type()), CurrentStream());
    return {dab};
  }
};

class GatedUpdateFunction : public torch::autograd::Function<GatedUpdateFunction> {
 public:
  // a, z, u of one shape (z may be a broadcast view), any of fp32 / bf16: the
  // kernel runs in their promoted dtype, as the ATen reference's arithmetic.
  static Tensor forward(AutogradContext* ctx, const Tensor& a, const Tensor& z, const Tensor& u) {
    const at::ScalarType t =
        at::promote_types(a.scalar_type(), at::promote_types(z.scalar_type(), u.scalar_type()));
    const Tensor ac = a.to(t).contiguous(), zc = z.to(t).contiguous(), uc = u.to(t).contiguous();
    Tensor out = torch::empty_like(ac);
    GatedUpdateForward(ac.data_ptr(), zc.data_ptr(), uc.data_ptr(), out.data_ptr(), ac.numel(),
                       KernelType(t), CurrentStream());
    ctx->save_for_backward({ac, zc, uc});
    ctx->saved_data["dtypes"] = std::vector<int64_t>{static_cast<int64_t>(a.scalar_type()),
                                                     static_cast<int64_t>(z.scalar_type()),
                                                     static_cast<int64_t>(u.scalar_type())};
    return out;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad) {
    const auto saved = ctx->get_saved_variables();
    const Tensor &a = saved[0], &z = saved[1], &u = saved[2];
    const Tensor dout = grad[0].to(a.scalar_type()).contiguous();
    Tensor da = torch::empty_like(a), dz = torch::empty_like(a), du = torch::empty_like(a);
    GatedUpdateBackward(a.data_ptr(), z.data_ptr(), u.data_ptr(), dout.data_ptr(), da.data_ptr(),
                        dz.data_ptr(), du.data_ptr(), a.numel(), KernelType(a.scalar_type()),
                        CurrentStream());
    const auto types = ctx->saved_data["dtypes"].toIntVector();
    auto as = [&](const Tensor& g, int i) { return g.to(static_cast<at::ScalarType>(types[i])); };
    return {as(da, 0), as(dz, 1), as(du, 2)};
  }
};

}  // namespace

Tensor RmsNorm(const Tensor& x, const Tensor& weight, double eps) {
  return RmsNormFunction::apply(x, weight, eps);
}

Tensor SwiGlu(const Tensor& ab) { return SwiGluFunction::apply(ab); }

Tensor GatedUpdate(const Tensor& a, const Tensor& z, const Tensor& u) {
  return GatedUpdateFunction::apply(a, z, u);
}

}  // namespace hrm::cuda
