// NCCL works asynchronously on a CUDA stream and hangs when a peer dies, so
// each collective is followed by a host-side wait that polls the stream and
// NCCL's async error state against a deadline, and aborts the communicator
// when either goes wrong. The trainer reads the results on the host right
// after (loss.item()), so the wait costs no overlap it would otherwise have.
#include "core/nccl_communicator.h"

#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#include <nccl.h>

#include <cstring>
#include <string>
#include <thread>

namespace hrm {
namespace {

using Clock = std::chrono::steady_clock;

ncclComm_t Comm(void* p) { return static_cast<ncclComm_t>(p); }

void Check(ncclResult_t r, const char* what) {
  TORCH_CHECK(r == ncclSuccess, "NCCL ", what, ": ", ncclGetErrorString(r));
}

ncclDataType_t NcclType(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat:
      return ncclFloat32;
    case torch::kDouble:
      return ncclFloat64;
    case torch::kBFloat16:
      return ncclBfloat16;
    default:
      TORCH_CHECK(false, "NcclCommunicator: unsupported dtype ", t);
  }
}

}  // namespace

NcclCommunicator::NcclCommunicator(c10::intrusive_ptr<c10d::Store> store, int rank, int world_size,
                                   torch::Device device, std::chrono::milliseconds timeout)
    : rank_(rank), world_size_(world_size), device_(device), timeout_(timeout) {
  TORCH_CHECK(device.is_cuda() && device.has_index(),
              "NcclCommunicator: needs an indexed CUDA device, got ", device.str());
  store->setTimeout(timeout);
  std::vector<std::string> joined;
  for (int r = 0; r < world_size; ++r) joined.push_back("nccl/joined/" + std::to_string(r));
  // Spelled out: libtorch 2.x adds a std::string overload that `{1}` would
  // also match.
  store->set(joined[rank], std::vector<uint8_t>{1});
  store->wait(joined, timeout);

  ncclUniqueId id;
  if (rank == 0) {
    Check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    const uint8_t* bytes = reinterpret_cast<const uint8_t*>(&id);
    store->set("nccl/unique_id", std::vector<uint8_t>(bytes, bytes + sizeof id));
  } else {
    std::vector<uint8_t> bytes = store->get("nccl/unique_id");
    TORCH_CHECK(bytes.size() == sizeof id, "NcclCommunicator: malformed unique id in store");
    std::memcpy(&id, bytes.data(), sizeof id);
  }
  c10::cuda::CUDAGuard guard(device);
  ncclComm_t comm;
  Check(ncclCommInitRank(&comm, world_size, id, rank), "ncclCommInitRank");
  comm_ = comm;
}

NcclCommunicator::~NcclCommunicator() {
  if (comm_) ncclCommDestroy(Comm(comm_));
}

void NcclCommunicator::AllReduceSum(torch::Tensor& t) {
  TORCH_CHECK(t.device() == device_ && t.is_contiguous(),
              "NcclCommunicator::AllReduceSum: needs a contiguous tensor on ", device_.str());
  c10::cuda::CUDAGuard guard(device_);
  Check(ncclAllReduce(t.data_ptr(), t.data_ptr(), size_t(t.numel()), NcclType(t.scalar_type()),
                      ncclSum, Comm(comm_), c10::cuda::getCurrentCUDAStream(device_.index())),
        "ncclAllReduce");
  Wait("all-reduce");
}

void NcclCommunicator::Broadcast(torch::Tensor& t, int root) {
  TORCH_CHECK(t.device() == device_ && t.is_contiguous(),
              "NcclCommunicator::Broadcast: needs a contiguous tensor on ", device_.str());
  c10::cuda::CUDAGuard guard(device_);
  Check(ncclBroadcast(t.data_ptr(), t.data_ptr(), size_t(t.nbytes()), ncclUint8, root, Comm(comm_),
                      c10::cuda::getCurrentCUDAStream(device_.index())),
        "ncclBroadcast");
  Wait("broadcast");
}

void NcclCommunicator::Wait(const char* what) {
  cudaStream_t stream = c10::cuda::getCurrentCUDAStream(device_.index());
  cudaEvent_t done;
  TORCH_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming) == cudaSuccess,
              "cudaEventCreate failed");
  TORCH_CHECK(cudaEventRecord(done, stream) == cudaSuccess, "cudaEventRecord failed");
  const auto deadline = Clock::now() + timeout_;
  std::string failure;
  for (;;) {
    const cudaError_t q = cudaEventQuery(done);
    if (q == cudaSuccess) break;
    ncclResult_t async = ncclSuccess;
    ncclCommGetAsyncError(Comm(comm_), &async);
    if (q != cudaErrorNotReady)
      failure = cudaGetErrorString(q);
    else if (async != ncclSuccess)
      failure = ncclGetErrorString(async);
    else if (Clock::now() > deadline)
      failure = "timed out";
    if (!failure.empty()) break;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  cudaEventDestroy(done);
  if (failure.empty()) return;
  // An aborted communicator cannot be used again; the run fails and resumes.
  ncclCommAbort(Comm(comm_));
  comm_ = nullptr;
  TORCH_CHECK(false, "NCCL ", what, " on rank ", rank_, ": ", failure, " (timeout ",
              timeout_.count(), " ms)");
}

}  // namespace hrm
