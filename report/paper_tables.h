// The paper's Tables 6–22 as TableSpecs (data): which sweep and rows each
// reads, its columns, and the numbers the paper prints.
//
// Step columns are fractions of each run's configured `steps`, so that the
// paper's "10k of 20k" reads the same point of a mini or smoke run ("@10k" in
// a 20k-step table = the eval nearest steps/2).
//
// Measurements the protocol tables read (runs' `measurements` rows), by sweep:
//   latency  (Table 10, 20): latency_ms, peak_mem_mb
//   genspeed (Table 16):     tok_per_s, ms_per_tok, peak_mem_mb, tok_per_s_cached
//   hlrole, else equal_param (the trained HRM runs' slow-module analyses):
//            (Table 17):     ce_normal, ce_h_frozen
//            (Table 18):     trace.h_fired, trace.gate_mean, trace.zl_norm, trace.zh_norm,
//                            trace.cos_lh, one row per recurrent step with extra {"step": i}
// A measurement's extra may hold more keys (seq, time, ...); see MeasurementValue.
#pragma once

#include <string>
#include <vector>

#include "report/table_spec.h"

namespace hrm {

// Tables 6–22, in order.
const std::vector<TableSpec>& PaperTables();

// The table called `name`: "table6", "6" or its experiment name ("equal_param");
// nullptr when none is.
const TableSpec* FindPaperTable(const std::string& name);

}  // namespace hrm
