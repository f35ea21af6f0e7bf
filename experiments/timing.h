// Wall-clock timing of repeated work on a device, for the latency and
// generation-speed protocols.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <vector>

namespace hrm {

// Runs `warmup` once, then `timed` `repeats` times; returns the seconds of
// each timed call. Each is followed by a device synchronisation, so that work
// queued on a GPU counts where it was asked for.
std::vector<double> TimeRepeats(const torch::Device& device, int repeats,
                                const std::function<void()>& warmup,
                                const std::function<void()>& timed);

// The median of timings (the mean of the middle two for an even count).
double SampleMedian(std::vector<double> values);

}  // namespace hrm
