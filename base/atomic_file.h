// Publishing files atomically: write a temp file beside the target, fsync it,
// rename over the target, fsync the directory. A reader sees the old file or
// the new one, never a mix. Torch-free.
#pragma once

#include <cstddef>
#include <string>

namespace hrm {

// A file streamed to a temp name beside `path` and published by Commit().
// Destroyed without Commit(), it removes the temp file: `path` is untouched.
// Every method throws std::runtime_error naming the file on an I/O error.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(const std::string& path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void Write(const void* data, size_t len);
  // fsync, rename into place, fsync the directory.
  void Commit();

 private:
  std::string path_, tmp_;
  int fd_ = -1;
};

// Throws std::runtime_error naming the path on failure.
void WriteFileAtomic(const std::string& path, const std::string& bytes);
// Reads a whole file. Throws naming the path.
std::string ReadFile(const std::string& path);

}  // namespace hrm
