// Parameter arithmetic of the three model families (MODEL.md §1–4, §8),
// computed from a resolved config without building a model. Torch-free, so
// the runner can answer `hrm params` for a 1.2B model instantly.
#pragma once

#include <cstdint>

#include "base/config.h"

namespace hrm {

// The vocabulary a config's model has. vocab = 0 means "the data's tokenizer":
// 256 for the builtin corpus under the byte tokenizer, otherwise 50257 (GPT-2;
// nanoGPT's train.bin files hold GPT-2 ids).
int64_t ModelVocab(const json& resolved);

// Stored (trainable) parameters of the model a config describes, by part.
// Buffers (HRM's prototypes z_L⁰, z_H⁰) and RoPE tables are not parameters.
struct ParamCount {
  int64_t vocab = 0;  // V used for the count (see ModelVocab)
  int64_t d = 0;
  int64_t embedding = 0;     // V·d, the tied input embedding / output head
  int64_t blocks = 0;        // CausalAttnBlocks stored: L, 1 (unitf) or 3 (hrm)
  int64_t per_block = 0;     // 16d² + 2d
  int64_t block_params = 0;  // blocks · per_block
  int64_t norms = 0;         // RMSNorm scales outside the blocks: d, or 4d for hrm
  int64_t hrm_extras = 0;    // hrm: P_L,G_L,b_L,α_L, P_H,G_H,b_H,α_H, W_f, τ = 13d² + 2d + 3
  int64_t params = 0;        // the total
  int64_t bytes_bf16 = 0;    // 2 · params
  int64_t bytes_fp32 = 0;    // 4 · params
};

// Counts for a resolved config (see ResolveConfig). Agrees exactly with
// CountParameters(*MakeModel(ModelOptions::FromConfig(resolved))).
ParamCount CountParams(const json& resolved);

}  // namespace hrm
