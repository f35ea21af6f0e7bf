// A model's weights as named tensors, the unit of export and import: every
// parameter and buffer under its module path ("blocks.0.qkv", "z_L0").
#pragma once

#include <string>

#include "core/safetensors.h"

namespace hrm {

// Parameters, then buffers, in registration order; views of the live tensors.
NamedTensors ModelTensors(const torch::nn::Module& model);

// Copies `tensors` into the model's parameters and buffers (casting dtype).
// Every name must be present once with the module's shape, and no other name
// may appear; otherwise throws std::runtime_error naming `source`, the tensor
// and both shapes, with the model left unchanged.
void LoadModelTensors(torch::nn::Module& model, const NamedTensors& tensors,
                      const std::string& source);

}  // namespace hrm
