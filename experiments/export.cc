// The export's config.json is the contract with other tools (the Python
// parity test reads it): keep its fields and the tensor names stable, and
// bump format_version when either changes.
#include "experiments/export.h"

#include <torch/torch.h>

#include <filesystem>
#include <iostream>

#include "base/atomic_file.h"
#include "base/builtin_corpus.h"
#include "base/exit_code.h"
#include "base/tokenizer.h"
#include "core/model_weights.h"
#include "experiments/run_model.h"

namespace hrm {
namespace {

namespace fs = std::filesystem;
// 2: the tokenizer as Hugging Face names its files (vocab.json, merges.txt)
// plus hrm_tokenizer.json; 1 had tokenizer.json, encoder.json, vocab.bpe.
constexpr int kFormatVersion = 2;
constexpr char kTokenizerFile[] = "hrm_tokenizer.json";
// GPT-2's files as OpenAI ships them (the installed vocabulary) and as Hugging
// Face's GPT2Tokenizer reads them: the same bytes under two names.
const std::pair<const char*, const char*> kGpt2Files[] = {{"encoder.json", "vocab.json"},
                                                          {"vocab.bpe", "merges.txt"}};

// Fields of the config that shape the model, in the export's config.json.
const char* const kIntFields[] = {"d", "heads", "vocab", "seq",           "L", "M", "N",
                                  "T", "K",     "S",     "init_width_ref"};

json ArchitectureOf(const json& c) {
  json a = {{"format", "hrm-export"}, {"format_version", kFormatVersion}, {"model", c["model"]}};
  for (const char* k : kIntFields) a[k] = c.value(k, int64_t(0));
  if (a["S"] == 0) a["S"] = 1;
  a["ent_weight"] = c.value("ent_weight", 0.0);
  a["supervision_reduce"] = c.value("supervision_reduce", "mean");
  a["init_std"] = c["init_std"];
  // Constants of MODEL.md §1, written out so that a reader needs no source.
  a["rms_eps"] = 1e-6;
  a["rope_base"] = 10000.0;
  a["rope_layout"] = "rotate_half";
  return a;
}

// The given-config of a run built from an export: its architecture, with
// only the keys its family takes, and the tokenizer.
json GivenFromArchitecture(const json& a) {
  const std::string model = a["model"];
  json g = {{"model", model},
            {"d", a["d"]},
            {"heads", a["heads"]},
            {"vocab", a["vocab"]},
            {"seq", a["seq"]},
            {"init_std", a["init_std"]},
            {"init_width_ref", a["init_width_ref"]},
            {"tokenizer", a["tokenizer"]["type"]}};
  if (model == "transformer") g["L"] = a["L"];
  if (model == "unitf") {
    g["M"] = a["M"];
    g["K"] = a["K"];
  }
  if (model == "hrm")
    for (const char* k : {"N", "T", "K", "S", "ent_weight", "supervision_reduce"}) g[k] = a[k];
  return g;
}

// Reads and checks an export's config.json; errors name the file and field.
json ReadExportConfig(const std::string& dir) {
  const std::string path = (fs::path(dir) / "config.json").string();
  if (!fs::is_regular_file(path) || !fs::is_regular_file(fs::path(dir) / "model.safetensors"))
    throw std::invalid_argument(dir +
                                ": not an hrm export (needs config.json and model.safetensors)");
  json a = json::parse(ReadFile(path), nullptr, false);
  auto bad = [&](const std::string& field, const std::string& why) {
    return std::invalid_argument(path + ": " + field + ": " + why);
  };
  if (a.is_discarded() || !a.is_object()) throw std::invalid_argument(path + ": not JSON");
  if (a.value("format", "") != "hrm-export") throw bad("format", "expected \"hrm-export\"");
  if (a.value("format_version", 0) == 1)
    throw bad("format_version",
              "1 is an export by an older hrm (tokenizer.json, encoder.json, "
              "vocab.bpe); this hrm reads version " +
                  std::to_string(kFormatVersion) + ": export the run again");
  if (a.value("format_version", 0) != kFormatVersion)
    throw bad("format_version", "this hrm reads version " + std::to_string(kFormatVersion));
  if (!a.contains("model") || !a["model"].is_string()) throw bad("model", "missing");
  for (const char* k : kIntFields)
    if (!a.contains(k) || !a[k].is_number_integer()) throw bad(k, "missing or not an integer");
  for (const char* k : {"ent_weight", "init_std"})
    if (!a.contains(k) || !a[k].is_number()) throw bad(k, "missing or not a number");
  if (!a.contains("tokenizer") || !a["tokenizer"].is_object() || !a["tokenizer"].contains("type") ||
      !a["tokenizer"]["type"].is_string())
    throw bad("tokenizer.type", "missing");
  return a;
}

void CopyFile(const fs::path& from, const fs::path& to) {
  WriteFileAtomic(to.string(), ReadFile(from.string()));
}

// Checks the export's tokenizer files against config.json's `tokenizer`:
// hrm_tokenizer.json says the same, and a gpt2 export carries GPT-2's own
// vocab.json and merges.txt (hrm's gpt2 tokenizer is GPT-2's; it cannot use
// another vocabulary). Errors name the file.
void CheckExportTokenizer(const std::string& dir, const json& a) {
  const fs::path path = fs::path(dir) / kTokenizerFile;
  if (!fs::is_regular_file(path))
    throw std::invalid_argument(path.string() + ": missing (every hrm export has it)");
  const json tok = json::parse(ReadFile(path.string()), nullptr, false);
  if (tok.is_discarded() || !tok.is_object())
    throw std::invalid_argument(path.string() + ": not a JSON object");
  for (const char* k : {"type", "vocab_size", "eot_id"})
    if (tok.value(k, json()) != a["tokenizer"].value(k, json()))
      throw std::invalid_argument(path.string() + ": " + k + " " + tok.value(k, json()).dump() +
                                  " does not match config.json's tokenizer." + k + " " +
                                  a["tokenizer"].value(k, json()).dump());
  const std::string type = tok["type"];
  if (type == "byte") return;
  if (type != "gpt2")
    throw std::invalid_argument(path.string() + ": type: hrm reads byte or gpt2, got " + type);
  for (const auto& [ours, theirs] : kGpt2Files) {
    const fs::path file = fs::path(dir) / theirs;
    if (!fs::is_regular_file(file))
      throw std::invalid_argument(file.string() + ": missing (a gpt2 export carries GPT-2's " +
                                  "vocab.json and merges.txt)");
    const fs::path gpt2 = fs::path(Gpt2VocabDir()) / ours;
    if (ReadFile(file.string()) != ReadFile(gpt2.string()))
      throw std::invalid_argument(file.string() + ": differs from GPT-2's " + gpt2.string() +
                                  "; hrm's gpt2 tokenizer is GPT-2's own and reads no other "
                                  "vocabulary");
  }
}

}  // namespace

int ExportMain(const ExportArgs& args) {
  if (args.dtype != "fp32" && args.dtype != "bf16") {
    std::cerr << "hrm export: --dtype: expected fp32 or bf16, got " << args.dtype << "\n";
    return kExitUsage;
  }
  RunModel r;
  try {
    r = LoadRunModel(args.run_dir, args.step);
  } catch (const std::exception& e) {
    std::cerr << "hrm export: " << e.what() << "\n";
    return kExitUsage;
  }
  try {
    fs::create_directories(args.out_dir);
    const fs::path out(args.out_dir);
    // config.json last: a directory is an export only once it is complete.
    fs::remove(out / "config.json");
    const auto dtype = args.dtype == "bf16" ? torch::kBFloat16 : torch::kFloat;
    NamedTensors tensors;
    for (const auto& [name, t] : ModelTensors(*r.model)) tensors.emplace_back(name, t.to(dtype));
    SaveSafetensors(
        (out / "model.safetensors").string(), tensors,
        {{"format", "pt"}, {"hrm_run_id", r.run_id}, {"hrm_step", std::to_string(r.step)}});

    json tok = {{"type", r.tokenizer->name()},
                {"vocab_size", r.tokenizer->vocab_size()},
                {"eot_id", r.tokenizer->eot_id()}};
    if (r.tokenizer->name() == "gpt2") {
      for (const auto& [ours, theirs] : kGpt2Files)
        CopyFile(fs::path(Gpt2VocabDir()) / ours, out / theirs);
      tok["files"] = {"vocab.json", "merges.txt"};
      // What AutoTokenizer needs to pick GPT-2's tokenizer class for them.
      WriteFileAtomic((out / "tokenizer_config.json").string(),
                      json{{"tokenizer_class", "GPT2Tokenizer"},
                           {"bos_token", "<|endoftext|>"},
                           {"eos_token", "<|endoftext|>"},
                           {"unk_token", "<|endoftext|>"},
                           {"model_max_length", r.config["seq"]}}
                              .dump(2) +
                          "\n");
    }
    WriteFileAtomic((out / kTokenizerFile).string(), tok.dump(2) + "\n");

    json a = ArchitectureOf(r.config);
    a["dtype"] = args.dtype == "bf16" ? "bfloat16" : "float32";
    a["tokenizer"] = tok;
    a["source"] = {
        {"run_id", r.run_id}, {"step", r.step}, {"weights", r.source}, {"config", r.config}};
    WriteFileAtomic((out / "config.json").string(), a.dump(2) + "\n");
    std::cerr << "exported run " << r.run_id << " at step " << r.step << " (" << tensors.size()
              << " tensors, " << args.dtype << ") to " << args.out_dir << "\n";
    return kExitOk;
  } catch (const std::exception& e) {
    std::cerr << "hrm export: " << e.what() << "\n";
    return kExitError;
  }
}

int ImportMain(const ImportArgs& args) {
  const fs::path dir(args.run_dir);
  try {
    json a = ReadExportConfig(args.export_dir);
    CheckExportTokenizer(args.export_dir, a);
    const std::string weights = (fs::path(args.export_dir) / "model.safetensors").string();
    if (fs::exists(dir / "config.json"))
      throw std::invalid_argument((dir / "config.json").string() +
                                  " exists: import into a fresh --run-dir");
    const std::string init = fs::absolute(dir / "init.safetensors").lexically_normal().string();

    // Everything is checked before anything is written: the config resolves,
    // and the weights fit the model it describes.
    json given = GivenFromArchitecture(a);
    ApplyOverrides(given, args.sets);
    json probe = given;
    probe["init_from"] = weights;
    json config = ResolveConfig(probe);
    torch::manual_seed(0);
    LanguageModel model = MakeModel(ModelOptions::FromConfig(config));
    LoadModelTensors(*model, LoadSafetensors(weights).tensors, weights);

    fs::create_directories(dir);
    CopyFile(weights, init);
    given["init_from"] = init;
    config = ResolveConfig(given);
    const std::string run_id = RunId(config);
    WriteFileAtomic((dir / "config.json").string(),
                    json{{"run_id", run_id},
                         {"config", config},
                         {"data_dir", ResolveDataDir(config)},
                         {"identity", CanonicalIdentity(config)},
                         {"imported_from", fs::absolute(args.export_dir).string()}}
                            .dump(2) +
                        "\n");
    std::cerr << "imported " << args.export_dir << " as run " << run_id << " in " << args.run_dir
              << "; `hrm train --run-dir " << args.run_dir << "` fine-tunes it, `hrm generate "
              << args.run_dir << "` samples from it\n";
    return kExitOk;
  } catch (const std::exception& e) {
    std::cerr << "hrm import: " << e.what() << "\n";
    return kExitUsage;
  }
}

}  // namespace hrm
