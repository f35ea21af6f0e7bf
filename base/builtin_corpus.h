// The built-in corpus: real English prose that ships with Debian (the fortune
// cookies of the packages `fortunes` and `fortunes-min`, ~2.5 MB), tokenized
// on first use into a cache, so that no step needs a download. Torch-free.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace hrm {

// The cache root: $HRM_CACHE if set, else $XDG_CACHE_HOME/hrm, else
// $HOME/.cache/hrm.
std::string CacheDir();

// A directory holding train.bin, val.bin and meta.json of the builtin corpus
// for `tokenizer` ("byte" or "gpt2"). Prepared on first use into
// CacheDir()/builtin-<tokenizer>-<fingerprint of the package files>; the
// directory is built under a temp name and renamed into place, so concurrent
// callers (workers of a sweep) all get the same complete directory. Throws
// std::runtime_error when the Debian packages are not installed.
std::string BuiltinDataDir(const std::string& tokenizer);

// The data directory a resolved config names: BuiltinDataDir(tokenizer) for
// data=builtin, else the path itself. Throws ConfigError (key `data`) naming
// the path when it has no train.bin or val.bin.
std::string ResolveDataDir(const nlohmann::json& resolved_config);

}  // namespace hrm
