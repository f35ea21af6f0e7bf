// Protocols other than training (config key `protocol`): a run that measures
// a model instead of training it, recorded like a training run. The worker
// (`hrm train`) dispatches here; the run's events.jsonl gets `started`, the
// protocol's measurements (experiments/measurement.h), and `finished`.
#pragma once

#include <string>

#include "base/config.h"
#include "core/device.h"
#include "core/trainer.h"

namespace hrm {

class EventLog;

struct ProtocolContext {
  json config;  // resolved; "vocab" > 0 (the data's)
  std::string run_id;
  json provenance;  // recorded in the "started" event
  EventLog* log = nullptr;
  TrainData data;       // validation tokens feed inputs and prompts
  Placement placement;  // device, autocast and the dtype of the weights
};

// Runs config["protocol"] (latency | genspeed) and returns an ExitCode.
// Throws on I/O errors and on a protocol it does not know.
int RunProtocol(const ProtocolContext& ctx);

}  // namespace hrm
