// Cross-entropy over a tied output head without the (rows, V) logits: the
// loss and its gradient are computed a chunk of rows at a time.
#pragma once

#include <torch/torch.h>

namespace hrm {

// mean over rows of CE(x·Wᵀ, targets): x (..., d), weight (V, d), targets (...)
// int64 in [0, V). Equals CrossEntropy(torch::linear(x, weight), targets) up
// to summation order. Under autocast the products run in the autocast dtype
// (as torch::linear would) and the softmax in fp32. At most chunk_rows rows of
// logits exist at once (0: as many as fit in 256 MiB of fp32). When autograd
// wants a gradient it is computed in the same pass, chunk by chunk (the loss
// is a scalar, so backward only scales it), so backward repeats no product.
torch::Tensor ChunkedCrossEntropy(const torch::Tensor& x, const torch::Tensor& weight,
                                  const torch::Tensor& targets, int64_t chunk_rows = 0);

}  // namespace hrm
