// The generation-speed protocol (Table 16): greedy continuation of a
// 64-token prompt by 128 tokens (core/generate.h), timed with the whole
// context recomputed for every token (the paper's measurement) and with
// KV-cached decoding (beyond the paper), from random weights. Both decodings
// must produce the same tokens; the cache's size is recorded beside its
// formula.
#pragma once

#include <cstdint>
#include <string>

#include "experiments/protocol.h"

namespace hrm {

constexpr int64_t kGenPrompt = 64;  // prompt tokens (from the validation text)
constexpr int64_t kGenNew = 128;    // generated tokens
constexpr int kGenRepeats = 3;      // timed generations per decoding (the median counts)

// Bytes of K and V cached for `length` positions of `batch` sequences, by
// the formulas of MODEL.md §7 (element_bytes per number):
//   transformer 2·L·n·d, unitf 2·M·n·d, hrm 2·(1 + M·S + N·S)·n·d.
int64_t KvCacheBytes(const json& config, int64_t batch, int64_t length, int64_t element_bytes);

// Runs both decodings on the config's model, recorded as measurements
// tok_per_s, ms_per_tok, peak_mem_mb (recomputed; peak includes the
// weights), tok_per_s_cached, ms_per_tok_cached, tokens_identical (1 or 0),
// kv_cache_bytes and kv_cache_bytes_formula, each with extra
// {"prompt", "new_tokens", "batch"}.
void MeasureGenSpeed(const ProtocolContext& ctx);

}  // namespace hrm
