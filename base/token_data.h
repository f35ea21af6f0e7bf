// Token files in nanoGPT's format: train.bin and val.bin hold raw
// little-endian uint16 ids, read as they are; meta.json beside them says how
// they were made. Torch-free.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/tokenizer.h"

namespace hrm {

// Writes ids as little-endian uint16 to path atomically (temp file, fsync,
// rename). Throws std::runtime_error naming the path on an I/O error, and
// std::out_of_range on an id outside [0, 65535].
void WriteTokenBin(const std::string& path, const std::vector<int>& ids);

// A read-only, memory-mapped token file.
class TokenFile {
 public:
  // Throws std::runtime_error naming the path when it is missing, empty or
  // has an odd number of bytes.
  explicit TokenFile(const std::string& path);
  ~TokenFile();
  TokenFile(const TokenFile&) = delete;
  TokenFile& operator=(const TokenFile&) = delete;

  size_t size() const { return size_; }  // tokens
  const uint16_t* data() const { return data_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const uint16_t* data_ = nullptr;
  size_t size_ = 0;
};

// meta.json of a prepared data directory, a JSON object:
//   tokenizer ("gpt2" | "byte"), vocab_size, eot_id (the id ending every
//   document), train_tokens, val_tokens, train_sha256, val_sha256 (of the
//   bins), source (what the text was: input file, or builtin corpus files and
//   package versions).
// Writes dir/meta.json atomically.
void WriteDataMeta(const std::string& dir, const nlohmann::json& meta);
// Reads and checks dir/meta.json; throws std::runtime_error naming the file
// and field. A nanoGPT directory without meta.json is described from its bins
// (counts, checksums) with GPT-2's tokenizer assumed, as nanoGPT assumes it
// when meta.pkl is absent: vocab_size 50257, or the largest id + 1 if larger.
// One with meta.pkl (its own vocabulary) is refused, pointing at `hrm
// prepare`. The bins' checksums and largest ids are cached in
// dir/hrm_checksums.json (written atomically; skipped if the directory is
// read-only), keyed by each bin's size, mtime and inode: a bin whose key changed
// is hashed again, a missing or malformed cache is recomputed. A cache
// whose keys match is trusted, as make trusts mtimes: it guards against
// changed data, not against an edited cache (delete it to force a rehash).
nlohmann::json ReadDataMeta(const std::string& dir);

// Splits text into documents at lines holding only "%" (the format of
// fortune files); empty and all-whitespace documents are dropped. Text
// without such lines is one document.
std::vector<std::string> SplitDocuments(const std::string& text);

// Encodes the documents in order, each followed by the tokenizer's eot id,
// and writes the first (1 - val_fraction) of the tokens to out_dir/train.bin
// and the rest to out_dir/val.bin (nanoGPT's split), then meta.json with
// `source` and both checksums, and returns the meta. Creates out_dir. Throws std::invalid_argument
// when val_fraction is outside (0, 1) or a split would be empty.
nlohmann::json PrepareDocuments(const Tokenizer& tokenizer, const std::vector<std::string>& docs,
                                const std::string& out_dir, double val_fraction,
                                const nlohmann::json& source);

// PrepareDocuments over SplitDocuments of the text file input_text_path.
nlohmann::json PrepareCorpus(const Tokenizer& tokenizer, const std::string& input_text_path,
                             const std::string& out_dir, double val_fraction = 0.1);

}  // namespace hrm
