#include "core/safetensors.h"

#include <algorithm>
#include <cstring>

#include "base/atomic_file.h"

namespace hrm {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors stores little-endian bytes; this host would need byte swaps");

struct DtypeName {
  const char* name;
  torch::ScalarType type;
};
const DtypeName kDtypes[] = {{"F32", torch::kFloat}, {"BF16", torch::kBFloat16},
                             {"F16", torch::kHalf},  {"I64", torch::kLong},
                             {"I32", torch::kInt},   {"F64", torch::kDouble}};

const char* NameOf(torch::ScalarType t, const std::string& path, const std::string& tensor) {
  for (const auto& d : kDtypes)
    if (d.type == t) return d.name;
  throw SafetensorsError(path + ": tensor " + tensor + ": dtype " + std::string(c10::toString(t)) +
                         " has no safetensors name here");
}

// The spec's sanity bound on the header (100 MB).
constexpr uint64_t kMaxHeader = 100'000'000;

}  // namespace

void SaveSafetensors(const std::string& path, const NamedTensors& tensors, const json& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<torch::Tensor> data;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
    const uint64_t bytes = c.numel() * c.element_size();
    header[name] = {{"dtype", NameOf(c.scalar_type(), path, name)},
                    {"shape", c.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    data.push_back(c);
  }
  std::string text = header.dump();
  // Pad with spaces so that the tensor bytes start 8-byte aligned, as the
  // reference writer does (readers may then map tensors in place).
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  const uint64_t n = text.size();
  std::memcpy(out.data(), &n, 8);
  out += text;
  out.reserve(out.size() + offset);
  for (const auto& c : data)
    out.append(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size());
  WriteFileAtomic(path, out);
}

SafetensorsFile LoadSafetensors(const std::string& path) {
  const std::string bytes = ReadFile(path);
  auto fail = [&](const std::string& why) -> SafetensorsError {
    return SafetensorsError(path + ": not a valid safetensors file: " + why);
  };
  if (bytes.size() < 8) throw fail("shorter than the 8-byte header length");
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  if (n > kMaxHeader || n > bytes.size() - 8)
    throw fail("header length " + std::to_string(n) + " exceeds the file (" +
               std::to_string(bytes.size()) + " bytes)");
  json header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + n, nullptr, false);
  if (header.is_discarded() || !header.is_object()) throw fail("header is not a JSON object");
  const uint64_t buffer = bytes.size() - 8 - n;
  const char* base = bytes.data() + 8 + n;

  SafetensorsFile file;
  struct Range {
    uint64_t begin, end;
    std::string name;
  };
  std::vector<Range> ranges;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      if (!info.is_object()) throw fail("__metadata__ is not an object");
      file.metadata = info;
      continue;
    }
    auto bad = [&](const std::string& why) {
      return SafetensorsError(path + ": tensor " + name + ": " + why);
    };
    if (!info.is_object() || !info.contains("dtype") || !info.contains("shape") ||
        !info.contains("data_offsets"))
      throw bad("needs dtype, shape and data_offsets");
    const DtypeName* dtype = nullptr;
    for (const auto& d : kDtypes)
      if (info["dtype"].is_string() && info["dtype"] == d.name) dtype = &d;
    if (!dtype) throw bad("unsupported dtype " + info["dtype"].dump());
    std::vector<int64_t> shape;
    int64_t numel = 1;
    if (!info["shape"].is_array()) throw bad("shape is not an array");
    for (const auto& s : info["shape"]) {
      if (!s.is_number_integer() || s.get<int64_t>() < 0)
        throw bad("bad shape " + info["shape"].dump());
      shape.push_back(s.get<int64_t>());
      numel *= shape.back();
    }
    const auto& off = info["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
        !off[1].is_number_unsigned())
      throw bad("data_offsets must be [begin, end]");
    const uint64_t begin = off[0], end = off[1];
    const uint64_t want = numel * c10::elementSize(dtype->type);
    if (begin > end || end > buffer)
      throw bad("data_offsets " + off.dump() + " outside the " + std::to_string(buffer) +
                "-byte data");
    if (end - begin != want)
      throw bad("shape " + info["shape"].dump() + " needs " + std::to_string(want) +
                " bytes, data_offsets hold " + std::to_string(end - begin));
    torch::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(dtype->type));
    if (want) std::memcpy(t.data_ptr(), base + begin, want);
    ranges.push_back({begin, end, name});
    file.tensors.emplace_back(name, t);
  }
  // File order, and no two tensors sharing bytes.
  std::vector<size_t> order(ranges.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return ranges[a].begin < ranges[b].begin; });
  NamedTensors sorted;
  for (size_t i = 0; i < order.size(); ++i) {
    if (i > 0 && ranges[order[i]].begin < ranges[order[i - 1]].end &&
        ranges[order[i]].end > ranges[order[i]].begin)
      throw fail("tensors " + ranges[order[i - 1]].name + " and " + ranges[order[i]].name +
                 " overlap");
    sorted.push_back(std::move(file.tensors[order[i]]));
  }
  file.tensors = std::move(sorted);
  return file;
}

}  // namespace hrm
