// GPT-2's pre-tokenization: the split of text into words before BPE, i.e.
// the regex
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// evaluated by hand over UTF-8 code points (std::regex has no \p{L}).
// Torch-free.
#pragma once

#include <string_view>
#include <vector>

namespace hrm {

// The pieces of `text`, in order; they concatenate back to `text` exactly.
// Bytes that are not valid UTF-8 count as punctuation ([^\s\p{L}\p{N}]).
std::vector<std::string_view> Gpt2PreTokenize(std::string_view text);

}  // namespace hrm
