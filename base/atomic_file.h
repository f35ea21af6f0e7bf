// Publishing files atomically: write a temp file beside the target, fsync it,
// rename over the target, fsync the directory. A reader sees the old file or
// the new one, never a mix. Torch-free.
#pragma once

#include <string>

namespace hrm {

// Throws std::runtime_error naming the path on failure.
void WriteFileAtomic(const std::string& path, const std::string& bytes);
// Reads a whole file. Throws naming the path.
std::string ReadFile(const std::string& path);

}  // namespace hrm
