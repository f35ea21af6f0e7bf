#include "base/flops.h"

#include <cstdio>

#include "base/param_count.h"

namespace hrm {
namespace {

// Forward FLOPs of one sequence, split by whether autograd records them.
struct Split {
  int64_t all = 0, grad = 0;
  void Add(int64_t flops, int64_t times, int64_t with_grad) {
    all += flops * times;
    grad += flops * with_grad;
  }
};

std::string Scaled(double flops) {
  const char* unit[] = {"", "K", "M", "G", "T", "P", "E"};
  int i = 0;
  while (flops >= 1000 && i < 6) flops /= 1000, ++i;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g %sFLOP", flops, unit[i]);
  return buf;
}

}  // namespace

int64_t BlockForwardFlops(int64_t n, int64_t d) {
  // qkv 3d×d, wo d×d, w13 8d×d, w2 d×4d: 16d² weights, 2 FLOPs each per token;
  // Q·Kᵀ and A·V: 2·n·n·d each.
  return 2 * n * 16 * d * d + 4 * n * n * d;
}

double FlopCount::per_token() const {
  return sequences > 0 ? double(total()) / double(sequences * seq) : 0.0;
}

FlopCount CountTrainFlops(const json& c) {
  const std::string model = c.at("model");
  const int64_t n = c.at("seq"), d = c.at("d");
  const int64_t V = ModelVocab(c);
  const int64_t block = BlockForwardFlops(n, d);
  const int64_t head = 2 * n * d * V;  // tied head: logits = x·Eᵀ
  FlopCount f;
  f.seq = n;
  f.sequences = c.at("batch").get<int64_t>() * c.at("grad_accum").get<int64_t>() *
                c.at("world_size").get<int64_t>();
  Split s;
  int64_t blocks = 0, blocks_grad = 0;
  if (model == "transformer") {
    const int64_t L = c.at("L");
    s.Add(block, L, L);
    s.Add(head, 1, 1);
    blocks = blocks_grad = L;
    f.head_applications = 1;
  } else if (model == "unitf") {
    const int64_t M = c.at("M"), K = c.at("K");
    s.Add(block, M, K);  // the first M−K steps run without autograd
    s.Add(head, 1, 1);
    blocks = M;
    blocks_grad = K;
    f.head_applications = 1;
  } else if (model == "hrm") {
    const int64_t N = c.at("N"), T = c.at("T"), M = c.at("M"), K = c.at("K"), S = c.at("S");
    // Slow updates fire after steps i with (i+1) mod T == 0; those at
    // i >= M−K fall inside the gradient window.
    const int64_t slow_in_window = N - (M - K) / T;
    const int64_t fast = block + 2 * 2 * n * (3 * d) * d;  // Block_L + P_L, G_L over c_L (3d)
    const int64_t slow = block + 2 * 2 * n * (2 * d) * d;  // Block_H + P_H, G_H over c_H (2d)
    const int64_t fusion = 2 * n * (3 * d) * d;            // W_f over [ẑ_L; ẑ_H; ê]
    s.Add(block, 1, 1);                                    // Block_in, once per forward
    s.Add(fast, S * M, S * K);
    s.Add(slow, S * N, S * slow_in_window);
    s.Add(fusion + head, S, S);  // every pass is supervised
    blocks = 1 + S * (M + N);
    blocks_grad = 1 + S * (K + slow_in_window);
    f.head_applications = S;
  } else {
    throw ConfigError("model", model, "no FLOP count for this model family");
  }
  f.block_applications = blocks;
  f.block_applications_grad = blocks_grad;
  f.forward_per_seq = s.all;
  f.backward_per_seq = 2 * s.grad;
  f.forward = f.forward_per_seq * f.sequences;
  f.backward = f.backward_per_seq * f.sequences;
  return f;
}

json FlopsJson(const json& c, const FlopCount& f) {
  json out = json::object();
  for (const char* key : {"model", "d", "heads", "seq", "L", "M", "N", "T", "K", "S", "batch",
                          "grad_accum", "world_size"})
    if (c.contains(key)) out[key] = c[key];
  out["vocab"] = ModelVocab(c);
  out["sequences_per_iter"] = f.sequences;
  out["block_applications"] = f.block_applications;
  out["block_applications_grad"] = f.block_applications_grad;
  out["head_applications"] = f.head_applications;
  out["forward_per_seq"] = f.forward_per_seq;
  out["backward_per_seq"] = f.backward_per_seq;
  out["total_per_seq"] = f.forward_per_seq + f.backward_per_seq;
  out["forward"] = f.forward;
  out["backward"] = f.backward;
  out["total"] = f.total();
  out["per_token"] = f.per_token();
  out["run_id"] = RunId(c);
  return out;
}

std::string FlopsLine(const json& c, const FlopCount& f) {
  std::string shape = c.at("model").get<std::string>();
  for (const char* key : {"L", "N", "T", "M", "K", "S", "d"})
    if (c.contains(key) && !(std::string(key) == "M" && c.at("model") == "hrm"))
      shape += std::string(" ") + key + "=" + c[key].dump();
  shape += " n=" + std::to_string(f.seq);
  return shape + ": " + Scaled(double(f.forward_per_seq + f.backward_per_seq)) + "/seq (fwd " +
         Scaled(double(f.forward_per_seq)) + " + bwd " + Scaled(double(f.backward_per_seq)) +
         "), " + Scaled(double(f.total())) + "/iter over " + std::to_string(f.sequences) + " seqs";
}

}  // namespace hrm
