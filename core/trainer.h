// The training loop (MODEL.md §6): AdamW, warmup + cosine schedule, global
// norm clipping, gradient accumulation, data parallelism through a
// Communicator, fixed-batch evaluation, checkpoints and exact resume.
#pragma once

#include <torch/torch.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "base/config.h"
#include "core/device.h"

namespace hrm {

class EventLog;
class Communicator;

// Token arrays the trainer samples from (uint16 GPT-2 / byte ids).
struct TrainData {
  const uint16_t* train = nullptr;
  int64_t n_train = 0;
  const uint16_t* val = nullptr;
  int64_t n_val = 0;
};

struct TrainContext {
  json config;                   // resolved; "vocab" must be > 0
  Placement placement;           // device and bf16 autocast (ResolvePlacement)
  std::string run_id;            // RunId of the config as given (checkpoints must match)
  json provenance;               // recorded in the "started" event
  std::string run_dir;           // holds ckpt/; events go to `log`
  EventLog* log = nullptr;       // rank 0 only (null on other ranks)
  Communicator* comm = nullptr;  // null: single process
  // Set asynchronously (signal handler) to ask for checkpoint-and-exit.
  const std::atomic<int>* stop = nullptr;
  bool progress = true;  // progress lines on stderr
  // Behave as if signalled once this many steps are done (time-boxed jobs,
  // tests); -1 = never.
  int64_t stop_after = -1;
};

enum class TrainOutcome { kFinished, kDiverged, kInterrupted };

// nanoGPT's get_lr: linear warmup over `warmup` steps, cosine to min_lr at
// `steps`.
double LearningRate(const json& config, int64_t step);

// Trains (or resumes from the newest valid checkpoint in run_dir) to
// config["steps"]. Throws on configuration or I/O errors.
TrainOutcome Train(const TrainContext& ctx, const TrainData& data);

}  // namespace hrm
