// File layout: [torch archive bytes][u64 LE length][64 hex SHA-256][8 magic].
// The footer sits at the end so a truncated file is detected before any
// tensor is read.
#include "core/checkpoint.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "base/atomic_file.h"
#include "base/sha256.h"

namespace hrm {
namespace {

constexpr char kMagic[9] = "HRMCKPT1";
constexpr size_t kFooter = 8 + 64 + 8;
namespace fs = std::filesystem;

// Returns the archive bytes of a verified checkpoint file.
std::string VerifiedPayload(const std::string& path) {
  std::string bytes;
  try {
    bytes = ReadFile(path);
  } catch (const std::exception& e) {
    throw CorruptCheckpoint(e.what());
  }
  if (bytes.size() < kFooter || std::memcmp(bytes.data() + bytes.size() - 8, kMagic, 8) != 0)
    throw CorruptCheckpoint(path + ": not a complete hrm checkpoint (truncated or foreign file)");
  uint64_t len = 0;
  for (int i = 0; i < 8; ++i)
    len |= uint64_t(uint8_t(bytes[bytes.size() - kFooter + i])) << (8 * i);
  if (len != bytes.size() - kFooter)
    throw CorruptCheckpoint(path + ": length field does not match the file size");
  std::string want(bytes.data() + len + 8, 64);
  bytes.resize(len);
  if (Sha256Hex(bytes) != want) throw CorruptCheckpoint(path + ": checksum mismatch");
  return bytes;
}

}  // namespace

std::string SaveCheckpoint(const std::string& path, torch::nn::Module& model,
                           torch::optim::Optimizer& optimizer, const json& meta) {
  torch::serialize::OutputArchive archive, model_ar, optim_ar;
  model.save(model_ar);
  optimizer.save(optim_ar);
  archive.write("model", model_ar);
  archive.write("optim", optim_ar);
  archive.write("meta", c10::IValue(meta.dump()));
  archive.write("rng", at::detail::getDefaultCPUGenerator().get_state());
  std::ostringstream out;
  archive.save_to(out);
  std::string bytes = out.str();
  const std::string digest = Sha256Hex(bytes);
  const uint64_t len = bytes.size();
  for (int i = 0; i < 8; ++i) bytes.push_back(char((len >> (8 * i)) & 0xff));
  bytes += digest;
  bytes.append(kMagic, 8);
  fs::create_directories(fs::path(path).parent_path());
  WriteFileAtomic(path, bytes);
  return Sha256Hex(bytes);
}

json ReadCheckpointMeta(const std::string& path) {
  return LoadCheckpoint(path, nullptr, nullptr);
}

json LoadCheckpoint(const std::string& path, torch::nn::Module* model,
                    torch::optim::Optimizer* optimizer) {
  std::string payload = VerifiedPayload(path);
  torch::serialize::InputArchive archive;
  json meta;
  // Tensors land on the model's device, whatever device wrote them: a run
  // trained on a GPU loads on a CPU-only machine (generate, export).
  torch::Device device = torch::kCPU;
  if (model)
    if (const auto params = model->parameters(); !params.empty()) device = params.front().device();
  try {
    std::istringstream in(payload);
    archive.load_from(in, device);
    c10::IValue meta_v;
    archive.read("meta", meta_v);
    meta = json::parse(meta_v.toStringRef());
  } catch (const std::exception& e) {
    throw CorruptCheckpoint(path + ": unreadable archive: " + e.what());
  }
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

json LoadNewestCheckpoint(const std::string& run_dir, const std::string& run_id,
                          torch::nn::Module* model, torch::optim::Optimizer* optimizer) {
  for (const std::string& path : ListCheckpoints(run_dir)) {
    try {
      const json meta = ReadCheckpointMeta(path);
      if (meta.value("config_hash", "") != run_id)
        throw std::runtime_error(path + ": checkpoint was written by a different config (" +
                                 meta.value("config_hash", "?") + ", this run is " + run_id +
                                 "); refusing to resume from it");
      return LoadCheckpoint(path, model, optimizer);
    } catch (const CorruptCheckpoint& e) {
      std::fprintf(stderr, "warning: %s; trying an older checkpoint\n", e.what());
    }
  }
  return nullptr;
}

std::string CheckpointPath(const std::string& run_dir, int64_t step) {
  char name[64];
  std::snprintf(name, sizeof name, "step_%08lld.ckpt", static_cast<long long>(step));
  return (fs::path(run_dir) / "ckpt" / name).string();
}

std::vector<std::string> ListCheckpoints(const std::string& run_dir) {
  std::vector<std::string> out;
  const fs::path dir = fs::path(run_dir) / "ckpt";
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
