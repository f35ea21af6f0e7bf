// One flat training function, nanoGPT style. Everything that must survive a
// restart (weights, AdamW moments, step, RNG, the eval accumulators) goes
// into the checkpoint; batches are a function of (seed, step, micro-batch),
// so the data cursor is the step itself.
#include "core/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "base/event_log.h"
#include "base/run_dir.h"
#include "core/autocast.h"
#include "core/batch_sampler.h"
#include "core/checkpoint.h"
#include "core/communicator.h"
#include "core/fused_ops.h"
#include "core/model.h"
#include "core/model_weights.h"
#include "core/optimizer.h"

namespace hrm {
namespace {

using Clock = std::chrono::steady_clock;

std::string FormatEta(double seconds) {
  char buf[32];
  if (seconds >= 3600)
    std::snprintf(buf, sizeof buf, "%dh%02dm", int(seconds / 3600), int(seconds / 60) % 60);
  else
    std::snprintf(buf, sizeof buf, "%dm%02ds", int(seconds / 60), int(seconds) % 60);
  return buf;
}

// The statistics an eval row carries beyond CE (HRM: gates, state norms, and
// the per-step trace of the last pass), from one fixed batch.
json ModelStats(LanguageModelImpl& model, const torch::Tensor& x) {
  if (model.options().model != "hrm") return json::object();
  ForwardOptions fo;
  fo.stats = fo.trace = true;
  ForwardResult r = model.forward(x, torch::Tensor(), fo);
  json out = json::object();
  for (const auto& [k, v] : r.stats) out[k] = v;
  json gate = json::array(), zl = json::array(), zh = json::array();
  for (const auto& s : r.trace) {
    gate.push_back(s.gate_mean);
    zl.push_back(s.zl_norm);
    zh.push_back(s.zh_norm);
  }
  out["gate_L_steps"] = gate;
  out["zL_norm_steps"] = zl;
  out["zH_norm_steps"] = zh;
  return out;
}

}  // namespace

double LearningRate(const json& c, int64_t step) {
  const double lr = c["lr"], min_lr = c["min_lr"];
  const int64_t warmup = c["warmup"], steps = c["steps"];
  if (step < warmup) return lr * double(step + 1) / double(warmup + 1);
  if (step >= steps || steps <= warmup) return min_lr;
  const double ratio = double(step - warmup) / double(steps - warmup);
  return min_lr + 0.5 * (1.0 + std::cos(M_PI * ratio)) * (lr - min_lr);
}

TrainOutcome Train(const TrainContext& ctx, const TrainData& data) {
  const json& c = ctx.config;
  const int64_t steps = c["steps"], grad_accum = c["grad_accum"], seq = c["seq"],
                batch = c["batch"], eval_interval = c["eval_interval"],
                eval_iters = c["eval_iters"],
                log_interval = std::max<int64_t>(1, c["log_interval"]),
                ckpt_interval = c["ckpt_interval"].get<int64_t>() > 0
                                    ? c["ckpt_interval"].get<int64_t>()
                                    : eval_interval;
  const uint64_t seed = c["seed"].get<int64_t>();
  const int rank = ctx.comm ? ctx.comm->rank() : 0;
  const int world = ctx.comm ? ctx.comm->world_size() : 1;
  const std::string& config_hash = ctx.run_id;
  const torch::Device device = ctx.placement.device;
  const bool bf16 = ctx.placement.bf16_autocast;
  double clip = c["grad_clip"];
  if (c["clip_mode"] == "per_window" && c.contains("K")) clip /= c["K"].get<double>();
  const double diverge_norm = c["diverge_grad_norm"];

  SetCudaKernels(c.value("cuda_kernels", true));
  torch::manual_seed(seed);
  LanguageModel model = MakeModel(ModelOptions::FromConfig(c));
  model->to(device);
  auto optimizer = MakeOptimizer(*model, c);
  BatchSampler train_batches(data.train, data.n_train, seq, batch);
  BatchSampler val_batches(data.val, data.n_val, seq, batch);

  // What an eval row reports about the steps since the previous eval.
  double ce_sum = 0, last_grad_norm = 0, last_lr = 0;
  int64_t ce_count = 0, step = 0;

  bool resumed = false;  // from a checkpoint (which may be of step 0)
  if (json meta = LoadNewestCheckpoint(ctx.run_dir, config_hash, model.get(), optimizer.get());
      !meta.is_null()) {
    resumed = true;
    step = meta["step"];
    ce_sum = meta["ce_sum"];
    ce_count = meta["ce_count"];
    last_grad_norm = meta["last_grad_norm"];
    last_lr = meta["last_lr"];
  } else if (c.contains("init_from")) {  // the first step of fine-tuning an imported model
    LoadModelTensors(*model, LoadSafetensors(c["init_from"]).tensors, c["init_from"]);
  }
  // After loading (which rebinds parameter storage): one buffer per dtype.
  FlatParameters flat(model->parameters());
  if (ctx.comm)  // every rank starts from rank 0's weights
    for (const torch::Tensor& values : flat.values()) {
      torch::NoGradGuard ng;
      torch::Tensor v = values;
      ctx.comm->Broadcast(v, 0);
    }

  auto log = [&](const std::string& event, json fields, bool sync = false) {
    if (ctx.log) ctx.log->Append(event, std::move(fields), sync);
  };
  auto save = [&](int64_t at) {
    if (rank != 0) return;
    json meta = {{"step", at},           {"config_hash", config_hash},       {"ce_sum", ce_sum},
                 {"ce_count", ce_count}, {"last_grad_norm", last_grad_norm}, {"last_lr", last_lr}};
    const std::string path = CheckpointFileName(ctx.run_dir, at);
    const std::string sha = SaveCheckpoint(path, *model, *optimizer, meta);
    PruneCheckpoints(ctx.run_dir, c["ckpt_keep"]);
    log("checkpoint", {{"step", at}, {"path", path}, {"sha256", sha}});
  };
  ForwardOptions loss_only;  // training and evaluation never need the B×n×V logits
  loss_only.logits = false;
  const auto t0 = Clock::now();
  auto evaluate = [&](int64_t at) {
    torch::NoGradGuard ng;
    AutocastGuard ac(device, bf16);
    double val = 0;
    for (int64_t i = 0; i < eval_iters; ++i) {
      auto [x, y] = val_batches.Fixed(i);
      val += model->forward(x.to(device), y.to(device), loss_only).ce.item<double>();
    }
    json row = {{"step", at},
                {"val_ce", val / double(eval_iters)},
                {"train_ce", ce_count > 0 ? json(ce_sum / double(ce_count)) : json(nullptr)},
                {"lr", last_lr},
                {"grad_norm", last_grad_norm},
                {"tokens", at * batch * seq * grad_accum * world},
                {"wall_s", std::chrono::duration<double>(Clock::now() - t0).count()}};
    row.update(ModelStats(*model, val_batches.Fixed(0).first.to(device)));
    log("eval", row);
    ce_sum = 0;
    ce_count = 0;
    return row["val_ce"].get<double>();
  };

  log("started", {{"step", step},
                  {"resumed", resumed},
                  {"config_hash", config_hash},
                  {"time", UtcNow()},
                  {"provenance", ctx.provenance}});
  if (step == 0) evaluate(0);
  const int64_t first_step = step;
  auto t_last = Clock::now();
  int64_t tokens_since = 0;

  for (; step < steps; ++step) {
    bool stop = (ctx.stop && ctx.stop->load()) || (ctx.stop_after >= 0 && step >= ctx.stop_after);
    if (ctx.comm) {  // a signal reaches the ranks at different steps: all stop at the first
      torch::Tensor any = torch::full({1}, stop ? 1.0f : 0.0f, torch::TensorOptions(device));
      ctx.comm->AllReduceSum(any);
      stop = any.item<float>() > 0;
    }
    if (stop) {
      save(step);
      log("interrupted", {{"step", step}}, /*sync=*/true);
      return TrainOutcome::kInterrupted;
    }
    const double lr = LearningRate(c, step);
    for (auto& g : optimizer->param_groups())
      static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
    flat.ZeroGrad();
    torch::Tensor ce_acc = torch::zeros({}, torch::TensorOptions(device).dtype(torch::kDouble));
    for (int64_t micro = 0; micro < grad_accum; ++micro) {
      auto [x, y] = train_batches.Train(seed, step, rank * grad_accum + micro);
      torch::Tensor loss;
      {
        AutocastGuard ac(device, bf16);
        ForwardResult r = model->forward(x.to(device), y.to(device), loss_only);
        loss = r.loss;
        ce_acc += r.ce.detach().to(torch::kDouble);
      }
      (loss / double(grad_accum)).backward();
    }
    if (ctx.comm) {
      for (const torch::Tensor& grads : flat.grads()) {  // one collective per dtype
        torch::Tensor g = grads;
        ctx.comm->AllReduceSum(g);
        g.div_(double(world));
      }
      ctx.comm->AllReduceSum(ce_acc);
      ce_acc.div_(double(world));
    }
    const double ce = ce_acc.item<double>() / double(grad_accum);
    const double grad_norm = flat.ClipGradNorm(clip > 0 ? clip : INFINITY);
    if (!std::isfinite(ce) || !std::isfinite(grad_norm) ||
        (diverge_norm > 0 && grad_norm > diverge_norm)) {
      const std::string reason = !std::isfinite(ce) ? "non-finite loss" : "exploding grad norm";
      log("diverged",
          {{"step", step},
           {"reason", reason},
           {"train_ce", std::isfinite(ce) ? json(ce) : json(nullptr)},
           {"grad_norm", std::isfinite(grad_norm) ? json(grad_norm) : json(nullptr)}},
          true);
      if (ctx.progress && rank == 0)
        std::fprintf(stderr, "diverged at step %lld: %s\n", (long long)step, reason.c_str());
      return TrainOutcome::kDiverged;
    }
    AdamWStep(*optimizer);
    ce_sum += ce;
    ++ce_count;
    last_grad_norm = grad_norm;
    last_lr = lr;
    tokens_since += batch * seq * grad_accum * world;

    const int64_t done = step + 1;
    if (done % eval_interval == 0 || done == steps) evaluate(done);
    if (done % ckpt_interval == 0 || done == steps) save(done);
    if (ctx.progress && rank == 0 && (done % log_interval == 0 || done == steps)) {
      const double dt = std::chrono::duration<double>(Clock::now() - t_last).count();
      const double per_step =
          std::chrono::duration<double>(Clock::now() - t0).count() / double(done - first_step);
      std::fprintf(stderr, "step %lld/%lld | loss %.4f | lr %.2e | %.0f tok/s | ETA %s\n",
                   (long long)done, (long long)steps, ce, lr, double(tokens_since) / dt,
                   FormatEta(per_step * double(steps - done)).c_str());
      t_last = Clock::now();
      tokens_since = 0;
    }
  }
  log("finished", {{"step", steps}, {"time", UtcNow()}}, /*sync=*/true);
  return TrainOutcome::kFinished;
}

}  // namespace hrm
