#include "experiments/provenance.h"

#include <torch/torch.h>
#include <torch/version.h>
#include <unistd.h>

#include <array>
#include <cstdio>

namespace hrm {
namespace {

std::string Capture(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  std::array<char, 256> buf;
  while (std::fgets(buf.data(), buf.size(), p)) out += buf.data();
  ::pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace

json CollectProvenance(const std::string& device, const json& data_meta) {
  json p;
  const std::string src = HRM_SOURCE_DIR;
  std::string commit = Capture("git -C '" + src + "' rev-parse HEAD 2>/dev/null");
  if (!commit.empty()) {
    p["git_commit"] = commit;
    p["git_dirty"] = !Capture("git -C '" + src + "' status --porcelain --untracked-files=no 2>/dev/null").empty();
  } else {
    p["git_commit"] = HRM_GIT_COMMIT;
    p["git_dirty"] = nullptr;
  }
  p["libtorch"] = TORCH_VERSION;
  p["cuda"] = torch::cuda::is_available() ? json(true) : json(false);
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

}  // namespace hrm
