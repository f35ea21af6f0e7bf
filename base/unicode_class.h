// UTF-8 decoding and the Unicode classes GPT-2's pre-tokenizer distinguishes
// (\p{L}, \p{N}, \s). Torch-free.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hrm {

// The class of one code point as GPT-2's regex sees it.
enum class CodePointClass : uint8_t {
  kLetter,      // general category L* (Lu, Ll, Lt, Lm, Lo)
  kNumber,      // general category N* (Nd, Nl, No)
  kWhitespace,  // the Unicode White_Space property (Python regex's \s)
  kOther,       // everything else, including bytes that are not valid UTF-8
};

// Marks a byte that does not start a valid UTF-8 sequence.
constexpr char32_t kInvalidCodePoint = 0xFFFFFFFF;

// Decodes the code point starting at p (n > 0 bytes available) into *cp and
// returns its length in bytes. An invalid or truncated sequence yields one byte
// with *cp = kInvalidCodePoint, so every byte string can be walked.
size_t DecodeUtf8(const char* p, size_t n, char32_t* cp);

CodePointClass ClassifyCodePoint(char32_t cp);

}  // namespace hrm
