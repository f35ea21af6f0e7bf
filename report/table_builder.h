// Turns a TableSpec into a Table by reading the store: expands rows, reads
// and aggregates each cell, computes deltas, and puts the paper's published
// values beside the measured ones.
#pragma once

#include <optional>
#include <string>

#include "report/table.h"
#include "report/table_spec.h"
#include "store/store_reader.h"

namespace hrm {

struct BuildOptions {
  bool published = true;  // add a "(paper)" column beside each column the paper printed
};

// Builds `spec` (through spec.build when set). Rows whose runs are missing
// show "—"; unfinished, diverged and failed runs are marked (see the notes
// each table carries). Throws StoreError only when the store cannot be read.
Table BuildTable(const TableSpec& spec, StoreReader& store, const BuildOptions& options);

// The number one cell of `column` holds for the runs of sweep `sweep`
// matching `match` (one config group expected), or nullopt. For tables whose
// layout is not rows × columns (report/custom_tables.cc).
std::optional<double> CellNumber(StoreReader& store, const std::string& sweep, const json& match,
                                 const ColumnSpec& column);

// The note a table carries about the sweep it read: which sweep and how many
// runs by status, or how to create it when the store has none.
std::string SweepNote(const std::string& grid, const SweepRecord* sweep);

}  // namespace hrm
