// The regex's alternatives are tried in order at each position, exactly as a
// backtracking regex engine would; each is a few lines over the per-code-point
// classes computed up front.
#include "base/gpt2_pretokenizer.h"

#include "base/unicode_class.h"

namespace hrm {
namespace {

using Cls = CodePointClass;

// Length in code points of a contraction ('s 't 're 've 'm 'll 'd) at i, or 0.
size_t ContractionAt(const std::vector<char32_t>& cp, size_t i) {
  if (cp[i] != U'\'' || i + 1 >= cp.size()) return 0;
  char32_t a = cp[i + 1];
  if (a == U's' || a == U't' || a == U'm' || a == U'd') return 2;
  if (i + 2 >= cp.size()) return 0;
  char32_t b = cp[i + 2];
  if ((a == U'r' && b == U'e') || (a == U'v' && b == U'e') || (a == U'l' && b == U'l')) return 3;
  return 0;
}

}  // namespace

std::vector<std::string_view> Gpt2PreTokenize(std::string_view text) {
  // Per code point: value, class and byte offset (offset[n] = text.size()).
  std::vector<char32_t> cp;
  std::vector<Cls> cls;
  std::vector<size_t> offset;
  for (size_t b = 0; b < text.size();) {
    char32_t c;
    size_t len = DecodeUtf8(text.data() + b, text.size() - b, &c);
    cp.push_back(c);
    cls.push_back(ClassifyCodePoint(c));
    offset.push_back(b);
    b += len;
  }
  const size_t n = cp.size();
  offset.push_back(text.size());

  std::vector<std::string_view> pieces;
  size_t i = 0;
  while (i < n) {
    size_t end = i;
    if (size_t c = ContractionAt(cp, i)) {
      end = i + c;
    } else {
      // ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+': an optional leading space
      // (U+0020 only), then a run of one class. A space never has one of these
      // classes, so "skip the space if there is one" is the whole backtracking.
      size_t start = (cp[i] == U' ' && i + 1 < n) ? i + 1 : i;
      Cls run = cls[start];
      if (run != Cls::kWhitespace) {
        end = start;
        while (end < n && cls[end] == run) ++end;
      } else {
        // '\s+(?!\S)' then '\s+': a whitespace run stops one short of a
        // following non-space, which then takes that last space as its prefix;
        // a single space before a non-space is matched alone by '\s+'.
        end = i;
        while (end < n && cls[end] == Cls::kWhitespace) ++end;
        if (end < n && end - i >= 2) --end;
      }
    }
    pieces.emplace_back(text.data() + offset[i], offset[end] - offset[i]);
    i = end;
  }
  return pieces;
}

}  // namespace hrm
