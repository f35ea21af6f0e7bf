// Protocols other than training (config key `protocol`): a run that measures
// a model instead of training it, recorded like a training run. The worker
// (`hrm train`) dispatches here; the run's events.jsonl gets `started`, one
// {"event":"measurement","metric":NAME,"value":X, ...extra} per number, and
// `finished`, which the store ingests into its `measurements` table.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "base/config.h"
#include "core/trainer.h"

namespace hrm {

class EventLog;

struct ProtocolContext {
  json config;        // resolved; "vocab" > 0 (the data's)
  std::string run_id;
  json provenance;    // recorded in the "started" event
  EventLog* log = nullptr;
  TrainData data;     // validation tokens feed inputs and prompts
};

// Runs config["protocol"] (latency | genspeed) and returns an ExitCode.
// Throws on I/O errors and on a protocol it does not know.
int RunProtocol(const ProtocolContext& ctx);

// Appends one measurement event: {"event":"measurement","metric":metric,
// "value":value} plus the keys of extra.
void RecordMeasurement(EventLog& log, const std::string& metric, double value,
                       json extra = json::object());

// The median of timings (the mean of the middle two for an even count).
double SampleMedian(std::vector<double> values);

// The device a resolved config asks for ("auto": CUDA when available).
torch::Device ConfigDevice(const json& config);

// Whether a config computes in bf16 (dtype bf16, or auto on CUDA).
bool ConfigBf16(const json& config, const torch::Device& device);

}  // namespace hrm
