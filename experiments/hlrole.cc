#include "experiments/hlrole.h"

#include <stdexcept>

#include "base/event_log.h"
#include "core/autocast.h"
#include "core/batch_sampler.h"
#include "core/checkpoint.h"
#include "experiments/measurement.h"

namespace hrm {

HlRoleResult AnalyseHlRole(LanguageModelImpl& model, const TrainData& data, int64_t seq,
                           int64_t batch, int64_t batches, const torch::Device& device, bool bf16) {
  torch::NoGradGuard no_grad;
  AutocastGuard autocast(device, bf16);  // as the trainer evaluates
  BatchSampler val(data.val, data.n_val, seq, batch);
  ForwardOptions frozen;
  frozen.freeze_slow = true;
  HlRoleResult r;
  for (int64_t i = 0; i < batches; ++i) {
    auto [x, y] = val.Fixed(i);
    x = x.to(device);
    y = y.to(device);
    r.ce_normal += model.forward(x, y).ce.item<double>();
    r.ce_h_frozen += model.forward(x, y, frozen).ce.item<double>();
  }
  r.ce_normal /= double(batches);
  r.ce_h_frozen /= double(batches);
  ForwardOptions trace;
  trace.trace = true;
  r.trace = model.forward(val.Fixed(0).first.to(device), torch::Tensor(), trace).trace;
  return r;
}

void RecordHlRole(EventLog& log, const HlRoleResult& r) {
  RecordMeasurement(log, "ce_normal", r.ce_normal);
  RecordMeasurement(log, "ce_h_frozen", r.ce_h_frozen);
  for (const StepTrace& s : r.trace) {
    const json step = {{"step", s.step}};
    RecordMeasurement(log, "trace.h_fired", s.h_fired ? 1.0 : 0.0, step);
    RecordMeasurement(log, "trace.gate_mean", s.gate_mean, step);
    RecordMeasurement(log, "trace.zl_norm", s.zl_norm, step);
    RecordMeasurement(log, "trace.zh_norm", s.zh_norm, step);
    RecordMeasurement(log, "trace.cos_lh", s.cos_lh, step);
  }
}

void RecordHlRoleOfRun(const TrainContext& ctx, const TrainData& data) {
  const json& c = ctx.config;
  if (c.at("model") != "hrm" || !ctx.log) return;
  const std::vector<std::string> checkpoints = ListCheckpoints(ctx.run_dir);
  if (checkpoints.empty())
    throw std::runtime_error(ctx.run_dir + ": no checkpoint of the trained model to analyse");
  LanguageModel model = MakeModel(ModelOptions::FromConfig(c));
  LoadCheckpoint(checkpoints.front(), model.get(), nullptr);
  const Placement& where = ctx.placement;
  model->to(where.device);
  RecordHlRole(*ctx.log, AnalyseHlRole(*model, data, c.at("seq"), c.at("batch"), c.at("eval_iters"),
                                       where.device, where.bf16_autocast));
}

}  // namespace hrm
