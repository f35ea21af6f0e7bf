// Gloo's new-style collectives (gloo::allreduce, gloo::broadcast) work in
// place on the tensor's memory; the rendezvous goes through torch's c10d
// store (TCP or file), so the NCCL communicator can share it.
#include "core/gloo_communicator.h"

#include <gloo/allreduce.h>
#include <gloo/broadcast.h>
#include <gloo/math.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/store.h>
#include <gloo/transport/tcp/device.h>

namespace hrm {
namespace {

// Gloo's rendezvous reads and writes through this view of a c10d store.
class C10dStoreView : public gloo::rendezvous::Store {
 public:
  explicit C10dStoreView(c10d::Store& store) : store_(store) {}
  void set(const std::string& key, const std::vector<char>& data) override {
    store_.set(key, std::vector<uint8_t>(data.begin(), data.end()));
  }
  std::vector<char> get(const std::string& key) override {
    std::vector<uint8_t> v = store_.get(key);
    return std::vector<char>(v.begin(), v.end());
  }
  void wait(const std::vector<std::string>& keys) override { store_.wait(keys); }
  void wait(const std::vector<std::string>& keys,
            const std::chrono::milliseconds& timeout) override {
    store_.wait(keys, timeout);
  }

 private:
  c10d::Store& store_;
};

template <typename T>
void SumInPlace(const std::shared_ptr<gloo::Context>& context, torch::Tensor& t) {
  gloo::AllreduceOptions opts(context);
  opts.setOutput(t.data_ptr<T>(), size_t(t.numel()));
  opts.setReduceFunction(
      static_cast<void (*)(void*, const void*, const void*, size_t)>(&gloo::sum<T>));
  gloo::allreduce(opts);
}

}  // namespace

GlooCommunicator::GlooCommunicator(c10::intrusive_ptr<c10d::Store> store, int rank, int world_size,
                                   const std::string& bind_host, std::chrono::milliseconds timeout)
    : rank_(rank), world_size_(world_size), store_(std::move(store)) {
  store_->setTimeout(timeout);
  gloo::transport::tcp::attr attr;
  attr.hostname = bind_host;
  std::shared_ptr<gloo::transport::Device> device = gloo::transport::tcp::CreateDevice(attr);
  auto context = std::make_shared<gloo::rendezvous::Context>(rank, world_size);
  context->setTimeout(timeout);
  C10dStoreView view(*store_);
  context->connectFullMesh(view, device);
  context_ = std::move(context);
}

GlooCommunicator::~GlooCommunicator() = default;

void GlooCommunicator::AllReduceSum(torch::Tensor& t) {
  TORCH_CHECK(t.device().is_cpu() && t.is_contiguous(),
              "GlooCommunicator::AllReduceSum: needs a contiguous CPU tensor");
  switch (t.scalar_type()) {
    case torch::kFloat:
      return SumInPlace<float>(context_, t);
    case torch::kDouble:
      return SumInPlace<double>(context_, t);
    default:
      TORCH_CHECK(false, "GlooCommunicator::AllReduceSum: unsupported dtype ", t.scalar_type());
  }
}

void GlooCommunicator::Broadcast(torch::Tensor& t, int root) {
  TORCH_CHECK(t.device().is_cpu() && t.is_contiguous(),
              "GlooCommunicator::Broadcast: needs a contiguous CPU tensor");
  gloo::BroadcastOptions opts(context_);
  opts.setOutput(static_cast<uint8_t*>(t.data_ptr()), size_t(t.nbytes()));
  opts.setRoot(root);
  gloo::broadcast(opts);
}

}  // namespace hrm
