// Collectives between CPU processes over Gloo's TCP transport (Debian's
// libgloo-dev). Built only when CMake finds Gloo (HRM_HAVE_GLOO).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include "core/communicator.h"

namespace gloo {
class Context;
}

namespace hrm {

class GlooCommunicator : public Communicator {
 public:
  // Joins a group of `world_size` ranks: publishes this rank's address in
  // `store`, reads every other rank's, and connects a full mesh of TCP pairs
  // bound to `bind_host` (127.0.0.1 when all ranks share a machine).
  // `timeout` bounds the rendezvous and every later collective: a rank that
  // never arrives or stops answering makes the call throw instead of hang.
  GlooCommunicator(c10::intrusive_ptr<c10d::Store> store, int rank, int world_size,
                   const std::string& bind_host, std::chrono::milliseconds timeout);
  ~GlooCommunicator() override;

  int rank() const override { return rank_; }
  int world_size() const override { return world_size_; }
  // Contiguous CPU float32 or float64 tensors. Throws on a timeout or a lost
  // peer (gloo::IoException, a std::runtime_error).
  void AllReduceSum(torch::Tensor& t) override;
  // Any contiguous CPU tensor (copied as bytes).
  void Broadcast(torch::Tensor& t, int root) override;

 private:
  int rank_, world_size_;
  // Kept for the communicator's life: a slower peer may still be reading
  // this rank's address from it (and rank 0 hosts a TCP store's server).
  c10::intrusive_ptr<c10d::Store> store_;
  std::shared_ptr<gloo::Context> context_;
};

}  // namespace hrm
