// Tokenizers against reference ids. The GPT-2 vectors below were produced by
// the npm package gpt-3-encoder 1.1.4 (an independent JavaScript
// implementation of GPT-2's tokenizer, with the same \p{L}/\p{N} regex):
//   node -e "const {encode}=require('gpt-3-encoder'); console.log(encode(text).join(' '))"
// and agree with OpenAI's encoder.py run on Python's `regex` module.
#include "base/tokenizer.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "base/gpt2_pretokenizer.h"

namespace hrm {
namespace {

struct Gpt2Case {
  std::string text;
  std::vector<int> ids;
};

const std::vector<Gpt2Case>& Gpt2Cases() {
  // clang-format off
  static const std::vector<Gpt2Case> cases = {
    {"Hello world",
     {15496, 995}},
    {"I'm sure you're right: they've said it's what we'll do, and he'd known. Don't!",
     {40, 1101, 1654, 345, 821, 826, 25, 484, 1053, 531, 340, 338, 644, 356, 1183, 466, 11,
      290, 339, 1549, 1900, 13, 2094, 470, 0}},
    {"I'M SURE HE'S HERE'S 'S 'Twas",
     {40, 6, 44, 311, 11335, 11179, 6, 50, 15698, 6, 50, 705, 50, 705, 5080, 292}},
    {"'s 't 're 've 'm 'll 'd 'x ''s",
     {338, 705, 83, 705, 260, 705, 303, 705, 76, 705, 297, 705, 67, 705, 87, 10148, 82}},
    {"In 2023, 1234567 people paid $12.50 for 3 items (about 99.9%).",
     {818, 1160, 1954, 11, 17031, 2231, 3134, 661, 3432, 720, 1065, 13, 1120, 329, 513, 3709,
      357, 10755, 7388, 13, 24, 18823}},
    {"a  b   c\n\n\nd\t\te  \n  f   ",
     {64, 220, 275, 220, 220, 269, 628, 198, 67, 197, 197, 68, 220, 220, 198, 220, 277, 220,
      220, 220}},
    {"   \n\t  ",
     {220, 220, 220, 198, 197, 220, 220}},
    {"trailing spaces   ",
     {9535, 4386, 9029, 220, 220, 220}},
    {"Café naïve résumé — «déjà vu», Zoë Øresund straße",
     {34, 1878, 2634, 41492, 40560, 16345, 2634, 851, 21110, 67, 2634, 73, 24247, 410, 84,
      17730, 11, 31645, 26689, 6184, 246, 411, 917, 3534, 39683, 68}},
    {"Καλημέρα κόσμε. Привет, мир! Ελληνικά",
     {138, 248, 17394, 39377, 138, 115, 34703, 138, 255, 33643, 17394, 7377, 118, 139, 234,
      38392, 34703, 30950, 13, 12466, 253, 21169, 18849, 38857, 16843, 20375, 11, 12466, 120,
      18849, 21169, 0, 7377, 243, 39377, 39377, 138, 115, 26180, 29945, 43000, 138, 105}},
    {"你好，世界。日本語のテキスト 한국어 문장",
     {19526, 254, 25001, 121, 171, 120, 234, 10310, 244, 45911, 234, 16764, 33768, 98, 17312,
      105, 45739, 252, 5641, 24336, 25084, 43302, 220, 47991, 250, 166, 113, 255, 168, 244,
      112, 31619, 105, 116, 168, 252, 98}},
    {"I ❤️ 🍕 and 👍🏽!! 🚀🚀",
     {40, 43074, 97, 37929, 12520, 235, 243, 290, 50169, 235, 8582, 237, 121, 3228, 12520,
      248, 222, 8582, 248, 222}},
    {"Ⅻ ½ ²³ ١٢٣ ５６",
     {158, 227, 104, 25208, 1587, 110, 126, 111, 18923, 94, 149, 95, 149, 96, 27332, 120, 243,
      171, 120, 244}},
    {"def f(x):\n    return x**2  # square\n",
     {4299, 277, 7, 87, 2599, 198, 220, 220, 220, 1441, 2124, 1174, 17, 220, 1303, 6616, 198}},
    {"Wait... what?!?! \"double\" (parens) [brackets] {braces} <tags/>",
     {21321, 986, 644, 12248, 12248, 366, 23352, 1, 357, 11730, 82, 8, 685, 1671, 25180, 60,
      1391, 1671, 2114, 92, 1279, 31499, 15913}},
    {"<|endoftext|> is plain text here",
     {27, 91, 437, 1659, 5239, 91, 29, 318, 8631, 2420, 994}},
  };
  // clang-format on
  return cases;
}

const Gpt2Tokenizer& Gpt2() {
  static const Gpt2Tokenizer tok(Gpt2VocabDir());
  return tok;
}

std::string Join(const std::vector<int>& ids) {
  std::string s;
  for (int id : ids) s += std::to_string(id) + " ";
  return s;
}

TEST(Gpt2Tokenizer, MatchesReferenceIds) {
  for (const Gpt2Case& c : Gpt2Cases()) {
    EXPECT_EQ(Join(Gpt2().Encode(c.text)), Join(c.ids)) << "text: " << c.text;
  }
}

TEST(Gpt2Tokenizer, VocabularyAndEndOfText) {
  EXPECT_EQ(Gpt2().vocab_size(), 50257);
  EXPECT_EQ(Gpt2().eot_id(), 50256);
  EXPECT_EQ(Gpt2().name(), "gpt2");
  EXPECT_EQ(Gpt2().Decode({50256}), "<|endoftext|>");
  EXPECT_EQ(Gpt2().Decode({15496, 995}), "Hello world");
}

TEST(Gpt2Tokenizer, DecodeInvertsEncodeOnAnyBytes) {
  std::vector<std::string> texts;
  for (const Gpt2Case& c : Gpt2Cases()) texts.push_back(c.text);
  // Not valid UTF-8: a lone continuation byte, a truncated sequence, an
  // overlong NUL, a surrogate; and every byte value once.
  texts.push_back("ok \x80 \xE2\x82 x\xC0\x80y \xED\xA0\x80 end");
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes.push_back(char(b));
  texts.push_back(all_bytes);
  for (const std::string& t : texts) EXPECT_EQ(Gpt2().Decode(Gpt2().Encode(t)), t);
}

TEST(Gpt2Tokenizer, RejectsIdsOutsideVocabulary) {
  EXPECT_THROW(Gpt2().Decode({50257}), std::out_of_range);
  EXPECT_THROW(Gpt2().Decode({-1}), std::out_of_range);
}

TEST(Gpt2PreTokenize, SplitsLikeGpt2Regex) {
  using V = std::vector<std::string_view>;
  EXPECT_EQ(Gpt2PreTokenize("Hello world"), (V{"Hello", " world"}));
  // A whitespace run gives its last space to the next word.
  EXPECT_EQ(Gpt2PreTokenize("a   b"), (V{"a", "  ", " b"}));
  EXPECT_EQ(Gpt2PreTokenize("a \n\nb"), (V{"a", " \n", "\n", "b"}));
  EXPECT_EQ(Gpt2PreTokenize("end  "), (V{"end", "  "}));
  EXPECT_EQ(Gpt2PreTokenize("it's 'll"), (V{"it", "'s", " '", "ll"}));
  EXPECT_EQ(Gpt2PreTokenize("x2024 3.5"), (V{"x", "2024", " 3", ".", "5"}));
  EXPECT_EQ(Gpt2PreTokenize("Привет мир"), (V{"Привет", " мир"}));
  EXPECT_EQ(Gpt2PreTokenize("日本語。"), (V{"日本語", "。"}));
  EXPECT_EQ(Gpt2PreTokenize(""), V{});
}

TEST(ByteTokenizer, RoundTripsEveryByte) {
  ByteTokenizer tok;
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes.push_back(char(b));
  std::vector<int> ids = tok.Encode(all_bytes);
  ASSERT_EQ(ids.size(), 256u);
  for (int b = 0; b < 256; ++b) EXPECT_EQ(ids[b], b);
  EXPECT_EQ(tok.Decode(ids), all_bytes);
  EXPECT_EQ(tok.Encode("é"), (std::vector<int>{0xC3, 0xA9}));
  EXPECT_EQ(tok.vocab_size(), 256);
  EXPECT_EQ(tok.eot_id(), 0);
  EXPECT_THROW(tok.Decode({256}), std::out_of_range);
}

TEST(MakeTokenizer, NamesAndMissingFiles) {
  EXPECT_EQ(MakeTokenizer("byte")->name(), "byte");
  EXPECT_EQ(MakeTokenizer("gpt2")->Encode("Hello world"), (std::vector<int>{15496, 995}));
  EXPECT_THROW(MakeTokenizer("sentencepiece"), std::invalid_argument);

  const char* old = std::getenv("HRM_GPT2_DIR");
  const std::string saved = old ? old : "";
  ::setenv("HRM_GPT2_DIR", "/nonexistent/gpt2", 1);
  try {
    MakeTokenizer("gpt2");
    ADD_FAILURE() << "no error for a missing vocabulary";
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("/nonexistent/gpt2/encoder.json"), std::string::npos) << msg;
    EXPECT_NE(msg.find("make deps"), std::string::npos) << msg;
  }
  if (old) {
    ::setenv("HRM_GPT2_DIR", saved.c_str(), 1);
  } else {
    ::unsetenv("HRM_GPT2_DIR");
  }
}

}  // namespace
}  // namespace hrm
