#include "experiments/protocol.h"

#include <stdexcept>

#include "base/event_log.h"
#include "base/exit_code.h"
#include "experiments/genspeed.h"
#include "experiments/latency.h"

namespace hrm {

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
