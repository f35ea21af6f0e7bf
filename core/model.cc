// The factory, config mapping and helpers shared by the model families.
#include "core/model.h"

#include <cmath>

#include "base/param_count.h"
#include "core/chunked_cross_entropy.h"
#include "core/hrm_lm.h"
#include "core/transformer.h"
#include "core/universal_transformer.h"

namespace hrm {

ModelOptions ModelOptions::FromConfig(const json& c) {
  ModelOptions o;
  auto get = [&](const char* key, int64_t fallback) {
    return c.contains(key) ? c.at(key).get<int64_t>() : fallback;
  };
  o.model = c.at("model").get<std::string>();
  o.d = c.at("d");
  o.heads = c.at("heads");
  o.vocab = ModelVocab(c);
  o.seq = c.at("seq");
  o.L = get("L", 0);
  o.M = get("M", 0);
  o.N = get("N", 0);
  o.T = get("T", 0);
  o.K = get("K", 0);
  o.S = get("S", 1);
  if (c.contains("ent_weight")) o.ent_weight = c.at("ent_weight");
  if (c.contains("supervision_reduce")) o.supervision_reduce = c.at("supervision_reduce");
  o.init_std = c.at("init_std");
  o.init_width_ref = c.at("init_width_ref");
  return o;
}

LanguageModel MakeModel(const ModelOptions& o) {
  if (o.model == "transformer") return std::make_shared<TransformerImpl>(o);
  if (o.model == "unitf") return std::make_shared<UniversalTransformerImpl>(o);
  if (o.model == "hrm") return std::make_shared<HrmLmImpl>(o);
  throw std::invalid_argument("model: unknown family '" + o.model +
                              "' (expected transformer, unitf or hrm)");
}

int64_t DecodeState::CacheBytes() const {
  int64_t bytes = 0;
  for (const KVCache& c : caches) bytes += c.bytes();
  return bytes;
}

DecodeState LanguageModelImpl::NewDecodeState(int64_t batch) const {
  DecodeState state;
  state.caches.resize(BlockApplications());
  state.batch = batch;
  return state;
}

void LanguageModelImpl::CheckDecodeState(const torch::Tensor& new_tokens,
                                         const DecodeState& state) const {
  TORCH_CHECK(static_cast<int64_t>(state.caches.size()) == BlockApplications(),
              "DecodeStep: the state holds ", state.caches.size(), " caches, this model makes ",
              BlockApplications(), " block applications (state made by another model?)");
  TORCH_CHECK(new_tokens.dim() == 2 && new_tokens.size(0) == state.batch,
              "DecodeStep: expected new tokens of shape (", state.batch, ", t), got ",
              new_tokens.sizes());
}

int64_t CountParameters(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

torch::Tensor CrossEntropy(const torch::Tensor& logits, const torch::Tensor& targets) {
  return torch::nn::functional::cross_entropy(
      logits.reshape({-1, logits.size(-1)}).to(torch::kFloat), targets.reshape({-1}));
}

ForwardResult TiedHead(const torch::Tensor& h, const torch::Tensor& wte,
                       const torch::Tensor& targets, const ForwardOptions& opts) {
  ForwardResult r;
  if (opts.logits || !targets.defined()) r.logits = torch::linear(h, wte);
  if (targets.defined())
    r.loss = r.ce =
        r.logits.defined() ? CrossEntropy(r.logits, targets) : ChunkedCrossEntropy(h, wte, targets);
  return r;
}

BlockInitStd BlockInit(const ModelOptions& o, int64_t applications, bool shared) {
  double width = 1.0;
  if (shared && o.init_width_ref > 0 && o.d > o.init_width_ref)
    width = std::sqrt(static_cast<double>(o.init_width_ref) / static_cast<double>(o.d));
  const double std = o.init_std * width;
  return {std, std / std::sqrt(2.0 * static_cast<double>(applications))};
}

}  // namespace hrm
