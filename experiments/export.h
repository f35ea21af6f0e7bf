// `hrm export` and `hrm import`: a run's weights as a portable directory
// (model.safetensors, config.json, tokenizer files) and back into a run.
// Torch-free header so the CLI in runner/ can call it.
#pragma once

#include <string>
#include <vector>

namespace hrm {

struct ExportArgs {
  std::string run_dir;
  std::string out_dir;
  std::string dtype = "fp32";  // fp32 | bf16
  long long step = -1;         // checkpoint to export; -1 = newest
};

// Writes OUT/model.safetensors, OUT/config.json (format "hrm-export" v2:
// every architectural field, tokenizer, source run) and the tokenizer's
// files: hrm_tokenizer.json (hrm's description: type, vocab_size, eot_id,
// files) and, for GPT-2, Hugging Face's vocab.json and merges.txt (GPT-2's
// encoder.json and vocab.bpe, byte for byte) with a tokenizer_config.json.
// Returns an ExitCode; errors name the run or file and leave OUT without a
// config.json.
int ExportMain(const ExportArgs& args);

struct ImportArgs {
  std::string export_dir;
  std::string run_dir;
  std::vector<std::string> sets;  // training overrides (steps, lr, data, ...)
};

// Turns an export into a run directory that `hrm generate` reads and
// `hrm train --run-dir D` fine-tunes: D/init.safetensors (the weights, as
// exported) and D/config.json with init_from pointing at it. Validates the
// whole export first (config, tokenizer files, weights); nothing is written on
// bad input (exit 2).
int ImportMain(const ImportArgs& args);

}  // namespace hrm
