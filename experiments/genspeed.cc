#include "experiments/genspeed.h"

#include <vector>

#include "base/event_log.h"
#include "core/autocast.h"
#include "core/batch_sampler.h"
#include "core/generate.h"
#include "experiments/measurement.h"
#include "experiments/peak_memory.h"
#include "experiments/timing.h"

namespace hrm {

int64_t KvCacheBytes(const json& c, int64_t batch, int64_t length, int64_t element_bytes) {
  const std::string model = c.at("model");
  int64_t sets = 0;  // K/V pairs cached per position
  if (model == "transformer")
    sets = c.at("L");
  else if (model == "unitf")
    sets = c.at("M");
  else
    sets = 1 + (c.at("M").get<int64_t>() + c.at("N").get<int64_t>()) * c.at("S").get<int64_t>();
  return 2 * sets * batch * length * c.at("d").get<int64_t>() * element_bytes;
}

void MeasureGenSpeed(const ProtocolContext& ctx) {
  const json& c = ctx.config;
  const torch::Device device = ctx.placement.device;
  const int64_t batch = c.at("batch");
  PeakMemory memory(device);  // before the model: its weights count
  torch::manual_seed(c.at("seed").get<int64_t>());
  LanguageModel model = MakeModel(ModelOptions::FromConfig(c));
  model->to(device, ctx.placement.weights);
  model->eval();
  torch::InferenceMode inference;
  AutocastGuard autocast(device, ctx.placement.protocol_autocast());
  const torch::Tensor prompt =
      BatchSampler(ctx.data.val, ctx.data.n_val, kGenPrompt, batch).Fixed(0).first.to(device);

  // Median seconds of kGenRepeats generations after a short warm-up one.
  torch::Tensor recomputed, cached;
  DecodeState state;
  auto time = [&](auto generate) {
    return SampleMedian(TimeRepeats(
        device, kGenRepeats, [&] { generate(8); }, [&] { generate(kGenNew); }));
  };
  const double s_full =
      time([&](int64_t n) { recomputed = GreedyGenerate(*model, prompt, n, false); });
  const int64_t peak = memory.PeakBytes();
  const double s_cached =
      time([&](int64_t n) { cached = GreedyGenerate(*model, prompt, n, true, &state); });

  const json shape = {{"prompt", kGenPrompt}, {"new_tokens", kGenNew}, {"batch", batch}};
  auto record = [&](const char* metric, double value, json extra = json::object()) {
    extra.update(shape);
    RecordMeasurement(*ctx.log, metric, value, extra);
  };
  const double tokens = double(batch * kGenNew);
  record("tok_per_s", tokens / s_full);
  record("ms_per_tok", 1000.0 * s_full / double(kGenNew));
  record("peak_mem_mb", double(peak) / (1 << 20), {{"source", memory.source()}});
  record("tok_per_s_cached", tokens / s_cached);
  record("ms_per_tok_cached", 1000.0 * s_cached / double(kGenNew));
  record("tokens_identical", torch::equal(recomputed, cached) ? 1.0 : 0.0);
  // The last token is never fed back: the cache ends one position short. K
  // and V are in the dtype the projections compute in: bf16 under autocast.
  const int64_t element_bytes =
      ctx.placement.weights == torch::kBFloat16 || ctx.placement.bf16_autocast ? 2 : 4;
  record("kv_cache_bytes", double(state.CacheBytes()));
  record("kv_cache_bytes_formula",
         double(KvCacheBytes(c, batch, kGenPrompt + kGenNew - 1, element_bytes)));
}

}  // namespace hrm
