// Fused CUDA kernels for the models' memory-bound pieces, behind a plain C++
// interface (no torch, no CUDA headers): pointers to contiguous device
// memory, sizes, a dtype and a cudaStream_t passed as void*. Each has an ATen
// reference in core/fused_ops.cc that defines what it computes; the torch
// glue (autograd) is core/cuda/cuda_ops.cc.
#pragma once

#include <cstdint>

namespace hrm::cuda {

// Element type of the activations; weights and statistics are always fp32.
enum class DType { kFloat32, kBFloat16 };

// y = x · rstd · w per row, rstd = 1 / sqrt(mean(x²) + eps), in fp32.
// x, y (rows, d) of dtype; w (d); rstd (rows) out.
void RmsNormForward(const void* x, const float* w, void* y, float* rstd, int64_t rows, int64_t d,
                    float eps, DType dtype, void* stream);
// dx = rstd·(dy⊙w) − x·rstd³·mean(dy⊙w⊙x);  dw += Σ_rows dy⊙x·rstd.
// dw (d) fp32 must be zeroed by the caller.
void RmsNormBackward(const void* dy, const void* x, const float* w, const float* rstd, void* dx,
                     float* dw, int64_t rows, int64_t d, DType dtype, void* stream);

// SwiGLU on ab (rows, 2h) = [a, b]: y (rows, h) = silu(a) ⊙ b.
void SwiGluForward(const void* ab, void* y, int64_t rows, int64_t h, DType dtype, void* stream);
// dab (rows, 2h) = [dy⊙b⊙σ(a)(1 + a(1 − σ(a))), dy⊙silu(a)].
void SwiGluBackward(const void* ab, const void* dy, void* dab, int64_t rows, int64_t h, DType dtype,
                    void* stream);

// HRM's gated update (MODEL.md §4) on n elements: g = σ(a), out = g⊙z + (1 − g)⊙u.
void GatedUpdateForward(const void* a, const void* z, const void* u, void* out, int64_t n,
                        DType dtype, void* stream);
// da = dout⊙(z − u)⊙g(1 − g), dz = dout⊙g, du = dout⊙(1 − g).
void GatedUpdateBackward(const void* a, const void* z, const void* u, const void* dout, void* da,
                         void* dz, void* du, int64_t n, DType dtype, void* stream);

}  // namespace hrm::cuda
