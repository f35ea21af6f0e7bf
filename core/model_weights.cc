#include "core/model_weights.h"

#include <map>
#include <set>
#include <sstream>

namespace hrm {
namespace {

std::string Shape(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

}  // namespace

NamedTensors ModelTensors(const torch::nn::Module& model) {
  NamedTensors out;
  for (const auto& p : model.named_parameters()) out.emplace_back(p.key(), p.value());
  for (const auto& b : model.named_buffers()) out.emplace_back(b.key(), b.value());
  return out;
}

void LoadModelTensors(torch::nn::Module& model, const NamedTensors& tensors,
                      const std::string& source) {
  std::map<std::string, torch::Tensor> given;
  for (const auto& [name, t] : tensors)
    if (!given.emplace(name, t).second)
      throw std::runtime_error(source + ": tensor " + name + " appears twice");
  NamedTensors targets = ModelTensors(model);
  // Check everything before copying anything.
  for (const auto& [name, target] : targets) {
    auto it = given.find(name);
    if (it == given.end())
      throw std::runtime_error(source + ": tensor " + name + " is missing (the config needs " +
                               Shape(target) + ")");
    if (it->second.sizes() != target.sizes())
      throw std::runtime_error(source + ": tensor " + name + " has shape " + Shape(it->second) +
                               ", the config needs " + Shape(target));
    if (!it->second.is_floating_point())
      throw std::runtime_error(source + ": tensor " + name + " is not floating point");
  }
  std::set<std::string> known;
  for (const auto& target : targets) known.insert(target.first);
  for (const auto& [name, t] : given)
    if (!known.count(name))
      throw std::runtime_error(source + ": tensor " + name + " is not part of this model");
  torch::NoGradGuard no_grad;
  for (auto& [name, target] : targets) target.copy_(given.at(name));
}

}  // namespace hrm
