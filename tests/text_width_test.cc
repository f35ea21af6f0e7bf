#include "base/text_width.h"

#include <gtest/gtest.h>

namespace hrm {
namespace {

// "λ" and "—" are two and three bytes; "😀" four.
const std::string kLabel = "hrm λ=0.1 — N=2·T=4 😀";

TEST(TextWidth, CountsCodePointsNotBytes) {
  EXPECT_EQ(CodePoints(""), 0u);
  EXPECT_EQ(CodePoints("abc"), 3u);
  EXPECT_EQ(CodePoints("λ—😀"), 3u);
  EXPECT_EQ(CodePoints(kLabel), 21u);
  EXPECT_GT(kLabel.size(), 21u);
}

TEST(TextWidth, TruncatingNeverSplitsACharacter) {
  // Every cut width gives valid UTF-8 of exactly that many code points: no
  // lead byte without its continuation bytes at the end.
  for (size_t w = 0; w <= CodePoints(kLabel) + 2; ++w) {
    const std::string cut = TruncateCodePoints(kLabel, w);
    EXPECT_EQ(CodePoints(cut), std::min(w, CodePoints(kLabel))) << w;
    EXPECT_EQ(kLabel.compare(0, cut.size(), cut), 0) << w;
    if (cut.size() < kLabel.size())
      EXPECT_NE(static_cast<unsigned char>(kLabel[cut.size()]) & 0xC0, 0x80) << w;
  }
  EXPECT_EQ(TruncateCodePoints("λλλ", 2), "λλ");
  EXPECT_EQ(TruncateCodePoints("a😀b", 2), "a😀");
}

TEST(TextWidth, PadsToCodePointColumns) {
  EXPECT_EQ(PadRight("λ", 3), "λ  ");
  EXPECT_EQ(PadLeft("λ", 3), "  λ");
  EXPECT_EQ(PadRight("long", 2), "long");
  EXPECT_EQ(FitColumn("—λ—λ", 3), "—λ—");
  EXPECT_EQ(FitColumn("—", 3), "—  ");
  // A column of mixed labels lines up: every cell is the same code-point width.
  for (const std::string& s :
       {std::string(), std::string("ascii label that is long"), std::string("λ"), kLabel})
    EXPECT_EQ(CodePoints(FitColumn(s, 10)), 10u) << s;
}

TEST(TextWidth, EllipsizeMarksTheCut) {
  EXPECT_EQ(Ellipsize("short", 10), "short");
  EXPECT_EQ(Ellipsize("λλλλλ", 5), "λλλλλ");
  EXPECT_EQ(Ellipsize("λλλλλλ", 5), "λλλλ…");
  EXPECT_EQ(CodePoints(Ellipsize(kLabel, 8)), 8u);
}

}  // namespace
}  // namespace hrm
