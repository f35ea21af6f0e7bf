// The interface every model family implements, and the factory that builds
// one from a resolved config.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "base/config.h"
#include "core/causal_attn_block.h"

namespace hrm {

// Architecture fields of a resolved config (MODEL.md notation).
struct ModelOptions {
  std::string model = "hrm";                // transformer | unitf | hrm
  int64_t d = 128;                          // width
  int64_t heads = 2;                        // attention heads (d % heads == 0)
  int64_t vocab = 256;                      // V
  int64_t seq = 128;                        // max sequence length (RoPE table size)
  int64_t L = 0;                            // transformer layers
  int64_t M = 0;                            // steps per pass (unitf; hrm: N*T)
  int64_t N = 0, T = 0;                     // hrm slow cycles, fast steps per cycle
  int64_t K = 0;                            // gradient window (unitf, hrm)
  int64_t S = 1;                            // hrm supervision passes
  double ent_weight = 0.01;                 // hrm gate-entropy weight lambda
  std::string supervision_reduce = "mean";  // hrm: mean | sum of the S pass losses
  double init_std = 0.02;
  int64_t init_width_ref = 4096;  // 0 = off

  static ModelOptions FromConfig(const json& resolved);
};

// What the analyses may ask of a forward pass.
struct ForwardOptions {
  bool freeze_slow = false;  // hrm: skip the slow update, z_H stays at z_H^0 (Table 17)
  bool trace = false;        // hrm: record a StepTrace per step of the last pass (Table 18)
  bool stats = false;        // hrm: fill ForwardResult::stats (gate and state norms)
  // false: with targets, the loss only; the (B, n, V) logits are never
  // materialised (ChunkedCrossEntropy), as the trainer wants. true: the CE
  // is taken of the logits.
  bool logits = true;
};

// One recurrent step of the last pass (hrm only).
struct StepTrace {
  int step = 0;
  bool h_fired = false;
  double gate_mean = 0;  // mean g_L
  double zl_norm = 0;    // mean over positions of ||z_L||_2
  double zh_norm = 0;
  double cos_lh = 0;  // cos(z_L, z_H) averaged over positions
  // Infinity norms after the step, and of the block outputs u it mixed in
  // (uh_absmax 0 when H did not fire): Proposition 1 bounds z by z⁰ and u.
  double zl_absmax = 0, zh_absmax = 0, ul_absmax = 0, uh_absmax = 0;
};

struct ForwardResult {
  torch::Tensor logits;  // (B, n, V) of the last pass (undefined with targets and !logits)
  torch::Tensor loss;    // scalar training objective (undefined without targets)
  torch::Tensor ce;      // scalar cross-entropy of the last pass (undefined without targets)
  std::vector<std::pair<std::string, double>> stats;  // e.g. gate_L_mean, zL_norm, fuse_gate
  std::vector<StepTrace> trace;
};

// What incremental (KV-cached) decoding keeps between calls: the keys and
// values of every block application, in forward order, because each
// application sees different inputs (Transformer: L; UniTF: M; HRM: Block_in
// once, then per pass Block_L at every step and Block_H when it fires).
struct DecodeState {
  std::vector<KVCache> caches;
  int64_t batch = 0;
  // Positions consumed so far.
  int64_t length() const { return caches.empty() ? 0 : caches.front().length(); }
  // Bytes held by all keys and values.
  int64_t CacheBytes() const;
};

// Base of Transformer, UniTF and HRM-LM. tokens and targets are (B, n) int64;
// targets may be undefined (inference).
class LanguageModelImpl : public torch::nn::Module {
 public:
  virtual ForwardResult forward(const torch::Tensor& tokens, const torch::Tensor& targets,
                                const ForwardOptions& opts = {}) = 0;
  const ModelOptions& options() const { return options_; }

  // An empty decoding state for `batch` sequences.
  DecodeState NewDecodeState(int64_t batch) const;
  // Logits (B, t, V) for new_tokens (B, t) that follow the state's positions,
  // equal to the matching positions of forward() on the whole sequence (the
  // last pass for HRM); the new positions' keys and values join the state.
  virtual torch::Tensor DecodeStep(const torch::Tensor& new_tokens, DecodeState& state) = 0;
  // Number of block applications one forward makes, i.e. caches a state holds.
  virtual int64_t BlockApplications() const = 0;

 protected:
  explicit LanguageModelImpl(ModelOptions o) : options_(std::move(o)) {}
  // Throws unless state was made by NewDecodeState for new_tokens' batch.
  void CheckDecodeState(const torch::Tensor& new_tokens, const DecodeState& state) const;
  ModelOptions options_;
};

using LanguageModel = std::shared_ptr<LanguageModelImpl>;

// Builds and initialises (MODEL.md §5) the model a config describes, on CPU,
// drawing initial weights from the current torch generator.
LanguageModel MakeModel(const ModelOptions& options);

// Number of stored parameters of a live module (trainable, buffers excluded).
int64_t CountParameters(const torch::nn::Module& module);

// Mean cross-entropy of logits (B, n, V) against targets (B, n), in fp32: the
// plain reference of ChunkedCrossEntropy.
torch::Tensor CrossEntropy(const torch::Tensor& logits, const torch::Tensor& targets);

// The tied output head on h = RMSNorm(x) (B, n, d): logits = h·Eᵀ where
// opts.logits or there are no targets; where there are targets, loss = ce =
// CE(h·Eᵀ, targets), of those logits, or chunked without them.
ForwardResult TiedHead(const torch::Tensor& h, const torch::Tensor& wte,
                       const torch::Tensor& targets, const ForwardOptions& opts);

// Initial std of a block's matrices and of its residual output projections
// (Wo, W2) for a block applied `applications` times per forward (MODEL.md §5):
// std = init_std, out_std = init_std / sqrt(2·applications), both times
// sqrt(init_width_ref / d) for a shared (recurrent) block when d > init_width_ref.
struct BlockInitStd {
  double std, out_std;
};
BlockInitStd BlockInit(const ModelOptions& options, int64_t applications, bool shared);

}  // namespace hrm
