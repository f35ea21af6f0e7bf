// The paper tables that are not a rows × columns read of the store: the step
// trace (Table 18), the analytic block-weight table (Table 19) and the
// qualitative TurboQuant comparison (Table 21). Each is a TableSpec::build.
#pragma once

#include "report/table.h"
#include "report/table_builder.h"
#include "report/table_spec.h"
#include "store/store_reader.h"

namespace hrm {

// One row per recurrent step of the first run of spec.sweep matching
// spec.rows[0].match that has "trace.*" measurements (one row per step, extra
// {"step": i}: trace.h_fired, trace.gate_mean, trace.zl_norm, trace.zh_norm,
// trace.cos_lh), beside the paper's steps.
Table BuildStepTraceTable(const TableSpec& spec, StoreReader& store, const BuildOptions& options);

// Block weights, bf16 bytes and block applications at d = 4096 from
// CountParams, beside the paper's numbers. Reads nothing from the store.
Table BuildWeightMemoryTable(const TableSpec& spec, StoreReader& store,
                             const BuildOptions& options);

// The paper's property-by-property comparison, with HRM-LM's val CE cost
// (equal_param) and latency overhead (latency) measured from the store.
Table BuildTurboQuantTable(const TableSpec& spec, StoreReader& store, const BuildOptions& options);

}  // namespace hrm
