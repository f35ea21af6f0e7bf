// Real English text for the trainer and protocol tests, byte-level: the
// GPL's text (on every Debian machine), 90% train, 10% validation.
#pragma once

#include <cstdint>
#include <vector>

#include "base/atomic_file.h"
#include "core/trainer.h"

namespace hrm {

struct TextCorpus {
  std::vector<uint16_t> train, val;
  TrainData View() const {
    return {train.data(), int64_t(train.size()), val.data(), int64_t(val.size())};
  }
};

inline const TextCorpus& GplText() {
  static const TextCorpus corpus = [] {
    const std::string text = ReadFile("/usr/share/common-licenses/GPL-3");
    TextCorpus c;
    const size_t split = text.size() * 9 / 10;
    for (size_t i = 0; i < text.size(); ++i)
      (i < split ? c.train : c.val).push_back(uint8_t(text[i]));
    return c;
  }();
  return corpus;
}

}  // namespace hrm
