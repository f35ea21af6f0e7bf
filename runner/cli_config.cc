// `hrm config` (the key table) and `hrm params` (the parameter count of a
// resolved config). Torch-free: counts come from base/param_count.
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "base/config.h"
#include "base/param_count.h"
#include "runner/cli.h"

namespace hrm {
namespace {

const char* TypeName(KeyType t) {
  switch (t) {
    case KeyType::kInt:
      return "int";
    case KeyType::kFloat:
      return "float";
    case KeyType::kString:
      return "string";
    case KeyType::kBool:
      return "bool";
  }
  return "?";
}

json KeyTableJson() {
  json keys = json::array();
  for (const KeySpec& k : ConfigKeys())
    keys.push_back({{"name", k.name},
                    {"type", TypeName(k.type)},
                    {"default", k.default_value},
                    {"identity", k.identity},
                    {"choices", k.choices},
                    {"doc", k.doc}});
  return keys;
}

std::string KeyTable() {
  auto row = [](const std::string& key, const std::string& type, const std::string& def,
                const std::string& id, const std::string& doc) {
    return fmt::format("{:<20} {:<7} {:<10} {:<3} {}\n", key, type, def, id, doc);
  };
  std::string out = row("key", "type", "default", "id", "doc");
  for (const KeySpec& k : ConfigKeys()) {
    std::string def = k.default_value.is_null()     ? "(derived)"
                      : k.default_value.is_string() ? k.default_value.get<std::string>()
                                                    : k.default_value.dump();
    out += row(k.name, TypeName(k.type), def, k.identity ? "yes" : "no", k.doc);
  }
  return out + "\nid = identity key: it enters the run id (changes the numbers a run produces).\n";
}

// The resolved model fields and the count, as `hrm params --json` prints them.
json ParamsJson(const json& resolved, const ParamCount& pc) {
  json out = json::object();
  for (const char* key : {"model", "d", "heads", "seq", "L", "M", "N", "T", "K", "S"})
    if (resolved.contains(key)) out[key] = resolved[key];
  out["vocab"] = pc.vocab;
  out["params"] = pc.params;
  out["bytes_bf16"] = pc.bytes_bf16;
  out["bytes_fp32"] = pc.bytes_fp32;
  out["embedding"] = pc.embedding;
  out["blocks"] = pc.blocks;
  out["per_block"] = pc.per_block;
  out["block_params"] = pc.block_params;
  out["norms"] = pc.norms;
  out["hrm_extras"] = pc.hrm_extras;
  out["run_id"] = RunId(resolved);
  return out;
}

std::string Millions(int64_t n) { return fmt::format("{} ({:.2f}M)", n, n / 1e6); }

std::string ParamsText(const json& resolved, const ParamCount& pc) {
  std::string shape;
  for (const char* key : {"d", "heads", "L", "N", "T", "M", "K", "S"})
    if (resolved.contains(key))
      shape += fmt::format("{}{}={}", shape.empty() ? "" : " ", key, resolved[key].dump());
  std::string out = fmt::format("model       {} ({}, vocab={})\n",
                                resolved["model"].get<std::string>(), shape, pc.vocab);
  out += fmt::format("params      {}\n", Millions(pc.params));
  out += fmt::format("  embedding {}  (tied head)\n", Millions(pc.embedding));
  out += fmt::format("  blocks    {}  ({} x {})\n", Millions(pc.block_params), pc.blocks,
                     pc.per_block);
  out += fmt::format("  norms     {}\n", Millions(pc.norms));
  if (pc.hrm_extras) out += fmt::format("  hrm gates {}\n", Millions(pc.hrm_extras));
  return out + fmt::format("bytes       bf16 {:.3f} GB, fp32 {:.3f} GB\n", pc.bytes_bf16 / 1e9,
                           pc.bytes_fp32 / 1e9);
}

struct ParamsArgs {
  std::string config_path;
  std::vector<std::string> sets;
  bool as_json = false;
};

int ParamsMain(const ParamsArgs& args) {
  const json resolved = AsUsage([&] {  // ConfigError, or a YAML error naming file and line
    json given = args.config_path.empty() ? json::object() : ReadConfigYaml(args.config_path);
    ApplyOverrides(given, args.sets);
    return ResolveConfig(given);
  });
  const ParamCount pc = CountParams(resolved);
  std::cout << (args.as_json ? ParamsJson(resolved, pc).dump() + "\n" : ParamsText(resolved, pc));
  return kExitOk;
}

}  // namespace

void RegisterConfigCommands(CLI::App& app, int* rc) {
  auto as_json = std::make_shared<bool>(false);
  CLI::App* config = app.add_subcommand("config", "list every config key: type, default, doc");
  config->add_flag("--json", *as_json, "print the key table as JSON");
  config->callback([as_json, rc] {
    Guard("config", rc,
          [&] { std::cout << (*as_json ? KeyTableJson().dump(2) + "\n" : KeyTable()); });
  });

  auto args = std::make_shared<ParamsArgs>();
  CLI::App* params =
      app.add_subcommand("params", "parameter count and weight bytes of a config's model");
  params->add_option("--config", args->config_path, "YAML file of key: value");
  params->add_option("--set", args->sets, "key=value override (repeatable)");
  params->add_flag("--json", args->as_json, "print one JSON object");
  params->callback([args, rc] { Guard("params", rc, [&] { return ParamsMain(*args); }); });
}

}  // namespace hrm
