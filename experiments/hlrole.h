// The slow/fast role analyses of a trained HRM (Section 5.12, Tables 17 and
// 18). Not a protocol of its own: a finished HRM training run ends with them,
// so every trained HRM carries its slow-module ablation and step trace.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "core/model.h"
#include "core/trainer.h"

namespace hrm {

class EventLog;

struct HlRoleResult {
  double ce_normal = 0;          // mean CE over the fixed validation batches
  double ce_h_frozen = 0;        // the same with z_H frozen at z_H⁰ (slow update skipped)
  std::vector<StepTrace> trace;  // the last pass's M steps on the first batch
};

// Evaluates an HRM on fixed validation batches 0..batches-1 of (batch, seq)
// tokens (the trainer's eval batches), normally and with the slow module
// frozen, and traces its steps on batch 0.
HlRoleResult AnalyseHlRole(LanguageModelImpl& model, const TrainData& data, int64_t seq,
                           int64_t batch, int64_t batches, const torch::Device& device, bool bf16);

// Records ce_normal, ce_h_frozen, and per step i of the trace
// trace.{h_fired,gate_mean,zl_norm,zh_norm,cos_lh} with extra {"step": i}.
void RecordHlRole(EventLog& log, const HlRoleResult& result);

// For a finished hrm run (ctx as Train had it): loads the newest checkpoint
// of ctx.run_dir, analyses it on the config's eval_iters batches, records.
// Other models: nothing. Throws if the run directory has no checkpoint.
void RecordHlRoleOfRun(const TrainContext& ctx, const TrainData& data);

}  // namespace hrm
