// The run configuration: one flat set of named keys with documented defaults.
// Torch-free, so the runner, store and report can resolve and hash configs
// without linking libtorch.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace hrm {

using json = nlohmann::json;

enum class KeyType { kInt, kFloat, kString, kBool };

// One configuration key. `identity` keys change the numbers a run produces
// and so enter the run id; the others (device, threads, ...) do not.
struct KeySpec {
  const char* name;
  KeyType type;
  json default_value;  // null: derived or model-specific (see Resolve)
  bool identity;
  std::vector<std::string> choices;  // allowed values of a string key
  const char* doc;
};

// Every key hrm knows, in documentation order.
const std::vector<KeySpec>& ConfigKeys();
const KeySpec* FindKey(const std::string& name);

// A bad key or value. `key` and `value` name what was wrong; the grid and
// YAML readers add the file and line in front of what().
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string key, std::string value, const std::string& reason);
  const std::string key;
  const std::string value;
  const std::string reason;
};

// Parses a command-line/YAML scalar into the key's type. Throws ConfigError.
json ParseValue(const std::string& key, const std::string& text);
// Checks that a JSON value has the key's type (ints accepted for floats).
json CheckValue(const std::string& key, const json& value);

// Resolves user-given values (a JSON object of key -> value) into a complete
// config: unknown keys and wrong types are rejected, defaults filled,
// derived values computed (heads = d/64, M = N*T, min_lr = lr/10, ...) and
// invariants checked (K <= M, d % heads == 0, L only for transformer, ...).
// Throws ConfigError naming the key and value.
json ResolveConfig(const json& given);

// The identity fields of a resolved config, as canonical (sorted) JSON.
std::string CanonicalIdentity(const json& resolved);
// Run id: the first 12 hex digits of SHA-256 of CanonicalIdentity.
std::string RunId(const json& resolved);

// Reads a flat YAML mapping of key: value into a JSON object of given values,
// with errors as "file:line: key: reason".
json ReadConfigYaml(const std::string& path);

// Applies "key=value" overrides onto given values.
void ApplyOverrides(json& given, const std::vector<std::string>& sets);

}  // namespace hrm
