// Using what was trained: safetensors files, export → import round trips,
// parity with an independent PyTorch implementation (tests/parity), sampling,
// fine-tuning an import and reproducing a run, on tiny runs trained by the
// real `hrm` binary.
#include "experiments/export.h"

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <torch/version.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "base/atomic_file.h"
#include "base/event_log.h"
#include "base/exit_code.h"
#include "base/run_dir.h"
#include "base/subprocess.h"
#include "base/tokenizer.h"
#include "core/model_weights.h"
#include "core/safetensors.h"
#include "experiments/run_model.h"
#include "store/run_store.h"

namespace hrm {
namespace {

namespace fs = std::filesystem;

fs::path Root() {
  static const fs::path root = [] {
    fs::path p = fs::path(testing::TempDir()) / ("hrm_export_" + std::to_string(getpid()));
    fs::remove_all(p);
    fs::create_directories(p);
    return p;
  }();
  return root;
}

struct Output {
  int rc;
  std::string out, err;
};

// Runs the real binary (or another command line, parsed by sh) with stdout and stderr
// captured; rc -1 when it was killed by a signal.
Output Sh(const std::string& cmd) {
  SpawnOptions o;
  o.argv = {"sh", "-c", cmd};
  o.capture = true;
  Subprocess::Output r = Subprocess(o).Communicate();
  return {r.status.signal == 0 ? r.status.code : -1, r.out, r.err};
}
Output Hrm(const std::string& args) { return Sh(std::string(HRM_BINARY) + " " + args); }

std::string FamilyKeys(const std::string& model) {
  if (model == "transformer") return "L: 2\n";
  if (model == "unitf") return "M: 3\nK: 2\n";
  return "N: 2\nT: 2\nK: 2\nS: 2\n";
}

// A tiny run of `model` trained for 6 steps on the builtin corpus (byte
// level), once per test binary.
// `extra` (YAML lines) and `name` make a variant.
std::string Trained(const std::string& model, const std::string& extra = "",
                    const std::string& name = "") {
  static std::map<std::string, std::string> dirs;
  const std::string key = name.empty() ? model : name;
  if (dirs.count(key)) return dirs[key];
  const fs::path dir = Root() / ("run_" + key);
  const std::string yaml = (Root() / (key + ".yaml")).string();
  WriteFileAtomic(yaml, "model: " + model + "\n" + FamilyKeys(model) +
                            "d: 32\nheads: 2\nseq: 32\nbatch: 4\nsteps: 6\nwarmup: 2\n"
                            "eval_interval: 3\neval_iters: 2\nlr: 0.003\nthreads: 1\n" +
                            extra);
  Output o = Hrm("train --no-progress --run-dir " + dir.string() + " --config " + yaml);
  EXPECT_EQ(o.rc, 0) << o.err;
  return dirs[key] = dir.string();
}

// Runs the PyTorch reference on an export against logits hrm computed.
Output CheckWithPython(const std::string& export_dir, const torch::Tensor& tokens,
                       const torch::Tensor& logits, const std::string& name) {
  const std::string expected = (Root() / ("expected_" + name + ".safetensors")).string();
  SaveSafetensors(expected, {{"tokens", tokens}, {"logits", logits}});
  return Sh(std::string("/usr/bin/python3 ") + HRM_SOURCE_DIR + "/tests/parity/check_logits.py " +
            export_dir + " " + expected + " --tol 1e-4");
}

std::vector<json> Events(const std::string& dir) { return ReadEventLog(EventLogFileName(dir)); }

std::vector<json> Evals(const std::string& dir) {
  std::vector<json> out;
  for (const auto& e : Events(dir))
    if (e["event"] == "eval") out.push_back(e);
  return out;
}

torch::Tensor SomeTokens(int64_t vocab, int64_t n) {
  torch::manual_seed(123);
  return torch::randint(vocab, {2, n}, torch::kLong);
}

torch::Tensor LogitsOf(const std::string& run_dir, const torch::Tensor& tokens) {
  RunModel r = LoadRunModel(run_dir);
  torch::NoGradGuard ng;
  return r.model->forward(tokens, {}).logits;
}

// ---- the file format

TEST(Safetensors, RoundTripsDtypesShapesAndMetadata) {
  const std::string path = (Root() / "rt.safetensors").string();
  NamedTensors t = {{"w", torch::randn({3, 5})},
                    {"b16", torch::randn({4}).to(torch::kBFloat16)},
                    {"ids", torch::arange(7, torch::kLong)},
                    {"scalar", torch::full({}, 0.25)},
                    {"empty", torch::empty({0, 3})}};
  SaveSafetensors(path, t, {{"k", "v"}});
  // The layout of the format: 8-byte length, then a JSON header.
  const std::string bytes = ReadFile(path);
  uint64_t n;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ((8 + n) % 8, 0u);
  json header = json::parse(bytes.substr(8, n));
  EXPECT_EQ(header["b16"]["dtype"], "BF16");
  EXPECT_EQ(header["ids"]["shape"], json::array({7}));
  EXPECT_EQ(header["__metadata__"]["k"], "v");

  SafetensorsFile f = LoadSafetensors(path);
  ASSERT_EQ(f.tensors.size(), t.size());
  for (size_t i = 0; i < t.size(); ++i) {
    EXPECT_EQ(f.tensors[i].first, t[i].first);  // file order is write order
    EXPECT_EQ(f.tensors[i].second.scalar_type(), t[i].second.scalar_type());
    EXPECT_TRUE(torch::equal(f.tensors[i].second, t[i].second)) << t[i].first;
  }
  EXPECT_EQ(f.metadata["k"], "v");
}

TEST(Safetensors, BrokenFilesNameTheFileAndTensor) {
  const std::string good = (Root() / "good.safetensors").string();
  SaveSafetensors(good, {{"w", torch::ones({2, 2})}});
  const std::string bytes = ReadFile(good);
  uint64_t n;
  std::memcpy(&n, bytes.data(), 8);
  const std::string header = bytes.substr(8, n), data = bytes.substr(8 + n);
  auto with_header = [&](std::string h, const std::string& d) {
    std::string out(8, '\0');
    uint64_t len = h.size();
    std::memcpy(out.data(), &len, 8);
    return out + h + d;
  };
  const std::map<std::string, std::pair<std::string, std::string>> cases = {
      {"short", {bytes.substr(0, 5), "shorter than"}},
      {"huge_length", {std::string("\xff\xff\xff\x00\x00\x00\x00\x00", 8) + header, "exceeds"}},
      {"not_json", {with_header("{\"w\": [1,", data), "not a JSON object"}},
      {"bad_dtype",
       {with_header(R"({"w":{"dtype":"Q7","shape":[2,2],"data_offsets":[0,16]}})", data), "w"}},
      {"out_of_range",
       {with_header(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,64]}})", data),
        "outside"}},
      {"shape_mismatch",
       {with_header(R"({"w":{"dtype":"F32","shape":[3,2],"data_offsets":[0,16]}})", data),
        "needs 24 bytes"}},
  };
  for (const auto& [name, c] : cases) {
    const std::string path = (Root() / (name + ".safetensors")).string();
    WriteFileAtomic(path, c.first);
    try {
      LoadSafetensors(path);
      ADD_FAILURE() << name << " was accepted";
    } catch (const SafetensorsError& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(c.second), std::string::npos)
          << name << ": " << e.what();
    }
  }
}

// ---- export, import, parity: every family

class Family : public testing::TestWithParam<std::string> {};

TEST_P(Family, ExportThenImportGivesBitIdenticalLogits) {
  const std::string run = Trained(GetParam());
  const std::string out = (Root() / ("export_rt_" + GetParam())).string();
  const std::string imported = (Root() / ("import_rt_" + GetParam())).string();
  ASSERT_EQ(ExportMain({run, out}), kExitOk);
  for (const char* f : {"model.safetensors", "config.json", "hrm_tokenizer.json"})
    EXPECT_TRUE(fs::exists(fs::path(out) / f)) << f;
  // Hugging Face's name, tokenizer.json, is not ours to use; byte exports
  // have no vocabulary files.
  for (const char* f : {"tokenizer.json", "vocab.json", "merges.txt", "encoder.json"})
    EXPECT_FALSE(fs::exists(fs::path(out) / f)) << f;
  EXPECT_EQ(json::parse(ReadFile(out + "/hrm_tokenizer.json")),
            (json{{"type", "byte"}, {"vocab_size", 256}, {"eot_id", 0}}));
  json cfg = json::parse(ReadFile(out + "/config.json"));
  EXPECT_EQ(cfg["model"], GetParam());
  EXPECT_EQ(cfg["vocab"], 256);
  EXPECT_EQ(cfg["tokenizer"]["type"], "byte");
  ASSERT_EQ(ImportMain({out, imported, {}}), kExitOk);

  const torch::Tensor tokens = SomeTokens(256, 32);
  const torch::Tensor a = LogitsOf(run, tokens), b = LogitsOf(imported, tokens);
  EXPECT_TRUE(torch::equal(a, b)) << (a - b).abs().max().item<double>();
  // And the imported run samples: generate reads it without a checkpoint.
  Output g = Hrm("generate " + imported + " --prompt 'The ' --max-new 8 --temperature 0");
  EXPECT_EQ(g.rc, 0) << g.err;
  EXPECT_EQ(g.out.rfind("The ", 0), 0u) << g.out;
}

TEST_P(Family, LogitsMatchTheIndependentPyTorchModel) {
  const std::string run = Trained(GetParam());
  const std::string out = (Root() / ("export_py_" + GetParam())).string();
  ASSERT_EQ(ExportMain({run, out}), kExitOk);
  const torch::Tensor tokens = SomeTokens(256, 32), logits = LogitsOf(run, tokens);
  Output ok = CheckWithPython(out, tokens, logits, GetParam());
  EXPECT_EQ(ok.rc, 0) << ok.out << ok.err;
  std::cout << GetParam() << ": " << ok.out;  // the measured difference, for the log

  // The check can fail: one weight moved by 1e-3 shows up in the logits.
  SafetensorsFile f = LoadSafetensors(out + "/model.safetensors");
  f.tensors.back().second.add_(1e-3);
  SaveSafetensors(out + "/model.safetensors", f.tensors, f.metadata);
  Output bad = CheckWithPython(out, tokens, logits, GetParam());
  EXPECT_EQ(bad.rc, 1) << "perturbed " << f.tensors.back().first << ": " << bad.out << bad.err;
}

INSTANTIATE_TEST_SUITE_P(AllFamilies, Family, testing::Values("transformer", "unitf", "hrm"));

TEST(Export, Bf16HalvesTheFileAndStaysClose) {
  const std::string run = Trained("hrm");
  const std::string f32 = (Root() / "export_f32").string(), b16 = (Root() / "export_b16").string();
  ASSERT_EQ(ExportMain({run, f32}), kExitOk);
  ASSERT_EQ(ExportMain({run, b16, "bf16"}), kExitOk);
  const auto s32 = fs::file_size(f32 + "/model.safetensors"),
             s16 = fs::file_size(b16 + "/model.safetensors");
  EXPECT_LT(s16, s32 * 0.55);
  EXPECT_EQ(json::parse(ReadFile(b16 + "/config.json"))["dtype"], "bfloat16");
  const std::string imported = (Root() / "import_b16").string();
  ASSERT_EQ(ImportMain({b16, imported, {}}), kExitOk);
  const torch::Tensor tokens = SomeTokens(256, 16);
  const torch::Tensor a = LogitsOf(run, tokens), b = LogitsOf(imported, tokens);
  EXPECT_FALSE(torch::equal(a, b));
  EXPECT_LT((a - b).abs().max().item<double>(), 0.1 * a.abs().max().item<double>());
  // Another reader of the bf16 file gets the weights hrm imported from it.
  Output py = CheckWithPython(b16, tokens, b, "bf16");
  EXPECT_EQ(py.rc, 0) << py.out << py.err;
}

TEST(Export, Gpt2RunCarriesItsTokenizerFilesAndSamplesAfterImport) {
  const std::string run = Trained("transformer", "tokenizer: gpt2\nsteps: 2\n", "gpt2");
  const std::string out = (Root() / "export_gpt2").string();
  ASSERT_EQ(Hrm("export " + run + " --out " + out).rc, 0);
  const json cfg = json::parse(ReadFile(out + "/config.json"));
  EXPECT_EQ(cfg["vocab"], 50257);
  EXPECT_EQ(cfg["tokenizer"]["type"], "gpt2");
  EXPECT_EQ(cfg["tokenizer"]["eot_id"], 50256);
  EXPECT_EQ(cfg["format_version"], 2);
  // Hugging Face's GPT-2 files are OpenAI's, byte for byte, under HF's names.
  EXPECT_EQ(ReadFile(out + "/vocab.json"), ReadFile(Gpt2VocabDir() + "/encoder.json"));
  EXPECT_EQ(ReadFile(out + "/merges.txt"), ReadFile(Gpt2VocabDir() + "/vocab.bpe"));
  EXPECT_EQ(ReadFile(out + "/merges.txt").rfind("#version: 0.2\n", 0), 0u);
  EXPECT_EQ(json::parse(ReadFile(out + "/vocab.json"))["<|endoftext|>"], 50256);
  const json hrm_tok = json::parse(ReadFile(out + "/hrm_tokenizer.json"));
  EXPECT_EQ(hrm_tok["type"], "gpt2");
  EXPECT_EQ(hrm_tok["files"], json::array({"vocab.json", "merges.txt"}));
  EXPECT_EQ(hrm_tok, cfg["tokenizer"]);
  EXPECT_EQ(json::parse(ReadFile(out + "/tokenizer_config.json"))["tokenizer_class"],
            "GPT2Tokenizer");
  for (const char* f : {"tokenizer.json", "encoder.json", "vocab.bpe"})
    EXPECT_FALSE(fs::exists(out + "/" + f)) << f;
  const std::string imported = (Root() / "import_gpt2").string();
  ASSERT_EQ(Hrm("import " + out + " --run-dir " + imported).rc, 0);
  Output a = Hrm("generate " + run + " --prompt 'Hello world' --max-new 5 --temperature 0");
  Output b = Hrm("generate " + imported + " --prompt 'Hello world' --max-new 5 --temperature 0");
  ASSERT_EQ(a.rc, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_EQ(a.out.rfind("Hello world", 0), 0u) << a.out;

  // What import cannot read it refuses, naming the file, writing nothing.
  struct Case {
    std::string name, message;
    std::function<void(const std::string&)> damage;
  };
  const std::vector<Case> cases = {
      {"no_merges", "merges.txt: missing",
       [](const std::string& d) { fs::remove(d + "/merges.txt"); }},
      {"other_vocab", "vocab.json: differs from GPT-2's",
       [](const std::string& d) {
         json v = json::parse(ReadFile(d + "/vocab.json"));
         v["hello"] = 50257;
         WriteFileAtomic(d + "/vocab.json", v.dump());
       }},
      {"no_description", "hrm_tokenizer.json: missing",
       [](const std::string& d) { fs::remove(d + "/hrm_tokenizer.json"); }},
      {"description_disagrees", "hrm_tokenizer.json: eot_id 0 does not match",
       [](const std::string& d) {
         json t = json::parse(ReadFile(d + "/hrm_tokenizer.json"));
         t["eot_id"] = 0;
         WriteFileAtomic(d + "/hrm_tokenizer.json", t.dump());
       }},
      {"version_1", "format_version: 1 is an export by an older hrm",
       [](const std::string& d) {
         json c = json::parse(ReadFile(d + "/config.json"));
         c["format_version"] = 1;
         WriteFileAtomic(d + "/config.json", c.dump());
       }},
  };
  for (const auto& c : cases) {
    const fs::path dir = Root() / ("bad_gpt2_" + c.name);
    fs::remove_all(dir);
    fs::copy(out, dir);
    c.damage(dir.string());
    const std::string target = (Root() / ("bad_gpt2_run_" + c.name)).string();
    Output o = Hrm("import " + dir.string() + " --run-dir " + target);
    EXPECT_EQ(o.rc, kExitUsage) << c.name;
    EXPECT_NE(o.err.find(c.message), std::string::npos) << c.name << ": " << o.err;
    EXPECT_FALSE(fs::exists(target)) << c.name << ": the run directory was created";
  }
}

// ---- bad input

TEST(Import, BadExportsAreRefusedAndWriteNothing) {
  const std::string run = Trained("unitf");
  const std::string good = (Root() / "export_bad_src").string();
  ASSERT_EQ(ExportMain({run, good}), kExitOk);
  auto copy = [&](const std::string& name) {
    const fs::path p = Root() / name;
    fs::remove_all(p);
    fs::copy(good, p);
    return p.string();
  };
  struct Case {
    std::string name, message;
    std::function<void(const std::string&)> damage;
  };
  const std::vector<Case> cases = {
      {"no_config", "not an hrm export",
       [](const std::string& d) { fs::remove(d + "/config.json"); }},
      {"wrong_format", "format",
       [](const std::string& d) {
         json c = json::parse(ReadFile(d + "/config.json"));
         c["format"] = "gguf";
         WriteFileAtomic(d + "/config.json", c.dump());
       }},
      {"missing_field", "heads",
       [](const std::string& d) {
         json c = json::parse(ReadFile(d + "/config.json"));
         c.erase("heads");
         WriteFileAtomic(d + "/config.json", c.dump());
       }},
      {"shape_mismatch", "tensor wte has shape [256, 32], the config needs [256, 64]",
       [](const std::string& d) {
         json c = json::parse(ReadFile(d + "/config.json"));
         c["d"] = 64;
         WriteFileAtomic(d + "/config.json", c.dump());
       }},
      {"broken_header", "model.safetensors: not a valid safetensors file",
       [](const std::string& d) {
         std::string b = ReadFile(d + "/model.safetensors");
         b[7] = '\x7f';  // a header length past the end of the file
         WriteFileAtomic(d + "/model.safetensors", b);
       }},
  };
  for (const auto& c : cases) {
    const std::string dir = copy("bad_" + c.name);
    c.damage(dir);
    const std::string target = (Root() / ("bad_run_" + c.name)).string();
    Output o = Hrm("import " + dir + " --run-dir " + target);
    EXPECT_EQ(o.rc, kExitUsage) << c.name;
    EXPECT_NE(o.err.find(c.message), std::string::npos) << c.name << ": " << o.err;
    EXPECT_FALSE(fs::exists(target)) << c.name << ": the run directory was created";
  }
}

TEST(Generate, UnknownRunsAndRunsWithoutCheckpointsAreClearErrors) {
  // A real store that knows one run, whose directory has no checkpoint.
  const std::string store = (Root() / "gen.db").string();
  const fs::path fresh = Root() / "no_ckpt_run";
  fs::create_directories(fresh);
  fs::copy_file(RunConfigFileName(Trained("transformer")), RunConfigFileName(fresh.string()));
  const json run_config = json::parse(ReadFile(RunConfigFileName(fresh.string())));
  {
    auto s = RunStore::Open(store);
    const int64_t sweep = s->UpsertSweep({"t", "grid.yaml", "", "", {}});
    s->AddRunToSweep(
        sweep, {{run_config["run_id"], run_config["config"], "train", fresh.string()}, "tiny", 0});
  }
  Output unknown = Hrm("generate feedbeef0000 --store " + store);
  EXPECT_EQ(unknown.rc, kExitUsage);
  EXPECT_NE(unknown.err.find("no run feedbeef0000"), std::string::npos) << unknown.err;
  EXPECT_NE(unknown.err.find(store), std::string::npos) << unknown.err;

  Output empty = Hrm("generate " + run_config["run_id"].get<std::string>() + " --store " + store);
  EXPECT_EQ(empty.rc, kExitUsage);
  EXPECT_NE(empty.err.find("has no checkpoint"), std::string::npos) << empty.err;

  Output step = Hrm("generate " + Trained("transformer") + " --step 5");
  EXPECT_EQ(step.rc, kExitUsage);
  EXPECT_NE(step.err.find("no checkpoint of step 5"), std::string::npos) << step.err;

  Output export_empty = Hrm("export " + fresh.string() + " --out " + (Root() / "x").string());
  EXPECT_EQ(export_empty.rc, kExitUsage);
  EXPECT_NE(export_empty.err.find("has no checkpoint"), std::string::npos) << export_empty.err;
}

// ---- sampling

TEST(Generate, SameSeedSameTextAndCachedGreedyEqualsRecompute) {
  const std::string run = Trained("hrm");
  const std::string base = "generate " + run + " --prompt 'Once upon' --max-new 40 ";
  Output a = Hrm(base + "--seed 7"), b = Hrm(base + "--seed 7"), c = Hrm(base + "--seed 8");
  ASSERT_EQ(a.rc, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out, c.out);
  EXPECT_EQ(a.out.rfind("Once upon", 0), 0u);
  EXPECT_EQ(a.out.size(), std::string("Once upon").size() + 40 + 1);  // byte tokens, newline
  EXPECT_NE(a.err.find("tokens/s"), std::string::npos);

  Output cached = Hrm(base + "--temperature 0"), full = Hrm(base + "--temperature 0 --no-cache");
  ASSERT_EQ(full.rc, 0) << full.err;
  EXPECT_EQ(cached.out, full.out);
  EXPECT_NE(full.err.find("no cache"), std::string::npos);
  // Top-k 1 is greedy whatever the temperature.
  EXPECT_EQ(Hrm(base + "--temperature 2 --top-k 1 --seed 3").out, cached.out);
}

// ---- fine-tuning an import, reproducing a run

TEST(Import, FineTuningStartsFromTheExportedWeights) {
  const std::string run = Trained("hrm");
  const std::string out = (Root() / "export_ft").string(), dir = (Root() / "finetune").string();
  ASSERT_EQ(ExportMain({run, out}), kExitOk);
  Output imp = Hrm("import " + out + " --run-dir " + dir +
                   " --set steps=3 --set batch=4 --set eval_iters=2 --set eval_interval=3"
                   " --set threads=1 --set warmup=1");
  ASSERT_EQ(imp.rc, 0) << imp.err;
  Output train = Hrm("train --no-progress --run-dir " + dir);  // its own config
  ASSERT_EQ(train.rc, 0) << train.err;
  const auto before = Evals(run), after = Evals(dir);
  ASSERT_FALSE(before.empty());
  ASSERT_EQ(after.size(), 2u);
  // Same validation batches (same seed, data, batch, seq): the fine-tune's
  // step-0 evaluation is the source's last one, exactly.
  EXPECT_EQ(after[0]["val_ce"].get<double>(), before.back()["val_ce"].get<double>());
  EXPECT_NE(after[1]["val_ce"].get<double>(), after[0]["val_ce"].get<double>());
}

TEST(Reproduce, PrintsTheRecipeAndARerunIsBitIdentical) {
  const std::string run = Trained("transformer");
  Output show = Hrm("reproduce " + run);
  ASSERT_EQ(show.rc, 0) << show.err;
  const json started = Events(run)[0];
  ASSERT_EQ(started["event"], "started");
  const std::string commit = started["provenance"]["git_commit"];
  EXPECT_NE(show.out.find("git checkout " + commit), std::string::npos) << show.out;
  EXPECT_NE(show.out.find(" train --run-dir " + run + "-reproduce --config"), std::string::npos)
      << show.out;
  EXPECT_NE(show.out.find("model: \"transformer\""), std::string::npos) << show.out;

  // A run recorded by another commit and libtorch: both named in warnings.
  const fs::path old_run = Root() / "old_run";
  fs::remove_all(old_run);
  fs::copy(run, old_run, fs::copy_options::recursive);
  std::string log = ReadFile(EventLogFileName(old_run.string()));
  const std::string line = log.substr(0, log.find('\n'));
  json first = json::parse(line);
  first["provenance"]["git_commit"] = "0123456789abcdef0123456789abcdef01234567";
  first["provenance"]["libtorch"] = "0.4.1";
  WriteFileAtomic(EventLogFileName(old_run.string()), first.dump() + log.substr(line.size()));
  Output old = Hrm("reproduce " + old_run.string());
  EXPECT_EQ(old.rc, 0) << old.err;
  EXPECT_NE(old.out.find("git checkout 0123456789abcdef"), std::string::npos) << old.out;
  EXPECT_NE(old.err.find("warning: git commit differs: the run recorded 0123456789abcdef"),
            std::string::npos)
      << old.err;
  EXPECT_NE(old.err.find("warning: libtorch differs: the run recorded 0.4.1"), std::string::npos)
      << old.err;
  EXPECT_EQ(show.err.find("libtorch differs"), std::string::npos) << show.err;
  // The run was trained by this very binary: its commit is the one compared.
  EXPECT_EQ(show.err.find("git commit differs"), std::string::npos) << show.err;
  // --json: the same recipe and warnings as one object.
  Output as_json = Hrm("reproduce " + old_run.string() + " --json");
  ASSERT_EQ(as_json.rc, 0) << as_json.err;
  const json recipe = json::parse(as_json.out);
  EXPECT_EQ(recipe["run_id"], json::parse(ReadFile(RunConfigFileName(run)))["run_id"]);
  EXPECT_EQ(recipe["checkout"],
            "git checkout 0123456789abcdef0123456789abcdef01234567 && make build");
  EXPECT_EQ(recipe["command"][1], "train");
  EXPECT_EQ(recipe["config"]["model"], "transformer");
  ASSERT_GE(recipe["warnings"].size(), 2u) << recipe.dump();
  EXPECT_EQ(recipe["warnings"][0].get<std::string>().rfind("git commit differs", 0), 0u);

  const std::string again = (Root() / "rerun").string();
  Output rerun = Hrm("reproduce " + run + " --run --out " + again);
  EXPECT_EQ(rerun.rc, 0) << rerun.out << rerun.err;
  EXPECT_NE(rerun.out.find("reproduced: 3 of 3 evaluations bit-identical"), std::string::npos)
      << rerun.out;
  EXPECT_EQ(json::parse(ReadFile(RunConfigFileName(again)))["run_id"],
            json::parse(ReadFile(RunConfigFileName(run)))["run_id"]);
  Output rerun_json =
      Hrm("reproduce " + run + " --run --json --out " + (Root() / "rerun_json").string());
  ASSERT_EQ(rerun_json.rc, 0) << rerun_json.err;
  const json compared = json::parse(rerun_json.out);  // the training's output went to stderr
  EXPECT_EQ(compared["reproduced"], true);
  ASSERT_EQ(compared["evals"].size(), 3u) << compared.dump();
  for (const json& e : compared["evals"]) EXPECT_EQ(e["identical"], true) << e.dump();
}

// `hrm --version` and a run's provenance name the commit stamped into the
// binary when it was built, which is the source tree's HEAD (the test runs
// after the build), with the same dirty flag.
TEST(Version, NamesTheBuildsCommitLibtorchAndCudaAsProvenanceRecordsThem) {
  Output v = Hrm("--version");
  ASSERT_EQ(v.rc, 0) << v.err;
  EXPECT_EQ(v.out.rfind("hrm 0.", 0), 0u) << v.out;
  EXPECT_NE(v.out.find("\nlibtorch " TORCH_VERSION "\n"), std::string::npos) << v.out;
  const json started = Events(Trained("transformer"))[0];
  ASSERT_EQ(started["event"], "started");
  const json p = started["provenance"];
  const std::string commit = p["git_commit"];
  EXPECT_NE(v.out.find("\ncommit " + commit), std::string::npos) << v.out;
  EXPECT_EQ(v.out.find("dirty") != std::string::npos, p["git_dirty"] == true) << v.out;
  EXPECT_EQ(p["version"], v.out.substr(4, v.out.find('\n') - 4));
  Output head = Sh("git -C " HRM_SOURCE_DIR " rev-parse HEAD");
  if (head.rc == 0) {  // built from a git checkout
    EXPECT_EQ(commit + "\n", head.out);
    Output status = Sh("git -C " HRM_SOURCE_DIR " status --porcelain --untracked-files=no");
    EXPECT_EQ(p["git_dirty"], !status.out.empty()) << status.out;
  }
  if (!torch::cuda::is_available()) {
    for (const char* k : {"cuda", "cudnn", "nccl"}) EXPECT_EQ(p[k], "none") << k;
    EXPECT_EQ(p["gpus"], json::array());
    for (const char* line : {"\nCUDA none\n", "\ncuDNN none\n", "\nNCCL none\n", "\nGPUs none"})
      EXPECT_NE(v.out.find(line), std::string::npos) << v.out;
  } else {
    EXPECT_TRUE(p["cuda"].is_object()) << p;
    EXPECT_FALSE(p["gpus"].empty()) << p;
  }
}

// A two-rank run is reproduced by its printed command, whose launcher starts
// the ranks again; data-parallel sums of two ranks are exact on CPU.
TEST(Reproduce, TwoRankRunReproducesThroughItsLauncher) {
#ifndef HRM_HAVE_GLOO
  GTEST_SKIP() << "built without Gloo";
#endif
  const std::string run = Trained("transformer", "world_size: 2\n", "ddp");
  ASSERT_TRUE(fs::exists(RankPidFileName(run, 1)));
  Output rerun = Hrm("reproduce " + run + " --run --out " + (Root() / "ddp_rerun").string());
  EXPECT_EQ(rerun.rc, 0) << rerun.out << rerun.err;
  EXPECT_NE(rerun.out.find("reproduced: 3 of 3 evaluations bit-identical"), std::string::npos)
      << rerun.out << rerun.err;
  EXPECT_TRUE(fs::exists(RankPidFileName((Root() / "ddp_rerun").string(), 1)));
}

}  // namespace
}  // namespace hrm
