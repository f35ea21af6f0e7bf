// Token files, prepared corpora and the builtin corpus, on real files in a
// temp directory (the builtin corpus from the installed Debian packages).
#include "base/token_data.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "base/atomic_file.h"
#include "base/builtin_corpus.h"
#include "base/config.h"
#include "base/sha256.h"
#include "base/tokenizer.h"

namespace hrm {
namespace {

namespace fs = std::filesystem;

// A fresh directory, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string t = (fs::temp_directory_path() / "hrm_data_test_XXXXXX").string();
    if (!mkdtemp(t.data())) throw std::runtime_error("mkdtemp failed");
    path_ = t;
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Points HRM_CACHE at a directory for the lifetime of the object.
class ScopedCache {
 public:
  explicit ScopedCache(const std::string& dir) {
    const char* old = std::getenv("HRM_CACHE");
    had_ = old != nullptr;
    if (had_) old_ = old;
    ::setenv("HRM_CACHE", dir.c_str(), 1);
  }
  ~ScopedCache() { had_ ? ::setenv("HRM_CACHE", old_.c_str(), 1) : ::unsetenv("HRM_CACHE"); }

 private:
  bool had_;
  std::string old_;
};

std::vector<int> ReadIds(const std::string& path) {
  TokenFile f(path);
  return std::vector<int>(f.data(), f.data() + f.size());
}

// Runs f, which must throw std::exception, and returns what().
template <typename F>
std::string ErrorOf(F f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  ADD_FAILURE() << "no exception";
  return "";
}

TEST(TokenBin, WritesLittleEndianUint16AndReadsBack) {
  TempDir dir;
  const std::vector<int> ids = {1, 258, 0, 65535, 50256};
  WriteTokenBin(dir / "a.bin", ids);
  EXPECT_EQ(fs::file_size(dir / "a.bin"), 10u);
  const std::string bytes = ReadFile(dir / "a.bin");
  EXPECT_EQ(bytes.substr(0, 4), std::string("\x01\x00\x02\x01", 4));
  EXPECT_EQ(ReadIds(dir / "a.bin"), ids);
  // Nothing but the file itself is left behind (the temp file was renamed).
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
  EXPECT_THROW(WriteTokenBin(dir / "b.bin", {65536}), std::out_of_range);
  EXPECT_FALSE(fs::exists(dir / "b.bin"));
}

TEST(TokenBin, ErrorsNameTheFile) {
  TempDir dir;
  std::string msg = ErrorOf([&] { TokenFile f(dir / "missing.bin"); });
  EXPECT_NE(msg.find(dir / "missing.bin"), std::string::npos) << msg;

  std::ofstream(dir / "odd.bin") << "abc";
  msg = ErrorOf([&] { TokenFile f(dir / "odd.bin"); });
  EXPECT_NE(msg.find(dir / "odd.bin"), std::string::npos) << msg;
  EXPECT_NE(msg.find("3 bytes"), std::string::npos) << msg;

  std::ofstream(dir / "empty.bin").close();
  msg = ErrorOf([&] { TokenFile f(dir / "empty.bin"); });
  EXPECT_NE(msg.find(dir / "empty.bin"), std::string::npos) << msg;
}

TEST(SplitDocuments, SplitsAtPercentLinesKeepingText) {
  EXPECT_EQ(SplitDocuments("one\ntwo\n%\nthree\n%\n  \n%\nfour"),
            (std::vector<std::string>{"one\ntwo\n", "three\n", "four"}));
  EXPECT_EQ(SplitDocuments("no separator 100%\n"),
            (std::vector<std::string>{"no separator 100%\n"}));
  EXPECT_EQ(SplitDocuments("a\r\n%\r\nb\r\n"), (std::vector<std::string>{"a\r\n", "b\r\n"}));
}

TEST(PrepareCorpus, ByteBinsHoldDocumentsEachEndedByEot) {
  TempDir dir;
  std::string text;
  std::vector<int> expected;
  for (int i = 0; i < 40; ++i) {
    std::string doc = "Document number " + std::to_string(i) + " says hello.\n";
    text += doc + "%\n";
    expected.insert(expected.end(), doc.begin(), doc.end());
    expected.push_back(0);
  }
  std::ofstream(dir / "in.txt") << text;
  ByteTokenizer tok;
  json meta = PrepareCorpus(tok, dir / "in.txt", dir / "out", 0.1);

  const size_t n_val = expected.size() / 10;  // floor(n * 0.1)
  std::vector<int> train = ReadIds(dir / "out/train.bin");
  std::vector<int> val = ReadIds(dir / "out/val.bin");
  EXPECT_EQ(val.size(), n_val);
  train.insert(train.end(), val.begin(), val.end());
  EXPECT_EQ(train, expected);

  json read = ReadDataMeta(dir / "out");
  EXPECT_EQ(read, meta);
  EXPECT_EQ(read["tokenizer"], "byte");
  EXPECT_EQ(read["vocab_size"], 256);
  EXPECT_EQ(read["eot_id"], 0);
  EXPECT_EQ(read["train_tokens"], expected.size() - n_val);
  EXPECT_EQ(read["val_tokens"], n_val);
  EXPECT_EQ(read["train_sha256"], Sha256File(dir / "out/train.bin"));
  EXPECT_EQ(read["val_sha256"], Sha256File(dir / "out/val.bin"));
  EXPECT_EQ(read["source"]["documents"], 40);
  EXPECT_EQ(read["source"]["sha256"], Sha256Hex(text));
}

TEST(PrepareCorpus, Gpt2IdsAreTheTokenizersWithEot) {
  TempDir dir;
  std::ofstream(dir / "in.txt") << "Hello world\n%\nIt's 2024, and café au lait costs €3.\n";
  auto tok = MakeTokenizer("gpt2");
  PrepareCorpus(*tok, dir / "in.txt", dir / "out", 0.25);
  std::vector<int> expected = tok->Encode("Hello world\n");
  expected.push_back(50256);
  for (int id : tok->Encode("It's 2024, and café au lait costs €3.\n")) expected.push_back(id);
  expected.push_back(50256);
  std::vector<int> all = ReadIds(dir / "out/train.bin");
  std::vector<int> val = ReadIds(dir / "out/val.bin");
  all.insert(all.end(), val.begin(), val.end());
  EXPECT_EQ(all, expected);
  EXPECT_EQ(ReadDataMeta(dir / "out")["vocab_size"], 50257);
}

TEST(PrepareCorpus, RejectsSplitsThatWouldBeEmpty) {
  TempDir dir;
  std::ofstream(dir / "in.txt") << "tiny";
  ByteTokenizer tok;
  EXPECT_THROW(PrepareCorpus(tok, dir / "in.txt", dir / "out", 0.1), std::invalid_argument);
  EXPECT_THROW(PrepareCorpus(tok, dir / "in.txt", dir / "out", 0.0), std::invalid_argument);
  EXPECT_FALSE(fs::exists(dir / "out"));
  std::string msg = ErrorOf([&] { PrepareCorpus(tok, dir / "nope.txt", dir / "out"); });
  EXPECT_NE(msg.find(dir / "nope.txt"), std::string::npos) << msg;
}

TEST(DataMeta, BadMetaNamesFileAndField) {
  TempDir dir;
  WriteTokenBin(dir / "train.bin", {1, 2, 3});
  WriteTokenBin(dir / "val.bin", {4});
  WriteFileAtomic(dir / "meta.json", R"({"tokenizer": "byte", "vocab_size": "many"})");
  std::string msg = ErrorOf([&] { ReadDataMeta(dir.path()); });
  EXPECT_NE(msg.find(dir / "meta.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("vocab_size"), std::string::npos) << msg;
}

TEST(DataMeta, NanoGptDirectoryWithoutMetaIsDescribedFromBins) {
  TempDir dir;
  WriteTokenBin(dir / "train.bin", {5, 50256, 7});
  WriteTokenBin(dir / "val.bin", {9, 9});
  json meta = ReadDataMeta(dir.path());
  EXPECT_EQ(meta["vocab_size"], 50257);
  EXPECT_EQ(meta["train_tokens"], 3);
  EXPECT_EQ(meta["val_tokens"], 2);
  EXPECT_EQ(meta["train_sha256"], Sha256File(dir / "train.bin"));
  WriteTokenBin(dir / "val.bin", {60000});
  EXPECT_EQ(ReadDataMeta(dir.path())["vocab_size"], 60001);
}

TEST(DataMeta, NanoGptCharacterLevelDirectoryIsRefusedNotReadAsGpt2) {
  TempDir dir;
  WriteTokenBin(dir / "train.bin", {1, 2, 3});
  WriteTokenBin(dir / "val.bin", {4});
  WriteFileAtomic(dir / "meta.pkl", "\x80\x04\x95pickled stoi/itos");
  std::string msg = ErrorOf([&] { ReadDataMeta(dir.path()); });
  EXPECT_NE(msg.find(dir / "meta.pkl"), std::string::npos) << msg;
  EXPECT_NE(msg.find("hrm prepare"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(dir / "hrm_checksums.json"));  // nothing written
  // With hrm's own meta.json beside it, the directory is hrm's and reads.
  WriteFileAtomic(dir / "meta.json", json{{"tokenizer", "byte"},
                                          {"vocab_size", 256},
                                          {"eot_id", 0},
                                          {"train_tokens", 3},
                                          {"val_tokens", 1},
                                          {"train_sha256", Sha256File(dir / "train.bin")},
                                          {"val_sha256", Sha256File(dir / "val.bin")}}
                                         .dump());
  EXPECT_EQ(ReadDataMeta(dir.path())["tokenizer"], "byte");
}

// Without meta.json the bins' checksums are cached beside them, keyed by
// size, mtime and inode: a key that matches is trusted (shown with a cache
// edited by hand), a key that moved is recomputed.
TEST(DataMeta, ChecksumsOfBinsAreCachedAndRecomputedWhenTheFileMoves) {
  TempDir dir;
  WriteTokenBin(dir / "train.bin", {5, 50256, 7});
  WriteTokenBin(dir / "val.bin", {9, 9});
  const std::string cache_path = dir / "hrm_checksums.json";
  const json first = ReadDataMeta(dir.path());
  ASSERT_TRUE(fs::exists(cache_path));
  json cache = json::parse(ReadFile(cache_path));
  EXPECT_EQ(cache["train.bin"]["sha256"], Sha256File(dir / "train.bin"));
  EXPECT_EQ(cache["train.bin"]["max_id"], 50256);
  EXPECT_EQ(cache["val.bin"]["key"]["size"], 4);

  // Reused: a cache whose keys match is what ReadDataMeta reports, even when
  // its content was edited (documented: trusted like make's mtimes).
  const std::string forged(64, 'f');
  cache["train.bin"]["sha256"] = forged;
  cache["val.bin"]["max_id"] = 60000;
  WriteFileAtomic(cache_path, cache.dump());
  json again = ReadDataMeta(dir.path());
  EXPECT_EQ(again["train_sha256"], forged);
  EXPECT_EQ(again["vocab_size"], 60001);
  EXPECT_EQ(again["val_sha256"], first["val_sha256"]);

  // A changed mtime (same bytes, same inode) is recomputed and rewritten.
  const auto mtime = fs::last_write_time(dir / "train.bin");
  fs::last_write_time(dir / "train.bin", mtime + std::chrono::seconds(5));
  json touched = ReadDataMeta(dir.path());
  EXPECT_EQ(touched["train_sha256"], first["train_sha256"]);
  EXPECT_EQ(json::parse(ReadFile(cache_path))["train.bin"]["sha256"], first["train_sha256"]);
  EXPECT_EQ(touched["vocab_size"], 60001);  // val.bin's key still matches: still trusted

  // A changed size is recomputed.
  WriteTokenBin(dir / "val.bin", {9, 9, 70});
  json grown = ReadDataMeta(dir.path());
  EXPECT_EQ(grown["val_sha256"], Sha256File(dir / "val.bin"));
  EXPECT_EQ(grown["vocab_size"], 50257);

  // Same size and content, published anew by rename (a new inode): recomputed.
  cache = json::parse(ReadFile(cache_path));
  cache["val.bin"]["sha256"] = forged;
  WriteFileAtomic(cache_path, cache.dump());
  WriteTokenBin(dir / "val.bin", {9, 9, 70});
  fs::last_write_time(dir / "val.bin", fs::last_write_time(dir / "train.bin"));
  EXPECT_EQ(ReadDataMeta(dir.path())["val_sha256"], Sha256File(dir / "val.bin"));

  // A corrupt cache is recomputed, never trusted, and replaced.
  WriteFileAtomic(cache_path, "{\"train.bin\": {\"key\": ");
  EXPECT_EQ(ReadDataMeta(dir.path())["train_sha256"], first["train_sha256"]);
  EXPECT_TRUE(json::parse(ReadFile(cache_path)).contains("val.bin"));
}

TEST(ResolveDataDir, PathMustHoldBothBins) {
  TempDir dir;
  json config = ResolveConfig(json{{"data", dir.path()}});
  try {
    ResolveDataDir(config);
    ADD_FAILURE() << "no error for a directory without bins";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key, "data");
    EXPECT_NE(std::string(e.what()).find(dir / "train.bin"), std::string::npos) << e.what();
  }
  WriteTokenBin(dir / "train.bin", {1, 2});
  WriteTokenBin(dir / "val.bin", {3});
  EXPECT_EQ(ResolveDataDir(config), dir.path());
}

TEST(BuiltinCorpus, IsEnglishPreparedOnceAndReused) {
  TempDir cache;
  ScopedCache scoped(cache.path());
  const std::string dir = ResolveDataDir(ResolveConfig(json{{"tokenizer", "byte"}}));
  EXPECT_EQ(dir.rfind(cache.path(), 0), 0u) << dir;

  json meta = ReadDataMeta(dir);
  EXPECT_GT(meta["source"]["text_bytes"].get<int64_t>(), 1 << 20);
  EXPECT_TRUE(meta["source"]["packages"].contains("fortunes"));
  EXPECT_TRUE(meta["source"]["packages"].contains("fortunes-min"));
  EXPECT_GT(meta["source"]["files"].size(), 30u);
  EXPECT_GT(meta["train_tokens"].get<int64_t>(), 1 << 20);

  // English prose: the commonest English words are everywhere, and almost
  // every byte is printable ASCII.
  ByteTokenizer tok;
  const std::string text = tok.Decode(ReadIds(dir + "/val.bin"));
  size_t the = 0, ascii = 0;
  for (size_t at = 0; (at = text.find(" the ", at)) != std::string::npos; ++at) ++the;
  for (unsigned char c : text) ascii += (c >= 0x20 && c < 0x7F) || c == '\n' || c == '\t';
  EXPECT_GT(the, text.size() / 500) << "too few ' the ' in " << text.size() << " bytes";
  EXPECT_GT(double(ascii) / double(text.size()), 0.99);
  EXPECT_EQ(text.find('\b'), std::string::npos);  // terminal overstrikes were applied

  // A second call finds the cache and writes nothing.
  struct stat before, after;
  ASSERT_EQ(::stat((dir + "/train.bin").c_str(), &before), 0);
  EXPECT_EQ(BuiltinDataDir("byte"), dir);
  ASSERT_EQ(::stat((dir + "/train.bin").c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);
  EXPECT_EQ(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
}

TEST(BuiltinCorpus, ConcurrentFirstUsesAgreeOnOneCompleteDirectory) {
  TempDir cache;
  ScopedCache scoped(cache.path());
  std::vector<std::string> dirs(3);
  std::vector<std::thread> workers;
  for (auto& d : dirs) workers.emplace_back([&d] { d = BuiltinDataDir("byte"); });
  for (auto& w : workers) w.join();
  EXPECT_EQ(dirs[0], dirs[1]);
  EXPECT_EQ(dirs[0], dirs[2]);
  json meta = ReadDataMeta(dirs[0]);
  EXPECT_EQ(meta["train_sha256"], Sha256File(dirs[0] + "/train.bin"));
  // Only the finished directory remains: the losers' temp copies are gone.
  EXPECT_EQ(std::distance(fs::directory_iterator(cache.path()), fs::directory_iterator()), 1);
}

TEST(BuiltinCorpus, Gpt2PreparesInSeconds) {
  TempDir cache;
  ScopedCache scoped(cache.path());
  const auto start = std::chrono::steady_clock::now();
  const std::string dir = BuiltinDataDir("gpt2");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  json meta = ReadDataMeta(dir);
  EXPECT_EQ(meta["tokenizer"], "gpt2");
  const int64_t tokens = meta["train_tokens"].get<int64_t>() + meta["val_tokens"].get<int64_t>();
  // English BPE: about 4 bytes of text per token.
  const double bytes_per_token = meta["source"]["text_bytes"].get<double>() / double(tokens);
  EXPECT_GT(bytes_per_token, 3.0);
  EXPECT_LT(bytes_per_token, 5.0);
  EXPECT_LT(seconds, 60.0) << "GPT-2 encoding of the builtin corpus is too slow";
  EXPECT_NE(dir, BuiltinDataDir("byte"));
}

}  // namespace
}  // namespace hrm
