// Ingest of a worker's event log (DIR/events.jsonl) into the store. Workers
// never write SQLite; the runner calls this while a run goes on and once
// more after its worker exits, before deciding what to do with the run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/run_store.h"

namespace hrm {

// What one ingest added.
struct IngestResult {
  int64_t lines = 0;                  // complete lines read past the cursor
  int64_t evals = 0;                  // rows added to evals
  int64_t checkpoints = 0;            // rows added to or changed in checkpoints
  int64_t measurements = 0;           // rows added to measurements
  int64_t run_events = 0;             // lifecycle events added to run_events
  std::vector<std::string> warnings;  // "path:line: reason" for each line skipped
};

// Reads the lines of `path` past the run's cursor, in one transaction:
// evals (first row per step wins), checkpoints (newest per step),
// measurements, lifecycle events; and sets runs.step to the last event's
// step and runs.status from the last started / interrupted / finished /
// diverged / error event. Idempotent: a replay adds nothing. An unfinished
// last line (no newline yet: the worker is writing it, or crashed) is left
// for the next call; a complete line that is not a valid event is skipped
// with a warning. A missing file adds nothing. Throws StoreError if the run
// is not in the store or the file cannot be read.
IngestResult IngestEvents(RunStore& store, const std::string& run_id, const std::string& path);

}  // namespace hrm
