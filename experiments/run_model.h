// A trained (or imported) model back from its run directory: the config,
// the weights of a checkpoint, and the tokenizer of its data.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

#include "base/config.h"
#include "base/tokenizer.h"
#include "core/model.h"

namespace hrm {

struct RunModel {
  std::string run_dir;
  std::string run_id;
  json config;          // resolved, with "vocab" set
  LanguageModel model;  // on the CPU, eval mode
  std::unique_ptr<Tokenizer> tokenizer;
  int64_t step = 0;    // of the checkpoint loaded (0: the imported initial weights)
  std::string source;  // the file the weights came from
};

// The run's config.json, resolved ({"run_id", "config", "data_dir"}). Throws
// std::runtime_error naming the directory when it is not a run directory.
json ReadRunConfig(const std::string& run_dir);

// Loads the newest checkpoint that verifies, or the one of `step` (>= 0);
// a run without checkpoints that was imported (init_from) gets its imported
// weights. Throws std::runtime_error naming the run when there is nothing to
// load or the step has no checkpoint.
RunModel LoadRunModel(const std::string& run_dir, int64_t step = -1);

}  // namespace hrm
