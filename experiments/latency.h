// The latency protocol (Table 10): forward-pass time of one batch at
// n = seq without a KV cache, and the peak memory of model plus forward,
// from random weights (latency and memory do not depend on them). The weights
// are in the placement's dtype: bf16 on CUDA by default, as the paper measured.
#pragma once

#include <cstdint>
#include <string>

#include "core/device.h"
#include "experiments/protocol.h"

namespace hrm {

// Forward passes before timing starts, and timed passes (the median counts).
constexpr int kLatencyWarmup = 3;
constexpr int kLatencyRepeats = 10;

struct LatencyResult {
  double median_ms = 0, min_ms = 0;  // one forward of (batch, seq) tokens
  int64_t peak_bytes = 0;            // see PeakMemory
  std::string memory_source;         // PeakMemory::source()
  int64_t params = 0;                // stored parameters
  int64_t param_bytes = 0;           // their bytes in the dtype they ran in
};

// Builds the config's model (seeded, on the placement's device, its weights
// in placement.weights, under bf16 autocast where placement says so) and
// times forwards of the first fixed validation batch.
LatencyResult TimeForward(const json& config, const Placement& placement, const TrainData& data,
                          int warmup, int repeats);

// TimeForward with the constants above, recorded as measurements latency_ms
// and latency_ms_min (extra batch, seq, repeats), peak_mem_mb (MiB; extra
// source), params and param_bytes (extra weights: bf16 or fp32). Extras are
// deterministic, so a rerun's measurements are duplicates the store ignores.
void MeasureLatency(const ProtocolContext& ctx);

}  // namespace hrm
