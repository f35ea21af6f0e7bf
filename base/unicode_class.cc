// Classification by binary search in sorted range tables generated from the
// Unicode database (scripts/gen_unicode_class.py), with an ASCII fast path.
#include "base/unicode_class.h"

#include <algorithm>
#include <array>
#include <iterator>

namespace hrm {
namespace {

struct CodePointRange {
  char32_t lo, hi;
};

#include "base/unicode_class_tables.inc"

template <size_t N>
bool InRanges(const CodePointRange (&table)[N], char32_t cp) {
  auto it = std::upper_bound(std::begin(table), std::end(table), cp,
                             [](char32_t c, const CodePointRange& r) { return c < r.lo; });
  return it != std::begin(table) && cp <= std::prev(it)->hi;
}

bool IsWhiteSpace(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

CodePointClass ClassifySlow(char32_t cp) {
  if (cp == kInvalidCodePoint) return CodePointClass::kOther;
  if (IsWhiteSpace(cp)) return CodePointClass::kWhitespace;
  if (InRanges(kLetterRanges, cp)) return CodePointClass::kLetter;
  if (InRanges(kNumberRanges, cp)) return CodePointClass::kNumber;
  return CodePointClass::kOther;
}

std::array<CodePointClass, 128> MakeAsciiTable() {
  std::array<CodePointClass, 128> t{};
  for (char32_t c = 0; c < 128; ++c) t[c] = ClassifySlow(c);
  return t;
}

}  // namespace

size_t DecodeUtf8(const char* p, size_t n, char32_t* cp) {
  const auto* s = reinterpret_cast<const unsigned char*>(p);
  unsigned char b = s[0];
  if (b < 0x80) {
    *cp = b;
    return 1;
  }
  size_t len;
  char32_t v, min;
  if ((b & 0xE0) == 0xC0) {
    len = 2, v = b & 0x1F, min = 0x80;
  } else if ((b & 0xF0) == 0xE0) {
    len = 3, v = b & 0x0F, min = 0x800;
  } else if ((b & 0xF8) == 0xF0) {
    len = 4, v = b & 0x07, min = 0x10000;
  } else {
    *cp = kInvalidCodePoint;
    return 1;
  }
  if (len > n) {
    *cp = kInvalidCodePoint;
    return 1;
  }
  for (size_t i = 1; i < len; ++i) {
    if ((s[i] & 0xC0) != 0x80) {
      *cp = kInvalidCodePoint;
      return 1;
    }
    v = (v << 6) | (s[i] & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not valid UTF-8.
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
    *cp = kInvalidCodePoint;
    return 1;
  }
  *cp = v;
  return len;
}

CodePointClass ClassifyCodePoint(char32_t cp) {
  static const std::array<CodePointClass, 128> ascii = MakeAsciiTable();
  return cp < 128 ? ascii[cp] : ClassifySlow(cp);
}

}  // namespace hrm
