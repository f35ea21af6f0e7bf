// Token bins are published whole (base/atomic_file), so a reader never sees a
// half-written file, and read through mmap, so a multi-GB train.bin costs no
// load time and its pages are shared between the workers of a sweep.
#include "base/token_data.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "base/atomic_file.h"
#include "base/sha256.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "token files are little-endian uint16, read in place");

namespace hrm {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::runtime_error IoError(const std::string& path, const std::string& what) {
  return std::runtime_error(path + ": " + what + ": " + std::strerror(errno));
}

// What ReadDataMeta checks: each field and whether its value has the right type.
struct MetaField {
  const char* key;
  bool (json::*is_type)() const noexcept;
  const char* type;
};
const MetaField kMetaFields[] = {
    {"tokenizer", &json::is_string, "a string"},
    {"vocab_size", &json::is_number_integer, "an integer"},
    {"eot_id", &json::is_number_integer, "an integer"},
    {"train_tokens", &json::is_number_integer, "an integer"},
    {"val_tokens", &json::is_number_integer, "an integer"},
    {"train_sha256", &json::is_string, "a string"},
    {"val_sha256", &json::is_string, "a string"},
};

// GPT-2's vocabulary, which nanoGPT assumes for bins without meta.pkl.
constexpr int kGpt2Vocab = 50257;
// Beside the bins of a directory without meta.json: their checksums and
// largest ids, so that a start (of every rank) does not read all of a
// multi-GB train.bin again.
constexpr char kChecksumCache[] = "hrm_checksums.json";

// What the cache keys a bin's facts by: they are recomputed when any moves.
// The inode catches a same-size file published by rename (as `hrm prepare`
// does) within one mtime tick.
json FileKey(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) throw IoError(path, "cannot stat token file");
  return {{"size", int64_t(st.st_size)},
          {"mtime_ns", int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec},
          {"inode", uint64_t(st.st_ino)}};
}

// The cached facts of one bin, or null when missing, stale or malformed.
json CachedFacts(const json& cache, const std::string& name, const json& key) {
  if (!cache.is_object() || !cache.contains(name)) return nullptr;
  const json& f = cache[name];
  if (!f.is_object() || f.value("key", json()) != key || !f.contains("sha256") ||
      !f["sha256"].is_string() || f["sha256"].get<std::string>().size() != 64 ||
      !f.contains("max_id") || !f["max_id"].is_number_integer())
    return nullptr;
  return f;
}

json DescribeBins(const std::string& dir) {
  if (fs::exists(dir + "/meta.pkl"))
    throw std::runtime_error(
        dir +
        "/meta.pkl: a nanoGPT directory with its own vocabulary (meta.pkl, e.g. "
        "character-level) and no meta.json; hrm cannot read Python pickles and will not "
        "guess GPT-2: re-tokenize the text with `hrm prepare --tokenizer byte|gpt2 --input "
        "TEXT --out DIR`");
  const std::string cache_path = dir + "/" + kChecksumCache;
  json cache = json::object();
  if (fs::exists(cache_path)) {
    try {
      cache = json::parse(ReadFile(cache_path), nullptr, /*allow_exceptions=*/false);
    } catch (const std::exception&) {  // unreadable: recomputed below
    }
  }
  json meta = {{"tokenizer", "gpt2"}, {"eot_id", kGpt2Vocab - 1}};
  json fresh = json::object();
  bool changed = false;
  int max_id = 0;
  for (const char* split : {"train", "val"}) {
    const std::string name = std::string(split) + ".bin";
    TokenFile bin(dir + "/" + name);
    const json key = FileKey(bin.path());
    json facts = CachedFacts(cache, name, key);
    if (facts.is_null()) {
      facts = {{"key", key},
               {"sha256", Sha256File(bin.path())},
               {"max_id", *std::max_element(bin.data(), bin.data() + bin.size())}};
      changed = true;
    }
    max_id = std::max(max_id, facts["max_id"].get<int>());
    meta[std::string(split) + "_tokens"] = bin.size();
    meta[std::string(split) + "_sha256"] = facts["sha256"];
    fresh[name] = facts;
  }
  if (changed) {
    try {
      WriteFileAtomic(cache_path, fresh.dump(2) + "\n");
    } catch (const std::exception&) {  // a read-only data directory: hashed at every start
    }
  }
  meta["vocab_size"] = std::max(kGpt2Vocab, max_id + 1);
  meta["source"] = {{"meta", "no meta.json: described from the bins, GPT-2 tokenizer assumed"}};
  return meta;
}

}  // namespace

void WriteTokenBin(const std::string& path, const std::vector<int>& ids) {
  std::string bytes(ids.size() * sizeof(uint16_t), '\0');
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] > 0xFFFF) {
      throw std::out_of_range(path + ": id " + std::to_string(ids[i]) + " at position " +
                              std::to_string(i) + " does not fit in uint16");
    }
    uint16_t v = uint16_t(ids[i]);
    std::memcpy(&bytes[i * sizeof v], &v, sizeof v);
  }
  WriteFileAtomic(path, bytes);
}

TokenFile::TokenFile(const std::string& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError(path, "cannot open token file");
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    auto err = IoError(path, "cannot stat token file");
    ::close(fd);
    throw err;
  }
  if (st.st_size == 0 || st.st_size % 2 != 0) {
    ::close(fd);
    throw std::runtime_error(path + ": token file has " + std::to_string(st.st_size) +
                             " bytes; expected a positive, even number (uint16 ids)");
  }
  void* p = ::mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) throw IoError(path, "cannot map token file");
  data_ = static_cast<const uint16_t*>(p);
  size_ = size_t(st.st_size) / 2;
}

TokenFile::~TokenFile() { ::munmap(const_cast<uint16_t*>(data_), size_ * 2); }

void WriteDataMeta(const std::string& dir, const json& meta) {
  WriteFileAtomic(dir + "/meta.json", meta.dump(2) + "\n");
}

json ReadDataMeta(const std::string& dir) {
  const std::string file = dir + "/meta.json";
  if (!fs::exists(file)) return DescribeBins(dir);
  json meta = json::parse(ReadFile(file), nullptr, /*allow_exceptions=*/false);
  if (!meta.is_object()) throw std::runtime_error(file + ": not a JSON object");
  for (const MetaField& f : kMetaFields) {
    if (!meta.contains(f.key) || !(meta[f.key].*f.is_type)()) {
      throw std::runtime_error(file + ": field '" + f.key + "' missing or not " + f.type);
    }
  }
  return meta;
}

std::vector<std::string> SplitDocuments(const std::string& text) {
  std::vector<std::string> docs;
  std::string doc;
  auto flush = [&] {
    if (doc.find_first_not_of(" \t\r\n\f\v") != std::string::npos) docs.push_back(doc);
    doc.clear();
  };
  for (size_t begin = 0; begin < text.size();) {
    size_t nl = text.find('\n', begin);
    size_t end = nl == std::string::npos ? text.size() : nl + 1;  // line with its newline
    std::string_view line(text.data() + begin, end - begin);
    if (line == "%\n" || line == "%\r\n" || line == "%") {
      flush();
    } else {
      doc += line;
    }
    begin = end;
  }
  flush();
  return docs;
}

json PrepareDocuments(const Tokenizer& tokenizer, const std::vector<std::string>& docs,
                      const std::string& out_dir, double val_fraction, const json& source) {
  if (!(val_fraction > 0 && val_fraction < 1)) {
    throw std::invalid_argument("val_fraction must be in (0, 1), got " +
                                std::to_string(val_fraction));
  }
  std::vector<int> ids;
  for (const std::string& doc : docs) {
    std::vector<int> d = tokenizer.Encode(doc);
    ids.insert(ids.end(), d.begin(), d.end());
    ids.push_back(tokenizer.eot_id());
  }
  const size_t n_val = size_t(std::floor(double(ids.size()) * val_fraction));
  const size_t n_train = ids.size() - n_val;
  if (n_val == 0 || n_train == 0) {
    throw std::invalid_argument(out_dir + ": " + std::to_string(ids.size()) +
                                " tokens are too few to split with val_fraction " +
                                std::to_string(val_fraction));
  }
  fs::create_directories(out_dir);
  const std::string train = out_dir + "/train.bin", val = out_dir + "/val.bin";
  WriteTokenBin(train, std::vector<int>(ids.begin(), ids.begin() + n_train));
  WriteTokenBin(val, std::vector<int>(ids.begin() + n_train, ids.end()));
  json meta = {
      {"format", "nanogpt: raw little-endian uint16 token ids"},
      {"tokenizer", tokenizer.name()},
      {"vocab_size", tokenizer.vocab_size()},
      {"eot_id", tokenizer.eot_id()},
      {"train_tokens", n_train},
      {"val_tokens", n_val},
      {"train_sha256", Sha256File(train)},
      {"val_sha256", Sha256File(val)},
      {"source", source},
  };
  WriteDataMeta(out_dir, meta);
  return meta;
}

json PrepareCorpus(const Tokenizer& tokenizer, const std::string& input_text_path,
                   const std::string& out_dir, double val_fraction) {
  const std::string text = ReadFile(input_text_path);
  std::vector<std::string> docs = SplitDocuments(text);
  json source = {
      {"input", fs::absolute(input_text_path).string()},
      {"bytes", text.size()},
      {"sha256", Sha256Hex(text)},
      {"documents", docs.size()},
  };
  return PrepareDocuments(tokenizer, docs, out_dir, val_fraction, source);
}

}  // namespace hrm
