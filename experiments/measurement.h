// How a protocol records a number: one `measurement` event in the run's
// events.jsonl, which the store ingests into its `measurements` table.
#pragma once

#include <string>

#include "base/config.h"

namespace hrm {

class EventLog;

// Appends {"event":"measurement","metric":metric,"value":value} plus the keys
// of extra (what the number was measured over: shape, repeats, source).
void RecordMeasurement(EventLog& log, const std::string& metric, double value,
                       json extra = json::object());

}  // namespace hrm
