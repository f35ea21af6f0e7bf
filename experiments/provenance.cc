// CUDA, cuDNN and NCCL versions come in two kinds: what libtorch (or hrm) was
// compiled against, asked of libtorch's CUDA hooks or taken from headers, and
// what is loaded in this process, asked of the libraries' own C entry points
// found with dlsym. The latter are present exactly when libtorch or hrm
// linked the library, so the same code builds with and without CUDA, and it
// never loads a library itself.
#include "experiments/provenance.h"

#include <ATen/detail/CUDAHooksInterface.h>
#include <dlfcn.h>
#include <torch/torch.h>
#include <torch/version.h>
#include <unistd.h>

#include "base/build_stamp.h"

#ifdef HRM_HAVE_NCCL
#include <nccl.h>
#endif

namespace hrm {
namespace {

template <typename Fn>
Fn Symbol(void* lib, const char* name) {
  return reinterpret_cast<Fn>(::dlsym(lib, name));
}

// "major.minor[.patch]" of the integer codes the libraries use.
std::string Dotted(long major, long minor, long patch = -1) {
  return std::to_string(major) + "." + std::to_string(minor) +
         (patch >= 0 ? "." + std::to_string(patch) : "");
}
json CudaVersion(int v) { return v > 0 ? json(Dotted(v / 1000, v % 1000 / 10)) : json(); }
json CudnnVersion(long v) {  // 8.x: M*1000 + m*100 + p; 9.x: M*10000 + m*100 + p
  if (v <= 0) return nullptr;
  return v >= 90000 ? Dotted(v / 10000, v % 10000 / 100, v % 100)
                    : Dotted(v / 1000, v % 1000 / 100, v % 100);
}
json NcclVersion(int v) {  // from 2.9: M*10000 + m*100 + p; before: M*1000 + m*100 + p
  if (v <= 0) return nullptr;
  return v >= 20900 ? Dotted(v / 10000, v % 10000 / 100, v % 100)
                    : Dotted(v / 1000, v % 1000 / 100, v % 100);
}

// libtorch's build versions; its CPU build cannot answer (throws).
json LibtorchCompiled(long (at::CUDAHooksInterface::*query)() const, json (*show)(long)) {
  try {
    return show((at::detail::getCUDAHooks().*query)());
  } catch (const std::exception&) {
    return nullptr;
  }
}
json ShowCuda(long v) { return CudaVersion(int(v)); }

int RuntimeInt(const char* symbol) {
  using Fn = int (*)(int*);
  int v = 0;
  if (Fn f = Symbol<Fn>(RTLD_DEFAULT, symbol); !f || f(&v) != 0) return 0;
  return v;
}

// The GPUs' names through the driver API, once CUDA is up.
json GpuNames() {
  json names = json::array();
  if (!torch::cuda::is_available()) return names;
  void* driver = ::dlopen("libcuda.so.1", RTLD_LAZY | RTLD_NOLOAD);  // loaded by CUDA's start
  if (!driver) return names;
  using Count = int (*)(int*);
  using Name = int (*)(char*, int, int);
  const auto count = Symbol<Count>(driver, "cuDeviceGetCount");
  const auto name = Symbol<Name>(driver, "cuDeviceGetName");
  int n = 0;
  if (count && name && count(&n) == 0)
    for (int i = 0; i < n; ++i) {
      char buf[256] = {0};
      names.push_back(name(buf, sizeof buf - 1, i) == 0 ? std::string(buf) : "?");
    }
  ::dlclose(driver);
  return names;
}

json CudaFacts() {
  const json compiled = LibtorchCompiled(&at::CUDAHooksInterface::versionCUDART, ShowCuda);
  const int runtime = RuntimeInt("cudaRuntimeGetVersion");
  if (compiled.is_null() && runtime == 0) return "none";
  return {{"compiled", compiled},
          {"runtime", CudaVersion(runtime)},
          {"driver", CudaVersion(RuntimeInt("cudaDriverGetVersion"))}};
}

json CudnnFacts() {
  const json compiled = LibtorchCompiled(&at::CUDAHooksInterface::versionCuDNN, CudnnVersion);
  using Fn = size_t (*)();
  const auto get = Symbol<Fn>(RTLD_DEFAULT, "cudnnGetVersion");
  const json runtime = get ? CudnnVersion(long(get())) : json();
  if (compiled.is_null() && runtime.is_null()) return "none";
  return {{"compiled", compiled}, {"runtime", runtime}};
}

json NcclFacts() {
#ifdef HRM_HAVE_NCCL
  const json compiled = NcclVersion(NCCL_VERSION_CODE);
#else
  const json compiled = nullptr;
#endif
  const json runtime = NcclVersion(RuntimeInt("ncclGetVersion"));
  if (compiled.is_null() && runtime.is_null()) return "none";
  return {{"compiled", compiled}, {"runtime", runtime}};
}

std::string Show(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// "none", or "11.8 (runtime 12.1, driver 12.4)".
std::string ShowLibrary(const json& facts) {
  if (!facts.is_object()) return Show(facts);
  std::string out = facts["compiled"].is_null() ? "?" : Show(facts["compiled"]);
  std::string more;
  for (const char* k : {"runtime", "driver"})
    if (facts.contains(k) && !facts[k].is_null())
      more += (more.empty() ? "" : ", ") + std::string(k) + " " + Show(facts[k]);
  return more.empty() ? out : out + " (" + more + ")";
}

}  // namespace

json BuildFacts() {
  const int dirty = BuildDirty();
  return {{"version", ProjectVersion()},
          {"git_commit", BuildCommit()},
          {"git_dirty", dirty < 0 ? json() : json(dirty == 1)},
          {"libtorch", TORCH_VERSION},
          {"cuda", CudaFacts()},
          {"cudnn", CudnnFacts()},
          {"nccl", NcclFacts()},
          {"gpus", GpuNames()}};
}

json CollectProvenance(const std::string& device, const json& data_meta) {
  json p = BuildFacts();
  p["device"] = device;
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  p["host"] = host;
  json sums = json::object();
  for (const char* k : {"train_sha256", "val_sha256"})
    if (data_meta.contains(k)) sums[k] = data_meta[k];
  p["data_sha256"] = sums;
  return p;
}

std::string VersionText() {
  const json f = BuildFacts();
  std::string commit = f["git_commit"];
  if (f["git_dirty"] == true) commit += " (dirty: uncommitted changes)";
  if (f["git_dirty"].is_null()) commit += " (not built from a git checkout)";
  std::string gpus;
  for (const auto& g : f["gpus"]) gpus += (gpus.empty() ? "" : ", ") + g.get<std::string>();
  return "hrm " + Show(f["version"]) + "\ncommit " + commit + "\nlibtorch " + Show(f["libtorch"]) +
         "\nCUDA " + ShowLibrary(f["cuda"]) + "\ncuDNN " + ShowLibrary(f["cudnn"]) + "\nNCCL " +
         ShowLibrary(f["nccl"]) + "\nGPUs " + (gpus.empty() ? "none" : gpus);
}

}  // namespace hrm
