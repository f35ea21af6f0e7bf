// Widths of UTF-8 text counted in code points, so that a column of labels
// lines up and a label cut to fit is never split inside a character (printf's
// "%-30.30s" counts bytes and can cut "λ" or "—" in half).
#pragma once

#include <cstddef>
#include <string>

namespace hrm {

// Code points in `utf8` (lead bytes; continuation bytes are not counted).
size_t CodePoints(const std::string& utf8);

// The first `width` code points of `utf8` (all of it when shorter).
std::string TruncateCodePoints(const std::string& utf8, size_t width);

// `utf8` cut to at most `width` code points, with "…" as the last one when
// something was cut.
std::string Ellipsize(const std::string& utf8, size_t width);

// `utf8` padded with spaces on the right (PadRight) or left (PadLeft) to
// `width` code points; longer text is returned whole.
std::string PadRight(const std::string& utf8, size_t width);
std::string PadLeft(const std::string& utf8, size_t width);

// Exactly `width` code points: truncated, then padded on the right (a
// fixed-width, left-aligned column).
std::string FitColumn(const std::string& utf8, size_t width);

}  // namespace hrm
