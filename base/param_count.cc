#include "base/param_count.h"

namespace hrm {

int64_t ModelVocab(const json& resolved) {
  const int64_t vocab = resolved.at("vocab");
  if (vocab > 0) return vocab;
  const bool byte_corpus = resolved.value("data", std::string("builtin")) == "builtin" &&
                           resolved.value("tokenizer", std::string("byte")) == "byte";
  return byte_corpus ? 256 : 50257;
}

ParamCount CountParams(const json& resolved) {
  ParamCount c;
  const std::string model = resolved.at("model");
  const int64_t d = resolved.at("d");
  c.d = d;
  c.vocab = ModelVocab(resolved);
  c.embedding = c.vocab * d;
  c.per_block = 16 * d * d + 2 * d;
  if (model == "transformer") {
    c.blocks = resolved.at("L");
    c.norms = d;
  } else if (model == "unitf") {
    c.blocks = 1;
    c.norms = d;
  } else {
    c.blocks = 3;                         // Block_in, Block_L, Block_H
    c.norms = 4 * d;                      // RMSNorm_L, _H, _e, _o
    c.hrm_extras = (6 * d * d + d + 1)    // P_L, G_L (d×3d), b_L, α_L
                   + (4 * d * d + d + 1)  // P_H, G_H (d×2d), b_H, α_H
                   + (3 * d * d + 1);     // W_f (d×3d), τ
  }
  c.block_params = c.blocks * c.per_block;
  c.params = c.embedding + c.block_params + c.norms + c.hrm_extras;
  c.bytes_bf16 = 2 * c.params;
  c.bytes_fp32 = 4 * c.params;
  return c;
}

}  // namespace hrm
