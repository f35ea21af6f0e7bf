#include "core/generate.h"

namespace hrm {

torch::Tensor GreedyGenerate(LanguageModelImpl& model, const torch::Tensor& prompt, int64_t max_new,
                             bool use_cache, DecodeState* state) {
  TORCH_CHECK(prompt.dim() == 2 && prompt.size(1) > 0,
              "GreedyGenerate: expected a (B, P) prompt with P >= 1, got ", prompt.sizes());
  torch::NoGradGuard no_grad;
  auto argmax_last = [](const torch::Tensor& logits) {  // (B, t, V) -> (B, 1)
    return logits.select(1, logits.size(1) - 1).argmax(-1, /*keepdim=*/true);
  };
  DecodeState local;
  DecodeState& s = state ? *state : local;
  if (use_cache) s = model.NewDecodeState(prompt.size(0));
  torch::Tensor context = prompt, pending = prompt;  // pending: what the cache has not seen
  std::vector<torch::Tensor> generated;
  for (int64_t i = 0; i < max_new; ++i) {
    torch::Tensor next = use_cache ? argmax_last(model.DecodeStep(pending, s))
                                   : argmax_last(model.forward(context, {}).logits);
    generated.push_back(next);
    if (use_cache)
      pending = next;
    else
      context = torch::cat({context, next}, 1);
  }
  return generated.empty() ? prompt.new_empty({prompt.size(0), 0}) : torch::cat(generated, 1);
}

}  // namespace hrm
