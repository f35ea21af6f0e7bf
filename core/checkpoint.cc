// File layout: [torch archive bytes][u64 LE length][64 hex SHA-256 of the
// archive][8 magic]. The footer sits at the end so a truncated file is
// detected before any tensor is read.
//
// At paper scale a checkpoint is ~15 GB, so no whole-checkpoint copy is ever
// held in memory: a save streams the archive to the temp file, hashing it as
// the bytes pass; a load hashes the file in one sequential pass and only then
// lets torch read it through pread. Verifying before parsing costs a second
// read of the file (from the page cache when it fits) but keeps torch's zip
// and pickle readers away from bytes that were never checked.
#include "core/checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "base/atomic_file.h"
#include "base/run_dir.h"
#include "base/sha256.h"

namespace hrm {
namespace {

constexpr char kMagic[9] = "HRMCKPT1";
constexpr size_t kFooter = 8 + 64 + 8;
namespace fs = std::filesystem;

// A checkpoint file whose archive bytes matched the footer's checksum when
// opened; torch reads the archive from it by position.
class VerifiedFile {
 public:
  explicit VerifiedFile(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw CorruptCheckpoint(path + ": cannot open: " + std::strerror(errno));
    try {
      Verify();
    } catch (...) {
      ::close(fd_);
      throw;
    }
  }
  ~VerifiedFile() { ::close(fd_); }
  VerifiedFile(const VerifiedFile&) = delete;
  VerifiedFile& operator=(const VerifiedFile&) = delete;

  uint64_t archive_size() const { return len_; }

  // Reads up to n archive bytes at pos; short only at the archive's end.
  size_t Read(uint64_t pos, void* buf, size_t n) const {
    if (pos >= len_) return 0;
    n = size_t(std::min<uint64_t>(n, len_ - pos));
    size_t done = 0;
    while (done < n) {
      const ssize_t got = ::pread(fd_, static_cast<char*>(buf) + done, n - done, off_t(pos + done));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;
      done += size_t(got);
    }
    return done;
  }

 private:
  void Verify() {
    struct stat st;
    if (::fstat(fd_, &st) != 0) throw CorruptCheckpoint(path_ + ": cannot stat");
    const uint64_t size = uint64_t(st.st_size);
    char footer[kFooter];
    if (size < kFooter || ReadAt(size - kFooter, footer, kFooter) != kFooter ||
        std::memcmp(footer + kFooter - 8, kMagic, 8) != 0)
      throw CorruptCheckpoint(path_ +
                              ": not a complete hrm checkpoint (truncated or foreign file)");
    for (int i = 0; i < 8; ++i) len_ |= uint64_t(uint8_t(footer[i])) << (8 * i);
    if (len_ != size - kFooter)
      throw CorruptCheckpoint(path_ + ": length field does not match the file size");
    ::posix_fadvise(fd_, 0, off_t(len_), POSIX_FADV_SEQUENTIAL);
    Sha256 sha;
    std::vector<char> buf(4 << 20);
    for (uint64_t pos = 0; pos < len_;) {
      const size_t got = Read(pos, buf.data(), buf.size());
      if (got == 0) throw CorruptCheckpoint(path_ + ": read error: " + std::strerror(errno));
      sha.Update(buf.data(), got);
      pos += got;
    }
    if (sha.HexDigest() != std::string(footer + 8, 64))
      throw CorruptCheckpoint(path_ + ": checksum mismatch");
  }

  size_t ReadAt(uint64_t pos, void* buf, size_t n) const {
    const ssize_t got = ::pread(fd_, buf, n, off_t(pos));
    return got < 0 ? 0 : size_t(got);
  }

  std::string path_;
  int fd_ = -1;
  uint64_t len_ = 0;
};

// Verifies path once and loads it. With run_id set, a checkpoint of another
// run is refused (std::runtime_error) before model or optimizer is touched.
json LoadVerified(const std::string& path, torch::nn::Module* model,
                  torch::optim::Optimizer* optimizer, const std::string& run_id) {
  // Tensors land on the model's device, whatever device wrote them: a run
  // trained on a GPU loads on a CPU-only machine (generate, export).
  torch::Device device = torch::kCPU;
  if (model)
    if (const auto params = model->parameters(); !params.empty()) device = params.front().device();
  torch::serialize::InputArchive archive;
  json meta;
  {
    const VerifiedFile file(path);
    try {
      archive.load_from(
          [&file](uint64_t pos, void* buf, size_t n) { return file.Read(pos, buf, n); },
          [&file] { return size_t(file.archive_size()); }, device);
      c10::IValue meta_v;
      archive.read("meta", meta_v);
      meta = json::parse(meta_v.toStringRef());
    } catch (const std::exception& e) {
      throw CorruptCheckpoint(path + ": unreadable archive: " + e.what());
    }
  }
  if (!run_id.empty() && meta.value("config_hash", "") != run_id)
    throw std::runtime_error(path + ": checkpoint was written by a different config (" +
                             meta.value("config_hash", "?") + ", this run is " + run_id +
                             "); refusing to resume from it");
  if (model) {
    torch::serialize::InputArchive ar;
    archive.read("model", ar);
    model->load(ar);
  }
  if (optimizer) {
    torch::serialize::InputArchive ar;
    archive.read("optim", ar);
    optimizer->load(ar);
  }
  if (model || optimizer) {
    torch::Tensor rng;
    archive.read("rng", rng);
    at::Generator gen = at::detail::getDefaultCPUGenerator();
    gen.set_state(rng);
  }
  return meta;
}

}  // namespace

std::string SaveCheckpoint(const std::string& path, torch::nn::Module& model,
                           torch::optim::Optimizer& optimizer, const json& meta) {
  // The archive holds references to the tensors, not copies.
  torch::serialize::OutputArchive archive, model_ar, optim_ar;
  model.save(model_ar);
  optimizer.save(optim_ar);
  archive.write("model", model_ar);
  archive.write("optim", optim_ar);
  archive.write("meta", c10::IValue(meta.dump()));
  archive.write("rng", at::detail::getDefaultCPUGenerator().get_state());

  fs::create_directories(fs::path(path).parent_path());
  AtomicFileWriter out(path);
  Sha256 sha;
  uint64_t len = 0;
  // Nothing may be thrown through torch's zip writer (C code), and a short
  // write makes it abort the process: after an I/O error the rest of the
  // archive is consumed unwritten and the error is thrown once it returns.
  std::exception_ptr io_error;
  archive.save_to([&](const void* data, size_t n) -> size_t {
    if (io_error) return n;
    try {
      out.Write(data, n);
    } catch (...) {
      io_error = std::current_exception();
      return n;
    }
    sha.Update(data, n);
    len += n;
    return n;
  });
  if (io_error) std::rethrow_exception(io_error);
  std::string footer;
  for (int i = 0; i < 8; ++i) footer.push_back(char((len >> (8 * i)) & 0xff));
  footer += sha.HexDigestSoFar();
  footer.append(kMagic, 8);
  out.Write(footer.data(), footer.size());
  sha.Update(footer.data(), footer.size());
  out.Commit();
  return sha.HexDigest();  // of the whole file, as `sha256sum` prints it
}

json ReadCheckpointMeta(const std::string& path) {
  return LoadVerified(path, nullptr, nullptr, "");
}

json LoadCheckpoint(const std::string& path, torch::nn::Module* model,
                    torch::optim::Optimizer* optimizer) {
  return LoadVerified(path, model, optimizer, "");
}

json LoadNewestCheckpoint(const std::string& run_dir, const std::string& run_id,
                          torch::nn::Module* model, torch::optim::Optimizer* optimizer) {
  for (const std::string& path : ListCheckpoints(run_dir)) {
    try {
      return LoadVerified(path, model, optimizer, run_id);
    } catch (const CorruptCheckpoint& e) {
      std::fprintf(stderr, "warning: %s; trying an older checkpoint\n", e.what());
    }
  }
  return nullptr;
}

std::vector<std::string> ListCheckpoints(const std::string& run_dir) {
  std::vector<std::string> out;
  const fs::path dir = CheckpointDirName(run_dir);
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("step_", 0) == 0 && e.path().extension() == ".ckpt") out.push_back(e.path());
  }
  std::sort(out.rbegin(), out.rend());  // zero-padded names: lexical = numeric
  return out;
}

void PruneCheckpoints(const std::string& run_dir, int64_t keep) {
  auto all = ListCheckpoints(run_dir);
  for (size_t i = size_t(keep); i < all.size(); ++i) fs::remove(all[i]);
}

}  // namespace hrm
