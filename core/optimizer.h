// The trainer's optimizer (MODEL.md §6): AdamW over parameters that live in
// one flat buffer per dtype, so that zeroing, all-reducing and clipping the
// gradients are one op each, and a fused AdamW kernel where libtorch has one.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "base/config.h"

namespace hrm {

// AdamW over the model's parameters: decay on matrices (dim >= 2) only, betas,
// eps and weight_decay from the config.
std::unique_ptr<torch::optim::AdamW> MakeOptimizer(torch::nn::Module& model, const json& config);

// Rebinds every parameter of a module (all on one device) to a view into one
// contiguous buffer per dtype, and its gradient to a view into a matching
// gradient buffer. Autograd then accumulates straight into the buffer.
// Parameter identities (TensorImpls) are kept, so an optimizer made before or
// after keeps its state; load checkpoints BEFORE flattening (loading rebinds
// parameter storage). Never call Optimizer::zero_grad afterwards (libtorch 2.x
// drops the gradient views): use ZeroGrad.
class FlatParameters {
 public:
  explicit FlatParameters(const std::vector<torch::Tensor>& params);

  // One contiguous 1-D buffer per dtype, in first-seen order.
  const std::vector<torch::Tensor>& values() const { return values_; }
  const std::vector<torch::Tensor>& grads() const { return grads_; }

  void ZeroGrad();
  // Scales the gradients so that their global L2 norm is at most max_norm
  // (as torch::nn::utils::clip_grad_norm_, one norm per buffer) and returns
  // the norm before scaling. max_norm = inf only measures.
  double ClipGradNorm(double max_norm);

 private:
  std::vector<torch::Tensor> values_, grads_;
};

// One AdamW step: libtorch's fused multi-tensor kernel on CUDA where it has
// one (at::_fused_adamw_, libtorch >= 2.1), the reference optimizer->step()
// otherwise. Both keep their moments in the optimizer's own state, so
// checkpoints are the same either way.
void AdamWStep(torch::optim::AdamW& optimizer);

}  // namespace hrm
