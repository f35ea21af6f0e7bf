#include "experiments/measurement.h"

#include "base/event_log.h"

namespace hrm {

void RecordMeasurement(EventLog& log, const std::string& metric, double value, json extra) {
  extra["metric"] = metric;
  extra["value"] = value;
  log.Append("measurement", std::move(extra));
}

}  // namespace hrm
