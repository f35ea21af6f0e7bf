// Key table, value parsing, resolution of derived values and invariants.
#include "base/config.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "base/sha256.h"

namespace hrm {
namespace {

using KT = KeyType;

std::vector<KeySpec> MakeKeys() {
  const json null;
  return {
      {"protocol",
       KT::kString,
       "train",
       true,
       {"train", "latency", "genspeed"},
       "what a run measures: train (then, for hrm, the slow-module analyses), latency, genspeed"},
      {"model",
       KT::kString,
       "hrm",
       true,
       {"transformer", "unitf", "hrm"},
       "model family: transformer (L independent blocks), unitf (one block M times), hrm"},
      {"d", KT::kInt, 128, true, {}, "model width"},
      {"heads", KT::kInt, null, true, {}, "attention heads; default max(1, d/64)"},
      {"L", KT::kInt, null, true, {}, "transformer layers (transformer only; default 4)"},
      {"M", KT::kInt, null, true, {}, "unitf steps (unitf only; default 12); for hrm derived N*T"},
      {"N", KT::kInt, null, true, {}, "hrm slow cycles per pass (hrm only; default 4)"},
      {"T", KT::kInt, null, true, {}, "hrm fast steps per cycle (hrm only; default 3)"},
      {"K",
       KT::kInt,
       null,
       true,
       {},
       "gradient window, last K of M steps (unitf, hrm; default min(2, M))"},
      {"S", KT::kInt, null, true, {}, "supervision passes (hrm only; default 1)"},
      {"ent_weight",
       KT::kFloat,
       null,
       true,
       {},
       "gate-entropy weight lambda (hrm only; default 0.01)"},
      {"supervision_reduce",
       KT::kString,
       null,
       true,
       {"mean", "sum"},
       "how S pass losses combine (hrm only; default mean)"},
      {"vocab",
       KT::kInt,
       0,
       true,
       {},
       "vocabulary size; 0 = the data's tokenizer (byte 256, gpt2 50257)"},
      {"seq", KT::kInt, 128, true, {}, "sequence length n"},
      {"batch", KT::kInt, 8, true, {}, "micro-batch size B per rank"},
      {"grad_accum", KT::kInt, 1, true, {}, "micro-batches per optimizer step"},
      {"world_size", KT::kInt, 1, true, {}, "data-parallel ranks"},
      {"steps", KT::kInt, 200, true, {}, "optimizer steps (max_steps of the schedule)"},
      {"lr", KT::kFloat, 1e-3, true, {}, "peak learning rate"},
      {"min_lr", KT::kFloat, null, true, {}, "final learning rate; default lr/10"},
      {"warmup", KT::kInt, 20, true, {}, "linear warmup steps"},
      {"weight_decay", KT::kFloat, 0.1, true, {}, "AdamW decay on matrices (dim >= 2) only"},
      {"beta1", KT::kFloat, 0.9, true, {}, "AdamW beta1"},
      {"beta2", KT::kFloat, 0.95, true, {}, "AdamW beta2"},
      {"eps", KT::kFloat, 1e-8, true, {}, "AdamW epsilon"},
      {"grad_clip", KT::kFloat, 1.0, true, {}, "global-norm clip threshold; 0 = off"},
      {"clip_mode",
       KT::kString,
       "fixed",
       true,
       {"fixed", "per_window"},
       "fixed: clip at grad_clip; per_window: clip at grad_clip/K"},
      {"init_std", KT::kFloat, 0.02, true, {}, "std of embedding and linear weights"},
      {"init_width_ref",
       KT::kInt,
       4096,
       true,
       {},
       "shared-block weights scaled by sqrt(ref/d) when d > ref; 0 = off"},
      {"eval_interval",
       KT::kInt,
       50,
       true,
       {},
       "evaluate every this many steps (and at 0 and the end)"},
      {"eval_iters", KT::kInt, 10, true, {}, "fixed validation batches per evaluation"},
      {"diverge_grad_norm",
       KT::kFloat,
       1e6,
       true,
       {},
       "a grad norm above this (or NaN/inf loss) marks the run diverged; 0 = NaN/inf only"},
      {"data",
       KT::kString,
       "builtin",
       true,
       {},
       "builtin (the bundled corpus) or a directory with train.bin, val.bin"},
      {"tokenizer",
       KT::kString,
       "byte",
       true,
       {"byte", "gpt2"},
       "tokenizer used to prepare the builtin corpus"},
      {"seed", KT::kInt, 42, true, {}, "seed of initialisation and batch sampling"},
      {"init_from",
       KT::kString,
       null,
       true,
       {},
       "a model.safetensors (hrm import) whose weights start the run instead of random ones"},
      {"dtype",
       KT::kString,
       "auto",
       true,
       {"auto", "fp32", "bf16"},
       "compute dtype: auto = bf16 autocast on CUDA, fp32 on CPU"},
      {"measure_weights",
       KT::kString,
       null,
       true,
       {"bf16", "fp32"},
       "weights of the latency and genspeed protocols; default bf16 where dtype computes in bf16 "
       "(auto on CUDA: the paper's bf16 model), else fp32; fp32 with bf16 = autocast"},
      {"device", KT::kString, "auto", false, {}, "auto, cpu, cuda or cuda:N"},
      {"threads", KT::kInt, 0, false, {}, "CPU threads for torch; 0 = all cores"},
      {"cuda_kernels",
       KT::kBool,
       true,
       false,
       {},
       "fused CUDA kernels for RMSNorm, SwiGLU and HRM's gated update where built; false = the "
       "ATen references"},
      {"ckpt_interval",
       KT::kInt,
       0,
       false,
       {},
       "checkpoint every this many steps; 0 = eval_interval"},
      {"ckpt_keep", KT::kInt, 2, false, {}, "checkpoints kept (the newest that verifies is used)"},
      {"log_interval", KT::kInt, 10, false, {}, "progress line every this many steps"},
  };
}

std::string Dump(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

}  // namespace

const std::vector<KeySpec>& ConfigKeys() {
  static const std::vector<KeySpec> keys = MakeKeys();
  return keys;
}

const KeySpec* FindKey(const std::string& name) {
  for (const auto& k : ConfigKeys())
    if (name == k.name) return &k;
  return nullptr;
}

ConfigError::ConfigError(std::string k, std::string v, const std::string& r)
    : std::runtime_error(k + ": " + r + (v.empty() ? "" : " (got " + v + ")")),
      key(std::move(k)),
      value(std::move(v)),
      reason(r) {}

json CheckValue(const std::string& key, const json& value) {
  const KeySpec* spec = FindKey(key);
  if (!spec) throw ConfigError(key, "", "unknown key");
  switch (spec->type) {
    case KT::kInt:
      if (value.is_number_integer()) return value;
      if (value.is_number_float() && std::floor(value.get<double>()) == value.get<double>() &&
          std::abs(value.get<double>()) < 9e15)
        return json(int64_t(value.get<double>()));
      throw ConfigError(key, Dump(value), "expected an integer");
    case KT::kFloat:
      if (value.is_number()) return json(value.get<double>());
      throw ConfigError(key, Dump(value), "expected a number");
    case KT::kBool:
      if (value.is_boolean()) return value;
      throw ConfigError(key, Dump(value), "expected true or false");
    case KT::kString: {
      if (!value.is_string()) throw ConfigError(key, Dump(value), "expected a string");
      if (!spec->choices.empty()) {
        for (const auto& c : spec->choices)
          if (c == value.get<std::string>()) return value;
        std::string all;
        for (const auto& c : spec->choices) all += (all.empty() ? "" : "|") + c;
        throw ConfigError(key, Dump(value), "expected one of " + all);
      }
      return value;
    }
  }
  return value;
}

json ParseValue(const std::string& key, const std::string& text) {
  const KeySpec* spec = FindKey(key);
  if (!spec) throw ConfigError(key, text, "unknown key");
  if (spec->type == KT::kString) return CheckValue(key, json(text));
  if (spec->type == KT::kBool) {
    if (text == "true") return true;
    if (text == "false") return false;
    throw ConfigError(key, text, "expected true or false");
  }
  size_t used = 0;
  try {
    if (spec->type == KT::kInt) {
      long long v = std::stoll(text, &used);
      if (used == text.size()) return json(int64_t(v));
      double f = std::stod(text, &used);  // accepts 1e3
      if (used == text.size()) return CheckValue(key, json(f));
    } else {
      double f = std::stod(text, &used);
      if (used == text.size()) return json(f);
    }
  } catch (const std::exception&) {
  }
  throw ConfigError(key, text,
                    spec->type == KT::kInt ? "expected an integer" : "expected a number");
}

json ResolveConfig(const json& given) {
  if (!given.is_object()) throw ConfigError("(config)", Dump(given), "expected a mapping of keys");
  json c = json::object();
  for (auto it = given.begin(); it != given.end(); ++it) {
    if (it.value().is_null()) continue;
    c[it.key()] = CheckValue(it.key(), it.value());
  }
  auto has = [&](const char* k) { return c.contains(k); };
  for (const auto& k : ConfigKeys())
    if (!has(k.name) && !k.default_value.is_null()) c[k.name] = k.default_value;

  const std::string model = c["model"];
  auto only_for = [&](const char* key, std::initializer_list<const char*> models) {
    if (!has(key)) return;
    for (const char* m : models)
      if (model == m) return;
    throw ConfigError(key, Dump(c[key]), "not a key of model " + model);
  };
  only_for("L", {"transformer"});
  only_for("M", {"unitf", "hrm"});  // for hrm only as its derived value N*T
  only_for("N", {"hrm"});
  only_for("T", {"hrm"});
  only_for("S", {"hrm"});
  only_for("K", {"unitf", "hrm"});
  only_for("ent_weight", {"hrm"});
  only_for("supervision_reduce", {"hrm"});

  auto positive = [&](const char* key) {
    if (c[key].get<int64_t>() < 1) throw ConfigError(key, Dump(c[key]), "must be at least 1");
  };
  if (model == "transformer") {
    if (!has("L")) c["L"] = 4;
    positive("L");
  } else if (model == "unitf") {
    if (!has("M")) c["M"] = 12;
    positive("M");
  } else {
    if (!has("N")) c["N"] = 4;
    if (!has("T")) c["T"] = 3;
    if (!has("S")) c["S"] = 1;
    if (!has("ent_weight")) c["ent_weight"] = 0.01;
    if (!has("supervision_reduce")) c["supervision_reduce"] = "mean";
    positive("N");
    positive("T");
    positive("S");
    const int64_t M = c["N"].get<int64_t>() * c["T"].get<int64_t>();
    if (has("M") && c["M"].get<int64_t>() != M)
      throw ConfigError("M", Dump(c["M"]), "hrm derives M = N*T = " + std::to_string(M));
    c["M"] = M;
  }
  if (model != "transformer") {
    const int64_t M = c["M"];
    if (!has("K")) c["K"] = std::min<int64_t>(2, M);
    positive("K");
    if (c["K"].get<int64_t>() > M)
      throw ConfigError(
          "K", Dump(c["K"]),
          "gradient window exceeds the M = " + std::to_string(M) + " steps of a pass");
  }
  for (const char* k :
       {"d", "seq", "batch", "grad_accum", "world_size", "steps", "eval_interval", "eval_iters"})
    positive(k);
  const int64_t d = c["d"];
  if (!has("heads")) c["heads"] = std::max<int64_t>(1, d / 64);
  positive("heads");
  const int64_t heads = c["heads"];
  if (d % heads != 0)
    throw ConfigError("heads", Dump(c["heads"]),
                      "d = " + std::to_string(d) + " is not divisible by heads");
  if ((d / heads) % 2 != 0)
    throw ConfigError("heads", Dump(c["heads"]), "head dimension d/heads must be even for RoPE");
  if (c["vocab"].get<int64_t>() < 0) throw ConfigError("vocab", Dump(c["vocab"]), "must be >= 0");
  if (c["lr"].get<double>() <= 0) throw ConfigError("lr", Dump(c["lr"]), "must be positive");
  if (!has("min_lr")) c["min_lr"] = c["lr"].get<double>() / 10;
  if (c["min_lr"].get<double>() < 0) throw ConfigError("min_lr", Dump(c["min_lr"]), "must be >= 0");
  if (c["warmup"].get<int64_t>() < 0)
    throw ConfigError("warmup", Dump(c["warmup"]), "must be >= 0");
  if (c["grad_clip"].get<double>() < 0)
    throw ConfigError("grad_clip", Dump(c["grad_clip"]), "must be >= 0");
  if (c["init_std"].get<double>() <= 0)
    throw ConfigError("init_std", Dump(c["init_std"]), "must be positive");
  for (const char* k : {"beta1", "beta2"}) {
    double b = c[k];
    if (b < 0 || b >= 1) throw ConfigError(k, Dump(c[k]), "must be in [0, 1)");
  }
  if (has("measure_weights") && c["protocol"] == "train")
    throw ConfigError("measure_weights", Dump(c["measure_weights"]),
                      "only for protocol latency or genspeed (training keeps fp32 weights)");
  const std::string device = c["device"];
  if (!(device == "auto" || device == "cpu" || device.rfind("cuda", 0) == 0))
    throw ConfigError("device", device, "expected auto, cpu, cuda or cuda:N");
  if (c["threads"].get<int64_t>() < 0)
    throw ConfigError("threads", Dump(c["threads"]), "must be >= 0");
  if (c["ckpt_keep"].get<int64_t>() < 1) positive("ckpt_keep");
  if (has("init_from") && !std::filesystem::is_regular_file(c["init_from"].get<std::string>()))
    throw ConfigError("init_from", Dump(c["init_from"]), "no such file");
  return c;
}

std::string CanonicalIdentity(const json& resolved) {
  json id = json::object();  // nlohmann's json keeps keys sorted: canonical
  for (const auto& k : ConfigKeys())
    if (k.identity && resolved.contains(k.name)) id[k.name] = resolved[k.name];
  return id.dump();
}

std::string RunId(const json& resolved) {
  return Sha256Hex(CanonicalIdentity(resolved)).substr(0, 12);
}

json ReadConfigYaml(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw std::runtime_error(path + ": cannot read config file");
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  json given = json::object();
  if (root.IsNull()) return given;
  if (!root.IsMap())
    throw std::runtime_error(path + ":" + std::to_string(root.Mark().line + 1) +
                             ": expected a mapping of key: value");
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>();
    const int line = kv.first.Mark().line + 1;
    try {
      if (!kv.second.IsScalar()) throw ConfigError(key, "", "expected a single value");
      given[key] = ParseValue(key, kv.second.Scalar());
    } catch (const ConfigError& e) {
      throw std::runtime_error(path + ":" + std::to_string(line) + ": " + e.what());
    }
  }
  return given;
}

void ApplyOverrides(json& given, const std::vector<std::string>& sets) {
  for (const auto& s : sets) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) throw ConfigError(s, "", "--set expects key=value");
    const std::string key = s.substr(0, eq);
    given[key] = ParseValue(key, s.substr(eq + 1));
  }
}

}  // namespace hrm
