// Checkpoints at paper scale: save and load time and peak host memory of a
// checkpoint holding d=4096 matrices (the shapes of one d=4096 block per
// --blocks: qkv (3d,d), wo (d,d), w13 (8d,d), w2 (d,4d)) with their AdamW
// state, against merely writing the same bytes (write + fsync) and reading
// them back (read), measured in the same run. A whole d=4096 model is ~15 GB;
// --blocks 1 is 268M parameters, a 3.2 GB file, that a 6 GB machine holds.
//   checkpoint_bench [--blocks 1] [--d 4096] [--reps 2] [--dir /tmp]
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/atomic_file.h"
#include "base/sha256.h"
#include "core/checkpoint.h"

namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// A /proc/self/status field ("VmHWM", "VmRSS") in bytes.
double StatusBytes(const char* field) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(std::string(field) + ":", 0) == 0)
      return std::atof(line.c_str() + std::string(field).size() + 1) * 1024;
  return 0;
}

// Resets VmHWM to the current RSS (Linux: clear_refs 5). False if refused.
bool ResetPeak() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  return bool(f);
}

struct Blocks : torch::nn::Module {
  Blocks(int64_t d, int64_t n) {
    torch::NoGradGuard ng;
    for (int64_t b = 0; b < n; ++b) {
      const std::string p = "b" + std::to_string(b) + "_";
      register_parameter(p + "qkv", torch::randn({3 * d, d}) * 0.02);
      register_parameter(p + "wo", torch::randn({d, d}) * 0.02);
      register_parameter(p + "w13", torch::randn({8 * d, d}) * 0.02);
      register_parameter(p + "w2", torch::randn({d, 4 * d}) * 0.02);
    }
  }
};

// Every tensor a checkpoint holds: parameters and the optimizer's state.
std::vector<torch::Tensor> AllTensors(torch::nn::Module& m, torch::optim::Optimizer& opt) {
  std::vector<torch::Tensor> out = m.parameters();
  for (auto& [key, state] : opt.state()) {
    auto& s = static_cast<torch::optim::AdamWParamState&>(*state);
    out.push_back(s.exp_avg());
    out.push_back(s.exp_avg_sq());
  }
  return out;
}

double PlainWrite(const std::string& path, const std::vector<torch::Tensor>& tensors) {
  const auto t0 = Clock::now();
  {
    hrm::AtomicFileWriter out(path);  // write, fsync, rename: the same publish a save does
    for (const auto& t : tensors) out.Write(t.data_ptr(), t.nbytes());
    out.Commit();
  }
  return Since(t0);
}

double PlainRead(const std::string& path) {
  const auto t0 = Clock::now();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  std::vector<char> buf(4 << 20);
  while (::read(fd, buf.data(), buf.size()) > 0) {
  }
  ::close(fd);
  return Since(t0);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int64_t d = 4096, blocks = 1, reps = 2;
  std::string dir = "/tmp";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--d")
      d = std::atoll(v.c_str());
    else if (k == "--blocks")
      blocks = std::atoll(v.c_str());
    else if (k == "--reps")
      reps = std::atoll(v.c_str());
    else if (k == "--dir")
      dir = v;
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  torch::manual_seed(0);
  auto model = std::make_shared<Blocks>(d, blocks);
  torch::optim::AdamW opt(model->parameters(), torch::optim::AdamWOptions(1e-4));
  {  // one step gives AdamW its state (exp_avg, exp_avg_sq); then drop the grads
    torch::NoGradGuard ng;
    for (auto& p : model->parameters()) p.mutable_grad() = torch::randn_like(p) * 1e-3;
    opt.step();
    for (auto& p : model->parameters()) p.mutable_grad() = torch::Tensor();
  }
  const std::vector<torch::Tensor> tensors = AllTensors(*model, opt);
  double state_bytes = 0;
  for (const auto& t : tensors) state_bytes += double(t.nbytes());

  const std::string base = dir + "/hrm_ckpt_bench_" + std::to_string(::getpid());
  const std::string ckpt = base + ".ckpt", plain = base + ".bin";
  const double gb = 1e9;
  std::vector<double> save_s, load_s, write_s, read_s, hash_s;
  double save_peak = 0, load_peak = 0, file_bytes = 0;
  const bool peaks = ResetPeak();
  for (int64_t r = 0; r < reps; ++r) {  // interleaved so drift hits both sides alike
    write_s.push_back(PlainWrite(plain, tensors));
    read_s.push_back(PlainRead(plain));

    ResetPeak();
    double rss0 = StatusBytes("VmRSS");
    auto t0 = Clock::now();
    hrm::SaveCheckpoint(ckpt, *model, opt, {{"step", r}, {"config_hash", "bench"}});
    save_s.push_back(Since(t0));
    save_peak = std::max(save_peak, StatusBytes("VmHWM") - rss0);
    file_bytes = double(std::filesystem::file_size(ckpt));

    ResetPeak();
    rss0 = StatusBytes("VmRSS");
    t0 = Clock::now();
    hrm::LoadCheckpoint(ckpt, model.get(), &opt);
    load_s.push_back(Since(t0));
    load_peak = std::max(load_peak, StatusBytes("VmHWM") - rss0);

    t0 = Clock::now();
    hrm::Sha256File(ckpt);
    hash_s.push_back(Since(t0));
  }
  std::filesystem::remove(ckpt);
  std::filesystem::remove(plain);

  const double save = Median(save_s), load = Median(load_s), write = Median(write_s),
               read = Median(read_s), hash = Median(hash_s);
  double params = 0;
  for (const auto& p : model->parameters()) params += double(p.numel());
  std::printf(
      "checkpoint: %lld block(s) of d=%lld, %.0fM parameters + AdamW state, %.2f GB file,"
      " median of %lld\n",
      (long long)blocks, (long long)d, params / 1e6, file_bytes / gb, (long long)reps);
  std::printf("%-22s %9s %8s %10s %18s\n", "", "seconds", "GB/s", "vs plain", "peak host growth");
  auto row = [&](const char* what, double s, double base_s, const char* vs, double peak) {
    std::printf("%-22s %9.2f %8.2f %9.2fx", what, s, file_bytes / gb / s, s / base_s);
    if (peak >= 0 && peaks)
      std::printf(" %15.2f GB  (%s)\n", peak / gb, vs);
    else
      std::printf(" %18s  (%s)\n", "n/a", vs);
  };
  row("save (stream+hash)", save, write, "vs write+fsync", save_peak);
  row("load (verify+read)", load, read, "vs read", load_peak);
  row("plain write+fsync", write, write, "baseline", -1);
  row("plain read", read, read, "baseline", -1);
  row("sha256 file (libcrypto)", hash, read, "vs read", -1);
  std::printf(
      "checkpoint tensors in memory: %.2f GB; a save adds %.2f GB (%.1f%%), a load %.2f GB"
      " (the loaded tensors, %.0f%% of them)\n",
      state_bytes / gb, save_peak / gb, 100 * save_peak / state_bytes, load_peak / gb,
      100 * load_peak / state_bytes);
  return 0;
}
