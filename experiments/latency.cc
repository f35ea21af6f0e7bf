#include "experiments/latency.h"

#include <algorithm>
#include <vector>

#include "base/event_log.h"
#include "core/autocast.h"
#include "core/batch_sampler.h"
#include "core/model.h"
#include "experiments/measurement.h"
#include "experiments/peak_memory.h"
#include "experiments/timing.h"

namespace hrm {

LatencyResult TimeForward(const json& config, const Placement& placement, const TrainData& data,
                          int warmup, int repeats) {
  const torch::Device device = placement.device;
  LatencyResult r;
  PeakMemory memory(device);  // before the model: its weights count, as on the paper's GPU
  torch::manual_seed(config.at("seed").get<int64_t>());
  LanguageModel model = MakeModel(ModelOptions::FromConfig(config));
  model->to(device, placement.weights);
  model->eval();
  torch::InferenceMode inference;
  AutocastGuard autocast(device, placement.protocol_autocast());
  BatchSampler val(data.val, data.n_val, config.at("seq"), config.at("batch"));
  const torch::Tensor x = val.Fixed(0).first.to(device);
  auto forward = [&] { model->forward(x, torch::Tensor()); };
  auto warm_up = [&] {
    for (int i = 0; i < warmup; ++i) forward();
  };
  std::vector<double> ms = TimeRepeats(device, repeats, warm_up, forward);
  for (double& t : ms) t *= 1000.0;
  r.median_ms = SampleMedian(ms);
  r.min_ms = *std::min_element(ms.begin(), ms.end());
  r.peak_bytes = memory.PeakBytes();
  r.memory_source = memory.source();
  for (const auto& p : model->parameters()) {
    r.params += p.numel();
    r.param_bytes += p.numel() * int64_t(p.element_size());
  }
  return r;
}

void MeasureLatency(const ProtocolContext& ctx) {
  const json& c = ctx.config;
  const LatencyResult r = TimeForward(c, ctx.placement, ctx.data, kLatencyWarmup, kLatencyRepeats);
  const json shape = {{"batch", c["batch"]}, {"seq", c["seq"]}, {"repeats", kLatencyRepeats}};
  RecordMeasurement(*ctx.log, "latency_ms", r.median_ms, shape);
  RecordMeasurement(*ctx.log, "latency_ms_min", r.min_ms, shape);
  RecordMeasurement(*ctx.log, "peak_mem_mb", double(r.peak_bytes) / (1 << 20),
                    {{"source", r.memory_source}});
  RecordMeasurement(*ctx.log, "params", double(r.params));
  RecordMeasurement(*ctx.log, "param_bytes", double(r.param_bytes),
                    {{"weights", ctx.placement.weights == torch::kBFloat16 ? "bf16" : "fp32"}});
}

}  // namespace hrm
