#include "core/generate.h"

namespace hrm {
namespace {

// The next token (B, 1) from the last position's logits (B, V).
torch::Tensor Choose(const torch::Tensor& logits, const SampleOptions& o, torch::Generator& gen) {
  if (o.temperature <= 0) return logits.argmax(-1, /*keepdim=*/true);
  // Sampling runs in fp32 on the CPU generator, so that a seed gives the same
  // tokens whatever device the model is on.
  torch::Tensor scaled = logits.to(torch::kCPU, torch::kFloat) / o.temperature;
  if (o.top_k > 0 && o.top_k < scaled.size(-1)) {
    torch::Tensor kth = std::get<0>(scaled.topk(o.top_k, -1)).narrow(-1, o.top_k - 1, 1);
    scaled = scaled.masked_fill(scaled < kth, -std::numeric_limits<float>::infinity());
  }
  torch::Tensor next = torch::multinomial(scaled.softmax(-1), 1, /*replacement=*/false, gen);
  return next.to(logits.device());
}

}  // namespace

torch::Tensor Generate(LanguageModelImpl& model, const torch::Tensor& prompt, int64_t max_new,
                       const SampleOptions& options, const TokenCallback& on_token,
                       DecodeState* state) {
  TORCH_CHECK(prompt.dim() == 2 && prompt.size(1) > 0,
              "Generate: expected a (B, P) prompt with P >= 1, got ", prompt.sizes());
  torch::NoGradGuard no_grad;
  torch::Generator gen = at::detail::createCPUGenerator(options.seed);
  auto last = [](const torch::Tensor& logits) { return logits.select(1, logits.size(1) - 1); };
  DecodeState local;
  DecodeState& s = state ? *state : local;
  if (options.use_cache) s = model.NewDecodeState(prompt.size(0));
  torch::Tensor context = prompt, pending = prompt;  // pending: what the cache has not seen
  std::vector<torch::Tensor> generated;
  for (int64_t i = 0; i < max_new; ++i) {
    torch::Tensor logits = options.use_cache ? last(model.DecodeStep(pending, s))
                                             : last(model.forward(context, {}).logits);
    torch::Tensor next = Choose(logits, options, gen);
    generated.push_back(next);
    if (on_token && !on_token(next)) break;
    if (options.use_cache)
      pending = next;
    else
      context = torch::cat({context, next}, 1);
  }
  return generated.empty() ? prompt.new_empty({prompt.size(0), 0}) : torch::cat(generated, 1);
}

torch::Tensor GreedyGenerate(LanguageModelImpl& model, const torch::Tensor& prompt, int64_t max_new,
                             bool use_cache, DecodeState* state) {
  SampleOptions o;
  o.use_cache = use_cache;
  return Generate(model, prompt, max_new, o, nullptr, state);
}

}  // namespace hrm
