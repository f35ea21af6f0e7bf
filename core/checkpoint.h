// Training checkpoints: model, optimizer, schedule position, RNG and data
// cursor in one file, published atomically and sealed with a SHA-256 footer.
// A run directory keeps the newest few in DIR/ckpt/step_XXXXXXXX.ckpt.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "base/config.h"

namespace hrm {

// A checkpoint that is truncated, fails its checksum, or cannot be parsed.
class CorruptCheckpoint : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Writes model + optimizer + meta to `path` atomically, streamed to the file
// and hashed as it goes (no copy of the checkpoint in memory). `meta` must
// hold "step" and "config_hash"; the torch CPU RNG state is added. Returns
// the whole file's SHA-256.
std::string SaveCheckpoint(const std::string& path, torch::nn::Module& model,
                           torch::optim::Optimizer& optimizer, const json& meta);

// Verifies the footer checksum and returns the meta without touching the
// model. Throws CorruptCheckpoint naming the file. (It still reads every
// tensor: torch's archive has no partial load.)
json ReadCheckpointMeta(const std::string& path);

// Verifies, then loads into model and optimizer (either may be null), on the
// model's device, and restores the CPU RNG state. Returns the meta. Throws
// CorruptCheckpoint.
json LoadCheckpoint(const std::string& path, torch::nn::Module* model,
                    torch::optim::Optimizer* optimizer);

// Loads the newest checkpoint of run_dir that verifies (each file is hashed
// once), skipping corrupt ones with a warning on stderr. One written by another run (its
// config_hash is not run_id) is refused with std::runtime_error, never
// skipped. Returns its meta, or null when the run has no checkpoint.
json LoadNewestCheckpoint(const std::string& run_dir, const std::string& run_id,
                          torch::nn::Module* model, torch::optim::Optimizer* optimizer);

// Checkpoint files of a run directory, newest step first.
std::vector<std::string> ListCheckpoints(const std::string& run_dir);
// Deletes all but the newest `keep` checkpoints.
void PruneCheckpoints(const std::string& run_dir, int64_t keep);

}  // namespace hrm
