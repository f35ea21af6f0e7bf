#include "experiments/run_model.h"

#include <cstdio>
#include <filesystem>

#include "base/atomic_file.h"
#include "base/builtin_corpus.h"
#include "base/param_count.h"
#include "base/run_dir.h"
#include "base/token_data.h"
#include "core/checkpoint.h"
#include "core/model_weights.h"

namespace hrm {
namespace {

namespace fs = std::filesystem;

// The data's meta.json, or null when the data is not on this machine (an
// imported run, a run trained elsewhere).
json DataMetaIfPresent(const json& run) {
  try {
    return ReadDataMeta(run.at("data_dir").get<std::string>());
  } catch (const std::exception&) {
    return nullptr;
  }
}

}  // namespace

json ReadRunConfig(const std::string& run_dir) {
  const std::string path = RunConfigFileName(run_dir);
  if (!fs::is_regular_file(path))
    throw std::runtime_error(run_dir + ": not a run directory (no config.json)");
  json run = json::parse(ReadFile(path), nullptr, false);
  if (run.is_discarded() || !run.is_object() || !run.contains("config") || !run.contains("run_id"))
    throw std::runtime_error(path + ": not a run's config.json (needs run_id and config)");
  return run;
}

RunModel LoadRunModel(const std::string& run_dir, int64_t step) {
  json run = ReadRunConfig(run_dir);
  RunModel r;
  r.run_dir = run_dir;
  r.run_id = run["run_id"];
  r.config = run["config"];
  json meta = DataMetaIfPresent(run);
  if (r.config["vocab"].get<int64_t>() == 0)
    r.config["vocab"] =
        meta.is_object() ? meta.value("vocab_size", ModelVocab(r.config)) : ModelVocab(r.config);
  std::string tokenizer = r.config.value("tokenizer", "byte");
  if (meta.is_object())
    tokenizer = meta.value("tokenizer", tokenizer);
  else if (r.config.value("data", "builtin") != "builtin")
    tokenizer = "gpt2";  // a nanoGPT directory
  r.tokenizer = MakeTokenizer(tokenizer);

  torch::manual_seed(0);  // weights are overwritten; keep construction deterministic
  r.model = MakeModel(ModelOptions::FromConfig(r.config));
  r.model->eval();

  json ckpt;
  if (step >= 0) {
    const std::string path = CheckpointFileName(run_dir, step);
    if (!fs::exists(path)) {
      std::string have;
      for (const auto& p : ListCheckpoints(run_dir))
        have += (have.empty() ? "" : ", ") + fs::path(p).filename().string();
      throw std::runtime_error("run " + r.run_id + " (" + run_dir + ") has no checkpoint of step " +
                               std::to_string(step) + (have.empty() ? "" : "; it has " + have));
    }
    if (ReadCheckpointMeta(path).value("config_hash", "") != r.run_id)
      throw std::runtime_error(path + ": checkpoint belongs to another run than " + r.run_id);
    ckpt = LoadCheckpoint(path, r.model.get(), nullptr);
    r.source = path;
  } else {
    ckpt = LoadNewestCheckpoint(run_dir, r.run_id, r.model.get(), nullptr);
    if (!ckpt.is_null()) r.source = CheckpointFileName(run_dir, ckpt["step"].get<int64_t>());
  }
  if (!ckpt.is_null()) {
    r.step = ckpt["step"].get<int64_t>();
    return r;
  }
  const std::string init = r.config.value("init_from", "");
  if (!init.empty()) {
    LoadModelTensors(*r.model, LoadSafetensors(init).tensors, init);
    r.source = init;
    return r;
  }
  throw std::runtime_error("run " + r.run_id + " (" + run_dir +
                           ") has no checkpoint yet: nothing to load");
}

}  // namespace hrm
