#include "experiments/protocol.h"

#include <algorithm>
#include <stdexcept>

#include "base/event_log.h"
#include "base/exit_code.h"
#include "experiments/genspeed.h"
#include "experiments/latency.h"

namespace hrm {

void RecordMeasurement(EventLog& log, const std::string& metric, double value, json extra) {
  extra["metric"] = metric;
  extra["value"] = value;
  log.Append("measurement", std::move(extra));
}

double SampleMedian(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

torch::Device ConfigDevice(const json& config) {
  const std::string name = config.at("device");
  if (name == "auto") return torch::cuda::is_available() ? torch::Device("cuda") : torch::kCPU;
  return torch::Device(name);
}

bool ConfigBf16(const json& config, const torch::Device& device) {
  const std::string dtype = config.at("dtype");
  return dtype == "bf16" || (dtype == "auto" && device.is_cuda());
}

int RunProtocol(const ProtocolContext& ctx) {
  const std::string protocol = ctx.config.at("protocol");
  if (protocol != "latency" && protocol != "genspeed")
    throw std::invalid_argument("protocol: no protocol '" + protocol + "'");
  ctx.log->Append("started", {{"step", 0},
                              {"config_hash", ctx.run_id},
                              {"time", UtcNow()},
                              {"provenance", ctx.provenance}});
  if (protocol == "latency")
    MeasureLatency(ctx);
  else
    MeasureGenSpeed(ctx);
  ctx.log->Append("finished", {{"step", 0}, {"time", UtcNow()}}, /*sync=*/true);
  return kExitOk;
}

}  // namespace hrm
