// The corpus is defined by the file lists dpkg keeps for the two packages, so
// it is exactly "the text of fortunes and fortunes-min at these versions",
// whatever else is installed beside them in /usr/share/games/fortunes.
#include "base/builtin_corpus.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include "base/atomic_file.h"
#include "base/config.h"
#include "base/sha256.h"
#include "base/token_data.h"
#include "base/tokenizer.h"

namespace hrm {
namespace {

namespace fs = std::filesystem;

// Bump when the cleaning, ordering or split below changes, so that caches of
// the old corpus are not reused.
constexpr int kCorpusVersion = 1;
constexpr double kValFraction = 0.1;
const char* const kPackages[] = {"fortunes", "fortunes-min"};
const char* const kFortuneDir = "/usr/share/games/fortunes/";
const char* const kDpkgDir = "/var/lib/dpkg";
// Files of the packages that are pictures rather than prose.
const char* const kExcluded[] = {"ascii-art"};

std::string PackageVersion(const std::string& package) {
  std::ifstream in(std::string(kDpkgDir) + "/status");
  std::string line;
  bool in_stanza = false;
  while (std::getline(in, line)) {
    if (line.rfind("Package: ", 0) == 0) in_stanza = line.substr(9) == package;
    if (in_stanza && line.rfind("Version: ", 0) == 0) return line.substr(9);
  }
  return "unknown";
}

// The fortune text files of the packages, sorted by path, and what they are
// (package versions, sizes) as meta.json records it.
std::pair<std::vector<std::string>, nlohmann::json> CorpusFiles() {
  std::vector<std::pair<std::string, std::string>> files;  // path, package
  nlohmann::json packages = nlohmann::json::object();
  for (const char* package : kPackages) {
    const std::string list = std::string(kDpkgDir) + "/info/" + package + ".list";
    std::ifstream in(list);
    if (!in) {
      throw std::runtime_error("the builtin corpus needs the Debian package " +
                               std::string(package) + " (`make deps` installs it): " + list +
                               " not found");
    }
    packages[package] = PackageVersion(package);
    std::string path;
    while (std::getline(in, path)) {
      if (path.rfind(kFortuneDir, 0) != 0) continue;
      std::string name = path.substr(std::strlen(kFortuneDir));
      bool excluded =
          std::find(std::begin(kExcluded), std::end(kExcluded), name) != std::end(kExcluded);
      // Top-level text files only: the .dat indexes and the .u8 symlinks repeat them.
      if (name.empty() || name.find('/') != std::string::npos || excluded ||
          fs::path(name).extension() == ".dat" || !fs::is_regular_file(fs::symlink_status(path))) {
        continue;
      }
      files.emplace_back(path, package);
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> paths;
  nlohmann::json listed = nlohmann::json::array();
  for (const auto& [path, package] : files) {
    paths.push_back(path);
    listed.push_back({{"path", path}, {"package", package}, {"bytes", fs::file_size(path)}});
  }
  if (paths.empty()) throw std::runtime_error(std::string("no fortune files in ") + kFortuneDir);
  return {paths,
          {{"corpus", "debian-fortunes"},
           {"version", kCorpusVersion},
           {"packages", packages},
           {"files", listed}}};
}

// Fortunes are written for a terminal: "x\bY" overstrikes (underline, accents,
// fake deletions) and a few bells. Applies each backspace to the character
// before it on the line and drops the other control characters but \n and \t.
std::string CleanTerminalText(const std::string& raw) {
  std::string out;
  out.reserve(raw.size());
  for (char c : raw) {
    if (c == '\b') {
      while (!out.empty() && (out.back() & 0xC0) == 0x80) out.pop_back();  // UTF-8 tail
      if (!out.empty() && out.back() != '\n') out.pop_back();
    } else if ((unsigned char)c >= 0x20 && c != 0x7F) {
      out.push_back(c);
    } else if (c == '\n' || c == '\t') {
      out.push_back(c);
    }
  }
  return out;
}

// The fortunes of all files as documents, in an order fixed by their content
// (SHA-256), so that the val split at the end samples every file alike.
std::vector<std::string> CorpusDocuments(const std::vector<std::string>& paths) {
  std::vector<std::pair<std::string, std::string>> keyed;  // hash, document
  for (const std::string& path : paths) {
    for (std::string& doc : SplitDocuments(CleanTerminalText(ReadFile(path)))) {
      std::string key = Sha256Hex(doc);
      keyed.emplace_back(std::move(key), std::move(doc));
    }
  }
  std::sort(keyed.begin(), keyed.end());
  std::vector<std::string> docs;
  for (auto& kd : keyed) docs.push_back(std::move(kd.second));
  return docs;
}

}  // namespace

std::string CacheDir() {
  if (const char* d = std::getenv("HRM_CACHE"); d && *d) return d;
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d && *d) return std::string(d) + "/hrm";
  if (const char* d = std::getenv("HOME"); d && *d) return std::string(d) + "/.cache/hrm";
  throw std::runtime_error("no cache directory: set HRM_CACHE (or HOME)");
}

std::string BuiltinDataDir(const std::string& tokenizer) {
  auto [paths, source] = CorpusFiles();
  const std::string root = CacheDir();
  const std::string dir =
      root + "/builtin-" + tokenizer + "-" + Sha256Hex(source.dump()).substr(0, 12);
  // A directory of this name appears only by the rename below, complete.
  if (fs::exists(dir + "/meta.json")) return dir;

  std::unique_ptr<Tokenizer> tok = MakeTokenizer(tokenizer);
  fs::create_directories(root);
  std::string tmp = root + "/.builtin-tmpXXXXXX";
  if (!mkdtemp(tmp.data())) {
    throw std::runtime_error(tmp + ": cannot create: " + std::strerror(errno));
  }
  try {
    std::vector<std::string> docs = CorpusDocuments(paths);
    size_t text_bytes = 0;
    for (const auto& d : docs) text_bytes += d.size();
    source["documents"] = docs.size();
    source["text_bytes"] = text_bytes;
    source["order"] = "documents sorted by SHA-256 of their text";
    PrepareDocuments(*tok, docs, tmp, kValFraction, source);
    if (std::rename(tmp.c_str(), dir.c_str()) != 0) {
      // Another worker renamed its copy first: theirs is identical; use it.
      if (errno != EEXIST && errno != ENOTEMPTY) {
        throw std::runtime_error(dir + ": cannot rename " + tmp +
                                 " to it: " + std::strerror(errno));
      }
      fs::remove_all(tmp);
    }
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    throw;
  }
  return dir;
}

std::string ResolveDataDir(const nlohmann::json& resolved_config) {
  const std::string data = resolved_config.value("data", "builtin");
  if (data == "builtin") return BuiltinDataDir(resolved_config.value("tokenizer", "byte"));
  for (const char* file : {"train.bin", "val.bin"}) {
    if (!fs::is_regular_file(data + "/" + file)) {
      throw ConfigError("data", data,
                        "no " + data + "/" + file +
                            ": expected builtin or a directory holding nanoGPT's train.bin and "
                            "val.bin (`hrm prepare` writes them)");
    }
  }
  return data;
}

}  // namespace hrm
