#include "experiments/latency.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "core/batch_sampler.h"
#include "base/event_log.h"
#include "core/model.h"
#include "experiments/peak_memory.h"

namespace hrm {

LatencyResult TimeForward(const json& config, const TrainData& data, int warmup, int repeats) {
  const torch::Device device = ConfigDevice(config);
  LatencyResult r;
  PeakMemory memory(device);  // before the model: its weights count, as on the paper's GPU
  torch::manual_seed(config.at("seed").get<int64_t>());
  LanguageModel model = MakeModel(ModelOptions::FromConfig(config));
  model->to(device);
  if (ConfigBf16(config, device)) model->to(torch::kBFloat16);
  model->eval();
  torch::InferenceMode inference;
  BatchSampler val(data.val, data.n_val, config.at("seq"), config.at("batch"));
  const torch::Tensor x = val.Fixed(0).first.to(device);
  auto sync = [&] {
    if (device.is_cuda()) torch::cuda::synchronize();
  };
  for (int i = 0; i < warmup; ++i) model->forward(x, torch::Tensor());
  sync();
  std::vector<double> ms;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    model->forward(x, torch::Tensor());
    sync();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                     .count());
  }
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
  const LatencyResult r = TimeForward(c, ctx.data, kLatencyWarmup, kLatencyRepeats);
  const json shape = {{"batch", c["batch"]}, {"seq", c["seq"]}, {"repeats", kLatencyRepeats}};
  RecordMeasurement(*ctx.log, "latency_ms", r.median_ms, shape);
  RecordMeasurement(*ctx.log, "latency_ms_min", r.min_ms, shape);
  RecordMeasurement(*ctx.log, "peak_mem_mb", double(r.peak_bytes) / (1 << 20),
                    {{"source", r.memory_source}});
  RecordMeasurement(*ctx.log, "params", double(r.params));
  RecordMeasurement(*ctx.log, "param_bytes", double(r.param_bytes));
}

}  // namespace hrm
