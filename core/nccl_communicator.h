// Collectives between CUDA devices over NCCL. Built only for a CUDA libtorch
// with NCCL beside it (HRM_HAVE_NCCL); untested on CPU-only machines.
#pragma once

#include <chrono>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include "core/communicator.h"

namespace hrm {

class NcclCommunicator : public Communicator {
 public:
  // Joins a group of `world_size` ranks on `device` (one CUDA device per
  // rank): waits until every rank has checked in at `store` (so that NCCL's
  // own blocking init cannot wait for a rank that never came), then rank 0's
  // ncclUniqueId goes through the store. `timeout` bounds the rendezvous and
  // every collective; on expiry the NCCL communicator is aborted and the call
  // throws.
  NcclCommunicator(c10::intrusive_ptr<c10d::Store> store, int rank, int world_size,
                   torch::Device device, std::chrono::milliseconds timeout);
  ~NcclCommunicator() override;

  int rank() const override { return rank_; }
  int world_size() const override { return world_size_; }
  // Contiguous float32, float64 or bfloat16 tensors on this rank's device,
  // enqueued on the current stream; returns when the collective is done.
  void AllReduceSum(torch::Tensor& t) override;
  void Broadcast(torch::Tensor& t, int root) override;

 private:
  // Waits for the work just enqueued, polling NCCL for asynchronous errors.
  void Wait(const char* what);

  int rank_, world_size_;
  torch::Device device_;
  std::chrono::milliseconds timeout_;
  void* comm_ = nullptr;  // ncclComm_t, kept opaque so this header needs no nccl.h
};

}  // namespace hrm
