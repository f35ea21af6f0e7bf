// `hrm generate`: text from a run's checkpoint, streamed as it is decoded.
// Torch-free header so the CLI in runner/ can call it.
#pragma once

#include <string>

namespace hrm {

struct GenerateArgs {
  std::string run_dir;
  std::string prompt;  // empty: start from the end-of-text token
  long long max_new = 128;
  double temperature = 0.8;  // 0 = greedy
  long long top_k = 200;     // 0 = all tokens
  unsigned long long seed = 1337;
  bool use_cache = true;
  long long step = -1;         // checkpoint; -1 = newest
  std::string device = "cpu";  // cpu, cuda, cuda:N, auto
};

// Writes the prompt and then each new token's text to stdout as it comes,
// a summary line (tokens/s, checkpoint) to stderr. Returns an ExitCode.
int GenerateMain(const GenerateArgs& args);

}  // namespace hrm
