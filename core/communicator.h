// Collectives between the ranks of a data-parallel run. The trainer sees only
// this interface; Gloo (CPU) and NCCL (CUDA) implement it.
#pragma once

#include <torch/torch.h>

#include <memory>

namespace hrm {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // In-place sum over ranks of a contiguous tensor.
  virtual void AllReduceSum(torch::Tensor& t) = 0;
  // In-place copy of root's tensor to every rank.
  virtual void Broadcast(torch::Tensor& t, int root) = 0;
};

}  // namespace hrm
