#include "base/text_width.h"

namespace hrm {
namespace {

bool IsContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

size_t CodePoints(const std::string& utf8) {
  size_t n = 0;
  for (char c : utf8) n += !IsContinuation(c);
  return n;
}

std::string TruncateCodePoints(const std::string& utf8, size_t width) {
  size_t seen = 0;
  for (size_t i = 0; i < utf8.size(); ++i) {
    if (IsContinuation(utf8[i])) continue;
    if (seen == width) return utf8.substr(0, i);  // i starts code point width+1
    ++seen;
  }
  return utf8;
}

std::string Ellipsize(const std::string& utf8, size_t width) {
  if (CodePoints(utf8) <= width) return utf8;
  if (width == 0) return "";
  return TruncateCodePoints(utf8, width - 1) + "…";
}

std::string PadRight(const std::string& utf8, size_t width) {
  const size_t n = CodePoints(utf8);
  return n >= width ? utf8 : utf8 + std::string(width - n, ' ');
}

std::string PadLeft(const std::string& utf8, size_t width) {
  const size_t n = CodePoints(utf8);
  return n >= width ? utf8 : std::string(width - n, ' ') + utf8;
}

std::string FitColumn(const std::string& utf8, size_t width) {
  return PadRight(TruncateCodePoints(utf8, width), width);
}

}  // namespace hrm
